import ArgumentParser
import Foundation
import ImageCore

/// `sootctl info IMAGE...`: what each image file holds.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print size, bit depth, channels, value range, pixel size and footer of image files.",
        discussion: """
            Reads PNG and TIFF files. A file that cannot be read is reported on standard error and \
            the others are still printed; the exit code is then 1.
            """)

    @Argument(help: "Image files (PNG or TIFF).", completion: .file())
    var images: [String]

    @Flag(help: "Print one JSON object per file instead of text.")
    var json = false

    func run() throws {
        var failures = 0
        for path in images {
            do {
                let summary = try ImageSummary(path: path)
                print(json ? summary.jsonLine() : summary.textLine())
            } catch {
                failures += 1
                printError(error, path: path)
            }
        }
        if failures > 0 {
            printError("\(failures) of \(images.count) file(s) could not be read")
            throw ExitCode.failure
        }
    }
}

/// The facts `info` prints for one file.
struct ImageSummary: Encodable {
    var file: String
    var format: String
    var compression: String
    var width: Int
    var height: Int
    var bitDepth: Int
    var colorModel: String
    var channels: Int
    var pages: Int
    var minimumValue: Double
    var maximumValue: Double
    var foregroundFraction: Double?
    var pixelSizeNm: Double?
    var pixelSizeSource: String?
    var pixelSizeNote: String?
    var footer: String
    var footerStartRow: Int?

    init(path: String) throws {
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
        } else if let found = detectFooter(decoded.image) {
            footer = "\(found.kind.rawValue) bar from row \(found.startRow)"
            footerStartRow = found.startRow
        } else {
            footer = "none"
        }
    }

    func textLine() -> String {
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

    func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
