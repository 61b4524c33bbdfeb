import Classifiers
import ImageCore
import Synthesis
import Testing
import TestSupport

@Suite("Threshold segmenter")
struct ThresholdSegmenterTests {
    @Test("Otsu threshold finds the dark spheres of a synthetic scene")
    func syntheticScene() {
        let (image, truth) = DiskScene.readmeExample()
        let (mask, level) = ThresholdSegmenter().segment(image)
        #expect(level > 0.3 && level < 0.8)
        var intersection = 0, union = 0
        for i in 0..<mask.count {
            let a = mask.bits[i] != 0, b = truth.bits[i] != 0
            if a && b { intersection += 1 }
            if a || b { union += 1 }
        }
        // Measured 0.9 or better on this scene; thin sphere rims are lighter than the threshold.
        #expect(Double(intersection) / Double(union) > 0.85)
    }

    @Test("a fixed level is used as given")
    func fixedLevel() throws {
        let image = try GrayImage(width: 3, height: 1, bytes: [10, 100, 200])
        let (mask, _) = ThresholdSegmenter(level: 100.0 / 255).segment(image)
        #expect(mask.bits == [1, 1, 0])
    }
}
