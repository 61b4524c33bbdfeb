import Foundation
import ImageCore

/// A part of an image that is not specimen: never segmented, shown as excluded in overlays.
public struct AnnotatedRegion: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// A scale bar (read or not) and its label.
        case scaleBar = "scale-bar"
        /// A filled box of the image's extreme brightness (a label or text box, a blanked-out rectangle).
        case textBox = "text-box"
        /// Saturated (clipped) bright pixels: holes in the film, blanked-out areas, and their rim.
        case saturated
    }
    public var kind: Kind
    /// The region's bounding box.
    public var box: PixelBox
    /// Pixels excluded.
    public var areaPx: Int
}

/// What in an image is not soot, and the scale bar's reading.
public struct ImageAnnotations: Sendable {
    /// The scale bar whose label was read, if any.
    public var scaleBar: ScaleBarReading?
    /// Why no scale bar was read (nil with a reading).
    public var scaleBarNote: String?
    public var regions: [AnnotatedRegion]
    /// True where the image is not specimen (the union of `regions`, dilated by their margins).
    public var excluded: BinaryMask

    /// Excluded pixels.
    public var excludedCount: Int { excluded.trueCount }

    public init(scaleBar: ScaleBarReading?, scaleBarNote: String?, regions: [AnnotatedRegion], excluded: BinaryMask) {
        self.scaleBar = scaleBar
        self.scaleBarNote = scaleBarNote
        self.regions = regions
        self.excluded = excluded
    }
}

/// Finds scale bars, text boxes and saturated regions. Sizes are in nm where the pixel size
/// is known and fall back to pixels where it is not (the scale bar is what may give it).
public struct AnnotationFinder: Sendable {
    public var detector: ScaleBarDetector
    /// Saturated regions smaller than this are ignored (single clipped pixels are noise), nm².
    public static let minimumSaturatedAreaNm2 = 20.0 * 20.0
    /// The rim excluded around a saturated region (the film's edge), nm.
    public static let saturatedRimNm = 6.0
    /// Pixels at or above this are saturated (254.5 of 255).
    public static let saturationLevel: Float = 254.5 / 255

    public init(reader: any LabelReader = TesseractReader()) {
        detector = ScaleBarDetector(reader: reader)
    }

    /// - Parameters:
    ///   - image: the image (footer already cropped), values 0...1.
    ///   - pixelSizeNm: the pixel size when known from elsewhere (for nm-defined sizes).
    public func find(in image: GrayImage, pixelSizeNm known: Double? = nil) -> ImageAnnotations {
        var regions: [AnnotatedRegion] = []
        var excluded = BinaryMask(width: image.width, height: image.height, pixelSize: image.pixelSize)
        func exclude(_ box: PixelBox, kind: AnnotatedRegion.Kind, margin: Int) {
            let b = box.expanded(by: margin, width: image.width, height: image.height)
            var n = 0
            for r in b.y..<b.maxY {
                for c in b.x..<b.maxX where excluded.bits[r * image.width + c] == 0 {
                    excluded.bits[r * image.width + c] = 1
                    n += 1
                }
            }
            regions.append(AnnotatedRegion(kind: kind, box: b, areaPx: n))
        }
        // Scale bar and its label, then boxes, from one labelling of the image's extremes.
        let marks = ScaleBarDetector.extremeMarks(image)
        let search = detector.search(image, marks: marks)
        if let reading = search.reading {
            exclude(reading.bar.union(reading.labelBox), kind: .scaleBar, margin: max(3, reading.bar.height))
        }
        for bar in search.unreadBars { exclude(bar, kind: .scaleBar, margin: max(3, bar.height)) }
        // Boxes: filled rectangles of an extreme, with whatever is written in them.
        for box in Self.boxes(in: image, marks: marks) where !regions.contains(where: { $0.box.intersects(box) && $0.box.union(box) == $0.box }) {
            exclude(box, kind: .textBox, margin: 2)
        }
        // Saturated regions and their rim.
        let ps = known ?? search.reading?.pixelSizeNm
        let minimumArea = ps.map { max(64, Int(Self.minimumSaturatedAreaNm2 / ($0 * $0))) } ?? 400
        let rim = ps.map { max(2, Int((Self.saturatedRimNm / $0).rounded())) } ?? 8
        let saturated = BinaryMask(image, above: Self.saturationLevel - 1e-6)
        if saturated.trueCount >= minimumArea {
            let labels = label(saturated, connectivity: .eight)
            let big = regionProperties(of: labels).filter { $0.areaPixels >= minimumArea }
            if !big.isEmpty {
                let keep = Set(big.map { Int32($0.label) })
                var region = BinaryMask(width: image.width, height: image.height)
                for i in 0..<labels.labels.count where keep.contains(labels.labels[i]) { region.bits[i] = 1 }
                let grown = dilate(region, .disk(radius: rim))
                for i in 0..<grown.bits.count where grown.bits[i] != 0 { excluded.bits[i] = 1 }
                for r in big {
                    regions.append(AnnotatedRegion(kind: .saturated, box: PixelBox(x: r.minColumn, y: r.minRow, width: r.maxColumn - r.minColumn + 1,
                                                                                   height: r.maxRow - r.minRow + 1).expanded(by: rim, width: image.width, height: image.height),
                                                   areaPx: r.areaPixels))
                }
            }
        }
        return ImageAnnotations(scaleBar: search.reading, scaleBarNote: search.note, regions: regions, excluded: excluded)
    }

    /// Filled rectangles of the image's brightest or darkest level, at least 16 x 8 px and at
    /// most a quarter of the image: their whole outline belongs to one component (95 %) and
    /// they are mostly filled (what is written in them is the rest).
    static func boxes(in image: GrayImage, marks all: [Polarity: ScaleBarDetector.ExtremeMarks]) -> [PixelBox] {
        var out: [PixelBox] = []
        for polarity in Polarity.allCases {
            guard let marks = all[polarity] else { continue }
            let labels = marks.labels
            for r in marks.regions {
                let w = r.maxColumn - r.minColumn + 1, h = r.maxRow - r.minRow + 1
                guard w >= 16, h >= 8, w * h <= image.width * image.height / 4, r.areaPixels >= w * h / 2 else { continue }
                let id = Int32(r.label)
                var outline = 0, covered = 0
                for c in r.minColumn...r.maxColumn {
                    for row in [r.minRow, r.maxRow] {
                        outline += 1
                        if labels.labels[row * image.width + c] == id { covered += 1 }
                    }
                }
                for row in r.minRow...r.maxRow {
                    for c in [r.minColumn, r.maxColumn] {
                        outline += 1
                        if labels.labels[row * image.width + c] == id { covered += 1 }
                    }
                }
                guard Double(covered) >= 0.95 * Double(outline) else { continue }
                out.append(PixelBox(x: r.minColumn, y: r.minRow, width: w, height: h))
            }
        }
        return out
    }
}

extension AnnotationFinder {
    /// One finder for the process (Tesseract loads its language data once).
    public static let shared = AnnotationFinder()
}

extension ImageAnnotations {
    /// The annotations of rows 0..<rows (the image above a footer).
    public func cropped(toRows rows: Int) -> ImageAnnotations {
        guard rows < excluded.height else { return self }
        var mask = BinaryMask(width: excluded.width, height: rows, pixelSize: excluded.pixelSize)
        for i in 0..<mask.bits.count { mask.bits[i] = excluded.bits[i] }
        let kept = regions.compactMap { r -> AnnotatedRegion? in
            guard r.box.y < rows else { return nil }
            var c = r
            c.box.height = min(r.box.maxY, rows) - r.box.y
            return c
        }
        return ImageAnnotations(scaleBar: scaleBar, scaleBarNote: scaleBarNote, regions: kept, excluded: mask)
    }
}

extension ImageAnnotations {
    /// `image` with its excluded pixels set to the median of the others (the background of a
    /// micrograph), so that no classifier sees the annotations' edges or extremes.
    public func neutralised(_ image: GrayImage) -> GrayImage {
        guard excluded.trueCount > 0 else { return image }
        var histogram = [Int](repeating: 0, count: 4096)
        var n = 0
        for i in 0..<image.pixels.count where excluded.bits[i] == 0 {
            histogram[Int(min(max(image.pixels[i], 0), 1) * 4095)] += 1
            n += 1
        }
        guard n > 0 else { return image }
        var seen = 0, median: Float = 0.5
        for (k, count) in histogram.enumerated() {
            seen += count
            if seen * 2 >= n { median = (Float(k) + 0.5) / 4095; break }
        }
        var out = image
        for i in 0..<out.pixels.count where excluded.bits[i] != 0 { out.pixels[i] = median }
        return out
    }
}
