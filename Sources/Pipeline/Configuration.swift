import Aggregates
import Classifiers
import Foundation
import ImageCore
import NeuralNet
import PrimarySizing

/// The aggregate classifiers (segmentation methods).
public enum ClassifierName: String, Sendable, Codable, CaseIterable {
    case cnn, kmeans, otsu, tws
}

/// What happens to aggregates that touch the image border.
public enum BorderPolicy: String, Sendable, Codable, CaseIterable {
    /// Removed and not reported (atems' default); overlays draw them as excluded.
    case remove
    /// Reported with `touches_border = true`.
    case keep
}

/// Everything that decides what `segment`, `analyze` and `compare` compute, with the one set of
/// defaults all three share. Encoded into `run.json` as it was used.
public struct AnalysisConfiguration: Sendable, Codable, Equatable {
    /// The classifier; ignored when masks are given (`analyze --mask`).
    public var classifier: ClassifierName = .cnn
    /// The CNN's model file; nil: the installed default model.
    public var modelPath: String?
    /// The TWS classifier's model file; nil: the installed default TWS model.
    public var twsModelPath: String?
    /// Close-then-open rolling ball after the classifier; nil: the classifier's default (on for
    /// cnn, off for kmeans and otsu, whose own output already includes one).
    public var rollingBall: Bool?
    /// Remove aggregates below this many pixels after the classifier (the paper's 1,000 px
    /// floor, Table 3's recommended variants, for every classifier).
    public var minimumPixels = 1000
    public var border: BorderPolicy = .remove
    /// Report every aggregate even when the segmentation looks failed.
    public var keepFailed = false
    /// Primary-particle sizing methods, in this order: by default the paper's four
    /// (`cnn-primaries`, the learned detector, when asked for).
    public var sizing: [SizingMethod] = SizingMethod.paperMethods
    /// The primary-particle detector's model file (`--sizing cnn-primaries`); nil: the
    /// installed default (`models/primaries.safetensors`).
    public var primaryModelPath: String?
    /// Disk shape of structuring elements.
    public var diskShape: DiskShape = .euclidean

    public init() {}

    enum CodingKeys: String, CodingKey {
        case classifier, modelPath = "model", twsModelPath = "tws_model", rollingBall = "rolling_ball", minimumPixels = "min_pixels", border
        case keepFailed = "keep_failed", sizing, diskShape = "disk_shape", primaryModelPath = "primary_model"
    }

    /// Every field, unset ones as null (null rolling_ball: the classifier's default; null
    /// model: the installed default model).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(classifier, forKey: .classifier)
        try c.encode(modelPath, forKey: .modelPath)
        try c.encode(twsModelPath, forKey: .twsModelPath)
        try c.encode(rollingBall, forKey: .rollingBall)
        try c.encode(minimumPixels, forKey: .minimumPixels)
        try c.encode(border, forKey: .border)
        try c.encode(keepFailed, forKey: .keepFailed)
        try c.encode(sizing, forKey: .sizing)
        try c.encode(diskShape, forKey: .diskShape)
        if sizing.contains(.cnnPrimaries) { try c.encode(primaryModelPath, forKey: .primaryModelPath) }
    }

    /// The rolling-ball setting in force for `classifier`.
    public func rollingBall(for classifier: ClassifierName) -> Bool { rollingBall(forClassifierNamed: classifier.rawValue) }

    /// The rolling-ball setting in force for a classifier by its name (on by default only for cnn).
    public func rollingBall(forClassifierNamed name: String) -> Bool { rollingBall ?? (name == "cnn") }

    /// The post-processing after the classifier (border handling is the aggregate step's).
    public func postProcessing(for classifier: ClassifierName) -> PostProcessing {
        postProcessing(forClassifierNamed: classifier.rawValue)
    }

    /// The post-processing after a classifier given by its name (`Segmenter.name`).
    public func postProcessing(forClassifierNamed name: String) -> PostProcessing {
        PostProcessing(rollingBall: rollingBall(forClassifierNamed: name), minimumAggregatePixels: minimumPixels,
                       removeBorderAggregates: false, diskShape: diskShape)
    }

    /// The mask-to-aggregates options (atems' rules with this border policy).
    public var aggregateOptions: AggregateOptions {
        var o = AggregateOptions()
        o.removeBorderAggregates = border == .remove
        o.detectFailures = !keepFailed
        return o
    }

    /// The model file option of a classifier: `modelPath` for cnn, `twsModelPath` for tws.
    public mutating func setModelPath(_ path: String?, for classifier: ClassifierName) {
        switch classifier {
        case .cnn: modelPath = path
        case .tws: twsModelPath = path
        case .kmeans, .otsu: break
        }
    }

    /// Loads the primary-particle detector when `sizing` asks for it (nil otherwise).
    public func makePrimaryDetector() throws -> PrimaryDetector? {
        guard sizing.contains(.cnnPrimaries) else { return nil }
        NeuralNetRuntime.keepLargeAllocationsInHeap()
        NeuralNetRuntime.selectBLASKernels()
        if let primaryModelPath { return try PrimaryDetector(modelPath: primaryModelPath) }
        return try PrimaryDetector.defaultModel()
    }

    /// Builds the classifier (loads a model once).
    public func makeSegmenter(_ name: ClassifierName? = nil) throws -> any Segmenter {
        switch name ?? classifier {
        case .otsu:
            return OtsuSegmenter(diskShape: diskShape)
        case .kmeans:
            var k = KMeansSegmenter()
            k.diskShape = diskShape
            return k
        case .cnn:
            NeuralNetRuntime.keepLargeAllocationsInHeap()
            NeuralNetRuntime.selectBLASKernels()
            if let modelPath { return try CNNSegmenter(modelPath: modelPath) }
            return try CNNSegmenter.defaultModel()
        case .tws:
            if let twsModelPath { return try TWSSegmenter(modelPath: twsModelPath) }
            return try TWSSegmenter.defaultModel()
        }
    }
}
