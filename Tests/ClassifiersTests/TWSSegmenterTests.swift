import Classifiers
import Foundation
import ImageCore
import RandomForest
import Synthesis
import Testing
import TestSupport

@Suite("Trainable Weka Segmentation classifier")
struct TWSSegmenterTests {
    func scene(_ seed: UInt64, pixelSizeNm: Double = 0.8) -> (image: GrayImage, mask: BinaryMask) {
        var p = SynthesisParameters()
        p.width = 320
        p.height = 256
        p.pixelSizeNm = pixelSizeNm
        p.aggregateCount = 2...3
        p.primaryCount = 20...80
        let s = synthesize(p, seed: seed)
        return (s.image, s.mask)
    }

    func iou(_ a: BinaryMask, _ b: BinaryMask) -> Double {
        var i = 0, u = 0
        for k in 0..<a.count { if a.bits[k] & b.bits[k] != 0 { i += 1 }; if a.bits[k] | b.bits[k] != 0 { u += 1 } }
        return Double(i) / Double(max(u, 1))
    }

    @Test("trained on two synthetic images it segments a third; the model file round-trips")
    func trainAndSegment() throws {
        var parameters = RandomForest.Parameters()
        parameters.trees = 30
        let model = try TWSSegmenter.train([scene(1), scene(2)], pixelsPerClass: 1500, parameters: parameters)
        #expect(model.forest.trees.count == 30 && model.forest.featureCount == 67)
        let test = scene(3)
        let result = try model.segment(test.image, pixelSizeNm: 0.8)
        #expect(result.mask.width == 320 && result.mask.height == 256)
        let score = iou(result.mask, test.mask)
        #expect(score > 0.7, "IoU \(score)")
        let file = TestPaths.temporaryFolder().appendingPathComponent("tws.forest").path
        try model.write(to: file, training: ["images": "2 synthetic"])
        let loaded = try TWSSegmenter(modelPath: file)
        #expect(loaded.forest == model.forest && loaded.workingPixelSizeNm == 1.6)
        #expect(try loaded.segment(test.image, pixelSizeNm: 0.8).mask.bits == result.mask.bits)
    }

    @Test("the pixel size is required; a forest without the TWS feature set is refused")
    func errors() throws {
        let forest = RandomForest(training: [0, 1, 2, 3], labels: [0, 0, 1, 1], featureCount: 1)
        let model = TWSSegmenter(forest: forest, workingPixelSizeNm: 1.6)
        #expect(throws: ClassifierError.missingPixelSize(neededBy: "tws")) { try model.segment(GrayImage(width: 8, height: 8, value: 0.5), pixelSizeNm: nil) }
        #expect(throws: ClassifierError.self) { try model.segment(GrayImage(width: 8, height: 8, value: 0.5), pixelSizeNm: 1.6) }
        let file = TestPaths.temporaryFolder().appendingPathComponent("plain.forest").path
        try ForestFile.write(forest, metadata: [:], to: file)
        #expect(throws: ClassifierError.self) { try TWSSegmenter(modelPath: file) }
    }
}
