import Foundation
import ImageCore
import Randomness
import RandomForest

/// Trainable Weka Segmentation's classifier (the paper's fourth): a random forest over
/// `TWSFeatures`, computed at a working pixel size so that the classifier does not depend on
/// magnification, probabilities brought back to the image's size and thresholded at 0.5.
///
/// Library only for now: `segment`/`analyze`/`compare --classifier tws`, `train --classifier
/// tws` and a shipped default model are the rest of the TWS issue.
public struct TWSSegmenter: Segmenter {
    public var name: String { "tws" }
    public let forest: RandomForest
    /// The pixel size the features are computed at, nm/px.
    public let workingPixelSizeNm: Double

    /// The working pixel size of new models: σ = 1-16 px spans 1.6-26 nm, a primary particle
    /// (15-35 nm) to an aggregate branch; at this size a 2240 x 1952 image at 0.4 nm/px is
    /// 560 x 488 (features 0.5 s, 100-tree prediction 0.3 s on 2 cores, measured).
    public static let defaultWorkingPixelSizeNm = 1.6

    public init(forest: RandomForest, workingPixelSizeNm: Double) {
        self.forest = forest
        self.workingPixelSizeNm = workingPixelSizeNm
    }

    /// Loads a forest file written by `write(to:)`.
    public init(modelPath: String) throws {
        do {
            let (forest, metadata) = try ForestFile.read(modelPath)
            guard metadata["features"] == TWSFeatures.names.joined(separator: ","),
                  let ps = metadata["working_pixel_size_nm"].flatMap(Double.init), ps > 0 else {
                throw ClassifierError.modelUnreadable(path: modelPath, reason: "not a TWS model (feature set or working pixel size missing)")
            }
            self.init(forest: forest, workingPixelSizeNm: ps)
        } catch let error as ClassifierError {
            throw error
        } catch {
            throw ClassifierError.modelUnreadable(path: modelPath, reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
    }

    /// Writes the model (`ForestFile`, with the feature set and working pixel size).
    public func write(to path: String, training: [String: String] = [:]) throws {
        var metadata = training
        metadata["classifier"] = "tws"
        metadata["features"] = TWSFeatures.names.joined(separator: ",")
        metadata["working_pixel_size_nm"] = String(workingPixelSizeNm)
        try ForestFile.write(forest, metadata: metadata, to: path)
    }

    /// The paper reports TWS with its post-processing: the 1,000 px floor.
    public var defaultPostProcessing: PostProcessing { PostProcessing(minimumAggregatePixels: 1000) }

    /// The image resampled to the working pixel size (area average when shrinking) and
    /// flattened (`flattened`).
    static func working(_ image: GrayImage, pixelSizeNm ps: Double, workingPixelSizeNm: Double) -> GrayImage {
        let scale = ps / workingPixelSizeNm
        guard abs(scale - 1) > 1e-3 else { return flattened(image, workingPixelSizeNm: workingPixelSizeNm) }
        let w = max(Int((Double(image.width) * scale).rounded()), 1), h = max(Int((Double(image.height) * scale).rounded()), 1)
        return flattened(resize(image, width: w, height: h, method: scale < 1 ? .area : .bilinear),
                         workingPixelSizeNm: workingPixelSizeNm)
    }

    /// Divides the working image by its background (a grey closing with a disk of 32 nm
    /// radius, smoothed by a Gaussian of 64 nm), scaled so the background is 0.65. A deviation
    /// from TWS, which computes its features on the raw image: an illumination gradient then
    /// passes for soot. Leave-one-image-out on the shared images (100 trees, 1000 px floor,
    /// measured once): raw features 0.939 / 0.941 / 0.31 / 0.934 (A9, A6, Case1, RU_FI), with
    /// this flattening 0.946 / 0.960 / 0.840 / 0.922.
    static func flattened(_ image: GrayImage, workingPixelSizeNm: Double) -> GrayImage {
        guard image.width >= 8, image.height >= 8 else { return image }
        let radius = max(Int((32 / workingPixelSizeNm).rounded()), 1)
        let closed = close(image, .disk(radius: radius, shape: .euclidean))
        let background = gaussianFilter(closed, sigma: 64 / workingPixelSizeNm)
        var out = image
        for i in 0..<out.count { out.pixels[i] = min(max(image.pixels[i] / max(background.pixels[i], 1e-3) * 0.65, 0), 1) }
        return out
    }

    public func segment(_ image: GrayImage, pixelSizeNm: Double?) throws -> Segmentation {
        let ps = try requirePixelSize(pixelSizeNm, neededBy: name)
        guard forest.featureCount == TWSFeatures.count else {
            throw ClassifierError.unusableImage(reason: "the TWS forest takes \(forest.featureCount) features, not the \(TWSFeatures.count) of TWSFeatures")
        }
        let small = Self.working(image, pixelSizeNm: ps, workingPixelSizeNm: workingPixelSizeNm)
        guard small.width >= 3, small.height >= 3 else {
            throw ClassifierError.unusableImage(reason: "under 3 x 3 px at the TWS working pixel size of \(workingPixelSizeNm) nm")
        }
        let p = forest.probabilities(TWSFeatures.compute(small))
        let back = small.width == image.width && small.height == image.height
            ? p : resize(small.with(pixels: p), width: image.width, height: image.height, method: .bilinear).pixels
        var mask = BinaryMask(width: image.width, height: image.height, pixelSize: image.pixelSize)
        for i in 0..<back.count where back[i] > 0.5 { mask.bits[i] = 1 }
        let probability = try GrayImage(width: image.width, height: image.height, pixels: back, pixelSize: image.pixelSize)
        return Segmentation(mask: mask, probability: probability, diagnostics: ["working_pixel_size_nm": workingPixelSizeNm])
    }

    /// Trains a TWS model on labelled images: at the working pixel size, up to
    /// `pixelsPerClass` pixels of each class drawn at random from each image (a balanced
    /// sample, as TWS's "balance classes"), one forest over all of them.
    /// - Parameter images: images (with their pixel sizes) and their masks (true = soot).
    public static func train(_ images: [(image: GrayImage, mask: BinaryMask)], workingPixelSizeNm: Double = defaultWorkingPixelSizeNm,
                             pixelsPerClass: Int = 5000, parameters: RandomForest.Parameters = RandomForest.Parameters()) throws -> TWSSegmenter {
        var rows: [Float] = []
        var labels: [UInt8] = []
        let f = TWSFeatures.count
        for (n, pair) in images.enumerated() {
            let ps = try requirePixelSize(pair.image.pixelSize?.nanometersPerPixel, neededBy: "TWS training")
            let small = working(pair.image, pixelSizeNm: ps, workingPixelSizeNm: workingPixelSizeNm)
            let mask = resize(pair.mask.asImage(), width: small.width, height: small.height, method: .bilinear)
            let features = TWSFeatures.compute(small)
            var rng = SplitMix64(seed: parameters.seed &+ UInt64(n) &* 0x9E37_79B9)
            for label in [UInt8(0), 1] {
                var pixels = (0..<small.count).filter { (mask.pixels[$0] > 0.5) == (label == 1) }
                // A partial Fisher-Yates shuffle picks the sample.
                let take = min(pixelsPerClass, pixels.count)
                for k in 0..<take { pixels.swapAt(k, k + Int(rng.next() % UInt64(pixels.count - k))) }
                for i in pixels.prefix(take) {
                    rows += features[(i * f)..<((i + 1) * f)]
                    labels.append(label)
                }
            }
        }
        guard Set(labels).count == 2 else {
            throw ClassifierError.unusableImage(reason: "TWS training needs soot and background pixels")
        }
        return TWSSegmenter(forest: RandomForest(training: rows, labels: labels, featureCount: f, parameters: parameters),
                            workingPixelSizeNm: workingPixelSizeNm)
    }
}
