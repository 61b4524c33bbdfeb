import Classifiers
import Foundation
import ImageCore
import Pipeline
import PrimarySizing
import Report
import Statistics
import Testing
import TestSupport

/// The default configuration with these sizing methods.
func config(_ sizing: [SizingMethod]) -> AnalysisConfiguration {
    var c = AnalysisConfiguration()
    c.sizing = sizing
    return c
}

/// A classifier that returns a fixed mask per image size (for end-to-end checks).
struct FixedSegmenter: Segmenter {
    var name: String
    var mask: BinaryMask
    var defaultPostProcessing: PostProcessing { .none }
    func segment(_ image: GrayImage, pixelSizeNm: Double?) throws -> Segmentation { Segmentation(mask: mask) }
}

/// A classifier that always fails.
struct BrokenSegmenter: Segmenter {
    var name: String { "broken" }
    var defaultPostProcessing: PostProcessing { .none }
    func segment(_ image: GrayImage, pixelSizeNm: Double?) throws -> Segmentation {
        throw ClassifierError.missingPixelSize(neededBy: "broken")
    }
}

@Suite("Comparison and report")
struct EvaluationTests {
    func scene() -> EvaluationImage {
        var truth = BinaryMask(width: 300, height: 240)
        for (cx, cy, r) in [(80, 80, 30), (200, 150, 40)] {
            for y in 0..<240 { for x in 0..<300 where (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r { truth.bits[y * 300 + x] = 1 } }
        }
        var pixels = [Float](repeating: 0.8, count: 300 * 240)
        for i in pixels.indices where truth.bits[i] != 0 { pixels[i] = 0.3 }
        return try! EvaluationImage(name: "scene", image: try! GrayImage(width: 300, height: 240, pixels: pixels), truth: truth, pixelSizeNm: 1)
    }

    @Test("a classifier that returns the truth scores IoU 1 with every aggregate matched")
    func perfectClassifier() throws {
        let item = scene()
        let evaluation = try evaluate(images: [item], segmenters: [FixedSegmenter(name: "perfect", mask: item.truth)],
                                      configuration: config([.edmSBS]), variants: [.raw, .minimumPixels])
        #expect(evaluation.truth.count == 2)
        for v in evaluation.variants {
            #expect(v.scores.iou == 1 && v.failedImages.isEmpty && v.matching.pairs.count == 2)
            #expect(v.matching.added == 0 && v.matching.removed == 0)
        }
        let table = evaluation.segmentationTable
        #expect(table.rows.count == 2)
        #expect(table.rows[0][6] == "1.0000" && table.rows[0][13] == "0.00")
        // Sizing rows: the truth and the two sized variants (raw and recommended 1000px).
        let sizing = evaluation.sizingTable
        #expect(sizing.rows.map { $0[0] } == ["truth", "perfect raw", "perfect 1000px"])
        #expect(sizing.rows[0][4] == sizing.rows[1][4])
        #expect(evaluation.matchesTable.rows.count == 4)
    }

    @Test("an empty classifier fails every image; IoU including failed images is 0")
    func emptyClassifier() throws {
        let item = scene()
        let evaluation = try evaluate(images: [item], segmenters: [FixedSegmenter(name: "empty", mask: BinaryMask(width: 300, height: 240))],
                                      configuration: config([]), variants: [.raw])
        let v = try #require(evaluation.variants.first)
        #expect(v.failedImages == ["scene"] && v.scoresIncludingFailed.iou == 0 && v.matching.removed == 2)
        #expect(throws: EvaluationError.self) { try evaluate(images: [], segmenters: [], configuration: config([])) }
    }

    @Test("a classifier that throws is recorded, its image counts as failed, and the others go on")
    func brokenClassifier() throws {
        let item = scene()
        let evaluation = try evaluate(images: [item], segmenters: [BrokenSegmenter(), FixedSegmenter(name: "perfect", mask: item.truth)],
                                      configuration: config([]), variants: [.raw])
        #expect(evaluation.errors.count == 1 && evaluation.errors[0].classifier == "broken" && evaluation.errors[0].image == "scene")
        #expect(evaluation.variants[0].failedImages == ["scene"])
        #expect(evaluation.variants[1].scores.iou == 1)
    }

    @Test("the compare report holds every table and figure; SVG and PNG charts render")
    func report() throws {
        let item = scene()
        var shifted = item.truth
        shifted.bits = Array(shifted.bits.dropFirst(3)) + [0, 0, 0]
        let evaluation = try evaluate(images: [item], segmenters: [FixedSegmenter(name: "cnn", mask: shifted)], configuration: config([.edmSBS, .pcm]))
        let html = try evaluation.report(images: [item])
        for needle in ["Table 3", "Figure 4", "Figure 5", "Table 4", "Table 5", "Figure 8", "<svg", "data:image/png;base64,",
                       "cnn rb+1000px", "dp,100"] {
            #expect(html.contains(needle), "missing \(needle)")
        }
        let chart = evaluation.powerLawFigures[0].chart
        #expect(chart.svg().hasPrefix("<svg") && chart.svg().contains("</svg>"))
        let png = chart.raster()
        #expect(png.width == 1280 && png.height == Int(chart.totalHeight * 2) && chart.totalHeight > 420)
        #expect(png.bytes.contains { $0 < 100 })
    }
}
