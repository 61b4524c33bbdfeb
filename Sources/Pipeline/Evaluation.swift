import Aggregates
import Classifiers
import Foundation
import ImageCore
import PrimarySizing
import Statistics

/// One image with its ground truth, ready for `Evaluator`. The pixel size travels with the
/// image and the truth mask.
public struct EvaluationImage: Sendable {
    public var name: String
    public var image: GrayImage
    public var truth: BinaryMask
    /// What is not specimen (scale bar, text boxes, saturated regions): removed from every
    /// classifier's mask; nil when nothing is.
    public var excluded: BinaryMask?

    /// - Throws: `PipelineError.missingPixelSize` when the image carries no pixel size.
    public init(name: String, image: GrayImage, truth: BinaryMask) throws {
        guard image.pixelSize != nil else { throw PipelineError.missingPixelSizeForComparison(image: name) }
        self.name = name
        self.image = image
        self.truth = truth
        self.truth.pixelSize = image.pixelSize
    }

    /// An image and truth with the pixel size given here.
    public init(name: String, image: GrayImage, truth: BinaryMask, pixelSizeNm: Double) throws {
        var image = image
        image.pixelSize = PixelSize(nanometersPerPixel: pixelSizeNm, source: .user)
        try self.init(name: name, image: image, truth: truth)
    }
}

/// A post-processing variant of the paper's Table 3.
public enum PostProcessingVariant: String, Sendable, CaseIterable, Codable {
    case raw
    case rollingBall = "rb"
    case minimumPixels = "1000px"
    case both = "rb+1000px"

    public func postProcessing(minimumPixels: Int = 1000, diskShape: DiskShape = .euclidean) -> PostProcessing {
        PostProcessing(rollingBall: self == .rollingBall || self == .both,
                       minimumAggregatePixels: self == .minimumPixels || self == .both ? minimumPixels : 0,
                       removeBorderAggregates: false, diskShape: diskShape)
    }

    /// The name in tables, with the floor in force ("rb+1000px" at the paper's 1,000 px).
    public func name(minimumPixels: Int = 1000) -> String {
        switch self {
        case .raw: return "raw"
        case .rollingBall: return "rb"
        case .minimumPixels: return "\(minimumPixels)px"
        case .both: return "rb+\(minimumPixels)px"
        }
    }

    /// The variant a configuration's post-processing is for `classifier` (sized besides `raw`):
    /// by default the paper's recommended pipelines, CNN + RB + 1,000 px, and k-means and Otsu,
    /// whose own output already includes a rolling ball, + 1,000 px.
    public static func configured(_ configuration: AnalysisConfiguration, classifier: String) -> PostProcessingVariant {
        let rb = configuration.rollingBall(forClassifierNamed: classifier)
        let floor = configuration.minimumPixels > 1
        switch (rb, floor) {
        case (true, true): return .both
        case (true, false): return .rollingBall
        case (false, true): return .minimumPixels
        case (false, false): return .raw
        }
    }

    /// The recommended variant with the default configuration.
    public static func recommended(for classifier: String) -> PostProcessingVariant {
        configured(AnalysisConfiguration(), classifier: classifier)
    }
}

/// One aggregate of a mask with its sizes.
public struct EvaluatedAggregate: Sendable, Codable {
    public var image: String
    public var id: Int
    public var areaPx: Int
    public var daNm: Double
    public var centroidXPx: Double
    public var centroidYPx: Double
    public var dpNm: [SizingMethod: Double]

    var candidate: MatchCandidate {
        MatchCandidate(image: image, centroidXPx: centroidXPx, centroidYPx: centroidYPx, areaPx: areaPx)
    }
}

/// A classifier with one post-processing variant, scored against the truth (one row of Table 3).
public struct VariantEvaluation: Sendable {
    public var classifier: String
    public var variant: PostProcessingVariant
    /// The floor of the `Npx` variants.
    public var minimumPixels: Int
    /// Pooled over images whose segmentation did not fail.
    public var scores: PixelScores
    /// Pooled over every image.
    public var scoresIncludingFailed: PixelScores
    public var failedImages: [String]
    public var aggregates: [EvaluatedAggregate]
    public var matching: AggregateMatching
    /// Whether primary particles were sized (rows of Tables 4-5).
    public var sized: Bool
    /// The post-processed masks (before border clearing) of the first `keepMasks` images, for
    /// overlays (the others are not kept, to bound memory on large sets).
    public var masks: [String: BinaryMask]

    public var variantName: String { variant.name(minimumPixels: minimumPixels) }
    public var label: String { "\(classifier) \(variantName)" }
}

/// The whole comparison: the truth's aggregates and every classifier variant.
public struct Evaluation: Sendable {
    public var images: [String]
    public var truth: [EvaluatedAggregate]
    public var variants: [VariantEvaluation]
    public var sizingMethods: [SizingMethod]
    public var seconds: [String: Double]
    /// Classifiers that failed on an image (the message); that image then counts as a failed
    /// segmentation with an empty mask for that classifier.
    public var errors: [(image: String, classifier: String, message: String)] = []

    /// Rows of Tables 4 and 5: the truth first, then the sized variants.
    public var sizedRows: [(label: String, aggregates: [EvaluatedAggregate])] {
        [("truth", truth)] + variants.filter(\.sized).map { ($0.label, $0.aggregates) }
    }
}

public enum EvaluationError: LocalizedError, Equatable {
    case noImages

    public var errorDescription: String? {
        switch self {
        case .noImages: return "no image has a ground-truth mask to compare with"
        }
    }
}

/// The paper's evaluation, one image at a time (METHODS.md 6): every classifier and
/// post-processing variant on the image, the masks scored against the truth (6.1), split
/// into aggregates and sized with the same step as `analyze` (`measureAggregates`), then,
/// in `finish`, the aggregates matched with the truth's (6.2). Only the first `keepMasks`
/// images' masks are kept, so memory does not grow with the number of images but for the
/// aggregate records. A classifier that throws on an image is recorded in `errors` and the
/// comparison goes on.
public struct Evaluator {
    public let segmenters: [any Segmenter]
    public let configuration: AnalysisConfiguration
    public let variants: [PostProcessingVariant]
    public var keepMasks = 4
    /// The learned primary-particle detector, for `configuration.sizing`'s `cnn-primaries`.
    public let detector: PrimaryDetector?
    var images: [String] = []
    var truth: [EvaluatedAggregate] = []
    var rows: [[VariantEvaluation]]
    var seconds: [String: Double] = [:]
    var errors: [(image: String, classifier: String, message: String)] = []

    /// - Parameter configuration: sizing, border policy, disk shape, the floor of the `Npx`
    ///   variants and the rolling-ball setting that picks each classifier's sized variant.
    public init(segmenters: [any Segmenter], configuration: AnalysisConfiguration,
                variants: [PostProcessingVariant] = PostProcessingVariant.allCases, detector: PrimaryDetector? = nil) {
        self.segmenters = segmenters
        self.detector = detector
        self.configuration = configuration
        self.variants = variants
        rows = segmenters.map { segmenter in
            let sized = PostProcessingVariant.configured(configuration, classifier: segmenter.name)
            return variants.map {
                VariantEvaluation(classifier: segmenter.name, variant: $0, minimumPixels: configuration.minimumPixels,
                                  scores: PixelScores(), scoresIncludingFailed: PixelScores(), failedImages: [], aggregates: [],
                                  matching: AggregateMatching(pairs: [], referenceCount: 0, otherCount: 0),
                                  sized: $0 == .raw || $0 == sized, masks: [:])
            }
        }
    }

    func aggregates(of mask: BinaryMask, _ item: EvaluationImage, sized: Bool) throws -> [EvaluatedAggregate] {
        try measured(mask, item, sized: sized).aggregates
    }

    /// A mask's aggregates measured and sized as `analyze` does, with their records.
    func measured(_ mask: BinaryMask, _ item: EvaluationImage, sized: Bool) throws
        -> (aggregates: [EvaluatedAggregate], analysis: AggregateAnalysis, sizing: ImageSizing) {
        let (analysis, sizing) = try measureAggregates(mask: mask, image: item.image, options: configuration.aggregateOptions,
                                                       sizing: sized ? configuration.sizing : [], source: item.name,
                                                       detector: detector)
        let records = analysis.aggregates.enumerated().map { k, a in
            EvaluatedAggregate(image: item.name, id: a.id, areaPx: a.areaPx, daNm: a.daNm, centroidXPx: a.centroidXPx,
                               centroidYPx: a.centroidYPx, dpNm: sizing.sizes[k].compactMapValues(\.diameterNm))
        }
        return (records, analysis, sizing)
    }

    /// Images added so far.
    public var imageCount: Int { images.count }

    /// Evaluates one image (its truth, then every classifier and variant) without adding it.
    /// - Parameters:
    ///   - keepMasks: also return the post-processed masks (per classifier, per variant).
    ///   - primaryTruth: the image's known primaries; the sizing of the truth mask's
    ///     aggregates is then scored against them (`ImageEvaluation.primaries`).
    ///   - progress: called with a label before each step.
    public func evaluate(_ item: EvaluationImage, keepMasks: Bool = false, primaryTruth: PrimaryTruth? = nil,
                         progress: (String) -> Void = { _ in }) throws -> (ImageEvaluation, [[BinaryMask]]) {
        progress("\(item.name): truth")
        var started = Date()
        var result = ImageEvaluation(name: item.name, truth: [], variants: [], errors: [], seconds: [:])
        var mask = item.truth
        mask.pixelSize = item.image.pixelSize
        let truth = try measured(mask, item, sized: true)
        result.truth = truth.aggregates
        if let primaryTruth {
            result.primaries = evaluatePrimaries(analysis: truth.analysis, sizing: truth.sizing, methods: configuration.sizing,
                                                 truth: primaryTruth, pixelSizeNm: truth.analysis.pixelSizeNm)
        }
        result.seconds["truth"] = Date().timeIntervalSince(started)
        var masks: [[BinaryMask]] = []
        for (s, segmenter) in segmenters.enumerated() {
            progress("\(item.name): \(segmenter.name)")
            started = Date()
            var raw: BinaryMask
            do {
                // Methods with the paper's pixel constants run at their working pixel size (PaperScale).
                raw = try segmenter.segmentAtPaperScale(item.image).0.mask
            } catch {
                result.errors.append(ClassifierFailure(classifier: segmenter.name, message: describe(error)))
                raw = BinaryMask(width: item.image.width, height: item.image.height)
            }
            raw.pixelSize = item.image.pixelSize
            if let excluded = item.excluded, excluded.width == raw.width, excluded.height == raw.height {
                for i in 0..<raw.bits.count where excluded.bits[i] != 0 { raw.bits[i] = 0 }
            }
            var parts: [VariantPart] = []
            var kept: [BinaryMask] = []
            for row in rows[s] {
                let post = try row.variant.postProcessing(minimumPixels: configuration.minimumPixels,
                                                          diskShape: configuration.diskShape).apply(raw)
                parts.append(VariantPart(score: PixelScores(predicted: post, truth: item.truth),
                                         aggregates: try aggregates(of: post, item, sized: row.sized)))
                if keepMasks { kept.append(post) }
            }
            result.variants.append(parts)
            masks.append(kept)
            result.seconds[segmenter.name] = Date().timeIntervalSince(started)
        }
        return (result, masks)
    }

    /// Adds one evaluated image (in input order); `masks` (from `evaluate`) are kept for the
    /// first `keepMasks` images.
    public mutating func add(_ e: ImageEvaluation, masks: [[BinaryMask]] = []) {
        let index = images.count
        images.append(e.name)
        truth += e.truth
        for (name, t) in e.seconds { seconds[name, default: 0] += t }
        errors += e.errors.map { (e.name, $0.classifier, $0.message) }
        for s in rows.indices where s < e.variants.count {
            for k in rows[s].indices where k < e.variants[s].count {
                let part = e.variants[s][k]
                rows[s][k].scoresIncludingFailed = rows[s][k].scoresIncludingFailed + part.score
                if part.aggregates.isEmpty {
                    rows[s][k].failedImages.append(e.name)
                } else {
                    rows[s][k].scores = rows[s][k].scores + part.score
                }
                rows[s][k].aggregates += part.aggregates
                if index < keepMasks, s < masks.count, k < masks[s].count { rows[s][k].masks[e.name] = masks[s][k] }
            }
        }
    }

    /// Evaluates and adds one image.
    public mutating func add(_ item: EvaluationImage, progress: (String) -> Void = { _ in }) throws {
        let (e, masks) = try evaluate(item, keepMasks: images.count < keepMasks, progress: progress)
        add(e, masks: masks)
    }

    /// Matches every variant's aggregates with the truth's and returns the comparison.
    public func finish() throws -> Evaluation {
        guard !images.isEmpty else { throw EvaluationError.noImages }
        var results: [VariantEvaluation] = []
        for var row in rows {
            for k in row.indices {
                row[k].matching = matchAggregates(reference: truth.map(\.candidate), other: row[k].aggregates.map(\.candidate))
            }
            results += row
        }
        return Evaluation(images: images, truth: truth, variants: results, sizingMethods: configuration.sizing,
                          seconds: seconds, errors: errors)
    }
}

/// Runs the evaluation over images already in memory (tests, small sets).
public func evaluate(images: [EvaluationImage], segmenters: [any Segmenter], configuration: AnalysisConfiguration,
                     variants: [PostProcessingVariant] = PostProcessingVariant.allCases, keepMasks: Int = 4) throws -> Evaluation {
    var evaluator = Evaluator(segmenters: segmenters, configuration: configuration, variants: variants)
    evaluator.keepMasks = keepMasks
    for item in images { try evaluator.add(item) }
    return try evaluator.finish()
}

/// A classifier's failure on one image.
public struct ClassifierFailure: Sendable, Codable, Equatable {
    public var classifier: String
    public var message: String
}

/// One variant's share of one image: its pixel scores and aggregates.
public struct VariantPart: Sendable, Codable {
    public var score: PixelScores
    public var aggregates: [EvaluatedAggregate]
}

/// One image's part of a comparison: what `compare --resume` keeps per image.
public struct ImageEvaluation: Sendable, Codable {
    public var name: String
    public var truth: [EvaluatedAggregate]
    /// Per classifier, per post-processing variant.
    public var variants: [[VariantPart]]
    public var errors: [ClassifierFailure]
    public var seconds: [String: Double]
    /// Scores against the image's known primaries (`compare --primary-truth`; nil without).
    public var primaries: [PrimaryMethodEvaluation]? = nil
}
