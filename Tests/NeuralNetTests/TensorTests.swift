import NeuralNet
import Testing

@Suite("Tensor")
struct TensorTests {
    @Test("matmul through OpenBLAS equals the direct product")
    func matmul() throws {
        let a = try Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3, 2], data: [7, 8, 9, 10, 11, 12])
        let c = try a.matmul(b)
        #expect(c.shape == [2, 2])
        #expect(c.data == [58, 64, 139, 154])
    }

    @Test("shape errors are typed")
    func errors() throws {
        #expect(throws: NeuralNetError.shapeMismatch(expected: [2, 2], actualCount: 3)) {
            try Tensor(shape: [2, 2], data: [1, 2, 3])
        }
        let a = Tensor(zeros: [2, 3])
        #expect(throws: NeuralNetError.self) { try a.matmul(a) }
    }
}
