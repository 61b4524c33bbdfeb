import Foundation
import NeuralNet
import Testing
import TestSupport

/// Direct 3 x 3 padding-1 correlation at one output, in Double.
private func directOutput(_ x: Tensor, _ w: Tensor, b: Int, o: Int, y: Int, x px: Int) -> Double {
    let (_, c, h, width) = x.nchw
    var s = 0.0
    for ci in 0..<c {
        for i in 0..<3 {
            for j in 0..<3 {
                let r = y + i - 1, q = px + j - 1
                guard r >= 0, r < h, q >= 0, q < width else { continue }
                s += Double(x.data[((b * c + ci) * h + r) * width + q]) * Double(w.data[((o * c + ci) * 3 + i) * 3 + j])
            }
        }
    }
    return s
}

@Suite("Winograd F(2x2, 3x3) against the direct convolution")
struct WinogradTests {
    /// 256 channels make a chunk of 2,048 tiles; a 3 x 256 x 55 x 60 batch (840 tiles an image)
    /// splits in the middle of its third image, and the odd height leaves half tiles.
    @Test("forward, input and weight gradients across chunk and image boundaries")
    func chunks() {
        var rng = TestRandom(seed: 11)
        let conv = Conv2d(inputChannels: 256, outputChannels: 256, kernelSize: 3, padding: 1, bias: false)
        conv.weight.value = Tensor(uniform: conv.weight.value.shape, in: -0.05...0.05, using: &rng)
        let x = Tensor(uniform: [3, 256, 55, 60], in: -1...1, using: &rng)
        conv.zeroGradients()
        let y = conv.forward(x, training: true)        // Winograd
        let reference = conv.forward(x, training: false)  // im2col + GEMM
        #expect(y.shape == [3, 256, 55, 60])
        let scale = reference.data.map { abs($0) }.max()!
        #expect(y.maxAbsDifference(reference) / scale < 2e-5)
        // Spot checks in Double, including tiles on both sides of the chunk boundary (tile 2,048
        // is image 2, tile 368: rows 24-25, columns 16-17) and the last half-tile row.
        for (b, o, r, q) in [(2, 5, 24, 16), (2, 200, 25, 17), (2, 7, 23, 15), (0, 0, 0, 0), (1, 255, 54, 59), (2, 128, 54, 1)] {
            let exact = directOutput(x, conv.weight.value, b: b, o: o, y: r, x: q)
            #expect(abs(Double(y.data[((b * 256 + o) * 55 + r) * 60 + q]) - exact) < 1e-4 * max(1, abs(exact)))
        }
        // Gradients of L = sum(y * upstream): dX and dW at sampled points, in Double.
        let upstream = Tensor(uniform: y.shape, in: -1...1, using: &rng)
        _ = conv.forward(x, training: true)
        let dx = conv.backward(upstream)
        for (b, ci, r, q) in [(2, 3, 24, 16), (2, 100, 25, 18), (0, 0, 0, 0), (1, 255, 54, 59)] {
            var exact = 0.0
            for o in 0..<256 {
                for i in 0..<3 {
                    for j in 0..<3 {
                        let yr = r - i + 1, yq = q - j + 1
                        guard yr >= 0, yr < 55, yq >= 0, yq < 60 else { continue }
                        exact += Double(upstream.data[((b * 256 + o) * 55 + yr) * 60 + yq])
                            * Double(conv.weight.value.data[((o * 256 + ci) * 3 + i) * 3 + j])
                    }
                }
            }
            #expect(abs(Double(dx.data[((b * 256 + ci) * 55 + r) * 60 + q]) - exact) < 1e-4 * max(1, abs(exact)))
        }
        for (o, ci, i, j) in [(0, 0, 0, 0), (17, 201, 1, 2), (255, 255, 2, 2), (100, 3, 2, 0)] {
            var exact = 0.0
            for b in 0..<3 {
                for r in 0..<55 {
                    for q in 0..<60 {
                        let xr = r + i - 1, xq = q + j - 1
                        guard xr >= 0, xr < 55, xq >= 0, xq < 60 else { continue }
                        exact += Double(upstream.data[((b * 256 + o) * 55 + r) * 60 + q])
                            * Double(x.data[((b * 256 + ci) * 55 + xr) * 60 + xq])
                    }
                }
            }
            let got = Double(conv.weight.gradient.data[((o * 256 + ci) * 3 + i) * 3 + j])
            #expect(abs(got - exact) < 1e-4 * max(1, abs(exact)), "dW[\(o), \(ci), \(i), \(j)]: \(got) vs \(exact)")
        }
    }

    @Test("with a bias, training (Winograd) and inference (im2col) give the same output")
    func epilogue() {
        var rng = TestRandom(seed: 12)
        let conv = Conv2d(inputChannels: 8, outputChannels: 6, kernelSize: 3, padding: 1)
        conv.weight.value = Tensor(uniform: conv.weight.value.shape, in: -0.3...0.3, using: &rng)
        conv.bias!.value = Tensor(uniform: [6], in: -0.5...0.5, using: &rng)
        let x = Tensor(uniform: [2, 8, 9, 7], in: -1...1, using: &rng)
        #expect(conv.forward(x, training: true).maxAbsDifference(conv.forward(x, training: false)) < 1e-5)
    }
}
