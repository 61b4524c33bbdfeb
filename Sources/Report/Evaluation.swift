import Classifiers
import Foundation
import ImageCore
import PrimarySizing
import Statistics

/// One image with its ground truth, ready for `evaluate`.
public struct EvaluationImage: Sendable {
    public var name: String
    public var image: GrayImage
    public var truth: BinaryMask
    public var pixelSizeNm: Double

    public init(name: String, image: GrayImage, truth: BinaryMask, pixelSizeNm: Double) {
        self.name = name
        self.image = image
        self.truth = truth
        self.pixelSizeNm = pixelSizeNm
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

    /// The variant each classifier is sized with besides `raw` (the paper's recommended
    /// pipelines: CNN + RB + 1,000 px; k-means and Otsu, whose own output already includes a
    /// rolling ball, + 1,000 px).
    public static func recommended(for classifier: String) -> PostProcessingVariant {
        classifier == "cnn" ? .both : .minimumPixels
    }
}

/// One aggregate of a mask with its sizes.
public struct EvaluatedAggregate: Sendable {
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

    public var label: String { "\(classifier) \(variant.rawValue)" }
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
    case truthSize(image: String, truth: String)

    public var errorDescription: String? {
        switch self {
        case .noImages: return "no image has a ground-truth mask to compare with"
        case let .truthSize(image, truth): return "\(truth) does not have the size of \(image)"
        }
    }
}

/// Runs every classifier and post-processing variant on every image, scores the masks against
/// the truth (METHODS.md 6.1), splits them into aggregates (border aggregates removed, failed
/// segmentations flagged), matches the aggregates with the truth's (6.2) and sizes primary
/// particles for the truth and for each classifier's raw and recommended variants. A
/// classifier that throws on an image is recorded in `errors` and the comparison goes on.
///
/// - Parameter progress: called with (step, total steps, what) as work proceeds.
public func evaluate(images: [EvaluationImage], segmenters: [any Segmenter], sizing: [SizingMethod],
                     variants: [PostProcessingVariant] = PostProcessingVariant.allCases,
                     diskShape: DiskShape = .euclidean, keepMasks: Int = 4,
                     progress: (Int, Int, String) -> Void = { _, _, _ in }) throws -> Evaluation {
    guard !images.isEmpty else { throw EvaluationError.noImages }
    let total = images.count * (1 + segmenters.count)
    var step = 0
    var seconds: [String: Double] = [:]
    var options = AggregateOptions()
    options.removeBorderAggregates = true

    func aggregates(of mask: BinaryMask, _ item: EvaluationImage, sized: Bool) -> (AggregateAnalysis, [EvaluatedAggregate]) {
        let analysis = extractAggregates(mask: mask, image: item.image, pixelSizeNm: item.pixelSizeNm, options: options)
        let sizes = sized && !sizing.isEmpty
            ? sizePrimaryParticles(analysis: analysis, image: item.image, methods: sizing).sizes
            : Array(repeating: [:], count: analysis.aggregates.count)
        let records = analysis.aggregates.enumerated().map { k, a in
            EvaluatedAggregate(image: item.name, id: a.id, areaPx: a.areaPx, daNm: a.daNm, centroidXPx: a.centroidXPx,
                               centroidYPx: a.centroidYPx, dpNm: sizes[k].compactMapValues(\.diameterNm))
        }
        return (analysis, records)
    }

    var truth: [EvaluatedAggregate] = []
    for item in images {
        progress(step, total, "\(item.name): truth")
        let started = Date()
        truth += aggregates(of: item.truth, item, sized: true).1
        seconds["truth", default: 0] += Date().timeIntervalSince(started)
        step += 1
    }

    var results: [VariantEvaluation] = []
    var errors: [(image: String, classifier: String, message: String)] = []
    for segmenter in segmenters {
        let recommended = PostProcessingVariant.recommended(for: segmenter.name)
        var rows = variants.map {
            VariantEvaluation(classifier: segmenter.name, variant: $0, scores: PixelScores(),
                              scoresIncludingFailed: PixelScores(), failedImages: [], aggregates: [],
                              matching: AggregateMatching(pairs: [], referenceCount: 0, otherCount: 0),
                              sized: $0 == .raw || $0 == recommended, masks: [:])
        }
        for (index, item) in images.enumerated() {
            progress(step, total, "\(item.name): \(segmenter.name)")
            let started = Date()
            let raw: BinaryMask
            do {
                raw = try segmenter.segment(item.image, pixelSizeNm: item.pixelSizeNm).mask
            } catch {
                errors.append((item.name, segmenter.name, (error as? LocalizedError)?.errorDescription ?? "\(error)"))
                raw = BinaryMask(width: item.image.width, height: item.image.height)
            }
            for k in rows.indices {
                let mask = try rows[k].variant.postProcessing(diskShape: diskShape).apply(raw, pixelSizeNm: item.pixelSizeNm)
                let score = PixelScores(predicted: mask, truth: item.truth)
                let records = aggregates(of: mask, item, sized: rows[k].sized).1
                rows[k].scoresIncludingFailed = rows[k].scoresIncludingFailed + score
                if records.isEmpty {
                    rows[k].failedImages.append(item.name)
                } else {
                    rows[k].scores = rows[k].scores + score
                }
                rows[k].aggregates += records
                if index < keepMasks { rows[k].masks[item.name] = mask }
            }
            seconds[segmenter.name, default: 0] += Date().timeIntervalSince(started)
            step += 1
        }
        for k in rows.indices {
            rows[k].matching = matchAggregates(reference: truth.map(\.candidate), other: rows[k].aggregates.map(\.candidate))
        }
        results += rows
    }
    progress(total, total, "done")
    return Evaluation(images: images.map { $0.name }, truth: truth, variants: results, sizingMethods: sizing, seconds: seconds,
                      errors: errors)
}
