import Foundation
import NeuralNet
import Testing
import TestSupport

/// PyTorch reference values (tools/make_layer_fixtures.py, float64 in PyTorch, stored as float32).
let layerFixtures: StateDict = {
    try! SafeTensors.read(TestPaths.fixture("layers.safetensors", target: "NeuralNetTests")).state
}()

func fixture(_ key: String) -> Tensor {
    guard let t = layerFixtures[key] else { fatalError("fixture \(key) missing") }
    return t
}

/// Largest |a - b| relative to max(1, max |b|).
func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
    let scale = max(1, b.data.map { abs($0) }.max() ?? 1)
    return a.maxAbsDifference(b) / scale
}

/// Runs forward (training) and backward with the fixture's upstream gradient and compares.
func checkLayer(_ prefix: String, _ layer: Layer, parameters: [String] = [], tolerance: Float = 1e-4) {
    for name in parameters {
        let p = layer.namedParameters().first { $0.0 == name }!.1
        p.value = fixture("\(prefix).\(name)")
    }
    layer.zeroGradients()
    let y = layer.forward(fixture("\(prefix).input"), training: true)
    #expect(y.shape == fixture("\(prefix).output").shape, "\(prefix) output shape")
    #expect(relativeError(y, fixture("\(prefix).output")) < tolerance, "\(prefix) output")
    let dx = layer.backward(fixture("\(prefix).upstream"))
    #expect(relativeError(dx, fixture("\(prefix).grad_input")) < tolerance, "\(prefix) input gradient")
    for name in parameters {
        let p = layer.namedParameters().first { $0.0 == name }!.1
        #expect(relativeError(p.gradient, fixture("\(prefix).grad_\(name)")) < tolerance, "\(prefix) \(name) gradient")
    }
}

@Suite("Layers match PyTorch")
struct LayerParityTests {
    @Test("convolutions: 3x3 stride 2 with bias, dilated, 7x7 stem, 1x1, 1x1 stride 2")
    func convolutions() {
        checkLayer("conv", Conv2d(inputChannels: 5, outputChannels: 7, kernelSize: 3, stride: 2, padding: 1),
                   parameters: ["weight", "bias"])
        checkLayer("conv_dilated", Conv2d(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 2, dilation: 2, bias: false),
                   parameters: ["weight"])
        checkLayer("conv_7x7", Conv2d(inputChannels: 3, outputChannels: 8, kernelSize: 7, stride: 2, padding: 3, bias: false),
                   parameters: ["weight"])
        checkLayer("conv_1x1", Conv2d(inputChannels: 6, outputChannels: 5, kernelSize: 1), parameters: ["weight", "bias"])
        checkLayer("conv_1x1_s2", Conv2d(inputChannels: 6, outputChannels: 5, kernelSize: 1, stride: 2, bias: false),
                   parameters: ["weight"])
    }

    @Test("3x3 stride-1 convolutions (the Winograd path in training): odd sizes, a batch, wide channels, one row")
    func winogradConvolutions() {
        checkLayer("conv_3x3", Conv2d(inputChannels: 6, outputChannels: 9, kernelSize: 3, padding: 1),
                   parameters: ["weight", "bias"])
        checkLayer("conv_3x3_wide", Conv2d(inputChannels: 40, outputChannels: 33, kernelSize: 3, padding: 1, bias: false),
                   parameters: ["weight"])
        checkLayer("conv_3x3_single", Conv2d(inputChannels: 4, outputChannels: 5, kernelSize: 3, padding: 1, bias: false),
                   parameters: ["weight"])
    }

    @Test("batch norm in training mode, including running statistics")
    func batchNorm() {
        let bn = BatchNorm2d(channels: 6)
        checkLayer("bn", bn, parameters: ["weight", "bias"])
        #expect(relativeError(bn.runningMean.value, fixture("bn.after_running_mean")) < 1e-5)
        #expect(relativeError(bn.runningVar.value, fixture("bn.after_running_var")) < 1e-5)
        #expect(bn.batchesTracked.value.data == [1])
    }

    @Test("group norm, max pooling, nearest and bilinear (align_corners) upsampling")
    func otherLayers() {
        checkLayer("gn", GroupNorm(groups: 4, channels: 8), parameters: ["weight", "bias"])
        checkLayer("maxpool", MaxPool2d(kernel: 3, stride: 2, padding: 1))
        checkLayer("nearest2", UpsampleNearest(factor: 2))
        checkLayer("bilinear2", UpsampleBilinear(factor: 2))
        checkLayer("bilinear4", UpsampleBilinear(factor: 4))
    }

    @Test("binary cross-entropy on logits: value and gradient")
    func bce() {
        let (loss, grad) = binaryCrossEntropyWithLogits(fixture("bce.logits"), targets: fixture("bce.target"))
        #expect(abs(loss - fixture("bce.loss").data[0]) < 1e-5)
        #expect(relativeError(grad, fixture("bce.grad")) < 1e-5)
        let p = sigmoid(fixture("bce.logits"))
        #expect(abs(binaryCrossEntropy(probabilities: p, targets: fixture("bce.target")) - loss) < 1e-4)
    }

    @Test("three Adam steps with coupled weight decay")
    func adam() {
        let p = Parameter(fixture("adam.initial"))
        let optimizer = Adam(parameters: [("p", p)], learningRate: 1e-2, weightDecay: 1e-2)
        for step in 0..<3 {
            p.gradient = fixture("adam.grad\(step)")
            optimizer.update()
            #expect(relativeError(p.value, fixture("adam.after\(step)")) < 1e-6, "step \(step)")
        }
    }
}
