import Foundation
@_exported import Randomness

/// 2-D convolution with PyTorch's `Conv2d` parameters: `weight` [out, in, k, k] and an
/// optional `bias` [out].
public final class Conv2d: Layer {
    public let geometry: ConvolutionGeometry
    public let weight: Parameter
    public let bias: Parameter?
    /// Whether `backward` computes dL/dinput (false for a network's first layer).
    public var needsInputGradient = true
    private var cachedInput: Tensor?
    /// The training forward pass's Winograd kernels (3 x 3 stride 1), read again by backward.
    private var winogradKernels: [Float]?
    /// Weights with a following batch norm folded in (inference), built on first use.
    private var folded: (weight: [Float], bias: [Float])?
    /// Inference's Winograd kernels (of the folded weights where a batch norm is folded in),
    /// built on first use for the tile scheme they were made for.
    private var inferenceKernels: (scheme: Winograd.Scheme, kernels: [Float])?
    /// A first convolution's weights folded for a gray input (`forwardFoldedGray`), built on first use.
    var grayStem: GrayStemWeights?

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, bias: Bool = true) {
        geometry = ConvolutionGeometry(inputChannels: inputChannels, outputChannels: outputChannels,
                                       kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation)
        weight = Parameter(Tensor(zeros: [outputChannels, inputChannels, kernelSize, kernelSize]))
        self.bias = bias ? Parameter(Tensor(zeros: [outputChannels])) : nil
    }

    public var localParameters: [(String, Parameter)] {
        bias.map { [("weight", weight), ("bias", $0)] } ?? [("weight", weight)]
    }

    public func invalidateCaches() { folded = nil; inferenceKernels = nil; grayStem = nil }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        if training { cachedInput = input; folded = nil; inferenceKernels = nil; grayStem = nil }
        // Training's 3 x 3 stride-1 convolutions: Winograd, with the transformed kernels kept for backward.
        var kernels: [Float]?
        if training && Winograd.applies(geometry) {
            let (_, _, h, w) = input.nchw
            kernels = Winograd.kernels(weight.value.data, geometry: geometry, scheme: Winograd.scheme(height: h, width: w))
        }
        winogradKernels = kernels
        if !training { kernels = inferenceWinogradKernels(weight.value.data, input: input) }
        let winograd = kernels != nil
        return bias?.value.data.withUnsafeBufferPointer { b in
            convolutionForward(input, weight: weight.value.data, geometry: geometry,
                               epilogue: ConvolutionEpilogue(bias: b.baseAddress, relu: false), winograd: winograd,
                               winogradKernels: kernels, inference: !training)
        } ?? convolutionForward(input, weight: weight.value.data, geometry: geometry, winograd: winograd,
                                winogradKernels: kernels, inference: !training)
    }

    /// The transformed kernels of `weights` for an inference pass over `input`, or nil where
    /// inference takes im2col (`NeuralNetRuntime.inferenceUsesWinograd` off, or a geometry
    /// Winograd does not cover). Cached until the weights change (`invalidateCaches`, a
    /// training pass).
    private func inferenceWinogradKernels(_ weights: [Float], input: Tensor) -> [Float]? {
        guard NeuralNetRuntime.inferenceUsesWinograd, Winograd.applies(geometry) else { return nil }
        let (_, _, h, w) = input.nchw
        let scheme = Winograd.scheme(height: h, width: w, inference: true)
        if let cached = inferenceKernels, cached.scheme == scheme { return cached.kernels }
        let kernels = Winograd.kernels(weights, geometry: geometry, scheme: scheme)
        inferenceKernels = (scheme, kernels)
        return kernels
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let input = cachedInput else { preconditionFailure("backward without a training forward pass") }
        var dx: Tensor?
        if let bias {
            bias.gradient.data.withUnsafeMutableBufferPointer { gb in
                dx = convolutionBackward(input, weight: weight.value.data, geometry: geometry, gradOutput: gradOutput,
                                         gradWeight: &weight.gradient.data, gradBias: gb.baseAddress,
                                         needInputGradient: needsInputGradient, winogradKernels: winogradKernels)
            }
        } else {
            dx = convolutionBackward(input, weight: weight.value.data, geometry: geometry, gradOutput: gradOutput,
                                     gradWeight: &weight.gradient.data, gradBias: nil,
                                     needInputGradient: needsInputGradient, winogradKernels: winogradKernels)
        }
        winogradKernels = nil
        // Without an input gradient, an empty tensor signals "nothing flows further".
        return dx ?? Tensor(zeros: [0])
    }

    /// Inference with a batch norm folded into the weights and an optional fused ReLU and
    /// residual addition: relu(bn(conv(x)) + residual).
    func forwardFolded(_ input: Tensor, batchNorm: BatchNorm2d, relu: Bool, residual: Tensor? = nil) -> Tensor {
        if folded == nil {
            let (scale, shift) = batchNorm.inferenceScaleShift()
            let o = geometry.outputChannels, per = weight.value.count / o
            var w = weight.value.data
            var b = [Float](repeating: 0, count: o)
            for ch in 0..<o {
                for i in 0..<per { w[ch * per + i] *= scale[ch] }
                b[ch] = shift[ch] + scale[ch] * (bias?.value.data[ch] ?? 0)
            }
            folded = (w, b)
        }
        let f = folded!
        let kernels = inferenceWinogradKernels(f.weight, input: input)
        return f.bias.withUnsafeBufferPointer { bb in
            convolutionForward(input, weight: f.weight, geometry: geometry,
                               epilogue: ConvolutionEpilogue(bias: bb.baseAddress, relu: relu), accumulate: residual,
                               winograd: kernels != nil, winogradKernels: kernels, inference: true)
        }
    }

    /// Inference with bias and optional fused ReLU (no batch norm).
    func forwardInference(_ input: Tensor, relu: Bool, accumulate: Tensor? = nil) -> Tensor {
        let zeros = [Float](repeating: 0, count: geometry.outputChannels)
        let kernels = inferenceWinogradKernels(weight.value.data, input: input)
        return (bias?.value.data ?? zeros).withUnsafeBufferPointer { bb in
            convolutionForward(input, weight: weight.value.data, geometry: geometry,
                               epilogue: ConvolutionEpilogue(bias: bb.baseAddress, relu: relu), accumulate: accumulate,
                               winograd: kernels != nil, winogradKernels: kernels, inference: true)
        }
    }
}

/// Batch normalisation over channels (PyTorch `BatchNorm2d`, eps 1e-5, momentum 0.1).
public final class BatchNorm2d: Layer {
    public let weight: Parameter, bias: Parameter
    public let runningMean: Buffer, runningVar: Buffer, batchesTracked: Buffer
    public let epsilon: Float, momentum: Float
    /// Apply ReLU to the output (a following `ReLU` layer merged in).
    public var fusedReLU = false
    private var cache: BatchNormCache?
    private var output: Tensor?

    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        weight = Parameter(Tensor(zeros: [channels], value: 1))
        bias = Parameter(Tensor(zeros: [channels]))
        runningMean = Buffer(Tensor(zeros: [channels]))
        runningVar = Buffer(Tensor(zeros: [channels], value: 1))
        batchesTracked = Buffer(Tensor(zeros: []), isInteger: true)
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public var localParameters: [(String, Parameter)] { [("weight", weight), ("bias", bias)] }
    public var localBuffers: [(String, Buffer)] {
        [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", batchesTracked)]
    }

    /// Per-channel scale and shift of the evaluation-mode map.
    func inferenceScaleShift() -> ([Float], [Float]) {
        let c = weight.value.count
        var scale = [Float](repeating: 0, count: c), shift = scale
        for ch in 0..<c {
            scale[ch] = weight.value.data[ch] / (runningVar.value.data[ch] + epsilon).squareRoot()
            shift[ch] = bias.value.data[ch] - runningMean.value.data[ch] * scale[ch]
        }
        return (scale, shift)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        if training { return forwardTraining(input, residual: nil, relu: fusedReLU) }
        let (scale, shift) = inferenceScaleShift()
        return channelAffine(input, scale: scale, shift: shift, relu: fusedReLU)
    }

    /// Training forward pass; with `residual`, relu?(bn(x) + residual) in one pass (a residual
    /// block's tail). Backward then expects the gradient already masked by that ReLU (the block
    /// masks once for both branches) unless the layer's own `fusedReLU` is set.
    func forwardTraining(_ input: Tensor, residual: Tensor?, relu: Bool) -> Tensor {
        let (y, c) = batchNormForwardTraining(input, gamma: weight.value.data, beta: bias.value.data,
                                              runningMean: &runningMean.value.data, runningVar: &runningVar.value.data,
                                              momentum: momentum, epsilon: epsilon, relu: relu, residual: residual)
        cache = c
        output = fusedReLU ? y : nil
        batchesTracked.value.data[0] += 1
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("backward without a training forward pass") }
        return batchNormBackward(gradOutput, cache: cache, gamma: weight.value.data,
                                 gradGamma: &weight.gradient.data, gradBeta: &bias.gradient.data,
                                 reluOutput: fusedReLU ? output : nil)
    }
}

/// Group normalisation (PyTorch `GroupNorm`, eps 1e-5, affine), optionally fused with ReLU.
public final class GroupNorm: Layer {
    public let groups: Int
    public let weight: Parameter, bias: Parameter
    public let epsilon: Float
    /// Apply ReLU to the output (a following `ReLU` layer merged in).
    public var fusedReLU = false
    private var cache: GroupNormCache?
    private var output: Tensor?

    public init(groups: Int, channels: Int, epsilon: Float = 1e-5) {
        precondition(channels % groups == 0, "channels must divide into groups")
        self.groups = groups
        weight = Parameter(Tensor(zeros: [channels], value: 1))
        bias = Parameter(Tensor(zeros: [channels]))
        self.epsilon = epsilon
    }

    public var localParameters: [(String, Parameter)] { [("weight", weight), ("bias", bias)] }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let (y, c) = groupNormForward(input, groups: groups, gamma: weight.value.data, beta: bias.value.data,
                                      epsilon: epsilon, relu: fusedReLU, keepCache: training)
        if training { cache = c; output = fusedReLU ? y : nil } else { cache = nil; output = nil }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let cache else { preconditionFailure("backward without a training forward pass") }
        return groupNormBackward(gradOutput, cache: cache, groups: groups, gamma: weight.value.data,
                                 gradGamma: &weight.gradient.data, gradBeta: &bias.gradient.data,
                                 reluOutput: fusedReLU ? output : nil)
    }
}

/// max(x, 0).
public final class ReLU: Layer {
    private var output: Tensor?
    public init() {}
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let y = reluForward(input)
        output = training ? y : nil
        return y
    }
    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let output else { preconditionFailure("backward without a training forward pass") }
        return reluBackward(gradOutput, output: output)
    }
}

/// Max pooling (PyTorch `MaxPool2d`).
public final class MaxPool2d: Layer {
    public let kernel: Int, stride: Int, padding: Int
    private var argmax: [Int32] = []
    private var inputShape: [Int] = []
    public init(kernel: Int, stride: Int, padding: Int) {
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let (y, a) = maxPoolForward(input, kernel: kernel, stride: stride, padding: padding)
        if training { argmax = a; inputShape = input.shape }
        return y
    }
    public func backward(_ gradOutput: Tensor) -> Tensor {
        maxPoolBackward(gradOutput, argmax: argmax, inputShape: inputShape)
    }
}

/// Zeroes whole channels with probability `p` during training and scales the rest by
/// 1/(1 - p) (PyTorch `Dropout2d`); the identity in evaluation.
public final class Dropout2d: Layer {
    public let probability: Float
    /// Source of the channel masks; seed it for reproducible training.
    public var generator: SplitMix64
    private var keep: [Float] = []

    public init(probability: Float, seed: UInt64 = 0) {
        self.probability = probability
        self.generator = SplitMix64(seed: seed)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        NeuralNetProfile.measure(.elementwise) { dropoutForward(input, training: training) }
    }

    private func dropoutForward(_ input: Tensor, training: Bool) -> Tensor {
        guard training, probability > 0 else { return input }
        let (n, c, h, w) = input.nchw
        let scale = 1 / (1 - probability)
        keep = (0..<(n * c)).map { _ in Float.random(in: 0..<1, using: &generator) < probability ? 0 : scale }
        var y = input
        let plane = h * w
        for nc in 0..<(n * c) where keep[nc] != 1 {
            for i in (nc * plane)..<((nc + 1) * plane) { y.data[i] *= keep[nc] }
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        NeuralNetProfile.measure(.elementwise) { dropoutBackward(gradOutput) }
    }

    private func dropoutBackward(_ gradOutput: Tensor) -> Tensor {
        guard !keep.isEmpty else { return gradOutput }
        let plane = gradOutput.count / keep.count
        var dx = gradOutput
        for nc in 0..<keep.count where keep[nc] != 1 {
            for i in (nc * plane)..<((nc + 1) * plane) { dx.data[i] *= keep[nc] }
        }
        return dx
    }
}

/// Nearest-neighbour upsampling by an integer factor (PyTorch `Upsample(mode="nearest")`).
public final class UpsampleNearest: Layer {
    public let factor: Int
    public init(factor: Int) { self.factor = factor }
    public func forward(_ input: Tensor, training: Bool) -> Tensor { upsampleNearest(input, factor: factor) }
    public func backward(_ gradOutput: Tensor) -> Tensor { upsampleNearestBackward(gradOutput, factor: factor) }
}

/// Bilinear upsampling by an integer factor with align_corners = true (PyTorch
/// `UpsamplingBilinear2d`).
public final class UpsampleBilinear: Layer {
    public let factor: Int
    public init(factor: Int) { self.factor = factor }
    public func forward(_ input: Tensor, training: Bool) -> Tensor { upsampleBilinear(input, factor: factor) }
    public func backward(_ gradOutput: Tensor) -> Tensor { upsampleBilinearBackward(gradOutput, factor: factor) }
}
