/// Where a pixel size came from, so reports can say how much to trust it.
public enum PixelSizeSource: String, Sendable, Codable, CaseIterable {
    /// Given explicitly by the user (command-line flag or API argument).
    case user
    /// A `pixel_size_nm` text chunk in a PNG (written by sootctl and readable by any PNG tool).
    case pngText = "png-text"
    /// TIFF `XResolution`/`YResolution` with a metric or inch `ResolutionUnit`.
    case tiffResolution = "tiff-resolution"
    /// Read from a sidecar file next to the image.
    case sidecar
    /// A per-image table (`--pixel-sizes CSV`, `stem,pixel_size_nm`).
    case table = "pixel-size-table"
    /// A Gatan DM3/DM4 file's calibration tags (`ImageData/Calibrations/Dimension`).
    case dmCalibration = "dm-calibration"
    /// FEI / Thermo Fisher metadata (`[Scan] PixelWidth`).
    case fei = "fei-metadata"
    /// Zeiss SmartSEM metadata (`Image Pixel Size`).
    case zeiss = "zeiss-metadata"
    /// A TVIPS camera's header (`PixelSizeX`) or its resolution tags.
    case tvips = "tvips-metadata"
    /// JEOL SightX metadata: magnification with the resolution tags.
    case jeol = "jeol-metadata"
    /// The private tags DigitalMicrograph writes into an exported TIFF.
    case gatanTIFF = "gatan-tiff"
    /// ImageJ's `unit=` with XResolution.
    case imageJ = "imagej"
    /// OME-XML `PhysicalSizeX`.
    case ome = "ome-xml"
    /// A scale bar burned into the image, measured and its label read.
    case scaleBar = "scale-bar"
    /// The calibration printed in the instrument's footer (`Cal: 0.421 nm/pix`), read by OCR.
    case footerText = "footer-text"
}

/// The physical size of one (square) pixel.
///
/// sootctl never assumes a pixel size: anything that reports nanometres requires one and
/// throws when it is missing (atems silently uses 1 nm/px; METHODS.md section 1.1).
public struct PixelSize: Sendable, Equatable, Codable {
    /// Nanometres per pixel, > 0 and finite.
    public let nanometersPerPixel: Double
    /// Where the value came from.
    public let source: PixelSizeSource

    /// Plausible TEM pixel sizes, nm/px. Resolution tags outside this range are the
    /// screen defaults of image editors (72 dpi = 352,778 nm/px), not a calibration.
    public static let plausibleRangeNm: ClosedRange<Double> = 1e-3...1e3

    /// True when the value comes from the file or image itself (not the user or a table).
    public var isFromFile: Bool { source != .user && source != .table }

    /// Creates a pixel size; returns nil for zero, negative, NaN or infinite values.
    public init?(nanometersPerPixel: Double, source: PixelSizeSource) {
        guard nanometersPerPixel.isFinite, nanometersPerPixel > 0 else { return nil }
        self.nanometersPerPixel = nanometersPerPixel
        self.source = source
    }
}

extension PixelSize {
    /// Reads a table of pixel sizes for files that carry none: one `stem,pixel_size_nm` line per
    /// image, a header line allowed, blank lines ignored. Values must lie in `plausibleRangeNm`.
    /// - Returns: nm per pixel by file stem.
    /// - Throws: `ImageCoreError.cannotOpen` for a missing or unreadable file,
    ///   `ImageCoreError.decodeFailed` naming the line of a bad entry.
    public static func readTable(_ path: String) throws -> [String: Double] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ImageCoreError.cannotOpen(path: path, reason: "no readable pixel-size table")
        }
        var out: [String: Double] = [:]
        for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if fields.allSatisfy(\.isEmpty) { continue }
            guard fields.count >= 2, let v = Double(fields[1]), v.isFinite, plausibleRangeNm.contains(v) else {
                if n == 0 { continue }  // header
                throw ImageCoreError.decodeFailed(
                    path: path, detail: "line \(n + 1): expected stem,pixel_size_nm with 0.001-1000 nm/px, got '\(line)'")
            }
            out[fields[0]] = v
        }
        return out
    }
}

/// Where an image's pixel size comes from, in the one precedence every sootctl command uses:
/// the command line (`commandLineNm`), then the per-image table (`table`, by stem), then the
/// file's own metadata. Nothing else: sootctl never assumes 1 nm/px.
public struct PixelSizeRule: Sendable, Equatable {
    /// `--pixel-size`: wins for every image.
    public var commandLineNm: Double?
    /// `--pixel-sizes CSV`: nm/px by file stem.
    public var table: [String: Double]

    public init(commandLineNm: Double? = nil, table: [String: Double] = [:]) {
        self.commandLineNm = commandLineNm
        self.table = table
    }

    /// Reads the table from `tablePath` when one is given.
    public init(commandLineNm: Double?, tablePath: String?) throws {
        self.init(commandLineNm: commandLineNm, table: try tablePath.map { try PixelSize.readTable($0) } ?? [:])
    }

    /// The pixel size in nm/px that the rule gives (`resolve`), as a number.
    public func nanometersPerPixel(stem: String, metadata: PixelSize?) -> Double? {
        resolve(stem: stem, metadata: metadata)?.nanometersPerPixel
    }

    /// The pixel size of the image with this stem whose file metadata says `metadata`.
    public func resolve(stem: String, metadata: PixelSize?) -> PixelSize? {
        if let v = commandLineNm { return PixelSize(nanometersPerPixel: v, source: .user) }
        if let v = table[stem] { return PixelSize(nanometersPerPixel: v, source: .table) }
        return metadata
    }

    /// Pixel sizes sootctl accepts without a warning, nm/px. Values outside are still used
    /// (within `PixelSize.plausibleRangeNm`) but are most often a unit slip.
    public static let typicalRangeNm: ClosedRange<Double> = 0.01...20

    /// A warning for a pixel size outside `typicalRangeNm`, naming the likely unit slip; nil inside.
    public static func unitWarning(_ nm: Double) -> String? {
        if typicalRangeNm.contains(nm) { return nil }
        if nm < typicalRangeNm.lowerBound {
            return String(format: "pixel size %g nm/px is below %g nm/px: was it given in µm per pixel? "
                + "(%g µm/px = %g nm/px)", nm, typicalRangeNm.lowerBound, nm, nm * 1000)
        }
        return String(format: "pixel size %g nm/px is above %g nm/px: was it given in ångström (%g nm/px) "
            + "or picometres (%g nm/px) per pixel, or as pixels per µm?", nm, typicalRangeNm.upperBound, nm / 10, nm / 1000)
    }
}
