import Foundation

/// conv 3 x 3 (no bias) -> GroupNorm(32) -> ReLU, then bilinear x2 (align_corners) if `upsample`
/// (smp `Conv3x3GNReLU`; the ReLU is fused into the group norm).
final class ConvGNReLU: Layer {
    let conv: Conv2d
    let norm: GroupNorm
    let block: Sequential
    let upsample: Bool

    init(inputChannels: Int, outputChannels: Int, upsample: Bool) {
        conv = Conv2d(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, bias: false)
        norm = GroupNorm(groups: 32, channels: outputChannels)
        norm.fusedReLU = true
        block = Sequential([conv, norm])
        self.upsample = upsample
    }

    var children: [(String, Layer)] { [("block", block)] }

    func forward(_ input: Tensor, training: Bool) -> Tensor {
        let y = block.forward(input, training: training)
        return upsample ? upsampleBilinear(y, factor: 2) : y
    }

    func backward(_ gradOutput: Tensor) -> Tensor {
        block.backward(upsample ? upsampleBilinearBackward(gradOutput, factor: 2) : gradOutput)
    }
}

/// Top-down step: nearest x2 of the coarser level plus a 1 x 1 projection of the skip feature.
final class FPNBlock: Layer {
    let skipConv: Conv2d
    init(pyramidChannels: Int, skipChannels: Int) {
        skipConv = Conv2d(inputChannels: skipChannels, outputChannels: pyramidChannels, kernelSize: 1)
    }
    var children: [(String, Layer)] { [("skip_conv", skipConv)] }

    func forward(_ coarse: Tensor, skip: Tensor, training: Bool) -> Tensor {
        let up = upsampleNearest(coarse, factor: 2)
        if training {
            var y = skipConv.forward(skip, training: true)
            addInPlace(&y, up)
            return y
        }
        return skipConv.forwardInference(skip, relu: false, accumulate: up)
    }

    /// Returns (dL/dcoarse, dL/dskip).
    func backward(pair gradOutput: Tensor) -> (Tensor, Tensor) {
        (upsampleNearestBackward(gradOutput, factor: 2), skipConv.backward(gradOutput))
    }

    func forward(_ input: Tensor, training: Bool) -> Tensor { preconditionFailure("FPNBlock takes two inputs") }
    func backward(_ gradOutput: Tensor) -> Tensor { preconditionFailure("use backward(pair:)") }
}

/// The widths of an FPN decoder: smp's `decoder_pyramid_channels` (256 by default) and
/// `decoder_segmentation_channels` (128). The segmentation width must be a multiple of 32
/// (GroupNorm's 32 groups).
public struct FPNDecoderWidths: Sendable, Equatable, Codable, CustomStringConvertible {
    public var pyramidChannels: Int
    public var segmentationChannels: Int

    public init(pyramidChannels: Int, segmentationChannels: Int) {
        self.pyramidChannels = pyramidChannels
        self.segmentationChannels = segmentationChannels
    }

    /// smp's defaults, 256 / 128 (the paper's network).
    public static let standard = FPNDecoderWidths(pyramidChannels: 256, segmentationChannels: 128)

    /// Whether a network can be built with these widths.
    public var isValid: Bool {
        (8...1024).contains(pyramidChannels) && (32...1024).contains(segmentationChannels) && segmentationChannels % 32 == 0
    }

    /// "256/128".
    public var description: String { "\(pyramidChannels)/\(segmentationChannels)" }

    /// Parses "256/128".
    public init?(_ text: String) {
        let parts = text.split(separator: "/").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2 else { return nil }
        self.init(pyramidChannels: parts[0], segmentationChannels: parts[1])
        guard isValid else { return nil }
    }

    /// The widths of the decoder a state dict holds, read from its shapes: `decoder.p5` is
    /// pyramid x C5 x 1 x 1, `segmentation_head.0` classes x segmentation x k x k. Nil when the
    /// dict has neither key (no FPN decoder); a malformed shape reads as 0 (not `isValid`).
    public init?(state: StateDict) {
        let p5 = state["decoder.p5.weight"]?.shape, head = state["segmentation_head.0.weight"]?.shape
        guard p5 != nil || head != nil else { return nil }
        func dimension(_ shape: [Int]?, _ axis: Int, default value: Int) -> Int {
            guard let shape else { return value }
            return shape.count == 4 ? shape[axis] : 0
        }
        self.init(pyramidChannels: dimension(p5, 0, default: Self.standard.pyramidChannels),
                  segmentationChannels: dimension(head, 1, default: Self.standard.segmentationChannels))
    }
}

/// smp's FPN decoder: pyramid (256 channels), four segmentation branches (128 channels, 3/2/1/0
/// bilinear upsamplings to stride 4), summed, Dropout2d(0.2).
public final class FPNDecoder: Layer {
    let p5: Conv2d
    let p4: FPNBlock, p3: FPNBlock, p2: FPNBlock
    let segmentationBlocks: [Sequential]
    let dropout: Dropout2d

    public init(encoderChannels: [Int], pyramidChannels: Int = 256, segmentationChannels: Int = 128,
                dropout: Float = 0.2, seed: UInt64 = 0) {
        p5 = Conv2d(inputChannels: encoderChannels[3], outputChannels: pyramidChannels, kernelSize: 1)
        p4 = FPNBlock(pyramidChannels: pyramidChannels, skipChannels: encoderChannels[2])
        p3 = FPNBlock(pyramidChannels: pyramidChannels, skipChannels: encoderChannels[1])
        p2 = FPNBlock(pyramidChannels: pyramidChannels, skipChannels: encoderChannels[0])
        segmentationBlocks = [3, 2, 1, 0].map { n in
            var units: [Layer] = [ConvGNReLU(inputChannels: pyramidChannels, outputChannels: segmentationChannels,
                                             upsample: n > 0)]
            for _ in 1..<max(n, 1) {
                units.append(ConvGNReLU(inputChannels: segmentationChannels, outputChannels: segmentationChannels, upsample: true))
            }
            return Sequential([Sequential(units)])  // SegmentationBlock.block
        }
        self.dropout = Dropout2d(probability: dropout, seed: seed)
    }

    public var children: [(String, Layer)] {
        [("p5", p5), ("p4", p4), ("p3", p3), ("p2", p2),
         ("seg_blocks", Sequential(segmentationBlocks.map { SegmentationBlockNaming(inner: $0.layers[0] as! Sequential) }))]
    }

    /// Decodes c2...c5 into the 128-channel stride-4 map.
    public func forward(features c: [Tensor], training: Bool) -> Tensor {
        let l5 = training ? p5.forward(c[3], training: true) : p5.forwardInference(c[3], relu: false)
        let l4 = p4.forward(l5, skip: c[2], training: training)
        let l3 = p3.forward(l4, skip: c[1], training: training)
        let l2 = p2.forward(l3, skip: c[0], training: training)
        var merged = segmentationBlocks[3].forward(l2, training: training)
        for (i, level) in [l5, l4, l3].enumerated() {
            if training {
                addInPlace(&merged, segmentationBlocks[i].forward(level, training: true))
                continue
            }
            // Evaluation: the branch's last upsampling adds straight into the merged map.
            let units = (segmentationBlocks[i].layers[0] as! Sequential).layers.map { $0 as! ConvGNReLU }
            var h = level
            for unit in units.dropLast() { h = unit.forward(h, training: false) }
            let last = units.last!
            upsampleBilinear(last.block.forward(h, training: false), factor: 2, into: &merged, accumulate: true)
        }
        return dropout.forward(merged, training: training)
    }

    /// Backward from dL/d(decoder output); returns the gradients of c2...c5.
    public func backward(features gradOutput: Tensor) -> [Tensor] {
        let g = dropout.backward(gradOutput)
        var d5 = segmentationBlocks[0].backward(g)
        var d4 = segmentationBlocks[1].backward(g)
        var d3 = segmentationBlocks[2].backward(g)
        let d2 = segmentationBlocks[3].backward(g)
        let (up2, skip2) = p2.backward(pair: d2)
        addInPlace(&d3, up2)
        let (up3, skip3) = p3.backward(pair: d3)
        addInPlace(&d4, up3)
        let (up4, skip4) = p4.backward(pair: d4)
        addInPlace(&d5, up4)
        let c5 = p5.backward(d5)
        return [skip2, skip3, skip4, c5]
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor { preconditionFailure("use forward(features:)") }
    public func backward(_ gradOutput: Tensor) -> Tensor { preconditionFailure("use backward(features:)") }
}

/// Gives a segmentation branch smp's name for its unit list ("block").
final class SegmentationBlockNaming: Layer {
    let inner: Sequential
    init(inner: Sequential) { self.inner = inner }
    var children: [(String, Layer)] { [("block", inner)] }
    func forward(_ input: Tensor, training: Bool) -> Tensor { inner.forward(input, training: training) }
    func backward(_ gradOutput: Tensor) -> Tensor { inner.backward(gradOutput) }
}

/// FPN segmentation network of segmentation_models_pytorch, `FPN(encoder_name, classes: 1)`:
/// ResNet encoder, FPN decoder, 1 x 1 head and bilinear x4 upsampling to the input size. The
/// forward pass returns logits; apply `sigmoid` for probabilities. Parameter names equal smp's
/// `state_dict()` keys, so weights move between sootctl and PyTorch.
///
/// ## References
/// T.-Y. Lin et al., "Feature pyramid networks for object detection", CVPR 2017; A. Kirillov
/// et al., "Panoptic feature pyramid networks", CVPR 2019; K. He et al., "Deep residual learning
/// for image recognition", CVPR 2016; T. A. Sipkens et al., Powder Technol. 387 (2021) 313-324,
/// doi:10.1016/j.powtec.2021.04.026.
public final class FPN: Layer {
    public let encoder: ResNetEncoder
    public let decoder: FPNDecoder
    let head: Conv2d
    let headSequence: Sequential
    /// Output channels of the head (`classes`).
    public let outputChannels: Int
    /// The decoder's widths.
    public let widths: FPNDecoderWidths
    private var encoderFeatureShapes: [[Int]] = []

    /// - Parameters:
    ///   - depth: the ResNet encoder.
    ///   - classes: output channels (1 for aggregate vs background).
    ///   - dropout: Dropout2d probability after the merge (smp: 0.2).
    ///   - seed: initialisation and dropout seed.
    ///   - decoder: the decoder's widths (smp's `decoder_pyramid_channels` and
    ///     `decoder_segmentation_channels`; 256 and 128 by default). Parameter names do not
    ///     depend on them, only shapes.
    public init(encoder depth: ResNetDepth, classes: Int = 1, dropout: Float = 0.2, seed: UInt64 = 0,
                decoder widths: FPNDecoderWidths = .standard) {
        encoder = ResNetEncoder(depth: depth)
        decoder = FPNDecoder(encoderChannels: depth.featureChannels, pyramidChannels: widths.pyramidChannels,
                             segmentationChannels: widths.segmentationChannels, dropout: dropout, seed: seed &+ 1)
        head = Conv2d(inputChannels: widths.segmentationChannels, outputChannels: classes, kernelSize: 1)
        self.widths = widths
        outputChannels = classes
        headSequence = Sequential([head])
        initialize(seed: seed)
    }

    public var children: [(String, Layer)] {
        [("encoder", encoder), ("decoder", decoder), ("segmentation_head", headSequence)]
    }

    /// Sets the head's bias of output channel `channel` (a detector starts its centre heatmap at
    /// a low prior, CenterNet's -2.19 = logit of 0.1, so the first steps are not swamped by
    /// the background's loss).
    public func setHeadBias(channel: Int, to value: Float) {
        precondition(channel >= 0 && channel < outputChannels, "no output channel \(channel)")
        head.bias?.value.data[channel] = value
    }

    /// Restarts the dropout masks' generator, so that a training step's masks depend only on
    /// the step (resumed runs then repeat an uninterrupted run exactly).
    public func reseedDropout(_ seed: UInt64) { decoder.dropout.generator = SplitMix64(seed: seed) }

    /// Logits [N, classes, H, W] for an input [N, 3, H, W] with H and W multiples of 32.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let (_, _, h, w) = input.nchw
        precondition(h % 32 == 0 && w % 32 == 0, "FPN input height and width must be multiples of 32, got \(h) x \(w)")
        let features = encoder.features(input, training: training)
        let decoded = decoder.forward(features: features, training: training)
        let logits = training ? head.forward(decoded, training: true) : head.forwardInference(decoded, relu: false)
        return upsampleBilinear(logits, factor: 4)
    }

    /// Inference logits [N, classes, H, W] for a gray batch [N, 1, H, W] that `forward` would
    /// take replicated to three channels and normalised per channel with `mean` and `std`; the
    /// same logits up to rounding, with a third of the stem's work (`ResNetEncoder.features(gray:mean:std:)`).
    public func forward(gray input: Tensor, mean: [Float], std: [Float]) -> Tensor {
        let (_, _, h, w) = input.nchw
        precondition(h % 32 == 0 && w % 32 == 0, "FPN input height and width must be multiples of 32, got \(h) x \(w)")
        let features = encoder.features(gray: input, mean: mean, std: std)
        let decoded = decoder.forward(features: features, training: false)
        return upsampleBilinear(head.forwardInference(decoded, relu: false), factor: 4)
    }

    /// Backward from dL/dlogits; parameter gradients accumulate; returns an empty tensor (the
    /// input gradient is not needed for training).
    public func backward(_ gradOutput: Tensor) -> Tensor {
        let g = head.backward(upsampleBilinearBackward(gradOutput, factor: 4))
        let featureGradients = decoder.backward(features: g)
        return encoder.backward(features: featureGradients)
    }

    /// PyTorch/smp initialisation: encoder convolutions Kaiming-normal (fan-out, ReLU) as
    /// torchvision; decoder convolutions Kaiming-uniform (fan-in, ReLU); head Xavier-uniform;
    /// biases 0; norm layers weight 1, bias 0.
    public func initialize(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for (_, p) in encoder.namedParameters() where p.value.shape.count == 4 {
            let s = p.value.shape, fanOut = s[0] * s[2] * s[3]
            let std = (2 / Float(fanOut)).squareRoot()
            p.value.data = (0..<p.value.count).map { _ in Float(rng.nextGaussian()) * std }
        }
        for (_, p) in decoder.namedParameters() where p.value.shape.count == 4 {
            let s = p.value.shape, fanIn = s[1] * s[2] * s[3]
            let bound = (6 / Float(fanIn)).squareRoot()
            p.value.data = (0..<p.value.count).map { _ in Float.random(in: -bound...bound, using: &rng) }
        }
        let s = head.weight.value.shape
        let bound = (6 / Float(s[1] * s[2] * s[3] + s[0] * s[2] * s[3])).squareRoot()
        head.weight.value.data = (0..<head.weight.value.count).map { _ in Float.random(in: -bound...bound, using: &rng) }
        invalidateAllCaches()
    }
}
