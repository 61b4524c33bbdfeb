import Annotations
import Foundation
import ImageCore

/// What an image file holds (`sootctl info`): size, depth, channels, value range, pixel size
/// and where it came from (or why none was found), footer; for masks the foreground share.
public struct FileDescription: Encodable, Sendable {
    public var file: String
    public var format: String
    public var compression: String
    public var width: Int
    public var height: Int
    public var bitDepth: Int
    public var colorModel: String
    public var channels: Int
    public var pages: Int
    /// Stored sample type (uint8, int16, float32, ...).
    public var sampleType: String
    /// Minimum, maximum and mean of the kept channel in stored units.
    public var minimumValue: Double
    public var maximumValue: Double
    public var meanValue: Double
    /// How stored values map to the 0...1 the methods see.
    public var intensityMapping: String
    public var foregroundFraction: Double?
    public var pixelSizeNm: Double?
    public var pixelSizeSource: String?
    public var pixelSizeNote: String?
    public var footer: String
    public var footerStartRow: Int?
    /// The scale bar read from the image (used as the pixel size when the file has none).
    public var scaleBar: ScaleBarRecord?
    /// Why no scale bar was read.
    public var scaleBarNote: String?
    /// Pixels that are not specimen (scale bar, text boxes, saturated regions).
    public var excludedPx: Int?
    /// The calibration token read from the footer's text (`0.421 nm/pix`).
    public var footerToken: String?

    /// Reads the file and describes it.
    public init(path: String) throws {
        let decoded = try ImageReader.read(path)
        let info = decoded.info
        file = path
        format = info.format.rawValue
        compression = info.compression
        width = info.width
        height = info.height
        bitDepth = info.bitDepth
        colorModel = info.colorModel.rawValue
        channels = info.colorModel.channelCount
        pages = info.pageCount
        sampleType = info.sampleType
        minimumValue = info.storedRange?.minimum ?? .nan
        maximumValue = info.storedRange?.maximum ?? .nan
        meanValue = info.storedRange?.mean ?? .nan
        intensityMapping = info.intensityMapping.description
        pixelSizeNm = info.pixelSize?.nanometersPerPixel
        pixelSizeSource = info.pixelSize?.source.rawValue
        pixelSizeNote = info.pixelSizeNote
        let twoLevel = decoded.image.pixels.allSatisfy { $0 == 0 || $0 == 1 }
        if info.colorModel == .bilevel || twoLevel {
            // A mask: report its foreground share; the footer rules are meant for micrographs.
            foregroundFraction = BinaryMask(decoded.image, above: 0).trueFraction
            footer = "not applicable (binary mask)"
        } else {
            let detected = detectInstrumentFooter(decoded.image, metadataStartRow: info.metadataFooterStartRow)
            let annotations = AnnotationFinder.shared.find(in: decoded.image, pixelSizeNm: info.pixelSize?.nanometersPerPixel)
            if let reading = annotations.scaleBar {
                scaleBar = ScaleBarRecord(reading)
                if pixelSizeNm == nil {
                    pixelSizeNm = reading.pixelSizeNm
                    pixelSizeSource = PixelSizeSource.scaleBar.rawValue
                }
            } else {
                scaleBarNote = annotations.scaleBarNote
            }
            excludedPx = annotations.excludedCount
            if pixelSizeNm == nil && pixelSizeNote == nil {
                pixelSizeNote = "the file holds no calibration and no scale bar was read"
                    + (annotations.scaleBarNote.map { $0 == "no scale bar found" ? "" : " (\($0))" } ?? "")
            }
            if pixelSizeNm == nil, let found = detected.footer,
               let printed = FooterText.calibration(in: decoded.image, footerStartRow: found.startRow) {
                pixelSizeNm = printed.pixelSizeNm
                pixelSizeSource = PixelSizeSource.footerText.rawValue
                footerToken = printed.token
                scaleBar = nil
            }
            if let found = detected.footer {
                footer = found.kind == .databar ? "databar from row \(found.startRow) (file metadata)"
                    : "\(found.kind.rawValue) bar from row \(found.startRow)"
                footerStartRow = found.startRow
            } else {
                footer = detected.ignored.map { "none (\($0))" } ?? "none"
            }
        }
    }

    /// One line of text: `FILE: 640 x 480, 8-bit gray, ...`.
    public func textLine() -> String {
        var parts = ["\(width) x \(height)", "\(bitDepth)-bit \(colorModel)",
                     "\(channels) channel\(channels == 1 ? "" : "s")",
                     "\(format) (\(compression))" + (pages > 1 ? ", \(pages) pages (first read)" : ""),
                     "\(sampleType) values \(Self.number(minimumValue)) to \(Self.number(maximumValue))"
                        + (intensityMapping.hasPrefix("(") ? " (stretched to 0-1)" : "")]
        if let foregroundFraction {
            parts.append(String(format: "foreground %.2f %%", foregroundFraction * 100))
        }
        if let pixelSizeNm, let pixelSizeSource {
            var text = "pixel size \(Self.number(pixelSizeNm)) nm/px (\(pixelSizeSource))"
            if let token = footerToken { text += " from the footer's '\(token)'" }
            if let bar = scaleBar {
                text += pixelSizeSource == PixelSizeSource.scaleBar.rawValue
                    ? " from a bar of \(bar.barLengthPx) px labelled '\(bar.label)'"
                    : String(format: ", scale bar '%@' over %d px gives %.4g nm/px", bar.label, bar.barLengthPx, bar.pixelSizeNm)
            }
            parts.append(text)
        } else {
            parts.append("pixel size unknown" + (pixelSizeNote.map { " (\($0))" } ?? ""))
        }
        if scaleBar == nil, let note = scaleBarNote, note != "no scale bar found" { parts.append("scale bar: \(note)") }
        if let excludedPx, excludedPx > 0 { parts.append("\(excludedPx) px not soot (excluded)") }
        parts.append("footer: \(footer)")
        return "\(file): " + parts.joined(separator: ", ")
    }

    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "?" }
        return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.8g", v)
    }

    /// One JSON object on one line.
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
