import Classifiers
import Foundation
import ImageCore
import RandomForest
import Statistics

/// One labelled image of a leave-one-image-out set.
struct LabelledImage {
    let name: String
    let image: GrayImage
    let mask: BinaryMask
}

/// The labelled images of a folder laid out as `images/NAME.png` + `masks/NAME.tif|png`, at
/// the pixel sizes of a `stem,pixel_size_nm` table.
func labelledImages(folder: String, pixelSizes: [String: Double]) throws -> [LabelledImage] {
    let names = try FileManager.default.contentsOfDirectory(atPath: folder + "/images").filter { $0.hasSuffix(".png") }.sorted()
    return try names.map { file in
        let stem = String(file.dropLast(4))
        guard let ps = pixelSizes[stem] else { throw ImageCoreError.cannotOpen(path: stem, reason: "no pixel size in the table") }
        var image = try ImageReader.read(folder + "/images/" + file).image
        image.pixelSize = PixelSize(nanometersPerPixel: ps, source: .user)
        let maskPath = ["tif", "tiff", "png"].map { folder + "/masks/\(stem).\($0)" }.first { FileManager.default.fileExists(atPath: $0) }
        guard let maskPath else { throw ImageCoreError.cannotOpen(path: stem, reason: "no mask in masks/") }
        var mask = try ImageReader.readMask(maskPath)
        mask.pixelSize = image.pixelSize
        return LabelledImage(name: stem, image: image, mask: mask)
    }
}

struct FoldResult: Encodable {
    let image: String
    let twsIoU: Double
    let kmeansIoU: Double
    let trainingSeconds: Double
    let segmentSeconds: Double
}

/// Leave-one-image-out: a TWS model trained on every image but one, scored on that one after
/// the paper's 1,000 px floor, next to k-means on the same image with the same floor.
func benchTWSLeaveOneOut(folder: String, pixelSizes: [String: Double], trees: Int, pixelsPerClass: Int,
                         flattening: TWSSegmenter.Flattening?, probabilityFolder: String?, jsonPath: String?) throws {
    let images = try labelledImages(folder: folder, pixelSizes: pixelSizes)
    var parameters = RandomForest.Parameters()
    parameters.trees = trees
    let floor = PostProcessing(minimumAggregatePixels: 1000)
    print("leave-one-image-out on \(images.count) images: \(trees) trees, \(pixelsPerClass) px per class per image, "
          + "flattening \(flattening?.description ?? "none")")
    print("image                  tws IoU  kmeans IoU  train s  segment s")
    var results: [FoldResult] = []
    for (k, held) in images.enumerated() {
        let others = images.enumerated().filter { $0.offset != k }.map { (image: $0.element.image, mask: $0.element.mask) }
        var start = Date()
        let model = try TWSSegmenter.train(others, flattening: flattening, pixelsPerClass: pixelsPerClass, parameters: parameters)
        let trainingSeconds = Date().timeIntervalSince(start)
        start = Date()
        let segmentation = try model.segment(held.image)
        let segmentSeconds = Date().timeIntervalSince(start)
        let tws = try floor.apply(segmentation.mask, pixelSizeNm: held.image.pixelSize?.nanometersPerPixel)
        let kmeans = try floor.apply(try KMeansSegmenter().segment(held.image).mask, pixelSizeNm: held.image.pixelSize?.nanometersPerPixel)
        let result = FoldResult(image: held.name, twsIoU: PixelScores(predicted: tws, truth: held.mask).iou,
                                kmeansIoU: PixelScores(predicted: kmeans, truth: held.mask).iou,
                                trainingSeconds: trainingSeconds, segmentSeconds: segmentSeconds)
        results.append(result)
        print(held.name.padding(toLength: 22, withPad: " ", startingAt: 0)
              + String(format: " %7.3f %11.3f %8.1f %10.2f", result.twsIoU, result.kmeansIoU, trainingSeconds, segmentSeconds))
        if let probabilityFolder, let p = segmentation.probability {
            try FileManager.default.createDirectory(atPath: probabilityFolder, withIntermediateDirectories: true)
            try ImageWriter.writePNG8(p, to: probabilityFolder + "/\(held.name)_probability.png")
        }
    }
    let mean = { (f: (FoldResult) -> Double) in results.map(f).reduce(0, +) / Double(results.count) }
    print(String(format: "mean                   %7.3f %11.3f", mean(\.twsIoU), mean(\.kmeansIoU)))
    if let jsonPath {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(results).write(to: URL(fileURLWithPath: jsonPath))
    }
}

/// TWS's speed on one image, step by step, and its training on a labelled folder: the figures
/// Benchmarks/tws_peer.py measures for scikit-image + scikit-learn.
func benchTWS(imagePath: String, pixelSizeNm ps: Double, folder: String, pixelSizes: [String: Double], trees: Int,
              pixelsPerClass: Int, repeatCount: Int, jsonPath: String?) throws {
    var image = try ImageReader.read(imagePath).image
    image.pixelSize = PixelSize(nanometersPerPixel: ps, source: .user)
    let training = try labelledImages(folder: folder, pixelSizes: pixelSizes)
    print("image: \(imagePath) (\(image.width) x \(image.height)), \(ps) nm/px; training: \(training.count) images of \(folder)")
    print("threads: \(imageCoreThreadCount), repeats: \(repeatCount) (median reported); \(trees) trees, \(pixelsPerClass) px per class per image")
    var parameters = RandomForest.Parameters()
    parameters.trees = trees
    var timings: [Timing] = []
    let pairs = training.map { (image: $0.image, mask: $0.mask) }
    var sample: (rows: [Float], labels: [UInt8]) = ([], [])
    timings.append(measure("tws training sample (features)", pixels: image.count, repeat: 1) {
        sample = (try? TWSSegmenter.trainingSample(pairs, pixelsPerClass: pixelsPerClass)) ?? ([], [])
    })
    var forest = RandomForest(featureCount: TWSFeatures.count, trees: [])
    timings.append(measure("tws forest training", pixels: image.count, repeat: 1) {
        forest = RandomForest(training: sample.rows, labels: sample.labels, featureCount: TWSFeatures.count, parameters: parameters)
    })
    print("training rows: \(sample.labels.count)")
    let model = TWSSegmenter(forest: forest, workingPixelSizeNm: TWSSegmenter.defaultWorkingPixelSizeNm)
    let small = model.workingImage(image, pixelSizeNm: ps)
    print("working image: \(small.width) x \(small.height) at \(model.workingPixelSizeNm) nm/px")
    timings.append(measure("tws working image", pixels: image.count, repeat: repeatCount) { consume(model.workingImage(image, pixelSizeNm: ps)) })
    var features: [Float] = []
    timings.append(measure("tws features", pixels: image.count, repeat: repeatCount) { features = TWSFeatures.compute(small) })
    timings.append(measure("tws prediction", pixels: image.count, repeat: repeatCount) { consume(forest.probabilities(features)) })
    timings.append(measure("tws segment (whole)", pixels: image.count, repeat: repeatCount) { consume(try? model.segment(image)) })
    if let jsonPath {
        try JSONEncoder().encode(timings).write(to: URL(fileURLWithPath: jsonPath))
    }
}
