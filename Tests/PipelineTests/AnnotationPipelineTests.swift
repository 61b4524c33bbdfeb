import Annotations
import Classifiers
import Foundation
import ImageCore
import Pipeline
import Synthesis
import Testing
import TestSupport
import TextRendering

/// What is not soot never becomes an aggregate: a boxed scale bar gives the pixel size and
/// is excluded; a blanked-out (saturated) rectangle and its rim are excluded.
@Suite("Annotations in the pipeline", .enabled(if: !TextRenderer.installedFonts().isEmpty && TesseractReader().unavailableReason == nil))
struct AnnotationPipelineTests {
    static func scene(seed: UInt64) -> (image: GrayImage, mask: BinaryMask) {
        var p = SynthesisParameters()
        p.width = 1280; p.height = 960; p.pixelSizeNm = 0.5
        p.aggregateCount = 3...3
        let s = synthesize(p, seed: seed)
        return (s.image, s.mask)
    }

    @Test("a boxed scale bar: pixel size from it, excluded from every classifier's mask, in the calibration record of run.json",
          arguments: [ClassifierName.kmeans, .otsu, .cnn])
    func scaleBar(_ name: ClassifierName) throws {
        let renderer = try TextRenderer(fontPath: TextRenderer.installedFonts()[0])
        var (image, _) = Self.scene(seed: 8)
        for brightMarks in [true, false] {
            let style = ScaleBarStyle(label: "100 nm", lengthNm: 100, fontPath: renderer.fontPath, fontSizePx: 30, thicknessPx: 8,
                                      corner: .bottomRight, labelPlace: .below, brightMarks: brightMarks, boxed: true, endTicks: false)
            var marked = image
            let drawn = try #require(ScaleBarScene.draw(style, into: &marked, pixelSizeNm: 0.5, renderer: renderer))
            let folder = TestPaths.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("bar.png").path
            marked.pixelSize = nil
            try ImageWriter.writePNG8(marked, to: path)
            let loaded = try LoadedImage(path: path)
            let ps = try #require(loaded.pixelSize)
            #expect(ps.source == .scaleBar && abs(ps.nanometersPerPixel - 0.5) < 0.01)
            var configuration = AnalysisConfiguration()
            configuration.classifier = name
            configuration.sizing = []
            configuration.border = .keep
            let segmented = try Analyzer(configuration: configuration).segment(loaded)
            let box = drawn.annotation
            var inside = 0
            for r in box.y..<(box.y + box.height) { for c in box.x..<(box.x + box.width) where segmented.mask[r, c] { inside += 1 } }
            #expect(inside == 0, "\(name): \(inside) mask pixels in the scale bar's box (\(brightMarks ? "white" : "black") marks)")
            #expect(loaded.annotations.regions.contains { $0.kind == .scaleBar })
            #expect(loaded.calibration.scaleBar?.label == "100 nm")
        }
    }

    @Test("a blanked-out rectangle and its rim are excluded; without it the image is unchanged")
    func saturated() throws {
        var (image, _) = Self.scene(seed: 9)
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        image.pixelSize = PixelSize(nanometersPerPixel: 0.5, source: .user)
        let plainPath = folder.appendingPathComponent("plain.png").path
        try ImageWriter.writePNG8(image, to: plainPath)
        #expect(try LoadedImage(path: plainPath).annotations.excludedCount == 0)
        for r in 100..<300 { for c in 900..<1200 { image[r, c] = 1 } }
        let path = folder.appendingPathComponent("blank.png").path
        try ImageWriter.writePNG8(image, to: path)
        let loaded = try LoadedImage(path: path)
        // 200 x 300 px and a 6 nm (12 px) rim.
        #expect(loaded.annotations.excludedCount >= 200 * 300)
        #expect(loaded.annotations.excluded[95, 1050] && loaded.annotations.excluded[200, 1205])
        var configuration = AnalysisConfiguration()
        configuration.classifier = .otsu
        configuration.border = .keep
        let segmented = try Analyzer(configuration: configuration).segment(loaded)
        var rim = 0
        for r in 85..<315 { for c in 885..<1215 where segmented.mask[r, c] { rim += 1 } }
        #expect(rim == 0)
    }
}
