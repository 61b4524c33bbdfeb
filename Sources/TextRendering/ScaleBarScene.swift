import Foundation
import ImageCore
import Randomness

/// A scale bar to burn into an image, as microscope and analysis software draw them.
public struct ScaleBarStyle: Sendable, Equatable, Codable {
    public enum Corner: String, Sendable, Codable, CaseIterable {
        case bottomLeft, bottomRight, topLeft, topRight, bottomCentre
    }
    public enum LabelPlace: String, Sendable, Codable, CaseIterable {
        case below, above, right
    }
    /// The label's text, e.g. "50 nm", "0.2 µm", "100nm".
    public var label: String
    /// The length the label stands for, nm.
    public var lengthNm: Double
    public var fontPath: String
    /// Em size of the label's font, px.
    public var fontSizePx: Int
    public var thicknessPx: Int
    public var corner: Corner
    public var labelPlace: LabelPlace
    /// White bar and text (on a black box, when boxed), or black on white.
    public var brightMarks: Bool
    /// Drawn on a filled box of the opposite brightness.
    public var boxed: Bool
    /// End ticks rising above the bar.
    public var endTicks: Bool

    public init(label: String, lengthNm: Double, fontPath: String, fontSizePx: Int, thicknessPx: Int, corner: Corner,
                labelPlace: LabelPlace, brightMarks: Bool, boxed: Bool, endTicks: Bool) {
        self.label = label; self.lengthNm = lengthNm; self.fontPath = fontPath; self.fontSizePx = fontSizePx
        self.thicknessPx = thicknessPx; self.corner = corner; self.labelPlace = labelPlace
        self.brightMarks = brightMarks; self.boxed = boxed; self.endTicks = endTicks
    }
}

/// What was drawn: the bar's exact length and the boxes it and its label cover.
public struct DrawnScaleBar: Sendable, Equatable {
    public var barLengthPx: Int
    /// x, y, width, height of the bar (ticks included) and of everything drawn (box or marks).
    public var bar: (x: Int, y: Int, width: Int, height: Int)
    public var annotation: (x: Int, y: Int, width: Int, height: Int)
    public var pixelSizeNm: Double

    public static func == (a: DrawnScaleBar, b: DrawnScaleBar) -> Bool {
        a.barLengthPx == b.barLengthPx && a.bar == b.bar && a.annotation == b.annotation && a.pixelSizeNm == b.pixelSizeNm
    }
}

public enum ScaleBarScene {
    /// Scale lengths software picks: 1-2-5 steps, nm.
    public static let niceLengthsNm: [Double] = [5, 10, 20, 50, 100, 200, 500, 1000, 2000]

    /// Burns `style` into `image` for a pixel size of `pixelSizeNm`.
    /// - Returns: what was drawn, or nil when the bar does not fit.
    public static func draw(_ style: ScaleBarStyle, into image: inout GrayImage, pixelSizeNm: Double, renderer: TextRenderer) -> DrawnScaleBar? {
        let length = Int((style.lengthNm / pixelSizeNm).rounded())
        guard length >= 8, length < image.width * 3 / 4 else { return nil }
        let text = renderer.render(style.label, sizePx: style.fontSizePx)
        guard text.height > 0 else { return nil }
        let t = style.thicknessPx, gap = max(3, style.fontSizePx / 4), pad = max(6, style.fontSizePx / 2)
        let tick = style.endTicks ? max(2, t) * 2 : 0
        // Layout relative to the bar's top-left corner.
        var contentW: Int, contentH: Int, barDX: Int, barDY: Int, textDX: Int, textDY: Int
        switch style.labelPlace {
        case .below:
            contentW = max(length, text.width); contentH = tick + t + gap + text.height
            barDX = (contentW - length) / 2; barDY = tick; textDX = (contentW - text.width) / 2; textDY = tick + t + gap
        case .above:
            contentW = max(length, text.width); contentH = text.height + gap + tick + t
            barDX = (contentW - length) / 2; barDY = text.height + gap + tick; textDX = (contentW - text.width) / 2; textDY = 0
        case .right:
            contentW = length + gap * 2 + text.width; contentH = max(t + tick, text.height)
            barDX = 0; barDY = (contentH - t) / 2 + tick / 2; textDX = length + gap * 2; textDY = (contentH - text.height) / 2
        }
        let boxW = contentW + 2 * pad, boxH = contentH + 2 * pad
        let edge = max(8, image.width / 64)
        guard boxW + 2 * edge < image.width, boxH + 2 * edge < image.height else { return nil }
        let bx: Int, by: Int
        switch style.corner {
        case .bottomLeft: bx = edge; by = image.height - edge - boxH
        case .bottomRight: bx = image.width - edge - boxW; by = image.height - edge - boxH
        case .topLeft: bx = edge; by = edge
        case .topRight: bx = image.width - edge - boxW; by = edge
        case .bottomCentre: bx = (image.width - boxW) / 2; by = image.height - edge - boxH
        }
        let mark: Float = style.brightMarks ? 1 : 0
        if style.boxed {
            for r in by..<(by + boxH) { for c in bx..<(bx + boxW) { image[r, c] = 1 - mark } }
        }
        let x0 = bx + pad + barDX, y0 = by + pad + barDY
        for r in y0..<(y0 + t) { for c in x0..<(x0 + length) { image[r, c] = mark } }
        if style.endTicks {
            let tw = max(2, t / 2 + 1)
            for r in (y0 - tick)..<(y0 + t) {
                for c in x0..<(x0 + tw) { image[r, c] = mark }
                for c in (x0 + length - tw)..<(x0 + length) { image[r, c] = mark }
            }
        }
        renderer.draw(style.label, sizePx: style.fontSizePx, into: &image, x: bx + pad + textDX, y: by + pad + textDY, value: mark)
        let annotation = style.boxed ? (bx, by, boxW, boxH) : (bx + pad, by + pad, contentW, contentH)
        return DrawnScaleBar(barLengthPx: length, bar: (x0, y0 - tick, length, t + tick), annotation: annotation,
                             pixelSizeNm: style.lengthNm / Double(length))
    }

    /// A label for `lengthNm` in one of the spellings software uses ("50 nm", "50nm",
    /// "0.2 µm", "200 nm", "0,5 µm", "1 um").
    public static func label(lengthNm: Double, spelling: Int) -> String {
        let micro = lengthNm >= 100 && spelling % 3 == 2
        let value = micro ? lengthNm / 1000 : lengthNm
        var number = value == value.rounded() ? String(Int(value)) : String(value)
        if micro && spelling % 5 == 4 { number = number.replacingOccurrences(of: ".", with: ",") }
        let unit = micro ? (spelling % 7 == 6 ? "um" : "µm") : "nm"
        return number + (spelling % 4 == 1 ? "" : " ") + unit
    }

    /// A random style for an image of `width` px at `pixelSizeNm`: a nice length 8-30 % of
    /// the width, fonts, sizes, positions, polarities, boxes and ticks drawn at random.
    public static func randomStyle(width: Int, pixelSizeNm: Double, fonts: [String], rng: inout SplitMix64) -> ScaleBarStyle {
        let lengths = niceLengthsNm.filter { let px = $0 / pixelSizeNm; return px >= 0.08 * Double(width) && px <= 0.3 * Double(width) }
        let length = lengths.isEmpty ? niceLengthsNm[0] : lengths[Int(rng.next() % UInt64(lengths.count))]
        let spelling = Int(rng.next() % 420)
        let font = fonts[Int(rng.next() % UInt64(fonts.count))]
        let size = max(12, Int(Double(width) * (0.012 + 0.02 * Double(rng.next() % 1000) / 1000)))
        return ScaleBarStyle(
            label: label(lengthNm: length, spelling: spelling), lengthNm: length, fontPath: font, fontSizePx: size,
            thicknessPx: max(2, size / (3 + Int(rng.next() % 4))),
            corner: ScaleBarStyle.Corner.allCases[Int(rng.next() % 5)],
            labelPlace: ScaleBarStyle.LabelPlace.allCases[Int(rng.next() % 3)],
            brightMarks: rng.next() % 2 == 0, boxed: rng.next() % 3 != 0, endTicks: rng.next() % 3 == 0)
    }
}
