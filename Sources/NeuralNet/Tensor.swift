internal import COpenBLAS

/// Errors raised by NeuralNet.
public enum NeuralNetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A buffer does not hold `product(shape)` values.
    case shapeMismatch(expected: [Int], actualCount: Int)
    /// Operand shapes are incompatible for an operation.
    case incompatibleShapes(operation: String, left: [Int], right: [Int])

    public var description: String {
        switch self {
        case let .shapeMismatch(expected, count):
            return "a tensor of shape \(expected) needs \(expected.reduce(1, *)) values, got \(count)"
        case let .incompatibleShapes(operation, left, right):
            return "\(operation): shapes \(left) and \(right) are incompatible"
        }
    }
}

/// A dense, contiguous, row-major `Float` tensor (NCHW for images, OIHW for convolution
/// weights, as in PyTorch, so weights load without transposition).
public struct Tensor: Sendable, Equatable {
    /// Extent of each dimension, outermost first.
    public let shape: [Int]
    /// Values in row-major order.
    public var data: [Float]

    /// Creates a tensor from values in row-major order.
    /// - Throws: `NeuralNetError.shapeMismatch` when `data.count != shape.product`.
    public init(shape: [Int], data: [Float]) throws {
        let expected = shape.reduce(1, *)
        guard shape.allSatisfy({ $0 >= 0 }), data.count == expected else {
            throw NeuralNetError.shapeMismatch(expected: shape, actualCount: data.count)
        }
        self.shape = shape
        self.data = data
    }

    /// A tensor filled with `value`.
    public init(zeros shape: [Int], value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension")
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// Number of elements.
    public var count: Int { data.count }

    /// Matrix product of two rank-2 tensors, computed by OpenBLAS `cblas_sgemm`.
    /// - Throws: `NeuralNetError.incompatibleShapes` unless `self` is m x k and `other` is k x n.
    public func matmul(_ other: Tensor) throws -> Tensor {
        guard shape.count == 2, other.shape.count == 2, shape[1] == other.shape[0] else {
            throw NeuralNetError.incompatibleShapes(operation: "matmul", left: shape, right: other.shape)
        }
        let m = shape[0], k = shape[1], n = other.shape[1]
        var out = Tensor(zeros: [m, n])
        if m == 0 || n == 0 || k == 0 { return out }
        data.withUnsafeBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                out.data.withUnsafeMutableBufferPointer { c in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                                1, a.baseAddress, Int32(k), b.baseAddress, Int32(n), 0, c.baseAddress, Int32(n))
                }
            }
        }
        return out
    }
}
