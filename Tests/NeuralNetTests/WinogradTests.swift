import Foundation
import NeuralNet
import Testing
import TestSupport

/// Direct 3 x 3 padding-1 correlation, its input gradient and its weight gradient, in Double.
private struct DirectConvolution {
    let x: Tensor, w: Tensor, upstream: Tensor
    var n: Int { x.shape[0] }
    var c: Int { x.shape[1] }
    var h: Int { x.shape[2] }
    var width: Int { x.shape[3] }
    var o: Int { w.shape[0] }

    func inside(_ r: Int, _ q: Int) -> Bool { r >= 0 && r < h && q >= 0 && q < width }
    func xAt(_ b: Int, _ ci: Int, _ r: Int, _ q: Int) -> Double { Double(x.data[((b * c + ci) * h + r) * width + q]) }
    func wAt(_ oi: Int, _ ci: Int, _ i: Int, _ j: Int) -> Double { Double(w.data[((oi * c + ci) * 3 + i) * 3 + j]) }
    func upAt(_ b: Int, _ oi: Int, _ r: Int, _ q: Int) -> Double { Double(upstream.data[((b * o + oi) * h + r) * width + q]) }

    func output(_ b: Int, _ oi: Int, _ r: Int, _ q: Int) -> Double {
        var s = 0.0
        for ci in 0..<c { for i in 0..<3 { for j in 0..<3 where inside(r + i - 1, q + j - 1) {
            s += xAt(b, ci, r + i - 1, q + j - 1) * wAt(oi, ci, i, j)
        } } }
        return s
    }

    func inputGradient(_ b: Int, _ ci: Int, _ r: Int, _ q: Int) -> Double {
        var s = 0.0
        for oi in 0..<o { for i in 0..<3 { for j in 0..<3 where inside(r - i + 1, q - j + 1) {
            s += upAt(b, oi, r - i + 1, q - j + 1) * wAt(oi, ci, i, j)
        } } }
        return s
    }

    func weightGradient(_ oi: Int, _ ci: Int, _ i: Int, _ j: Int) -> Double {
        var s = 0.0
        for b in 0..<n { for r in 0..<h { for q in 0..<width where inside(r + i - 1, q + j - 1) {
            s += upAt(b, oi, r, q) * xAt(b, ci, r + i - 1, q + j - 1)
        } } }
        return s
    }
}

/// Largest |a - exact| over max(1, max |exact|).
private func worst(_ count: Int, _ got: (Int) -> Float, _ exact: (Int) -> Double) -> Double {
    var error = 0.0, scale = 1.0
    for k in 0..<count {
        let e = exact(k)
        scale = max(scale, abs(e))
        error = max(error, abs(Double(got(k)) - e))
    }
    return error / scale
}

@Suite("Winograd F(2x2, 3x3) and F(4x4, 3x3) against the direct convolution", .serialized)
struct WinogradTests {
    /// Small buffers split the 3-image batch into many chunks (chunk edges inside images and
    /// between them); 13 x 14 and 7 x 9 planes leave partial tiles on both sides; every output,
    /// input-gradient and weight-gradient entry is compared with Double.
    @Test("outputs and both gradients across chunks and partial tiles", arguments: [
        (true, 13, 14), (false, 13, 14), (true, 8, 8), (false, 7, 9), (true, 20, 9),
    ])
    func everyEntry(f4: Bool, height: Int, width: Int) {
        // F(4 x 4) twice where the CPU has AVX2 and FMA: its C transforms, then the Swift ones.
        let saved = Winograd.vectorTransforms
        defer { Winograd.vectorTransforms = saved }
        for vector in f4 && saved ? [true, false] : [false] {
            Winograd.vectorTransforms = vector
            compareWithDirect(f4: f4, height: height, width: width)
        }
    }

    func compareWithDirect(f4: Bool, height: Int, width: Int) {
        let (savedF4, savedLimit) = (Winograd.allowsF4, Winograd.bufferLimit)
        Winograd.allowsF4 = f4
        Winograd.bufferLimit = 4096
        defer { Winograd.allowsF4 = savedF4; Winograd.bufferLimit = savedLimit }
        var rng = TestRandom(seed: UInt64(11 + height * width))
        let conv = Conv2d(inputChannels: 16, outputChannels: 12, kernelSize: 3, padding: 1, bias: false)
        conv.weight.value = Tensor(uniform: conv.weight.value.shape, in: -0.3...0.3, using: &rng)
        let x = Tensor(uniform: [3, 16, height, width], in: -1...1, using: &rng)
        conv.zeroGradients()
        let y = conv.forward(x, training: true)
        let upstream = Tensor(uniform: y.shape, in: -1...1, using: &rng)
        let dx = conv.backward(upstream)
        let direct = DirectConvolution(x: x, w: conv.weight.value, upstream: upstream)
        let plane = height * width
        func split(_ k: Int, _ channels: Int) -> (Int, Int, Int, Int) {
            (k / (channels * plane), (k / plane) % channels, (k % plane) / width, k % width)
        }
        let tolerance = f4 && height >= 8 && width >= 8 ? 2e-5 : 2e-6
        let outputError = worst(y.count, { y.data[$0] }) { k in let (b, o, r, q) = split(k, 12); return direct.output(b, o, r, q) }
        let inputError = worst(dx.count, { dx.data[$0] }) { k in let (b, c, r, q) = split(k, 16); return direct.inputGradient(b, c, r, q) }
        let weightError = worst(conv.weight.gradient.count, { conv.weight.gradient.data[$0] }) { k in
            direct.weightGradient(k / 144, (k / 9) % 16, (k % 9) / 3, k % 3)
        }
        #expect(outputError < tolerance, "output \(outputError) (C transforms: \(Winograd.vectorTransforms))")
        #expect(inputError < tolerance, "input gradient \(inputError)")
        #expect(weightError < tolerance, "weight gradient \(weightError)")
    }

    @Test("with a bias, training (Winograd), inference with Winograd and inference with im2col give the same output")
    func epilogue() {
        var rng = TestRandom(seed: 12)
        let conv = Conv2d(inputChannels: 8, outputChannels: 6, kernelSize: 3, padding: 1)
        conv.weight.value = Tensor(uniform: conv.weight.value.shape, in: -0.3...0.3, using: &rng)
        conv.bias!.value = Tensor(uniform: [6], in: -0.5...0.5, using: &rng)
        let saved = NeuralNetRuntime.forcedInferenceWinograd
        defer { NeuralNetRuntime.forcedInferenceWinograd = saved }
        for shape in [[2, 8, 9, 7], [2, 8, 16, 11]] {
            let x = Tensor(uniform: shape, in: -1...1, using: &rng)
            NeuralNetRuntime.forcedInferenceWinograd = false
            let im2col = conv.forward(x, training: false)
            NeuralNetRuntime.forcedInferenceWinograd = true
            let winograd = conv.forward(x, training: false)
            #expect(conv.forward(x, training: true).maxAbsDifference(im2col) < 1e-5)
            #expect(winograd.maxAbsDifference(im2col) < 1e-5)
        }
    }

    /// Inference's Winograd path on a whole FPN-ResNet-18 in evaluation mode (folded batch
    /// norms, fused residuals, the decoder's group-norm blocks and the head): the logits equal
    /// im2col's to about 1e-5 of their range, and the cached transformed kernels follow the
    /// weights when they change (a training pass drops them).
    @Test("FPN inference: Winograd equals im2col, and its kernel cache follows changed weights")
    func fpnInference() throws {
        let saved = NeuralNetRuntime.forcedInferenceWinograd
        defer { NeuralNetRuntime.forcedInferenceWinograd = saved }
        let model = FPN(encoder: .resnet18, dropout: 0, seed: 7)
        var rng = TestRandom(seed: 3)
        let x = Tensor(uniform: [1, 3, 64, 96], in: -1...1, using: &rng)
        func logits(winograd: Bool) -> Tensor {
            NeuralNetRuntime.forcedInferenceWinograd = winograd
            return model.forward(x, training: false)
        }
        let reference = logits(winograd: false)
        let scale = Double(reference.data.map { abs($0) }.max() ?? 1)
        #expect(scale > 0)
        #expect(Double(logits(winograd: true).maxAbsDifference(reference)) < 1e-5 * max(scale, 1))
        // New weights: a training forward pass drops every cache, so inference sees them.
        for (_, p) in model.namedParameters() where p.value.shape.count == 4 {
            for i in 0..<p.value.count { p.value.data[i] *= 0.5 }
        }
        _ = model.forward(x, training: true)
        let changed = logits(winograd: false)
        #expect(changed.maxAbsDifference(reference) > 1e-3)
        #expect(Double(logits(winograd: true).maxAbsDifference(changed)) < 1e-5 * max(Double(changed.data.map { abs($0) }.max() ?? 1), 1))
    }
}
