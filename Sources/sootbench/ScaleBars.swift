import Annotations
import Foundation
import ImageCore
import Randomness
import Synthesis
import TextRendering

/// `sootbench scalebars`: scale bars burned into synthetic micrographs in random styles
/// (fonts, sizes, corners, label places, polarities, boxes, ticks, units and spellings) at
/// 0.15-2 nm/px, and as many images without a bar; reports the share read within 2 %, the
/// wrong readings, the false readings on images without a bar, and the time per image.
func benchScaleBars(count: Int, seed: UInt64, width: Int, height: Int, outFolder: String?) throws {
    let fonts = TextRenderer.installedFonts()
    guard !fonts.isEmpty else { throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no TrueType fonts installed"]) }
    let finder = AnnotationFinder()
    if let why = finder.detector.reader.unavailableReason { throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: why]) }
    if let outFolder { try FileManager.default.createDirectory(atPath: outFolder, withIntermediateDirectories: true) }
    var renderers: [String: TextRenderer] = [:]
    var rng = SplitMix64(seed: seed)
    var right = 0, wrong = 0, none = 0, falseReadings = 0, drawnCount = 0
    var seconds: [Double] = []
    var truthLines = ["file,has_bar,label,style,bar_length_px,pixel_size_nm,read_label,read_pixel_size_nm,error_percent,note"]
    var k = 0
    var byStyle: [String: (Int, Int)] = [:]
    while drawnCount < count && k < count * 4 {
        k += 1
        let ps = [0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.2, 2.0][Int(rng.next() % 8)]
        var p = SynthesisParameters()
        p.width = width; p.height = height; p.pixelSizeNm = ps
        p.aggregateCount = 1...4
        var image = synthesize(p, seed: seed &+ UInt64(k)).image
        let style = ScaleBarScene.randomStyle(width: width, pixelSizeNm: ps, fonts: fonts, rng: &rng)
        let renderer = try renderers[style.fontPath] ?? TextRenderer(fontPath: style.fontPath)
        renderers[style.fontPath] = renderer
        guard let drawn = ScaleBarScene.draw(style, into: &image, pixelSizeNm: ps, renderer: renderer) else { continue }
        drawnCount += 1
        image = image.quantized8()
        image.pixelSize = nil
        let start = DispatchTime.now().uptimeNanoseconds
        let found = finder.find(in: image)
        seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        let name = String(format: "bar_%03d", drawnCount)
        var readLabel = "", readPs = "", errorText = ""
        let key = "\(style.boxed ? "boxed" : "on image"), \(style.brightMarks ? "white" : "black")"
        var tally = byStyle[key] ?? (0, 0)
        tally.1 += 1
        if let bar = found.scaleBar {
            let error = abs(bar.pixelSizeNm - drawn.pixelSizeNm) / drawn.pixelSizeNm
            readLabel = bar.label; readPs = String(format: "%.5f", bar.pixelSizeNm); errorText = String(format: "%.2f", 100 * error)
            if error <= 0.02 { right += 1; tally.0 += 1 } else { wrong += 1 }
        } else {
            none += 1
        }
        byStyle[key] = tally
        let styleText = "\((style.fontPath as NSString).lastPathComponent) \(style.fontSizePx)px \(style.corner.rawValue) \(style.labelPlace.rawValue) \(key)\(style.endTicks ? " ticks" : "")"
        let note = (found.scaleBarNote ?? "").replacingOccurrences(of: ",", with: ";").replacingOccurrences(of: "\n", with: " ")
        truthLines.append("\(name).png,1,\(style.label),\(styleText),\(drawn.barLengthPx),\(String(format: "%.5f", drawn.pixelSizeNm)),\(readLabel),\(readPs),\(errorText),\(note)")
        if let outFolder { try ImageWriter.writePNG8(image, to: (outFolder as NSString).appendingPathComponent(name + ".png")) }
        // The same scene without a bar.
        var plain = synthesize(p, seed: seed &+ UInt64(k) &+ 1_000_000).image.quantized8()
        plain.pixelSize = nil
        let nothing = finder.find(in: plain)
        if nothing.scaleBar != nil { falseReadings += 1 }
        truthLines.append("plain_\(String(format: "%03d", drawnCount)).png,0,,,,,\(nothing.scaleBar?.label ?? ""),\(nothing.scaleBar.map { String(format: "%.5f", $0.pixelSizeNm) } ?? ""),,")
        if let outFolder, nothing.scaleBar != nil {
            try ImageWriter.writePNG8(plain, to: (outFolder as NSString).appendingPathComponent("plain_\(drawnCount).png"))
        }
    }
    seconds.sort()
    print("scale bars: \(drawnCount) images of \(width) x \(height) px with a bar, \(drawnCount) without; fonts: \(fonts.count)")
    print(String(format: "  read within 2 %%: %d of %d (%.1f %%); wrong: %d; none: %d", right, drawnCount,
                 100 * Double(right) / Double(max(drawnCount, 1)), wrong, none))
    for (key, t) in byStyle.sorted(by: { $0.key < $1.key }) {
        print(String(format: "    %-18@ %d of %d", key as NSString, t.0, t.1))
    }
    print("  false readings on images without a bar: \(falseReadings) of \(drawnCount)")
    if !seconds.isEmpty { print(String(format: "  time per image (annotations + OCR): median %.3f s, max %.3f s", seconds[seconds.count / 2], seconds.last!)) }
    if let outFolder {
        try truthLines.joined(separator: "\n").appending("\n").write(toFile: (outFolder as NSString).appendingPathComponent("truth.csv"), atomically: true, encoding: .utf8)
        print("  wrote \(outFolder)/truth.csv")
    }
}
