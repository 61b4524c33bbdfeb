import Classifiers
import Foundation
import ImageCore
import RandomForest
import Statistics

/// How `sootctl train --classifier tws` trains Trainable Weka Segmentation's random forest.
public struct TWSTrainingConfiguration: Sendable, Codable, Equatable {
    /// Trees in the forest. Fiji's TWS uses 200; 100 score the same on the shared images
    /// (leave-one-image-out, Docs/Classifiers.md) at half the prediction time.
    public var trees = 100
    /// Pixels drawn at random from each class of each training image (a balanced sample, as
    /// TWS's "balance classes"); all of a class's pixels when it has fewer.
    public var pixelsPerClass = TWSSegmenter.defaultPixelsPerClass
    public var seed: UInt64 = 1
    /// The pixel size the features are computed at, nm/px.
    public var workingPixelSizeNm = TWSSegmenter.defaultWorkingPixelSizeNm
    /// Background flattening before the features; nil: the raw image, as TWS.
    public var flattening: TWSSegmenter.Flattening? = TWSSegmenter.Flattening()
    /// The floor applied before scoring IoU (the paper's post-processing for TWS).
    public var minimumPixels = 1000

    public init() {}

    enum CodingKeys: String, CodingKey {
        case trees, pixelsPerClass = "pixels_per_class", seed, workingPixelSizeNm = "working_pixel_size_nm", flattening
        case minimumPixels = "min_pixels"
    }

    public func validate() throws {
        guard trees >= 1, trees <= 10_000 else { throw TrainingError.invalidConfiguration("trees must be 1-10000, not \(trees)") }
        guard pixelsPerClass >= 10 else { throw TrainingError.invalidConfiguration("pixels_per_class must be at least 10") }
        guard workingPixelSizeNm > 0, workingPixelSizeNm.isFinite else {
            throw TrainingError.invalidConfiguration("working_pixel_size_nm must be positive")
        }
        guard minimumPixels >= 0 else { throw TrainingError.invalidConfiguration("min_pixels must not be negative") }
    }
}

/// One image's score after training.
public struct TWSImageScore: Sendable, Codable, Equatable {
    public var image: String
    public var split: String
    /// IoU after the `minimumPixels` floor.
    public var iou: Double
}

/// What a TWS training run did: written as OUT/training.json next to OUT/model.sootrf.
public struct TWSTrainingReport: Sendable, Codable {
    public var configuration: TWSTrainingConfiguration
    public var trainImages: [String]
    public var validationImages: [String]
    /// Labelled pixels the forest was trained on.
    public var trainingRows: Int
    public var trainingSeconds: Double
    public var modelBytes: Int
    /// Every image's IoU with the trained model: `train` images (fitted, optimistic) and `val`
    /// images (held out).
    public var scores: [TWSImageScore]

    enum CodingKeys: String, CodingKey {
        case configuration, trainImages = "train_images", validationImages = "validation_images"
        case trainingRows = "training_rows", trainingSeconds = "training_seconds", modelBytes = "model_bytes", scores
    }

    /// Mean IoU of a split's images; nil when it has none.
    public func meanIoU(split: String) -> Double? {
        let s = scores.filter { $0.split == split }.map(\.iou)
        return s.isEmpty ? nil : s.reduce(0, +) / Double(s.count)
    }
}

/// Trains, scores and writes a TWS model from a data folder of the CNN's layout
/// (train/input + train/ground_truth, optional val/input + val/ground_truth, optional
/// pixel_sizes.csv). Every image needs its pixel size: the features are computed at
/// `workingPixelSizeNm`.
public enum TWSTraining {
    /// Progress: a phrase per step.
    public typealias Progress = (String) -> Void

    /// Loads the data folder.
    /// - Returns: the training and validation pairs (validation may be empty).
    public static func load(_ root: String, pixelSizes extra: [String: Double] = [:]) throws -> (train: [LabelledImage], validation: [LabelledImage]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError.invalidData("\(root): no such folder")
        }
        let table = try SegmentationDataset.readPixelSizes((root as NSString).appendingPathComponent("pixel_sizes.csv")).merging(extra) { $1 }
        let train = try SegmentationDataset.labelledImages(root, "train", pixelSizes: table)
        let validation = try SegmentationDataset.labelledImages(root, "val", pixelSizes: table, required: false)
        guard !train.isEmpty else { throw TrainingError.invalidData("\(root)/train/input holds no images") }
        let missing = (train + validation).filter { $0.image.pixelSize == nil }.map(\.path)
        if !missing.isEmpty {
            throw TrainingError.invalidData("the TWS classifier computes its features at \(TWSSegmenter.defaultWorkingPixelSizeNm) nm/px and "
                + "needs every image's pixel size; none for: \(missing.joined(separator: ", ")) "
                + "(add them to pixel_sizes.csv in the data folder or pass --pixel-sizes CSV)")
        }
        return (train, validation)
    }

    /// Trains on `train`, scores every image, returns the model and the report.
    public static func train(_ train: [LabelledImage], validation: [LabelledImage], configuration: TWSTrainingConfiguration,
                             progress: Progress = { _ in }) throws -> (model: TWSSegmenter, report: TWSTrainingReport) {
        try configuration.validate()
        var parameters = RandomForest.Parameters()
        parameters.trees = configuration.trees
        parameters.seed = configuration.seed
        progress("features of \(train.count) training image(s), \(configuration.trees) trees")
        let started = Date()
        let sample: (rows: [Float], labels: [UInt8])
        do {
            sample = try TWSSegmenter.trainingSample(train.map { (image: $0.image, mask: $0.mask) },
                                                     workingPixelSizeNm: configuration.workingPixelSizeNm, flattening: configuration.flattening,
                                                     pixelsPerClass: configuration.pixelsPerClass, seed: configuration.seed)
        } catch {
            throw TrainingError.invalidData((error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        progress("growing \(configuration.trees) trees on \(sample.labels.count) pixels")
        let forest = RandomForest(training: sample.rows, labels: sample.labels, featureCount: TWSFeatures.count, parameters: parameters)
        let model = TWSSegmenter(forest: forest, workingPixelSizeNm: configuration.workingPixelSizeNm, flattening: configuration.flattening)
        let seconds = Date().timeIntervalSince(started)
        let floor = PostProcessing(minimumAggregatePixels: configuration.minimumPixels)
        var scores: [TWSImageScore] = []
        for (split, pairs) in [("train", train), ("val", validation)] {
            for pair in pairs {
                progress("scoring \(pair.name)")
                let mask = try floor.apply(try model.segment(pair.image).mask, pixelSizeNm: pair.image.pixelSize?.nanometersPerPixel)
                scores.append(TWSImageScore(image: pair.name, split: split, iou: PixelScores(predicted: mask, truth: pair.mask).iou))
            }
        }
        let rows = sample.labels.count
        let report = TWSTrainingReport(configuration: configuration, trainImages: train.map(\.name), validationImages: validation.map(\.name),
                                       trainingRows: rows, trainingSeconds: seconds, modelBytes: 0, scores: scores)
        return (model, report)
    }

    /// Trains and writes OUT/model.sootrf and OUT/training.json (each atomically). Refuses an
    /// OUT that already holds a model: nothing is overwritten.
    @discardableResult
    public static func run(data: String, out: String, configuration: TWSTrainingConfiguration, pixelSizes: [String: Double] = [:],
                           progress: Progress = { _ in }) throws -> TWSTrainingReport {
        let modelPath = (out as NSString).appendingPathComponent("model.sootrf")
        let reportPath = (out as NSString).appendingPathComponent("training.json")
        for path in [modelPath, reportPath] where FileManager.default.fileExists(atPath: path) {
            throw TrainingError.output(out, "\(path) exists; choose another --out (nothing was overwritten)")
        }
        let (train, validation) = try load(data, pixelSizes: pixelSizes)
        var (model, report) = try self.train(train, validation: validation, configuration: configuration, progress: progress)
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var metadata: [String: String] = [
                "train_images": report.trainImages.joined(separator: ","), "trees": String(configuration.trees),
                "pixels_per_class": String(configuration.pixelsPerClass), "seed": String(configuration.seed),
                "training_rows": String(report.trainingRows),
            ]
            if !report.validationImages.isEmpty { metadata["validation_images"] = report.validationImages.joined(separator: ",") }
            try model.write(to: modelPath, training: metadata)
            report.modelBytes = ((try? FileManager.default.attributesOfItem(atPath: modelPath)[.size]) as? Int) ?? 0
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: reportPath), options: .atomic)
        } catch let error as TrainingError {
            throw error
        } catch {
            throw TrainingError.output(out, (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        return report
    }
}
