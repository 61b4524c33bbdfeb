import Foundation
import NeuralNet
import Randomness
import Testing

/// NeuralNet's AVX-512 GEMM (`Sources/CSGEMM`) against a Double reference, entry by entry, over
/// shapes that cross every blocking edge (MR 12, NR 32, KC 256, MC 288, NC 3072), every
/// transpose, and alpha/beta cases; and the same through the threaded `gemm`. On a CPU without
/// AVX-512F the kernel is not used and these cases check OpenBLAS instead.
@Suite("GEMM kernel", .serialized)
struct GEMMKernelTests {
    struct Case: CustomStringConvertible, Sendable {
        let m: Int, n: Int, k: Int
        var description: String { "\(m)x\(n)x\(k)" }
    }

    static let cases: [Case] = [
        Case(m: 1, n: 1, k: 1), Case(m: 12, n: 32, k: 7), Case(m: 13, n: 33, k: 2), Case(m: 11, n: 31, k: 255),
        Case(m: 25, n: 64, k: 257), Case(m: 16, n: 40, k: 33), Case(m: 64, n: 96, k: 17), Case(m: 300, n: 70, k: 600), Case(m: 5, n: 3_100, k: 20), Case(m: 64, n: 200, k: 513),
    ]

    /// op(A) op(B) in Double from row-major storage.
    static func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: [Float], b: [Float]) -> [Double] {
        var out = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for p in 0..<k {
                let av = Double(transA ? a[p * m + i] : a[i * k + p])
                for j in 0..<n { out[i * n + j] += av * Double(transB ? b[j * k + p] : b[p * n + j]) }
            }
        }
        return out
    }

    func check(_ shape: Case, threaded: Bool) {
        var rng = SplitMix64(seed: UInt64(shape.m * 1_000_003 + shape.n * 1_009 + shape.k))
        let a = (0..<(shape.m * shape.k)).map { _ in Float.random(in: -1...1, using: &rng) }
        let b = (0..<(shape.k * shape.n)).map { _ in Float.random(in: -1...1, using: &rng) }
        let start = (0..<(shape.m * shape.n)).map { _ in Float.random(in: -1...1, using: &rng) }
        for transA in [false, true] {
            for transB in [false, true] {
                let product = Self.reference(transA: transA, transB: transB, m: shape.m, n: shape.n, k: shape.k, a: a, b: b)
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (1, -0.75)] {
                    // beta == 0 must not read C: start from NaN there.
                    var c = beta == 0 ? [Float](repeating: .nan, count: start.count) : start
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                let run = threaded ? gemm : serialGEMM
                                run(transA, transB, shape.m, shape.n, shape.k, alpha,
                                    ap.baseAddress!, transA ? shape.m : shape.k, bp.baseAddress!, transB ? shape.k : shape.n,
                                    beta, cp.baseAddress!, shape.n)
                            }
                        }
                    }
                    var worst = 0.0
                    for index in c.indices {
                        let expected = Double(alpha) * product[index] + (beta == 0 ? 0 : Double(beta) * Double(start[index]))
                        let error = abs(Double(c[index]) - expected)
                        worst = c[index].isNaN ? .infinity : max(worst, error)
                    }
                    // Float sums of k terms of size <= 1: a few ulps of sqrt(k) growth.
                    let tolerance = 2e-6 * Double(shape.k).squareRoot() * 8 + 1e-6
                    #expect(worst <= tolerance,
                            "\(shape) transA \(transA) transB \(transB) alpha \(alpha) beta \(beta): max error \(worst)")
                }
            }
        }
    }

    @Test("serial kernel matches a Double reference", arguments: cases)
    func serial(_ shape: Case) { check(shape, threaded: false) }

    @Test("threaded GEMM matches a Double reference", arguments: [Case(m: 30, n: 700, k: 300), Case(m: 64, n: 4_000, k: 40), Case(m: 500, n: 70, k: 130)])
    func threaded(_ shape: Case) { check(shape, threaded: true) }

    @Test("the kernel in use is reported, and the AVX-512 one is chosen where the CPU runs it")
    func reported() {
        let environmentForces = ProcessInfo.processInfo.environment["SOOTCTL_GEMM"]?.lowercased() == "openblas"
        if NeuralNetRuntime.ownGEMMAvailable && !environmentForces {
            #expect(NeuralNetRuntime.defaultGEMMKernel == .avx512)
        } else {
            #expect(NeuralNetRuntime.defaultGEMMKernel == .openBLAS)
        }
        #expect(NeuralNetRuntime.blasDescription.hasPrefix("GEMM kernel: "))
    }
}
