import Classifiers
import Foundation
import ImageCore
import NeuralNet

/// `sootbench cnn`: each stage of CNN segmentation of one image with the default (or a given)
/// model: reading, the network at the model's scale (resampling included), the
/// post-processing, and writing the mask.
func benchCNN(imagePath: String, modelPath: String?, pixelSizeNm ps: Double, repeatCount: Int) throws {
    var loaded: CNNSegmenter?
    _ = measure("load model", pixels: 1, repeat: 1) { loaded = try? modelPath.map { try CNNSegmenter(modelPath: $0) } ?? CNNSegmenter.defaultModel() }
    guard let cnn = loaded else { throw ClassifierError.noModelInstalled(searched: [modelPath ?? "default"]) }
    print("model: \(cnn.modelPath) (encoder \(cnn.modelEncoder ?? "?"), \(cnn.modelPixelSizeNm.map { "\($0) nm/px" } ?? "no pixel size"))")
    var image = try ImageReader.read(imagePath).image
    image.pixelSize = PixelSize(nanometersPerPixel: ps, source: .user)
    let scale = cnn.inputScale(pixelSizeNm: ps)
    print("image: \(imagePath) (\(image.width) x \(image.height)), \(ps) nm/px -> network input x\(String(format: "%.2f", scale))")
    let n = image.count
    _ = measure("read PNG", pixels: n, repeat: repeatCount) { consume(try? ImageReader.read(imagePath)) }
    var raw = BinaryMask(width: image.width, height: image.height)
    let total = measure("network (resample, forward, back)", pixels: n, repeat: repeatCount) {
        raw = (try? cnn.segment(image, pixelSizeNm: ps))?.mask ?? raw
    }
    var post = raw
    let p = measure("rolling ball + 1000 px", pixels: n, repeat: repeatCount) {
        post = (try? PostProcessing.cnnDefault.apply(raw, pixelSizeNm: ps)) ?? raw
    }
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("sootbench-cnn-mask.png").path
    let w = measure("write mask PNG", pixels: n, repeat: repeatCount) { try? ImageWriter.writeMask(post, to: out) }
    try? FileManager.default.removeItem(atPath: out)
    print(String(format: "segmentation (network + post-processing): %.2f s; with writing the mask: %.2f s",
                 total.seconds + p.seconds, total.seconds + p.seconds + w.seconds))
}
