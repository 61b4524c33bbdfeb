import Foundation
import NeuralNet
import Testing
import TestSupport

/// L = sum(forward(x) * upstream), accumulated in Double.
private func objective(_ layer: Layer, _ x: Tensor, _ upstream: Tensor) -> Double {
    let y = layer.forward(x, training: true)
    var s = 0.0
    for i in 0..<y.count { s += Double(y.data[i]) * Double(upstream.data[i]) }
    return s
}

/// Compares backward's gradients with central differences at `samples` random coordinates of
/// the input and of every parameter. Returns the worst relative error.
@discardableResult
func gradientCheck(_ layer: Layer, input: Tensor, samples: Int = 12, epsilon: Float = 1e-2,
                   seed: UInt64 = 1, checkInput: Bool = true) -> Double {
    var rng = TestRandom(seed: seed)
    let y = layer.forward(input, training: true)
    let upstream = Tensor(uniform: y.shape, in: -1...1, using: &rng)
    layer.zeroGradients()
    _ = layer.forward(input, training: true)
    let dx = layer.backward(upstream)
    var worst = 0.0
    func compare(_ analytic: Float, _ numeric: Double, _ what: String) {
        let err = abs(Double(analytic) - numeric) / max(1e-2, abs(numeric), abs(Double(analytic)))
        worst = max(worst, err)
        #expect(err < 2e-2, "\(what): analytic \(analytic), numeric \(numeric)")
    }
    if checkInput {
        for _ in 0..<samples {
            let i = Int.random(in: 0..<input.count, using: &rng)
            var plus = input, minus = input
            plus.data[i] += epsilon; minus.data[i] -= epsilon
            let numeric = (objective(layer, plus, upstream) - objective(layer, minus, upstream)) / Double(2 * epsilon)
            compare(dx.data[i], numeric, "input[\(i)]")
        }
    }
    for (name, p) in layer.namedParameters() {
        for _ in 0..<max(2, samples / 3) {
            let i = Int.random(in: 0..<p.value.count, using: &rng)
            let original = p.value.data[i]
            p.value.data[i] = original + epsilon
            let lp = objective(layer, input, upstream)
            p.value.data[i] = original - epsilon
            let lm = objective(layer, input, upstream)
            p.value.data[i] = original
            compare(p.gradient.data[i], (lp - lm) / Double(2 * epsilon), "\(name)[\(i)]")
        }
    }
    return worst
}

private func randomTensor(_ shape: [Int], seed: UInt64, range: ClosedRange<Float> = -1...1) -> Tensor {
    var rng = TestRandom(seed: seed)
    return Tensor(uniform: shape, in: range, using: &rng)
}

private func randomized<L: Layer>(_ layer: L, seed: UInt64) -> L {
    var rng = TestRandom(seed: seed)
    for (_, p) in layer.namedParameters() { p.value = Tensor(uniform: p.value.shape, in: -0.5...0.5, using: &rng) }
    return layer
}

@Suite("Gradient checks (central differences)")
struct GradientCheckTests {
    @Test("convolution: strides, padding, dilation, bias, 1x1")
    func convolution() {
        gradientCheck(randomized(Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, stride: 2, padding: 1), seed: 1),
                      input: randomTensor([2, 3, 7, 6], seed: 2))
        gradientCheck(randomized(Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 2, dilation: 2, bias: false), seed: 3),
                      input: randomTensor([1, 2, 6, 6], seed: 4))
        gradientCheck(randomized(Conv2d(inputChannels: 4, outputChannels: 2, kernelSize: 1), seed: 5),
                      input: randomTensor([2, 4, 3, 5], seed: 6))
        // 3 x 3 stride 1 padding 1: the Winograd path, odd sizes.
        gradientCheck(randomized(Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1), seed: 8),
                      input: randomTensor([2, 3, 5, 7], seed: 9))
    }

    @Test("batch norm (training), group norm with and without ReLU")
    func normalization() {
        let bn = randomized(BatchNorm2d(channels: 3), seed: 7)
        gradientCheck(bn, input: randomTensor([3, 3, 4, 4], seed: 8), epsilon: 5e-3)
        gradientCheck(randomized(GroupNorm(groups: 2, channels: 4), seed: 9), input: randomTensor([2, 4, 3, 3], seed: 10),
                      epsilon: 5e-3)
        let fused = randomized(GroupNorm(groups: 2, channels: 4), seed: 11)
        fused.fusedReLU = true
        gradientCheck(fused, input: randomTensor([2, 4, 3, 3], seed: 12), epsilon: 1e-3)
    }

    @Test("ReLU, max pooling, nearest and bilinear upsampling")
    func pointwiseAndResampling() {
        gradientCheck(ReLU(), input: randomTensor([2, 3, 4, 4], seed: 13), epsilon: 1e-3)
        gradientCheck(MaxPool2d(kernel: 3, stride: 2, padding: 1), input: randomTensor([2, 2, 7, 6], seed: 14), epsilon: 1e-3)
        gradientCheck(UpsampleNearest(factor: 2), input: randomTensor([1, 2, 3, 4], seed: 15))
        gradientCheck(UpsampleBilinear(factor: 4), input: randomTensor([1, 2, 3, 4], seed: 16))
    }

    @Test("Dropout2d: whole channels, scaled by 1/(1-p), backward is the same linear map")
    func dropout() {
        let layer = Dropout2d(probability: 0.5, seed: 3)
        let x = randomTensor([4, 8, 3, 3], seed: 17, range: 1...2)
        let y = layer.forward(x, training: true)
        let g = layer.backward(Tensor(zeros: x.shape, value: 1))
        var dropped = 0
        for nc in 0..<32 {
            let slice = (nc * 9)..<((nc + 1) * 9)
            let zero = y.data[slice].allSatisfy { $0 == 0 }
            if zero { dropped += 1; #expect(g.data[slice].allSatisfy { $0 == 0 }) }
            else {
                for i in slice { #expect(abs(y.data[i] - 2 * x.data[i]) < 1e-6 && g.data[i] == 2) }
            }
        }
        #expect(dropped > 4 && dropped < 28)
        #expect(layer.forward(x, training: false) == x)
    }

    @Test("binary cross-entropy on logits")
    func bce() {
        var rng = TestRandom(seed: 18)
        let logits = Tensor(uniform: [2, 1, 3, 3], in: -4...4, using: &rng)
        let targets = Tensor(uniform: [2, 1, 3, 3], in: 0...1, using: &rng)
        let (_, grad) = binaryCrossEntropyWithLogits(logits, targets: targets)
        for i in 0..<logits.count {
            var p = logits, m = logits
            p.data[i] += 1e-2; m.data[i] -= 1e-2
            let numeric = (binaryCrossEntropyWithLogits(p, targets: targets).loss
                - binaryCrossEntropyWithLogits(m, targets: targets).loss) / 2e-2
            #expect(abs(grad.data[i] - numeric) < 2e-4)
        }
    }

    @Test("whole FPN-ResNet-18 (training mode, no dropout) on a 2 x 3 x 64 x 64 batch")
    func wholeModel() {
        let model = FPN(encoder: .resnet18, dropout: 0, seed: 5)
        // A few parameters from every part of the network, checked one coordinate at a time.
        let input = randomTensor([2, 3, 64, 64], seed: 19)
        var rng = TestRandom(seed: 20)
        let y = model.forward(input, training: true)
        let upstream = Tensor(uniform: y.shape, in: -1...1, using: &rng)
        model.zeroGradients()
        _ = model.forward(input, training: true)
        _ = model.backward(upstream)
        let names = ["encoder.conv1.weight", "encoder.layer1.0.conv1.weight", "encoder.layer3.1.bn2.weight",
                     "encoder.layer4.0.downsample.0.weight", "decoder.p5.weight", "decoder.p3.skip_conv.bias",
                     "decoder.seg_blocks.0.block.2.block.0.weight", "decoder.seg_blocks.3.block.0.block.1.bias",
                     "segmentation_head.0.weight", "segmentation_head.0.bias"]
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters())
        for name in names {
            let p = parameters[name]!
            // The coordinate with the largest gradient, so the difference is well above noise.
            let i = p.gradient.data.indices.max { abs(p.gradient.data[$0]) < abs(p.gradient.data[$1]) }!
            let original = p.value.data[i], eps: Float = 5e-4
            p.value.data[i] = original + eps
            let lp = objective(model, input, upstream)
            p.value.data[i] = original - eps
            let lm = objective(model, input, upstream)
            p.value.data[i] = original
            let numeric = (lp - lm) / Double(2 * eps)
            let analytic = Double(p.gradient.data[i])
            #expect(abs(analytic - numeric) / max(abs(numeric), 1e-3) < 3e-2, "\(name): \(analytic) vs \(numeric)")
        }
    }
}
