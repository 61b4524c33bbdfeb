import Foundation
import ImageCore

/// Why a classifier could not produce a mask.
public enum ClassifierError: LocalizedError, Equatable, Sendable {
    /// A classifier (by its name) or a step (by a phrase) needs the pixel size (its structuring
    /// elements are given in nanometres).
    case missingPixelSize(neededBy: String)
    /// `cnn` was asked for without a model file and no default model is installed.
    case noModelInstalled(searched: [String])
    /// `tws` was asked for without a model file and no default TWS model is installed.
    case noTWSModelInstalled(searched: [String])
    /// The model file could not be loaded.
    case modelUnreadable(path: String, reason: String)
    /// The image is too small or degenerate for the method.
    case unusableImage(reason: String)

    public var errorDescription: String? {
        switch self {
        case let .missingPixelSize(user):
            return "\(user.contains(" ") ? user : "the \(user) classifier") needs the pixel size: pass --pixel-size NM "
                + "(nm per pixel), --pixel-sizes CSV (stem,pixel_size_nm), or use an image whose metadata carries it"
        case let .noModelInstalled(searched):
            return "no CNN model is installed (looked in: \(searched.joined(separator: ", "))); "
                + "pass --model FILE with a safetensors or PyTorch checkpoint of an FPN"
        case let .noTWSModelInstalled(searched):
            return "no TWS model is installed (looked in: \(searched.joined(separator: ", "))); "
                + "pass --model FILE with a model written by `sootctl train --classifier tws`"
        case let .modelUnreadable(path, reason):
            return "\(path): cannot load the model: \(reason)"
        case let .unusableImage(reason):
            return "image cannot be segmented: \(reason)"
        }
    }
}

/// The result of one classifier on one image.
public struct Segmentation: Sendable {
    /// The classifier's mask (true = aggregate), including the steps the method itself
    /// defines (the rolling balls of `otsu` and `kmeans`), before shared post-processing.
    public var mask: BinaryMask
    /// Per-pixel foreground probability (0...1), for classifiers that have one (`cnn`).
    public var probability: GrayImage?
    /// Numbers worth reporting (thresholds, iterations, ...), by name.
    public var diagnostics: [String: Double]
    /// Human-readable remarks (e.g. "adjusted threshold failed, using Otsu").
    public var warnings: [String]

    public init(mask: BinaryMask, probability: GrayImage? = nil, diagnostics: [String: Double] = [:],
                warnings: [String] = []) {
        self.mask = mask
        self.probability = probability
        self.diagnostics = diagnostics
        self.warnings = warnings
    }
}

/// A classifier: image (soot dark, values 0...1) and pixel size in, aggregate mask out.
public protocol Segmenter: Sendable {
    /// Short name used on the command line and in reports (`otsu`, `kmeans`, `cnn`).
    var name: String { get }
    /// The post-processing the paper applies after this classifier by default.
    var defaultPostProcessing: PostProcessing { get }
    /// Segments one image.
    /// - Parameter pixelSizeNm: nanometres per pixel, when known.
    func segment(_ image: GrayImage, pixelSizeNm: Double?) throws -> Segmentation
    /// True for methods written with the paper's pixel constants (k-means, Otsu): the
    /// pipeline runs them at `PaperScale.workingPixelSizeNm` (resampling the image) so that
    /// their results do not depend on magnification. False for methods with their own
    /// working pixel size (CNN, TWS).
    var usesPaperPixelConstants: Bool { get }
}

extension Segmenter {
    public var usesPaperPixelConstants: Bool { false }

    /// Segments `image` at the paper's scale when the method has pixel constants and the
    /// pixel size lies outside 0.4-0.8 nm/px: the image is resampled to the working pixel
    /// size (area average when shrinking, bilinear when enlarging), segmented, and the mask
    /// and probability are resampled back (a pixel is true where the resampled mask is >= 0.5).
    /// `postProcess` runs on the working mask, at the working pixel size; without one the
    /// second result is the segmentation's own mask.
    public func segmentAtPaperScale(_ image: GrayImage, postProcess: ((BinaryMask) throws -> BinaryMask)? = nil) throws
        -> (Segmentation, BinaryMask)
    {
        guard usesPaperPixelConstants, let ps = image.pixelSize,
              case let work = PaperScale.imageMethodsWorkingPixelSizeNm(ps.nanometersPerPixel),
              abs(ps.nanometersPerPixel / work - 1) > 1e-6 else {
            var s = try segment(image)
            s.mask.pixelSize = image.pixelSize
            return (s, try postProcess?(s.mask) ?? s.mask)
        }
        let scale = ps.nanometersPerPixel / work
        let w = max(Int((Double(image.width) * scale).rounded()), 1), h = max(Int((Double(image.height) * scale).rounded()), 1)
        var small = resize(image, width: w, height: h, method: scale < 1 ? .area : .bilinear)
        small.pixelSize = PixelSize(nanometersPerPixel: work, source: ps.source)
        var s = try segment(small)
        s.mask.pixelSize = small.pixelSize
        let processed = try postProcess?(s.mask)
        func back(_ m: BinaryMask) -> BinaryMask {
            let grown = resize(m.asImage(), width: image.width, height: image.height, method: .bilinear)
            var out = BinaryMask(grown, above: 0.5 - 1e-6)
            out.pixelSize = image.pixelSize
            return out
        }
        s.mask = back(s.mask)
        let processedBack = processed.map(back) ?? s.mask
        if let p = s.probability { s.probability = resize(p, width: image.width, height: image.height, method: .bilinear) }
        s.diagnostics["working_pixel_size_nm"] = work
        return (s, processedBack)
    }
    /// Segments an image at its own pixel size (the CNN alone runs without one).
    public func segment(_ image: GrayImage) throws -> Segmentation {
        try segment(image, pixelSizeNm: image.pixelSize?.nanometersPerPixel)
    }
}

/// A classifier that runs a model read from a file (`cnn`, `tws`): runs record the file.
public protocol ModelFileSegmenter: Segmenter {
    var modelPath: String { get }
}


/// Checks a pixel size given to a classifier that needs one.
func requirePixelSize(_ pixelSizeNm: Double?, neededBy user: String) throws -> Double {
    guard let ps = pixelSizeNm, ps.isFinite, ps > 0 else { throw ClassifierError.missingPixelSize(neededBy: user) }
    return ps
}

/// 8-bit values of an image (round half away, clamp), the working type of the atems methods.
@inlinable func bytes(of image: GrayImage) -> [UInt8] { image.bytes8() }

/// An image from 8-bit values.
func grayImage(_ values: [UInt8], width: Int, height: Int, pixelSize: PixelSize?) -> GrayImage {
    var out = GrayImage(width: width, height: height, pixelSize: pixelSize)
    for i in 0..<values.count { out.pixels[i] = Float(values[i]) / 255 }
    return out
}

/// MATLAB's cast of a double to uint8: round half away from zero, saturate.
@inlinable func castToByte(_ value: Double) -> UInt8 {
    guard value.isFinite else { return value > 0 ? 255 : 0 }
    return UInt8(min(max(value.rounded(), 0), 255))
}
