import Foundation

/// The ResNet variants of the FPN encoder (torchvision v1.5 layout, stride on the 3 x 3 conv).
public enum ResNetDepth: String, Sendable, CaseIterable, Codable {
    case resnet18, resnet34, resnet50

    /// Blocks per stage.
    var blocks: [Int] {
        switch self {
        case .resnet18: return [2, 2, 2, 2]
        case .resnet34, .resnet50: return [3, 4, 6, 3]
        }
    }
    var bottleneck: Bool { self == .resnet50 }
    /// Channels of c2...c5.
    public var featureChannels: [Int] { bottleneck ? [256, 512, 1024, 2048] : [64, 128, 256, 512] }
}

/// One residual block: basic (two 3 x 3) or bottleneck (1 x 1, 3 x 3, 1 x 1 with 4x expansion).
final class ResidualBlock: Layer {
    let convs: [Conv2d]
    /// Batch norms; all but the last have the block's inner ReLU fused in.
    let norms: [BatchNorm2d]
    let downsample: Sequential?
    /// The training forward pass's output (after the block's ReLU), for backward's mask.
    private var output: Tensor?

    init(inputChannels: Int, width: Int, stride: Int, bottleneck: Bool) {
        let outputChannels = bottleneck ? width * 4 : width
        if bottleneck {
            convs = [Conv2d(inputChannels: inputChannels, outputChannels: width, kernelSize: 1, bias: false),
                     Conv2d(inputChannels: width, outputChannels: width, kernelSize: 3, stride: stride, padding: 1, bias: false),
                     Conv2d(inputChannels: width, outputChannels: outputChannels, kernelSize: 1, bias: false)]
        } else {
            convs = [Conv2d(inputChannels: inputChannels, outputChannels: width, kernelSize: 3, stride: stride, padding: 1, bias: false),
                     Conv2d(inputChannels: width, outputChannels: width, kernelSize: 3, padding: 1, bias: false)]
        }
        norms = convs.map { BatchNorm2d(channels: $0.geometry.outputChannels) }
        for norm in norms.dropLast() { norm.fusedReLU = true }
        if stride != 1 || inputChannels != outputChannels {
            downsample = Sequential([
                Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1, stride: stride, bias: false),
                BatchNorm2d(channels: outputChannels),
            ])
        } else {
            downsample = nil
        }
    }

    var children: [(String, Layer)] {
        var out: [(String, Layer)] = []
        for (i, (c, b)) in zip(convs, norms).enumerated() {
            out.append(("conv\(i + 1)", c))
            out.append(("bn\(i + 1)", b))
        }
        if let downsample { out.append(("downsample", downsample)) }
        return out
    }

    func forward(_ input: Tensor, training: Bool) -> Tensor {
        if !training {
            var identity = input
            if let downsample {
                identity = (downsample.layers[0] as! Conv2d).forwardFolded(
                    input, batchNorm: downsample.layers[1] as! BatchNorm2d, relu: false)
            }
            var h = input
            for i in 0..<(convs.count - 1) { h = convs[i].forwardFolded(h, batchNorm: norms[i], relu: true) }
            return convs.last!.forwardFolded(h, batchNorm: norms.last!, relu: true, residual: identity)
        }
        // The last batch norm adds the identity and applies the block's ReLU in the same pass.
        let identity = downsample?.forward(input, training: true) ?? input
        var h = input
        for i in 0..<(convs.count - 1) {
            h = norms[i].forward(convs[i].forward(h, training: true), training: true)
        }
        let y = norms.last!.forwardTraining(convs.last!.forward(h, training: true), residual: identity, relu: true)
        output = y
        return y
    }

    func backward(_ gradOutput: Tensor) -> Tensor {
        guard let output else { preconditionFailure("backward without a training forward pass") }
        let g = reluBackward(gradOutput, output: output)
        var main = g
        for i in stride(from: convs.count - 1, through: 0, by: -1) {
            main = convs[i].backward(norms[i].backward(main))
        }
        let identity = downsample?.backward(g) ?? g
        addInPlace(&main, identity)
        return main
    }
}

/// The ResNet encoder of smp's FPN: stem (7 x 7 / 2 conv, BN, ReLU, 3 x 3 / 2 max-pool) and four
/// stages; returns the stage outputs c2...c5 (strides 4, 8, 16, 32).
public final class ResNetEncoder: Layer {
    public let depth: ResNetDepth
    let conv1: Conv2d
    /// The stem's batch norm, with its ReLU fused in.
    let bn1: BatchNorm2d
    let pool = MaxPool2d(kernel: 3, stride: 2, padding: 1)
    let stages: [Sequential]

    public init(depth: ResNetDepth, inputChannels: Int = 3) {
        self.depth = depth
        conv1 = Conv2d(inputChannels: inputChannels, outputChannels: 64, kernelSize: 7, stride: 2, padding: 3, bias: false)
        conv1.needsInputGradient = false
        bn1 = BatchNorm2d(channels: 64)
        bn1.fusedReLU = true
        var stages: [Sequential] = []
        var channels = 64
        for (s, count) in depth.blocks.enumerated() {
            let width = 64 << s
            var blocks: [Layer] = []
            for b in 0..<count {
                let block = ResidualBlock(inputChannels: channels, width: width, stride: b == 0 && s > 0 ? 2 : 1,
                                          bottleneck: depth.bottleneck)
                channels = depth.bottleneck ? width * 4 : width
                blocks.append(block)
            }
            stages.append(Sequential(blocks))
        }
        self.stages = stages
    }

    public var children: [(String, Layer)] {
        [("conv1", conv1), ("bn1", bn1)] + stages.enumerated().map { ("layer\($0.offset + 1)", $0.element) }
    }

    /// Stage outputs c2, c3, c4, c5.
    public func features(_ input: Tensor, training: Bool) -> [Tensor] {
        var h: Tensor
        if training {
            h = bn1.forward(conv1.forward(input, training: true), training: true)
        } else {
            h = conv1.forwardFolded(input, batchNorm: bn1, relu: true)
        }
        return stages(after: h, training: training)
    }

    /// Inference stage outputs for a gray batch (N x 1 x H x W) that the network would see
    /// replicated to its input channels and normalised per channel, `(g - mean_c) / std_c`: the
    /// stem folds the channels into one (`GrayStemWeights`), the rest is `features`'.
    public func features(gray: Tensor, mean: [Float], std: [Float]) -> [Tensor] {
        stages(after: conv1.forwardFoldedGray(gray, batchNorm: bn1, mean: mean, std: std, relu: true), training: false)
    }

    /// Input channels of the stem.
    public var inputChannels: Int { conv1.geometry.inputChannels }

    private func stages(after stem: Tensor, training: Bool) -> [Tensor] {
        var h = pool.forward(stem, training: training)
        var out: [Tensor] = []
        for stage in stages {
            h = stage.forward(h, training: training)
            out.append(h)
        }
        return out
    }

    /// Backward from the gradients of c2...c5; returns dL/dinput only when the stem conv computes it.
    public func backward(features gradients: [Tensor]) -> Tensor {
        var g = gradients[3]
        for s in stride(from: 3, through: 0, by: -1) {
            if s < 3 { addInPlace(&g, gradients[s]) }
            g = stages[s].backward(g)
        }
        g = pool.backward(g)
        return conv1.backward(bn1.backward(g))
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor { features(input, training: training).last! }
    /// The encoder has four outputs; use `backward(features:)`.
    public func backward(_ gradOutput: Tensor) -> Tensor {
        preconditionFailure("use backward(features:) on the encoder")
    }
}
