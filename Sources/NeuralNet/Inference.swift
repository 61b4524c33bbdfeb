import Foundation

/// How an image becomes network input (METHODS.md section 3.5): gray replicated to RGB,
/// centre padding (reflect-101) to a multiple of 32 and at least `minimumHeight x minimumWidth`,
/// ImageNet normalisation, and the decision threshold on the sigmoid output.
public struct InferenceConfiguration: Sendable, Equatable, Codable {
    public var mean: [Float] = [0.485, 0.456, 0.406]
    public var std: [Float] = [0.229, 0.224, 0.225]
    public var minimumHeight = 384
    public var minimumWidth = 480
    /// Foreground where p > threshold (p = threshold exactly is background).
    public var threshold: Float = 0.5

    public init() {}
}

/// Runs an FPN on single-channel images of any size.
public final class SegmentationPredictor {
    public let model: FPN
    public var configuration: InferenceConfiguration
    /// The model file's metadata (safetensors `__metadata__`), e.g. `encoder`,
    /// `model_pixel_size_nm`, `default_scale`, `validation_iou` for models from `sootctl train`.
    public private(set) var metadata: [String: String]

    public init(model: FPN, configuration: InferenceConfiguration = InferenceConfiguration(),
                metadata: [String: String] = [:]) {
        self.model = model
        self.configuration = configuration
        self.metadata = metadata
    }

    /// Loads a model file: safetensors (encoder named in the metadata key "encoder", or inferred
    /// from the keys) or a PyTorch checkpoint (`.pt`, `.pth`).
    /// - Throws: `NeuralNetError` when the file cannot be read or does not fit an FPN.
    public convenience init(contentsOf path: String) throws {
        let state: StateDict
        var metadata: [String: String] = [:]
        let lower = path.lowercased()
        if lower.hasSuffix(".pt") || lower.hasSuffix(".pth") || lower.hasSuffix(".ckpt") {
            state = try TorchCheckpoint.read(path)
        } else {
            (state, metadata) = try SafeTensors.read(path)
        }
        let depth: ResNetDepth
        if let name = metadata["encoder"] {
            guard let d = ResNetDepth(rawValue: name) else {
                throw NeuralNetError.invalidFile(path: path, reason: "unknown encoder \(name) (known: resnet18, resnet34, resnet50)")
            }
            depth = d
        } else {
            depth = try Self.inferDepth(state, path: path)
        }
        // Output channels from the head (1 for segmentation, 2 for the primary-particle detector).
        let classes = state["segmentation_head.0.weight"].map { $0.shape[0] } ?? 1
        guard (1...16).contains(classes) else {
            throw NeuralNetError.invalidFile(path: path, reason: "segmentation_head has \(classes) output channels")
        }
        let widths = FPNDecoderWidths(state: state) ?? .standard
        guard widths.isValid else {
            throw NeuralNetError.invalidFile(path: path, reason: "decoder widths \(widths) (pyramid/segmentation) are not a valid FPN")
        }
        let model = FPN(encoder: depth, classes: classes, decoder: widths)
        try model.load(state)
        var configuration = InferenceConfiguration()
        if let t = metadata["threshold"].flatMap(Float.init) { configuration.threshold = t }
        self.init(model: model, configuration: configuration, metadata: metadata)
    }

    static func inferDepth(_ state: StateDict, path: String) throws -> ResNetDepth {
        if state["encoder.layer1.0.conv3.weight"] != nil { return .resnet50 }
        if state["encoder.layer1.2.conv1.weight"] != nil { return .resnet34 }
        if state["encoder.layer1.1.conv1.weight"] != nil { return .resnet18 }
        throw NeuralNetError.invalidFile(path: path, reason: "not an FPN-ResNet state dict (no encoder.layer1 keys)")
    }

    /// Height and width after padding: multiples of 32, at least the configuration's minimum.
    func paddedSize(width: Int, height: Int) -> (height: Int, width: Int) {
        (max(configuration.minimumHeight, (height + 31) / 32 * 32), max(configuration.minimumWidth, (width + 31) / 32 * 32))
    }

    /// reflect-101 index: ... 2 1 | 0 1 2 ... n-1 | n-2 ...
    static func reflect(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        var j = i
        let period = 2 * (n - 1)
        j %= period
        if j < 0 { j += period }
        return j < n ? j : period - j
    }

    /// Network input for a gray plane (values 0...1): padded, replicated, normalised.
    /// - Returns: the tensor and the padding offsets (top, left).
    public func inputTensor(plane: [Float], width: Int, height: Int) -> (Tensor, top: Int, left: Int) {
        precondition(plane.count == width * height, "plane must hold width x height values")
        let (paddedHeight, paddedWidth) = paddedSize(width: width, height: height)
        let top = (paddedHeight - height) / 2, left = (paddedWidth - width) / 2
        let reflect = Self.reflect
        var input = Tensor(zeros: [1, 3, paddedHeight, paddedWidth])
        let columns = (0..<paddedWidth).map { reflect($0 - left, width) }
        let planeSize = paddedHeight * paddedWidth
        input.data.withUnsafeMutableBufferPointer { dst in
            let d = dst.baseAddress!
            let mean = configuration.mean, std = configuration.std
            parallelFor(paddedHeight, minimumChunk: 16) { rows in
                for r in rows {
                    let sr = reflect(r - top, height) * width
                    for c in 0..<paddedWidth {
                        let v = plane[sr + columns[c]]
                        for ch in 0..<3 { d[ch * planeSize + r * paddedWidth + c] = (v - mean[ch]) / std[ch] }
                    }
                }
            }
        }
        return (input, top, left)
    }

    /// The padded gray plane (1 x 1 x H x W, reflect-101 as `inputTensor`), not normalised.
    func grayTensor(plane: [Float], width: Int, height: Int) -> (Tensor, top: Int, left: Int) {
        precondition(plane.count == width * height, "plane must hold width x height values")
        let (paddedHeight, paddedWidth) = paddedSize(width: width, height: height)
        let top = (paddedHeight - height) / 2, left = (paddedWidth - width) / 2
        var input = Tensor(uninitialized: [1, 1, paddedHeight, paddedWidth])
        let columns = (0..<paddedWidth).map { Self.reflect($0 - left, width) }
        input.data.withUnsafeMutableBufferPointer { dst in
            let d = dst.baseAddress!
            parallelFor(paddedHeight, minimumChunk: 16) { rows in
                for r in rows {
                    let sr = Self.reflect(r - top, height) * width
                    for c in 0..<paddedWidth { d[r * paddedWidth + c] = plane[sr + columns[c]] }
                }
            }
        }
        return (input, top, left)
    }

    /// Whether inference folds the gray-to-RGB replication into the stem (`FPN.forward(gray:mean:std:)`);
    /// tests switch it off to compare with the three-channel input.
    nonisolated(unsafe) package static var foldsGrayStem = true

    /// The network's raw outputs for a gray plane (values 0...1, soot dark): one plane of
    /// width x height logits per output channel, the padding cut away.
    public func outputPlanes(plane: [Float], width: Int, height: Int) -> [[Float]] {
        let logits: Tensor, top: Int, left: Int
        if Self.foldsGrayStem && model.encoder.inputChannels == configuration.mean.count
            && configuration.std.count == configuration.mean.count {
            let (input, t, l) = grayTensor(plane: plane, width: width, height: height)
            (top, left) = (t, l)
            logits = model.forward(gray: input, mean: configuration.mean, std: configuration.std)
        } else {
            let (input, t, l) = inputTensor(plane: plane, width: width, height: height)
            (top, left) = (t, l)
            logits = model.forward(input, training: false)
        }
        let (_, channels, paddedHeight, paddedWidth) = logits.nchw
        return (0..<channels).map { ch in
            var out = [Float](repeating: 0, count: width * height)
            let base = ch * paddedHeight * paddedWidth
            for r in 0..<height {
                for c in 0..<width { out[r * width + c] = logits.data[base + (r + top) * paddedWidth + c + left] }
            }
            return out
        }
    }

    /// Foreground probability per pixel of a gray plane (values 0...1, soot dark).
    public func probabilities(plane: [Float], width: Int, height: Int) -> [Float] {
        let out = outputPlanes(plane: plane, width: width, height: height)[0]
        return sigmoid(Tensor(uncheckedShape: [width * height], data: out)).data
    }

    /// The binary decision of `probabilities` (p > threshold).
    public func mask(plane: [Float], width: Int, height: Int) -> [Bool] {
        probabilities(plane: plane, width: width, height: height).map { $0 > configuration.threshold }
    }
}
