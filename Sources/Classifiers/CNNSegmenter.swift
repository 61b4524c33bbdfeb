import Foundation
import ImageCore
import NeuralNet

/// The CNN classifier (METHODS.md 3.5): an FPN from a model file, run on the whole image,
/// thresholded at p > 0.5. Post-processing by default is the paper's rolling ball + 1,000 px.
public final class CNNSegmenter: ModelFileSegmenter, @unchecked Sendable {
    public var name: String { "cnn" }
    public let modelPath: String
    private let predictor: SegmentationPredictor
    private let lock = NSLock()

    /// Loads a model (safetensors or PyTorch checkpoint).
    public init(modelPath: String) throws {
        self.modelPath = modelPath
        do {
            predictor = try SegmentationPredictor(contentsOf: modelPath)
        } catch {
            let reason = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
            throw ClassifierError.modelUnreadable(path: modelPath, reason: reason)
        }
    }

    /// Where `cnn` looks for its default model, first match wins: `$SOOTCTL_MODEL`, then
    /// `models/default.safetensors` beside the executable, in its `../share/sootctl/`, and in
    /// the current directory (`installedModelCandidates`).
    public static func defaultModelCandidates(executablePath: String = CommandLine.arguments.first ?? "") -> [String] {
        installedModelCandidates(fileName: "default.safetensors", environmentVariable: "SOOTCTL_MODEL", executablePath: executablePath)
    }

    /// Loads the default model.
    /// - Throws: `ClassifierError.noModelInstalled` naming the places searched.
    public static func defaultModel() throws -> CNNSegmenter {
        let candidates = defaultModelCandidates()
        for path in candidates where FileManager.default.fileExists(atPath: path) {
            return try CNNSegmenter(modelPath: path)
        }
        throw ClassifierError.noModelInstalled(searched: candidates)
    }

    public var defaultPostProcessing: PostProcessing { .cnnDefault }

    /// The encoder named in the model's metadata (e.g. `resnet18`).
    public var modelEncoder: String? { predictor.metadata["encoder"] }

    /// The pixel size (nm) the model was trained at, from its metadata (`sootctl train` models).
    public var modelPixelSizeNm: Double? { predictor.metadata["model_pixel_size_nm"].flatMap(Double.init) }

    /// The factor an image is resampled by before the network: image pixel size / model pixel
    /// size when both are known, else the model's `default_scale` (1 for models without one).
    public func inputScale(pixelSizeNm: Double?) -> Double {
        if let model = modelPixelSizeNm, let ps = pixelSizeNm, ps > 0, model > 0 { return min(max(ps / model, 0.1), 4) }
        return predictor.metadata["default_scale"].flatMap(Double.init).map { min(max($0, 0.1), 4) } ?? 1
    }

    /// Foreground probabilities (0...1) per pixel of `image`, at its own size. The image is
    /// resampled to the model's scale (area average when shrinking) and the probabilities
    /// brought back by bilinear interpolation.
    public func probabilities(_ image: GrayImage, pixelSizeNm: Double? = nil) -> [Float] {
        lock.lock()
        defer { lock.unlock() }
        let scale = inputScale(pixelSizeNm: pixelSizeNm ?? image.pixelSize?.nanometersPerPixel)
        guard abs(scale - 1) > 1e-3 else {
            return predictor.probabilities(plane: image.pixels, width: image.width, height: image.height)
        }
        let w = max(Int((Double(image.width) * scale).rounded()), 1), h = max(Int((Double(image.height) * scale).rounded()), 1)
        let small = resize(image, width: w, height: h, method: scale < 1 ? .area : .bilinear)
        let p = predictor.probabilities(plane: small.pixels, width: w, height: h)
        let plane = GrayImage(width: w, height: h, value: 0)
        let back = resize(plane.with(pixels: p), width: image.width, height: image.height, method: .bilinear)
        return back.pixels
    }

    public func segment(_ image: GrayImage, pixelSizeNm: Double?) throws -> Segmentation {
        let p = probabilities(image, pixelSizeNm: pixelSizeNm)
        let threshold = predictor.configuration.threshold
        var mask = BinaryMask(width: image.width, height: image.height, pixelSize: image.pixelSize)
        for i in 0..<p.count where p[i] > threshold { mask.bits[i] = 1 }
        let probability = try GrayImage(width: image.width, height: image.height, pixels: p, pixelSize: image.pixelSize)
        return Segmentation(mask: mask, probability: probability,
                            diagnostics: ["threshold": Double(threshold), "input_scale": inputScale(pixelSizeNm: pixelSizeNm)])
    }
}
