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
    public var minimumValue: Double
    public var maximumValue: Double
    public var foregroundFraction: Double?
    public var pixelSizeNm: Double?
    public var pixelSizeSource: String?
    public var pixelSizeNote: String?
    public var footer: String
    public var footerStartRow: Int?

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
        let range = decoded.image.valueRange
        let scale = Double(info.maximumSampleValue)
        minimumValue = (Double(range.lowerBound) * scale).rounded()
        maximumValue = (Double(range.upperBound) * scale).rounded()
        pixelSizeNm = info.pixelSize?.nanometersPerPixel
        pixelSizeSource = info.pixelSize?.source.rawValue
        pixelSizeNote = info.pixelSizeNote
        let twoLevel = decoded.image.pixels.allSatisfy { $0 == 0 || $0 == 1 }
        if info.colorModel == .bilevel || twoLevel {
            // A mask: report its foreground share; the footer rules are meant for micrographs.
            foregroundFraction = BinaryMask(decoded.image, above: 0).trueFraction
            footer = "not applicable (binary mask)"
        } else {
            let detected = detectInstrumentFooter(decoded.image)
            if let found = detected.footer {
                footer = "\(found.kind.rawValue) bar from row \(found.startRow)"
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
                     "values \(Int(minimumValue))-\(Int(maximumValue))"]
        if let foregroundFraction {
            parts.append(String(format: "foreground %.2f %%", foregroundFraction * 100))
        }
        if let pixelSizeNm, let pixelSizeSource {
            parts.append("pixel size \(pixelSizeNm) nm/px (\(pixelSizeSource))")
        } else {
            parts.append("pixel size unknown" + (pixelSizeNote.map { " (\($0))" } ?? ""))
        }
        parts.append("footer: \(footer)")
        return "\(file): " + parts.joined(separator: ", ")
    }

    /// One JSON object on one line.
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
