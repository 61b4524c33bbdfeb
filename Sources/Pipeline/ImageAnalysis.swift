import Aggregates
import Classifiers
import Foundation
import ImageCore
import PrimarySizing

/// One image segmented (classifier + post-processing), before aggregates are measured.
public struct SegmentedImage: Sendable {
    public var loaded: LoadedImage
    /// The classifier's own output (mask, probability, warnings).
    public var segmentation: Segmentation
    /// The post-processed mask of the analysed region (footer excluded), with the image's pixel size.
    public var mask: BinaryMask
}

/// One image analysed: aggregates, their sizes, the records of the tables.
public struct ImageResult: Sendable {
    public var loaded: LoadedImage
    /// The mask the aggregates were taken from (post-processed or given).
    public var inputMask: BinaryMask
    public var analysis: AggregateAnalysis
    /// Aggregates of `inputMask` left out because they touch the border (nil when none or kept).
    public var excluded: BinaryMask?
    public var sizing: ImageSizing
    public var sizingMethods: [SizingMethod]
    public var records: [AggregateRecord]
    /// The primaries located by Hough, EDM-WS and the detector (`primaries.csv`).
    public var primaries: [PrimaryRecord]
    public var summary: ImageRecord
    public var warnings: [String]
}

/// Measures a mask: aggregates (atems' rules with `options`) and primary-particle sizes by
/// `methods`. The step `analyze` and `compare` share. The pixel size is the mask's own.
/// - Throws: `PipelineError.missingPixelSize` when the mask carries none.
public func measureAggregates(mask: BinaryMask, image: GrayImage, options: AggregateOptions, sizing methods: [SizingMethod],
                              source: String, detector: PrimaryDetector? = nil) throws -> (AggregateAnalysis, ImageSizing) {
    guard let ps = mask.pixelSize?.nanometersPerPixel ?? image.pixelSize?.nanometersPerPixel else {
        throw PipelineError.missingPixelSize(image: source, neededBy: "measuring aggregates in nm")
    }
    let analysis = extractAggregates(mask: mask, image: image, pixelSizeNm: ps, options: options)
    let sizing = methods.isEmpty
        ? ImageSizing.empty(count: analysis.aggregates.count)
        : sizePrimaryParticles(analysis: analysis, image: image, methods: methods, detector: detector)
    return (analysis, sizing)
}

/// The per-image pipeline: segment, post-process, extract aggregates, size primary particles,
/// fit the EDM-SBS ensemble. Built once per run (it loads the CNN once).
public final class Analyzer: Sendable {
    public let configuration: AnalysisConfiguration
    /// nil when every image comes with its mask.
    public let segmenter: (any Segmenter)?
    /// The learned primary-particle detector, when `configuration.sizing` asks for it.
    public let detector: PrimaryDetector?

    /// - Parameter classify: build the classifier (false when masks are given).
    public init(configuration: AnalysisConfiguration, classify: Bool = true) throws {
        self.configuration = configuration
        segmenter = classify ? try configuration.makeSegmenter() : nil
        detector = try configuration.makePrimaryDetector()
    }

    /// The model file of the CNN, when it is the classifier.
    public var modelPath: String? { (segmenter as? any ModelFileSegmenter)?.modelPath }

    /// What needs the pixel size, for errors: the classifier, or the measurement of given masks.
    var pixelSizeUser: String {
        segmenter.map { "the \($0.name) classifier" } ?? "analysing a given mask"
    }

    /// Segments and post-processes one image. `raw` skips the post-processing.
    public func segment(_ loaded: LoadedImage, raw: Bool = false) throws -> SegmentedImage {
        guard let segmenter else { preconditionFailure("Analyzer built without a classifier") }
        // The classifier and the post-processing say themselves whether they need the pixel
        // size (the CNN alone runs without one, at its model's default scale).
        // Scale bars, text boxes and saturated regions are neither classified nor kept.
        // Methods with the paper's pixel constants run at its magnification (PaperScale).
        var input = loaded.classifiedImage
        input.pixelSize = loaded.pixelSize
        let post = configuration.postProcessing(forClassifierNamed: segmenter.name)
        let (segmentation, processed) = try segmenter.segmentAtPaperScale(input, postProcess: raw ? nil : { try post.apply($0) })
        var mask = loaded.withoutAnnotations(processed)
        mask.pixelSize = loaded.pixelSize
        return SegmentedImage(loaded: loaded, segmentation: segmentation, mask: mask)
    }

    /// Analyses one image: its given `mask` (the analysed region's or the file's size), or the
    /// classifier's post-processed mask.
    public func analyze(_ loaded: LoadedImage, mask given: BinaryMask? = nil) throws -> ImageResult {
        let ps = try loaded.requirePixelSize(for: given == nil ? pixelSizeUser : "analysing a given mask")
        var warnings = loaded.warnings
        let mask: BinaryMask
        if let given {
            mask = try loaded.fitted(given, maskPath: "the mask of \(loaded.path)")
        } else {
            let segmented = try segment(loaded)
            warnings += segmented.segmentation.warnings
            mask = segmented.mask
        }
        let methods = configuration.sizing
        let (analysis, sizing) = try measureAggregates(mask: mask, image: loaded.image, options: configuration.aggregateOptions,
                                                       sizing: methods, source: loaded.path, detector: detector)
        var excluded: BinaryMask?
        if configuration.border == .remove && analysis.failure == nil {
            let border = subtracting(mask, clearBorder(mask))
            if border.trueCount > 0 { excluded = border }
        }
        if let reason = analysis.failure, reason != .noAggregates {
            warnings.append("segmentation failed (\(reason.rawValue)); no aggregates reported")
        }
        let records = analysis.aggregates.enumerated().map { index, aggregate in
            AggregateRecord(image: loaded.stem, aggregate: aggregate, sizes: sizing.sizes[index], located: sizing.located[index])
        }
        let primaries = PrimaryRecord.records(image: loaded.stem, analysis: analysis, sizing: sizing, methods: methods)
        let summary = ImageRecord(
            image: loaded.stem, file: loaded.path, status: analysis.failure == nil ? .ok : .failed,
            failure: analysis.failure?.rawValue, pixelSizeNm: ps.nanometersPerPixel, pixelSizeSource: ps.source.rawValue,
            footerRows: loaded.footer == nil ? nil : loaded.footerRows,
            statistics: SizeStatistics(records, methods: methods), edmSbsEnsemble: EnsembleFit(curves: sizing.edmCurves),
            warnings: warnings, calibration: loaded.calibration)
        return ImageResult(loaded: loaded, inputMask: mask, analysis: analysis, excluded: excluded, sizing: sizing,
                           sizingMethods: methods, records: records, primaries: primaries, summary: summary, warnings: warnings)
    }
}

/// `a` and not `b`.
func subtracting(_ a: BinaryMask, _ b: BinaryMask) -> BinaryMask {
    var out = a
    for i in 0..<out.count where b.bits[i] != 0 { out.bits[i] = 0 }
    return out
}
