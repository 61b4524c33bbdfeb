import ArgumentParser
import Classifiers
import Foundation
import ImageCore
import NeuralNet

enum MethodName: String, ExpressibleByArgument, CaseIterable {
    case otsu, kmeans, cnn
}

enum BorderPolicy: String, ExpressibleByArgument, CaseIterable {
    case keep, remove
}

extension DiskShape: ExpressibleByArgument {}

/// Options shared by `segment` and `analyze`: the classifier and its post-processing.
struct ClassifierOptions: ParsableArguments {
    @Option(help: "Classifier: cnn (the installed model, or --model), kmeans (atems k-means v6.1) or otsu (Otsu + rolling ball).")
    var method: MethodName = .cnn

    @Option(name: .customLong("pixel-size"), help: "Pixel size in nm per pixel (overrides the file's metadata).")
    var pixelSizeNm: Double?

    @Option(help: "CNN model file (safetensors or PyTorch checkpoint) for --method cnn.", completion: .file())
    var model: String?

    @Option(name: .customLong("rolling-ball"),
            help: "Close-then-open rolling ball after the classifier: on or off (default: on for cnn).")
    var rollingBall: Toggle?

    @Option(name: .customLong("min-pixels"),
            help: "Remove aggregates smaller than this many pixels (default: 1000 for cnn, 0 otherwise).")
    var minimumPixels: Int?

    @Option(help: "Disk shape of structuring elements: euclidean or matlab (MATLAB's octagons).")
    var diskShape: DiskShape = .euclidean

    enum Toggle: String, ExpressibleByArgument { case on, off }

    func validate() throws {
        if let ps = pixelSizeNm, !(ps.isFinite && PixelSize.plausibleRangeNm.contains(ps)) {
            throw ValidationError("--pixel-size must be between 0.001 and 1000 nm per pixel")
        }
        if let m = minimumPixels, m < 0 { throw ValidationError("--min-pixels must not be negative") }
        if model != nil && method != .cnn { throw ValidationError("--model only applies to --method cnn") }
    }

    /// Builds the classifier (loads the CNN once).
    func makeSegmenter() throws -> any Segmenter {
        switch method {
        case .otsu:
            return OtsuSegmenter(diskShape: diskShape)
        case .kmeans:
            var k = KMeansSegmenter()
            k.diskShape = diskShape
            return k
        case .cnn:
            NeuralNetRuntime.keepLargeAllocationsInHeap()
            if let model { return try CNNSegmenter(modelPath: model) }
            return try CNNSegmenter.defaultModel()
        }
    }

    /// The post-processing: the method's default with the user's overrides.
    func postProcessing(for segmenter: any Segmenter, removeBorder: Bool) -> PostProcessing {
        var p = segmenter.defaultPostProcessing
        if let rollingBall { p.rollingBall = rollingBall == .on }
        if let minimumPixels { p.minimumAggregatePixels = minimumPixels }
        p.removeBorderAggregates = removeBorder
        p.diskShape = diskShape
        return p
    }
}
