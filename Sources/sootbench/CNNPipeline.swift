import Classifiers
import Foundation
import ImageCore
import NeuralNet
import PrimarySizing
import Synthesis
import Aggregates

/// `sootbench cnn`: each stage of CNN segmentation of one image with the default (or a given)
/// model: reading, the network at the model's scale (resampling included; its first, cold call
/// apart), the post-processing, and writing the mask.
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
    // The first call also transforms the weights for Winograd and grows the buffers (what one
    // `sootctl segment` of one image pays); the median of the repeats below is the steady state.
    let cold = measure("network, first call (cold)", pixels: n, repeat: 1) {
        raw = (try? cnn.segment(image, pixelSizeNm: ps))?.mask ?? raw
    }
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
    print(String(format: "segmentation (network + post-processing): %.2f s; with writing the mask: %.2f s; first image of a process: %.2f s",
                 total.seconds + p.seconds, total.seconds + p.seconds + w.seconds, cold.seconds + p.seconds))
}

/// `sootbench primaries`: the learned primary-particle detector on one synthetic 2240 x 1952
/// image at each pixel size: the network on the box around the aggregates (what `analyze`
/// runs), the whole image, and peak decoding, timed separately.
func benchPrimaryDetector(modelPath: String?, pixelSizesNm: [Double], repeatCount: Int) throws {
    let detector = try modelPath.map { try PrimaryDetector(modelPath: $0) } ?? PrimaryDetector.defaultModel()
    print("model: \(detector.modelPath) (working pixel size \(detector.workingPixelSizeNm) nm/px, centre threshold \(detector.decoding.threshold))")
    for ps in pixelSizesNm {
        var p = SynthesisParameters()
        p.pixelSizeNm = ps
        let s = synthesize(p, seed: 2026)
        let analysis = extractAggregates(mask: s.mask, image: s.image, pixelSizeNm: ps, options: AggregateOptions())
        let n = s.image.count
        print("image: synthetic 2240 x 1952 at \(ps) nm/px, \(analysis.aggregates.count) aggregate(s), "
              + "network input \(Int((2240 * ps / detector.workingPixelSizeNm).rounded())) x \(Int((1952 * ps / detector.workingPixelSizeNm).rounded())) for the whole image")
        var found: [Circle] = []
        let box = measure("detector on the aggregates' boxes (\(ps) nm/px)", pixels: n, repeat: repeatCount) {
            found = detector.primaries(in: s.image, pixelSizeNm: ps, within: analysis)
        }
        _ = measure("detector on the whole image (\(ps) nm/px)", pixels: n, repeat: repeatCount) {
            consume(detector.primaries(in: s.image, pixelSizeNm: ps))
        }
        let planes = detector.outputPlanes(s.image, pixelSizeNm: ps)
        _ = measure("peak decoding alone (\(ps) nm/px)", pixels: n, repeat: repeatCount) {
            consume(decodePrimaryPeaks(heatmapLogits: planes.heatmap, logDiameter: planes.logDiameter, width: planes.width,
                                       height: planes.height, pixelSizeNm: detector.workingPixelSizeNm, decoding: detector.decoding))
        }
        print(String(format: "%d primaries located; per image %.2f s (aggregates' boxes)", found.count, box.seconds))
    }
}
