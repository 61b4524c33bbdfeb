import Annotations
import Foundation
import ImageCore
import Randomness
import Synthesis
import Testing
import TestSupport
import TextRendering

/// Scale bars rendered into synthetic micrographs (FreeType, the system's DejaVu and
/// Liberation fonts) in many fonts, sizes, positions, polarities, units and spellings, with
/// and without a box and end ticks; and images without a bar, which must give no reading.
@Suite("Scale bars", .enabled(if: !TextRenderer.installedFonts().isEmpty && TesseractReader().unavailableReason == nil))
struct ScaleBarTests {
    static let reader = TesseractReader()
    static let detector = ScaleBarDetector(reader: reader)

    /// A small synthetic micrograph at `pixelSizeNm`.
    static func background(width: Int, height: Int, pixelSizeNm: Double, seed: UInt64) -> GrayImage {
        var p = SynthesisParameters()
        p.width = width
        p.height = height
        p.pixelSizeNm = pixelSizeNm
        p.aggregateCount = 1...3
        p.primaryCount = 10...60
        return synthesize(p, seed: seed).image
    }

    /// The rendered cases: 60 images, 768-1280 px wide, 0.15-2 nm/px.
    static func cases() -> [(name: String, image: GrayImage, drawn: DrawnScaleBar, style: ScaleBarStyle)] {
        let fonts = TextRenderer.installedFonts()
        var renderers: [String: TextRenderer] = [:]
        var rng = SplitMix64(seed: 2026)
        var out: [(String, GrayImage, DrawnScaleBar, ScaleBarStyle)] = []
        var k = 0
        while out.count < 60 && k < 200 {
            k += 1
            let width = [768, 1024, 1280][Int(rng.next() % 3)]
            let height = width * 3 / 4
            let ps = [0.15, 0.25, 0.4, 0.6, 0.8, 1.2, 2.0][Int(rng.next() % 7)]
            let style = ScaleBarScene.randomStyle(width: width, pixelSizeNm: ps, fonts: fonts, rng: &rng)
            let renderer = renderers[style.fontPath] ?? (try? TextRenderer(fontPath: style.fontPath))
            guard let renderer else { continue }
            renderers[style.fontPath] = renderer
            var image = background(width: width, height: height, pixelSizeNm: ps, seed: UInt64(k))
            guard let drawn = ScaleBarScene.draw(style, into: &image, pixelSizeNm: ps, renderer: renderer) else { continue }
            out.append(("case \(out.count): \(style.label), \((style.fontPath as NSString).lastPathComponent) \(style.fontSizePx) px, \(style.corner.rawValue), label \(style.labelPlace.rawValue), \(style.brightMarks ? "white" : "black")\(style.boxed ? " boxed" : "")\(style.endTicks ? " ticks" : ""), \(ps) nm/px",
                        image.quantized8(), drawn, style))
        }
        return out
    }

    @Test("labels parse to lengths; other text does not")
    func parsing() {
        #expect(ScaleBarDetector.parseLength("50 nm")?.nm == 50)
        #expect(ScaleBarDetector.parseLength("100nm")?.nm == 100)
        #expect(ScaleBarDetector.parseLength("0.2 µm")?.nm == 200)
        #expect(ScaleBarDetector.parseLength("0,5 μm")?.nm == 500)
        #expect(ScaleBarDetector.parseLength("1 um")?.nm == 1000)
        #expect(ScaleBarDetector.parseLength("20 Å")?.nm == 2)
        // A bare "m" (the n of nm or the µ of µm dropped) is resolved by the bar's length.
        #expect(ScaleBarDetector.parseLength("100m", barLengthPx: 500)?.nm == 100)
        #expect(ScaleBarDetector.parseLength("0.2m", barLengthPx: 333)?.nm == 200)
        #expect(ScaleBarDetector.parseLength("100m") == nil)
        for bad in ["nm", "50", "5.0.1 nm", ".5 nm", "050 nm", "50 kV", "x50 nm", "", "0 nm"] {
            #expect(ScaleBarDetector.parseLength(bad) == nil, "\(bad)")
        }
    }

    @Test("60 rendered scale bars: pixel size within 2 % in at least 95 % of them, never a wrong reading beyond 2 %")
    func renderedBars() {
        let all = Self.cases()
        #expect(all.count >= 50)
        var right = 0
        var failures: [String] = []
        for (name, image, drawn, _) in all {
            let search = Self.detector.search(image)
            if let reading = search.reading {
                let error = abs(reading.pixelSizeNm - drawn.pixelSizeNm) / drawn.pixelSizeNm
                if error <= 0.02 { right += 1 } else { failures.append("\(name): WRONG \(reading.label) / \(reading.barLengthPx) px = \(reading.pixelSizeNm) vs \(drawn.pixelSizeNm)") }
            } else {
                failures.append("\(name): none (\(search.note ?? ""))")
            }
        }
        let rate = Double(right) / Double(all.count)
        print("scale bars: \(right) of \(all.count) read within 2 %")
        #expect(rate >= 0.95, "\(right) of \(all.count) read within 2 %:\n\(failures.joined(separator: "\n"))")
        #expect(!failures.contains { $0.contains("WRONG") }, "\(failures.joined(separator: "\n"))")
    }

    @Test("images without a scale bar give no reading, with or without other text")
    func noBar() throws {
        let fonts = TextRenderer.installedFonts()
        let renderer = try TextRenderer(fontPath: fonts[0])
        var readings: [String] = []
        for k in 0..<12 {
            var image = Self.background(width: 1024, height: 768, pixelSizeNm: [0.2, 0.4, 0.8, 1.6][k % 4], seed: UInt64(500 + k))
            if k % 3 == 1 {
                // Text that is not a scale label, white on a black box.
                for r in 20..<70 { for c in 20..<420 { image[r, c] = 0 } }
                renderer.draw(["Sample A3 200 kV", "HV=200.0kV", "Flame 2, 30 mm"][k % 3], sizePx: 32, into: &image, x: 30, y: 30, value: 1)
            } else if k % 3 == 2 {
                // A bright blanked-out rectangle and a white line without a label.
                for r in 600..<740 { for c in 700..<1000 { image[r, c] = 1 } }
            }
            let search = Self.detector.search(image.quantized8())
            if let reading = search.reading { readings.append("image \(k): \(reading.label) / \(reading.barLengthPx) px") }
            #expect(search.note != nil)
        }
        #expect(readings.isEmpty, "\(readings)")
    }
}

/// Footers that print the calibration (UBC's "Cal: 0.421 nm/pix"), read by OCR.
@Suite("Footer calibration text", .enabled(if: !TextRenderer.installedFonts().isEmpty && TesseractReader().unavailableReason == nil))
struct FooterTextTests {
    @Test("the calibration token and atems' misreads parse; other text does not")
    func parsing() {
        #expect(FooterText.parse("Cal: 0.421 nm/pix  HV=200kV")?.pixelSizeNm == 0.421)
        #expect(FooterText.parse("Cal:0.8nmlpix")?.pixelSizeNm == 0.8)
        #expect(FooterText.parse("Cal 0.0012 um/plx")?.pixelSizeNm == 1.2)
        #expect(FooterText.parse("Cal: O.421 nm/pix")?.pixelSizeNm == 0.421)
        #expect(FooterText.parse("Direct Mag: 50000x 100 nm") == nil)
    }

    @Test("rendered UBC-style footers: the printed calibration is read; a footer without one gives none",
          arguments: Array(TextRenderer.installedFonts().prefix(4).enumerated().map { $0 }))
    func rendered(_ k: Int, font: String) throws {
        let renderer = try TextRenderer(fontPath: font)
        let values = [0.421, 0.2863, 1.105, 0.0787]
        var p = SynthesisParameters()
        p.width = 1024; p.height = 800; p.pixelSizeNm = values[k]
        var image = synthesize(p, seed: UInt64(30 + k)).image
        var framed = GrayImage(width: 1024, height: 900, value: 1)
        for r in 0..<800 { for c in 0..<1024 { framed[r, c] = image[r, c] } }
        let text = String(format: "Cal: %.4g nm/pix   12:30 05/29/18   HV=200.0kV   Direct Mag: 40000x", values[k])
        renderer.draw(text, sizePx: 24, into: &framed, x: 20, y: 830, value: 0)
        image = framed.quantized8()
        let footer = try #require(detectFooter(image))
        #expect(footer.startRow == 800)
        let read = try #require(FooterText.calibration(in: image, footerStartRow: footer.startRow), "\(font)")
        #expect(abs(read.pixelSizeNm - values[k]) < 1e-9, "\(read.text)")
        // The same footer without the calibration.
        var plain = GrayImage(width: 1024, height: 900, value: 1)
        for r in 0..<800 { for c in 0..<1024 { plain[r, c] = framed[r, c] } }
        renderer.draw("12:30 05/29/18   HV=200.0kV   Direct Mag: 40000x", sizePx: 24, into: &plain, x: 20, y: 830, value: 0)
        #expect(FooterText.calibration(in: plain.quantized8(), footerStartRow: 800) == nil)
    }
}
