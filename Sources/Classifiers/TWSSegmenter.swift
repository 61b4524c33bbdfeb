import Foundation
import ImageCore
import NeuralNet
import Randomness
import RandomForest

/// Trainable Weka Segmentation's classifier (the paper's fourth): a random forest over
/// `TWSFeatures`, computed at a working pixel size so that the classifier does not depend on
/// magnification, probabilities brought back to the image's size, thresholded at 0.5 and
/// opened with a 1.2 nm disk (atems' TWS post-processing).
///
/// `segment`/`analyze`/`compare --classifier tws` load the installed default model
/// (`models/tws_default.sootrf`, trained by `sootctl train --classifier tws`) or `--model`.
public struct TWSSegmenter: ModelFileSegmenter {
    public var name: String { "tws" }
    /// The file the model was read from ("" for a model made in memory).
    public let modelPath: String
    /// The model file's metadata (training set, parameters, time), empty for a model in memory.
    public private(set) var metadata: [String: String] = [:]
    public let forest: RandomForest
    /// The pixel size the features are computed at, nm/px.
    public let workingPixelSizeNm: Double
    /// How the working image is flattened before the features; nil: raw, as TWS.
    public let flattening: Flattening?

    /// The working pixel size of new models: σ = 1-16 px spans 1.6-26 nm, a primary particle
    /// (15-35 nm) to an aggregate branch; at this size a 2240 x 1952 image at 0.4 nm/px is
    /// 560 x 488 (features 0.5 s, 100-tree prediction 0.3 s on 2 cores, measured).
    public static let defaultWorkingPixelSizeNm = 1.6

    /// Training pixels drawn per class per image: at 1.6 nm/px about all the soot pixels of a
    /// 2240 x 1952 image at 0.4 nm/px and as many background ones. Leave-one-image-out on the
    /// shared images: 5,000 per class 0.917 mean IoU, 20,000 0.925 (Docs/Classifiers.md).
    public static let defaultPixelsPerClass = 20_000

    public init(forest: RandomForest, workingPixelSizeNm: Double, flattening: Flattening? = Flattening(), modelPath: String = "") {
        self.modelPath = modelPath
        self.forest = forest
        self.workingPixelSizeNm = workingPixelSizeNm
        self.flattening = flattening
    }

    /// Loads a forest file written by `write(to:)`.
    public init(modelPath: String) throws {
        do {
            let (forest, metadata) = try ForestFile.read(modelPath)
            guard metadata["features"] == TWSFeatures.names.joined(separator: ","),
                  let ps = metadata["working_pixel_size_nm"].flatMap(Double.init), ps > 0 else {
                throw ClassifierError.modelUnreadable(path: modelPath, reason: "not a TWS model (feature set or working pixel size missing)")
            }
            var flattening: Flattening?
            switch metadata["flattening"] {
            case nil, "none": flattening = nil
            case let text?:
                guard let f = Flattening(description: text) else {
                    throw ClassifierError.modelUnreadable(path: modelPath, reason: "unreadable flattening \(text)")
                }
                flattening = f
            }
            self.init(forest: forest, workingPixelSizeNm: ps, flattening: flattening, modelPath: modelPath)
            self.metadata = metadata
        } catch let error as ClassifierError {
            throw error
        } catch {
            throw ClassifierError.modelUnreadable(path: modelPath, reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
    }

    /// Where `tws` looks for its default model: `$SOOTCTL_TWS_MODEL`, then
    /// `models/tws_default.sootrf` in the places of `installedModelCandidates`.
    public static func defaultModelCandidates(executablePath: String = CommandLine.arguments.first ?? "") -> [String] {
        installedModelCandidates(fileName: "tws_default.sootrf", environmentVariable: "SOOTCTL_TWS_MODEL", executablePath: executablePath)
    }

    /// Loads the default model.
    /// - Throws: `ClassifierError.noTWSModelInstalled` naming the places searched.
    public static func defaultModel() throws -> TWSSegmenter {
        let candidates = defaultModelCandidates()
        for path in candidates where FileManager.default.fileExists(atPath: path) { return try TWSSegmenter(modelPath: path) }
        throw ClassifierError.noTWSModelInstalled(searched: candidates)
    }

    /// Writes the model (`ForestFile`, with the feature set and working pixel size).
    public func write(to path: String, training: [String: String] = [:]) throws {
        var metadata = training
        metadata["classifier"] = "tws"
        metadata["features"] = TWSFeatures.names.joined(separator: ",")
        metadata["working_pixel_size_nm"] = String(workingPixelSizeNm)
        metadata["flattening"] = flattening?.description ?? "none"
        try ForestFile.write(forest, metadata: metadata, to: path)
    }

    /// atems' TWS post-processing (`seg_weka_pt2.m`, METHODS.md 3.9) opens the thresholded
    /// mask with a disk of radius 3 px at the paper's about 0.4 nm/px: 1.2 nm, here part of
    /// the classifier (as k-means' rolling ball is part of k-means).
    public static let openingRadiusNm = 1.2

    /// The opening's radius at a pixel size: `openingRadiusNm` in pixels, at least 1.
    public static func openingRadiusPixels(pixelSizeNm: Double) -> Int {
        max(Int((openingRadiusNm / pixelSizeNm).rounded()), 1)
    }

    /// The paper reports TWS with its post-processing: the 1,000 px floor (atems' area opening;
    /// its "more than 50 components fail the image" is the aggregate step's general rule).
    public var defaultPostProcessing: PostProcessing { PostProcessing(minimumAggregatePixels: 1000) }

    /// The image resampled to the working pixel size (area average when shrinking) and
    /// flattened (`Flattening`).
    static func working(_ image: GrayImage, pixelSizeNm ps: Double, workingPixelSizeNm: Double, flattening: Flattening?) -> GrayImage {
        let scale = ps / workingPixelSizeNm
        var small = image
        if abs(scale - 1) > 1e-3 {
            let w = max(Int((Double(image.width) * scale).rounded()), 1), h = max(Int((Double(image.height) * scale).rounded()), 1)
            small = resize(image, width: w, height: h, method: scale < 1 ? .area : .bilinear)
        }
        return flattening?.apply(small, pixelSizeNm: workingPixelSizeNm) ?? small
    }

    /// The image the features are computed on: resampled to the working pixel size and flattened.
    public func workingImage(_ image: GrayImage, pixelSizeNm: Double) -> GrayImage {
        Self.working(image, pixelSizeNm: pixelSizeNm, workingPixelSizeNm: workingPixelSizeNm, flattening: flattening)
    }

    public func segment(_ image: GrayImage, pixelSizeNm: Double?) throws -> Segmentation {
        let ps = try requirePixelSize(pixelSizeNm, neededBy: name)
        guard forest.featureCount == TWSFeatures.count else {
            throw ClassifierError.unusableImage(reason: "the TWS forest takes \(forest.featureCount) features, not the \(TWSFeatures.count) of TWSFeatures")
        }
        let small = Self.working(image, pixelSizeNm: ps, workingPixelSizeNm: workingPixelSizeNm, flattening: flattening)
        guard small.width >= 3, small.height >= 3 else {
            throw ClassifierError.unusableImage(reason: "under 3 x 3 px at the TWS working pixel size of \(workingPixelSizeNm) nm")
        }
        let p = forest.probabilities(TWSFeatures.compute(small))
        let back = small.width == image.width && small.height == image.height
            ? p : resize(small.with(pixels: p), width: image.width, height: image.height, method: .bilinear).pixels
        var mask = BinaryMask(width: image.width, height: image.height, pixelSize: image.pixelSize)
        for i in 0..<back.count where back[i] > 0.5 { mask.bits[i] = 1 }
        let radius = Self.openingRadiusPixels(pixelSizeNm: ps)
        mask = open(mask, .disk(radius: radius, shape: .euclidean))
        let probability = try GrayImage(width: image.width, height: image.height, pixels: back, pixelSize: image.pixelSize)
        return Segmentation(mask: mask, probability: probability,
                            diagnostics: ["working_pixel_size_nm": workingPixelSizeNm, "opening_radius_px": Double(radius)])
    }

    /// Trains a TWS model on labelled images: at the working pixel size, up to
    /// `pixelsPerClass` pixels of each class drawn at random from each image (a balanced
    /// sample, as TWS's "balance classes"), one forest over all of them.
    /// - Parameter images: images (with their pixel sizes) and their masks (true = soot).
    public static func train(_ images: [(image: GrayImage, mask: BinaryMask)], workingPixelSizeNm: Double = defaultWorkingPixelSizeNm,
                             flattening: Flattening? = Flattening(), pixelsPerClass: Int = defaultPixelsPerClass,
                             parameters: RandomForest.Parameters = RandomForest.Parameters()) throws -> TWSSegmenter {
        let (rows, labels) = try trainingSample(images, workingPixelSizeNm: workingPixelSizeNm, flattening: flattening,
                                                pixelsPerClass: pixelsPerClass, seed: parameters.seed)
        return TWSSegmenter(forest: RandomForest(training: rows, labels: labels, featureCount: TWSFeatures.count, parameters: parameters),
                            workingPixelSizeNm: workingPixelSizeNm, flattening: flattening)
    }

    /// The training rows of `train`: the features of the sampled pixels (`TWSFeatures.count`
    /// per row) and their labels (1 = soot). Reproducible for a seed.
    /// - Throws: `ClassifierError` for an image without a pixel size, or when the images do
    ///   not hold both classes.
    public static func trainingSample(_ images: [(image: GrayImage, mask: BinaryMask)], workingPixelSizeNm: Double = defaultWorkingPixelSizeNm,
                                      flattening: Flattening? = Flattening(), pixelsPerClass: Int = defaultPixelsPerClass,
                                      seed: UInt64 = 1) throws -> (rows: [Float], labels: [UInt8]) {
        var rows: [Float] = []
        var labels: [UInt8] = []
        let f = TWSFeatures.count
        for (n, pair) in images.enumerated() {
            let ps = try requirePixelSize(pair.image.pixelSize?.nanometersPerPixel, neededBy: "TWS training")
            let small = working(pair.image, pixelSizeNm: ps, workingPixelSizeNm: workingPixelSizeNm, flattening: flattening)
            let mask = resize(pair.mask.asImage(), width: small.width, height: small.height, method: .bilinear)
            let features = TWSFeatures.compute(small)
            var rng = SplitMix64(seed: seed &+ UInt64(n) &* 0x9E37_79B9)
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
        return (rows, labels)
    }
}

extension TWSSegmenter {
    /// Divides the working image by its background (a grey closing with a disk, smoothed by a
    /// Gaussian), scaled so the background sits at `backgroundLevel`. A deviation from TWS,
    /// which computes its features on the raw image: there an illumination gradient or a
    /// darker exposure passes for soot (leave-one-image-out in Docs/Classifiers.md).
    public struct Flattening: Sendable, Equatable, Codable {
        /// Radius of the closing disk, nm: wider than a primary particle, so the closing
        /// removes the soot and leaves the background.
        public var closingRadiusNm = 32.0
        /// σ of the Gaussian that smooths the closed image, nm.
        public var smoothingSigmaNm = 64.0
        /// Where the background lands (0...1).
        public var backgroundLevel = 0.65

        public init(closingRadiusNm: Double = 32, smoothingSigmaNm: Double = 64, backgroundLevel: Double = 0.65) {
            self.closingRadiusNm = closingRadiusNm
            self.smoothingSigmaNm = smoothingSigmaNm
            self.backgroundLevel = backgroundLevel
        }

        enum CodingKeys: String, CodingKey {
            case closingRadiusNm = "closing_radius_nm", smoothingSigmaNm = "smoothing_sigma_nm", backgroundLevel = "background_level"
        }

        /// The form kept in a model file: `closing_nm=32,sigma_nm=64,level=0.65`.
        public var description: String {
            "closing_nm=\(closingRadiusNm),sigma_nm=\(smoothingSigmaNm),level=\(backgroundLevel)"
        }

        /// Parses `description`'s form.
        public init?(description: String) {
            var values: [String: Double] = [:]
            for part in description.split(separator: ",") {
                let kv = part.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, let v = Double(kv[1]), v.isFinite, v > 0 else { return nil }
                values[String(kv[0])] = v
            }
            guard let c = values["closing_nm"], let s = values["sigma_nm"], let l = values["level"], l <= 1 else { return nil }
            self.init(closingRadiusNm: c, smoothingSigmaNm: s, backgroundLevel: l)
        }

        /// The flattened image, at `pixelSizeNm`.
        public func apply(_ image: GrayImage, pixelSizeNm: Double) -> GrayImage {
            guard image.width >= 8, image.height >= 8 else { return image }
            let radius = max(Int((closingRadiusNm / pixelSizeNm).rounded()), 1)
            let closed = close(image, .disk(radius: radius, shape: .euclidean))
            let background = gaussianFilter(closed, sigma: smoothingSigmaNm / pixelSizeNm)
            var out = image
            let level = Float(backgroundLevel)
            for i in 0..<out.count { out.pixels[i] = min(max(image.pixels[i] / max(background.pixels[i], 1e-3) * level, 0), 1) }
            return out
        }
    }
}
