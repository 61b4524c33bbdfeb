import Foundation
import ImageCore

/// An axis-aligned box of pixels: columns x..<x+width, rows y..<y+height.
public struct PixelBox: Sendable, Equatable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var area: Int { width * height }

    /// The smallest box holding both.
    public func union(_ other: PixelBox) -> PixelBox {
        let x0 = min(x, other.x), y0 = min(y, other.y)
        return PixelBox(x: x0, y: y0, width: max(maxX, other.maxX) - x0, height: max(maxY, other.maxY) - y0)
    }

    /// Grown by `margin` on every side, clipped to a width x height image.
    public func expanded(by margin: Int, width w: Int, height h: Int) -> PixelBox {
        let x0 = max(0, x - margin), y0 = max(0, y - margin)
        return PixelBox(x: x0, y: y0, width: min(w, maxX + margin) - x0, height: min(h, maxY + margin) - y0)
    }

    public func intersects(_ other: PixelBox) -> Bool {
        x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
    }

    public var description: String { "\(width) x \(height) px at (\(x), \(y))" }
}

/// Whether a mark is brighter or darker than what surrounds it.
public enum Polarity: String, Sendable, Codable, CaseIterable {
    case bright
    case dark
}

/// A scale bar found in an image and what its label says.
public struct ScaleBarReading: Sendable, Equatable, Codable {
    /// The bar (its full length, end ticks included).
    public var bar: PixelBox
    public var barLengthPx: Int { bar.width }
    public var polarity: Polarity
    /// The label as read ("50 nm") and the length it gives.
    public var label: String
    public var lengthNm: Double
    /// Where the label is.
    public var labelBox: PixelBox
    /// nm per pixel: `lengthNm / barLengthPx`.
    public var pixelSizeNm: Double { lengthNm / Double(bar.width) }
}

/// Reads one line of text (a scale label) from a crop: black text on white, 0...1 values.
public protocol LabelReader: Sendable {
    /// The text, or nil when nothing could be read.
    func read(_ crop: GrayImage) -> String?
    /// Why the reader cannot work (no engine, no language data), or nil when it can.
    var unavailableReason: String? { get }
}

/// The outcome of a scale-bar search: a reading, or why there is none.
public struct ScaleBarSearch: Sendable, Equatable {
    public var reading: ScaleBarReading?
    /// Bars found whose label was not read (they are still annotations, never soot).
    public var unreadBars: [PixelBox]
    /// Why there is no reading (nil with a reading).
    public var note: String?
}

/// Finds the scale bar burned into a micrograph: a thin, straight, uniform horizontal bar of
/// the image's extreme brightness (white or black, often on a box of the other), with end
/// ticks or without, and beside it a label (`50 nm`, `0.2 µm`, `100nm`) read by OCR. The
/// pixel size is the label's length over the bar's length in pixels.
///
/// A bar needs a label that parses as a length: an image without a bar, or with text that is
/// not a scale label, gives no reading (never a guess).
public struct ScaleBarDetector: Sendable {
    public var reader: any LabelReader

    /// A bar is at least this many pixels long and this many times longer than thick.
    public static let minimumLengthPx = 24
    public static let minimumAspect = 4.0
    /// Pixel sizes a scale label may give, nm/px.
    public static let plausibleRangeNm: ClosedRange<Double> = 0.005...100

    public init(reader: any LabelReader) {
        self.reader = reader
    }

    /// The marks of one polarity: pixels within 6 % of the image's extreme value, when that
    /// extreme is an extreme (a bright mark above 0.6, a dark one below 0.4).
    static func extremeMask(_ image: GrayImage, polarity: Polarity) -> BinaryMask? {
        var lo = Float.infinity, hi = -Float.infinity
        for v in image.pixels { lo = min(lo, v); hi = max(hi, v) }
        switch polarity {
        case .bright:
            guard hi >= 0.6, hi - lo > 0.2 else { return nil }
            let t = hi - 0.06
            return BinaryMask(width: image.width, height: image.height) { image[$0, $1] >= t }
        case .dark:
            guard lo <= 0.4, hi - lo > 0.2 else { return nil }
            let t = lo + 0.06
            return BinaryMask(width: image.width, height: image.height) { image[$0, $1] <= t }
        }
    }

    /// Bars among the components of `marks`: each bar's box (ticks included) and thickness.
    static func bars(in marks: BinaryMask, labels: LabelImage, regions: [RegionProperties]) -> [(box: PixelBox, thickness: Int, label: Int32)] {
        var out: [(PixelBox, Int, Int32)] = []
        let w = marks.width
        for region in regions {
            let width = region.maxColumn - region.minColumn + 1
            let height = region.maxRow - region.minRow + 1
            // The bar's body must be thin (checked below); with end ticks the whole box may be squarer.
            guard width >= minimumLengthPx, width <= marks.width * 9 / 10, width >= 2 * height,
                  region.areaPixels >= width else { continue }
            let id = Int32(region.label)
            // Rows fully covered (97 %) form one contiguous band: the bar's body.
            var fullRows: [Int] = []
            var counts = [Int](repeating: 0, count: height)
            for r in region.minRow...region.maxRow {
                var n = 0
                for c in region.minColumn...region.maxColumn where labels.labels[r * w + c] == id { n += 1 }
                counts[r - region.minRow] = n
                if Double(n) >= 0.97 * Double(width) { fullRows.append(r) }
            }
            guard let first = fullRows.first, let last = fullRows.last, last - first + 1 == fullRows.count else { continue }
            let thickness = fullRows.count
            guard Double(width) >= minimumAspect * Double(thickness) else { continue }
            // Everything else is end ticks: within 8 % of the length (at least 3 px) of either end.
            let endZone = max(3, width * 8 / 100)
            var stray = 0
            for r in region.minRow...region.maxRow where r < first || r > last {
                for c in region.minColumn...region.maxColumn where labels.labels[r * w + c] == id {
                    let fromStart = c - region.minColumn, fromEnd = region.maxColumn - c
                    if fromStart >= endZone && fromEnd >= endZone { stray += 1 }
                }
            }
            guard stray <= max(2, width / 50) else { continue }
            // The whole mark (ticks included); its length is the width, its thickness the body's rows.
            let box = PixelBox(x: region.minColumn, y: region.minRow, width: width, height: height)
            out.append((box, thickness, id))
        }
        return out
    }

    /// The marks of one polarity (`extremeMask`), labelled (4-connected) once and shared by
    /// the bar, box and text-box searches.
    public struct ExtremeMarks: Sendable {
        public let mask: BinaryMask
        public let labels: LabelImage
        public let regions: [RegionProperties]
    }

    /// The image's bright and dark extreme marks, where the image has such extremes.
    public static func extremeMarks(_ image: GrayImage) -> [Polarity: ExtremeMarks] {
        var out: [Polarity: ExtremeMarks] = [:]
        for polarity in Polarity.allCases {
            guard let mask = extremeMask(image, polarity: polarity) else { continue }
            let labels = label(mask, connectivity: .four)
            out[polarity] = ExtremeMarks(mask: mask, labels: labels, regions: regionProperties(of: labels))
        }
        return out
    }

    /// Searches `image` (values 0...1) for a scale bar and reads its label.
    public func search(_ image: GrayImage) -> ScaleBarSearch {
        search(image, marks: Self.extremeMarks(image))
    }

    /// `search` with the image's extreme marks already labelled.
    public func search(_ image: GrayImage, marks all: [Polarity: ExtremeMarks]) -> ScaleBarSearch {
        var unread: [PixelBox] = []
        var notes: [String] = []
        var best: ScaleBarReading?
        for polarity in Polarity.allCases {
            guard let marks = all[polarity] else { continue }
            let bars = Self.bars(in: marks.mask, labels: marks.labels, regions: marks.regions)
            guard !bars.isEmpty else { continue }
            // Boxes of the other extreme, which labelled bars are often drawn on.
            let opposite = all[polarity == .bright ? .dark : .bright]
            for bar in bars.sorted(by: { $0.box.width > $1.box.width }) {
                let box = opposite.flatMap { Self.box(around: bar.box, labels: $0.labels, regions: $0.regions, image: image) }
                let boxed = box.flatMap { readBoxedLabel(of: bar.box, in: $0, polarity: polarity, image: image) }
                if let reading = boxed {
                    if best == nil || reading.bar.width > best!.bar.width { best = reading }
                    continue
                }
                switch readLabel(of: bar.box, thickness: bar.thickness, polarity: polarity, image: image) {
                case let .success(reading):
                    if best == nil || reading.bar.width > best!.bar.width { best = reading }
                case let .failure(why):
                    unread.append(bar.box)
                    notes.append("a \(polarity.rawValue) bar of \(bar.box.width) px at (\(bar.box.x), \(bar.box.y)): \(why)")
                }
            }
        }
        if let best {
            return ScaleBarSearch(reading: best, unreadBars: unread.filter { !$0.intersects(best.bar) }, note: nil)
        }
        if notes.isEmpty { return ScaleBarSearch(reading: nil, unreadBars: [], note: "no scale bar found") }
        return ScaleBarSearch(reading: nil, unreadBars: unread, note: notes.prefix(3).joined(separator: "; "))
    }

    struct LabelFailure: Error { let why: String }

    /// The filled box of the other extreme that holds the bar: the component touching the
    /// bar's middle from above or below whose bounding box contains the bar, at most a quarter
    /// of the image.
    static func box(around bar: PixelBox, labels: LabelImage, regions: [RegionProperties], image: GrayImage) -> PixelBox? {
        let cx = bar.x + bar.width / 2
        for r in [bar.y - 2, bar.maxY + 1, bar.y - 1, bar.maxY] where r >= 0 && r < image.height {
            let id = labels.labels[r * image.width + cx]
            guard id > 0 else { continue }
            let g = regions[Int(id) - 1]
            let b = PixelBox(x: g.minColumn, y: g.minRow, width: g.maxColumn - g.minColumn + 1, height: g.maxRow - g.minRow + 1)
            guard b.x <= bar.x, b.maxX >= bar.maxX, b.y <= bar.y, b.maxY >= bar.maxY, b.area <= image.width * image.height / 4,
                  g.areaPixels * 2 >= b.area else { continue }
            return b
        }
        return nil
    }

    /// The label inside the bar's box: the box's marks (beyond the midpoint between the box's
    /// level and the marks' extreme) other than the bar, as one line; nil when they are not
    /// one line or do not read as a length (the zone search then tries).
    func readBoxedLabel(of bar: PixelBox, in box: PixelBox, polarity: Polarity, image: GrayImage) -> ScaleBarReading? {
        guard reader.unavailableReason == nil else { return nil }
        let inner = PixelBox(x: box.x + 1, y: box.y + 1, width: max(box.width - 2, 1), height: max(box.height - 2, 1))
        var values: [Float] = []
        for r in inner.y..<inner.maxY { for c in inner.x..<inner.maxX { values.append(image[r, c]) } }
        let sorted = values.sorted()
        let level = sorted[sorted.count / 2], extreme = polarity == .bright ? sorted.last! : sorted.first!
        guard abs(extreme - level) > 0.2 else { return nil }
        let t = (extreme + level) / 2
        let keepOut = bar.expanded(by: 2, width: image.width, height: image.height)
        var x0 = Int.max, y0 = Int.max, x1 = Int.min, y1 = Int.min
        var rows = [Int](repeating: 0, count: inner.height)
        for r in inner.y..<inner.maxY {
            for c in inner.x..<inner.maxX {
                let v = image[r, c]
                guard polarity == .bright ? v >= t : v <= t else { continue }
                if c >= keepOut.x && c < keepOut.maxX && r >= keepOut.y && r < keepOut.maxY { continue }
                x0 = min(x0, c); x1 = max(x1, c); y0 = min(y0, r); y1 = max(y1, r)
                rows[r - inner.y] += 1
            }
        }
        guard x0 <= x1, y0 <= y1 else { return nil }
        // One line: the marked rows form one run (a gap of empty rows means two lines).
        let marked = rows.enumerated().filter { $0.element > 0 }.map(\.offset)
        guard let first = marked.first, let last = marked.last, last - first + 1 - marked.count <= 1 else { return nil }
        let line = PixelBox(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
        guard line.height >= 5, case let .success(length) = readText(image, box: line, polarity: polarity, barLengthPx: bar.width) else { return nil }
        let reading = ScaleBarReading(bar: bar, polarity: polarity, label: length.label, lengthNm: length.nm, labelBox: line)
        return Self.plausibleRangeNm.contains(reading.pixelSizeNm) ? reading : nil
    }

    /// Finds the text beside a bar (below, above, right, left: the places labels go), groups
    /// it into one line, reads it and parses a length.
    func readLabel(of bar: PixelBox, thickness: Int, polarity: Polarity, image: GrayImage) -> Result<ScaleBarReading, LabelFailure> {
        if let why = reader.unavailableReason { return .failure(LabelFailure(why: why)) }
        let L = bar.width
        let reach = max(4 * thickness, L / 2, 24)
        let cx = bar.x + bar.width / 2, cy = bar.y + bar.height / 2
        let zones = [
            PixelBox(x: bar.x - L / 2, y: bar.maxY, width: 2 * L, height: reach),               // below
            PixelBox(x: bar.x - L / 2, y: bar.y - reach, width: 2 * L, height: reach),          // above
            PixelBox(x: bar.maxX, y: cy - reach / 2, width: L + reach, height: reach),          // right
            PixelBox(x: bar.x - L - reach, y: cy - reach / 2, width: L + reach, height: reach), // left
        ].map { $0.expanded(by: 0, width: image.width, height: image.height) }.filter { $0.width > 4 && $0.height > 4 }
        var tried: [String] = []
        for zone in zones {
            guard let line = Self.textLine(in: zone, near: (cx, cy), avoiding: bar, polarity: polarity, image: image, maxHeight: reach) else {
                continue
            }
            switch readText(image, box: line, polarity: polarity, barLengthPx: bar.width) {
            case let .failure(why): tried.append(why.why)
            case let .success(length):
                let reading = ScaleBarReading(bar: bar, polarity: polarity, label: length.label, lengthNm: length.nm, labelBox: line)
                guard Self.plausibleRangeNm.contains(reading.pixelSizeNm) else {
                    tried.append("'\(length.label)' gives \(reading.pixelSizeNm) nm/px"); continue
                }
                return .success(reading)
            }
        }
        return .failure(LabelFailure(why: tried.isEmpty ? "no label beside it" : "label not read (\(tried.joined(separator: ", ")))"))
    }

    /// The line of text in `zone`: the marks of `polarity` beyond the midpoint between the
    /// zone's extreme and its median (the box's or the image's own level), grouped from the
    /// glyph nearest the bar along one line; small pieces (anti-aliased strokes, the decimal
    /// point) join the line they touch.
    static func textLine(in zone: PixelBox, near centre: (Int, Int), avoiding bar: PixelBox, polarity: Polarity,
                         image: GrayImage, maxHeight: Int) -> PixelBox? {
        var values: [Float] = []
        values.reserveCapacity(zone.area)
        for r in zone.y..<zone.maxY { for c in zone.x..<zone.maxX { values.append(image[r, c]) } }
        let sorted = values.sorted()
        let median = sorted[sorted.count / 2]
        let extreme = polarity == .bright ? sorted.last! : sorted.first!
        guard abs(extreme - median) > 0.2 else { return nil }
        let t = (extreme + median) / 2
        var marks = BinaryMask(width: zone.width, height: zone.height)
        for i in 0..<values.count where polarity == .bright ? values[i] >= t : values[i] <= t { marks.bits[i] = 1 }
        let regions = regionProperties(of: label(marks, connectivity: .eight)).map { r in
            PixelBox(x: zone.x + r.minColumn, y: zone.y + r.minRow, width: r.maxColumn - r.minColumn + 1, height: r.maxRow - r.minRow + 1)
        }.filter { !$0.intersects(bar) }
        let glyphs = regions.filter { $0.height >= 5 && $0.height <= max(maxHeight, 8) && $0.width <= bar.width && $0.area >= 6 }
        guard let seed = glyphs.min(by: { a, b in
            hypot(Double(a.x + a.width / 2 - centre.0), Double(a.y + a.height / 2 - centre.1))
                < hypot(Double(b.x + b.width / 2 - centre.0), Double(b.y + b.height / 2 - centre.1))
        }) else { return nil }
        var line = seed
        var members = 1
        var grew = true
        var used = Set<Int>()
        while grew {
            grew = false
            for (k, g) in regions.enumerated() where !used.contains(k) && g != seed {
                let overlap = min(g.maxY, line.maxY) - max(g.y, line.y)
                let gap = max(g.x - line.maxX, line.x - g.maxX)
                let isGlyph = g.height >= 5 && g.height <= max(maxHeight, 8) && g.width <= bar.width
                // Glyphs on the same line within 1.5 line heights; pieces inside the line's band.
                let joins = isGlyph
                    ? overlap >= min(g.height, line.height) / 2 && gap <= max(line.height * 3 / 2, 6)
                    : g.y >= line.y - line.height / 3 && g.maxY <= line.maxY + line.height / 3 && gap <= max(line.height / 2, 3)
                if joins {
                    line = line.union(g)
                    used.insert(k)
                    if isGlyph { members += 1 }
                    grew = true
                }
            }
        }
        return members >= 2 ? line : nil
    }

    /// OCR of the line at three scales (text 28, 40 and 56 px high); a length is accepted
    /// when at least two of the three readings parse to it. A misread digit rarely repeats
    /// across scales, so a wrong label is outvoted or refused rather than used.
    func readText(_ image: GrayImage, box: PixelBox, polarity: Polarity, barLengthPx: Int) -> Result<(label: String, nm: Double), LabelFailure> {
        var parsed: [(label: String, nm: Double)] = []
        var texts: [String] = []
        for height in [28.0, 40.0, 56.0] {
            let crop = Self.ocrCrop(image, box: box, polarity: polarity, textHeightPx: height)
            guard let text = reader.read(crop) else { continue }
            texts.append(text)
            if let length = Self.parseLength(text, barLengthPx: barLengthPx) { parsed.append(length) }
        }
        // A strict majority of the three readings.
        let distinct = Set(parsed.map(\.nm))
        if let winner = distinct.first(where: { nm in parsed.filter { $0.nm == nm }.count >= 2 }) {
            return .success(parsed.first { $0.nm == winner }!)
        }
        let shown = texts.map { "'\($0)'" }.joined(separator: " / ")
        if distinct.count > 1 { return .failure(LabelFailure(why: "readings disagree: \(shown)")) }
        return .failure(LabelFailure(why: texts.isEmpty ? "no text read" : "\(shown) not read as one length"))
    }

    /// The label's box as dark text on white, scaled so that the text is `textHeightPx` high,
    /// with a white border (what OCR engines read best).
    static func ocrCrop(_ image: GrayImage, box: PixelBox, polarity: Polarity, textHeightPx: Double = 40) -> GrayImage {
        let margin = max(2, box.height / 4)
        let b = box.expanded(by: margin, width: image.width, height: image.height)
        var values: [Float] = []
        values.reserveCapacity(b.area)
        for r in b.y..<b.maxY { for c in b.x..<b.maxX { values.append(image[r, c]) } }
        // Stretch: text to 0, surround to 1.
        let sorted = values.sorted()
        let lo = sorted[sorted.count / 50], hi = sorted[sorted.count - 1 - sorted.count / 50]
        let span = max(hi - lo, 1e-3)
        let stretched = values.map { v -> Float in
            let t = min(max((v - lo) / span, 0), 1)
            return polarity == .bright ? 1 - t : t
        }
        let scale = textHeightPx / Double(box.height)
        let ow = Int((Double(b.width) * scale).rounded()), oh = Int((Double(b.height) * scale).rounded())
        let border = 16
        var out = GrayImage(width: ow + 2 * border, height: oh + 2 * border, value: 1)
        for r in 0..<oh {
            let sy = min(Double(b.height - 1), max(0, (Double(r) + 0.5) / scale - 0.5))
            let y0 = Int(sy), y1 = min(y0 + 1, b.height - 1), fy = Float(sy - Double(y0))
            for c in 0..<ow {
                let sx = min(Double(b.width - 1), max(0, (Double(c) + 0.5) / scale - 0.5))
                let x0 = Int(sx), x1 = min(x0 + 1, b.width - 1), fx = Float(sx - Double(x0))
                let top = stretched[y0 * b.width + x0] * (1 - fx) + stretched[y0 * b.width + x1] * fx
                let bottom = stretched[y1 * b.width + x0] * (1 - fx) + stretched[y1 * b.width + x1] * fx
                out[border + r, border + c] = top * (1 - fy) + bottom * fy
            }
        }
        return out
    }

    /// Parses a scale label: a number (`.` or `,` decimal) and a length unit (nm, µm/um/μm,
    /// Å, pm, mm), spaces optional. Common OCR confusions in the unit are accepted
    /// (`pm` read for `µm` is not: picometres are a real unit, so only `µ`, `u`, `μ` count).
    /// - Returns: the normalised label and its length in nm; nil for anything else.
    public static func parseLength(_ raw: String, barLengthPx: Int? = nil) -> (label: String, nm: Double)? {
        // Stray punctuation after the unit (a box edge or tick read as "." or ",") is dropped;
        // before the number it is kept (".5 nm" may be a misread "0.5 nm").
        var s = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        while let last = s.last, last == "." || last == "," || last == " " { s.removeLast() }
        s = s.replacingOccurrences(of: ",", with: ".")
        s = s.replacingOccurrences(of: " ", with: "")
        let units: [(String, Double, String)] = [
            ("nm", 1, "nm"), ("µm", 1000, "µm"), ("μm", 1000, "µm"), ("um", 1000, "µm"),
            ("Å", 0.1, "Å"), ("mm", 1e6, "mm"), ("pm", 1e-3, "pm"),
        ]
        for (suffix, factor, name) in units where s.hasSuffix(suffix) {
            let number = String(s.dropLast(suffix.count))
            guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }),
                  number.filter({ $0 == "." }).count <= 1, !number.hasPrefix("."), !number.hasSuffix("."),
                  let value = Double(number), value > 0 else { return nil }
            // Leading zeros only before a decimal point ("0.2", not "050").
            if number.hasPrefix("0") && !number.hasPrefix("0.") { return nil }
            return ("\(number) \(name)", value * factor)
        }
        // A bare "m": OCR dropped the "n" of nm or the "µ" of µm (metres never label a TEM
        // scale bar). The two differ 1,000-fold; with the bar's length only one gives a pixel
        // size in PixelSize's typical range (0.01-20 nm/px), and that one is taken.
        if let bar = barLengthPx, bar > 0, s.hasSuffix("m"), !s.hasSuffix("mm"),
           let asNm = parseLength(String(s.dropLast()) + "nm"), let asMicro = parseLength(String(s.dropLast()) + "µm") {
            let typical = 0.01...20.0
            let nmFits = typical.contains(asNm.nm / Double(bar)), microFits = typical.contains(asMicro.nm / Double(bar))
            if nmFits != microFits { return nmFits ? asNm : asMicro }
        }
        return nil
    }
}
