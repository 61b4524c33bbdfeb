import Dispatch
import Foundation
internal import COpenBLAS
internal import CSGEMM

/// Errors raised by NeuralNet.
public enum NeuralNetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A buffer does not hold `product(shape)` values.
    case shapeMismatch(expected: [Int], actualCount: Int)
    /// Operand shapes are incompatible for an operation.
    case incompatibleShapes(operation: String, left: [Int], right: [Int])
    /// A state dict lacks keys, has extra keys or has tensors of the wrong shape.
    case stateDictMismatch(missing: [String], unexpected: [String], wrongShape: [String])
    /// A weights or checkpoint file cannot be parsed.
    case invalidFile(path: String, reason: String)
    /// An input image or tensor violates a model requirement.
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(expected, count):
            return "a tensor of shape \(expected) needs \(expected.reduce(1, *)) values, got \(count)"
        case let .incompatibleShapes(operation, left, right):
            return "\(operation): shapes \(left) and \(right) are incompatible"
        case let .stateDictMismatch(missing, unexpected, wrongShape):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing keys: " + missing.prefix(8).joined(separator: ", ") + (missing.count > 8 ? " (+\(missing.count - 8) more)" : "")) }
            if !unexpected.isEmpty { parts.append("unexpected keys: " + unexpected.prefix(8).joined(separator: ", ") + (unexpected.count > 8 ? " (+\(unexpected.count - 8) more)" : "")) }
            if !wrongShape.isEmpty { parts.append("wrong shapes: " + wrongShape.prefix(8).joined(separator: "; ")) }
            return "weights do not fit the model (" + parts.joined(separator: "; ") + ")"
        case let .invalidFile(path, reason):
            return "\(path): \(reason)"
        case let .invalidInput(message):
            return message
        }
    }
}

extension NeuralNetError: LocalizedError {
    public var errorDescription: String? { description }
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

    /// Internal unchecked initialiser for kernels that build correctly sized buffers.
    init(uncheckedShape shape: [Int], data: [Float]) {
        assert(shape.reduce(1, *) == data.count)
        self.shape = shape
        self.data = data
    }

    /// A tensor whose values are left unset, for kernels that overwrite every element.
    init(uninitialized shape: [Int]) {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.data = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// A tensor filled with `value`.
    public init(zeros shape: [Int], value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension")
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of independent uniform values in `range`, from `generator`.
    public init<G: RandomNumberGenerator>(uniform shape: [Int], in range: ClosedRange<Float>, using generator: inout G) {
        self.shape = shape
        self.data = (0..<shape.reduce(1, *)).map { _ in Float.random(in: range, using: &generator) }
    }

    /// Number of elements.
    public var count: Int { data.count }

    /// Batch, channels, height, width of a rank-4 tensor.
    public var nchw: (n: Int, c: Int, h: Int, w: Int) {
        precondition(shape.count == 4, "expected an NCHW tensor, got shape \(shape)")
        return (shape[0], shape[1], shape[2], shape[3])
    }

    /// The same values with a new shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "reshape must keep the element count")
        return Tensor(uncheckedShape: newShape, data: data)
    }

    /// Largest absolute element-wise difference to `other` (same shape).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shapes differ: \(shape) vs \(other.shape)")
        var m: Float = 0
        for i in 0..<count { m = max(m, abs(data[i] - other.data[i])) }
        return m
    }

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
                    gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                         a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n, beta: 0, c: c.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }
}

/// OpenBLAS runs single-threaded: its idle worker threads spin (sched_yield) between calls and
/// steal the second core from the element-wise loops. `gemm` splits large products over both
/// cores itself instead.
/// The first GEMM also makes sure OpenBLAS's kernels fit the CPU (`NeuralNetRuntime.selectBLASKernels()`).
private let blasConfigured: Bool = {
    NeuralNetRuntime.selectBLASKernels()
    openblas_set_num_threads(1)
    return true
}()

/// Row-major single-precision GEMM on the calling thread: C = alpha op(A) op(B) + beta C, by
/// NeuralNet's AVX-512 kernel where the CPU runs it (`NeuralNetRuntime.gemmKernel`), OpenBLAS
/// otherwise.
package func serialGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if NeuralNetRuntime.usesOwnGEMM {
        csgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    }
    _ = blasConfigured
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Row-major single-precision GEMM: C = alpha op(A) op(B) + beta C (`serialGEMM`), split over
/// all cores when the product is large: along the rows of C when it is taller than wide (each
/// core then packs all of op(B), the smaller operand), along its columns otherwise.
package func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let threads = neuralNetThreadCount
    let work = Double(m) * Double(n) * Double(k)
    if threads == 1 || work < 4e6 || max(m, n) < 64 || runsSerially {
        serialGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    if m > n {
        // Row blocks of C (multiples of 24, whole panels of the 8- and 12-row kernels).
        let block = ((m + threads - 1) / threads + 23) / 24 * 24
        let parts = (m + block - 1) / block
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let i0 = part * block, height = min(block, m - i0)
            guard height > 0 else { return }
            // Row i0 of op(A): A[i0, .] when A is m x k, A[., i0] when A is stored k x m (transA).
            let aOffset = transA ? i0 : i0 * lda
            serialGEMM(transA: transA, transB: transB, m: height, n: n, k: k, alpha: alpha,
                       a: a + aOffset, lda: lda, b: b, ldb: ldb, beta: beta, c: c + i0 * ldc, ldc: ldc)
        }
        return
    }
    // Column blocks of C (multiples of 32, the kernels' width), one per thread.
    let block = ((n + threads - 1) / threads + 31) / 32 * 32
    let parts = (n + block - 1) / block
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        let j0 = part * block, width = min(block, n - j0)
        guard width > 0 else { return }
        // Column j0 of op(B): B[., j0] when B is k x n, B[j0, .] when B is stored n x k (transB).
        let bOffset = transB ? j0 * ldb : j0
        serialGEMM(transA: transA, transB: transB, m: m, n: width, k: k, alpha: alpha,
                   a: a, lda: lda, b: b + bOffset, ldb: ldb, beta: beta, c: c + j0, ldc: ldc)
    }
}
