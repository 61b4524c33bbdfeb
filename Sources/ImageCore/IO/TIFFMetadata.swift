import Foundation

/// The tags of a TIFF file's first directory, read from the file's bytes (classic TIFF and
/// BigTIFF, either byte order), for the metadata libtiff does not interpret: the private tags
/// of microscope software. Every offset and count is checked against the bytes present; a
/// tag that does not fit is left out, never read past the end.
struct TIFFDirectory {
    struct Entry {
        var type: Int
        var count: Int
        /// Where the value's bytes start in the file.
        var offset: Int
    }

    let bytes: [UInt8]
    let little: Bool
    private(set) var entries: [Int: Entry] = [:]

    /// Parses the first directory; nil when the header or directory is unreadable (libtiff
    /// then reports the damage when it decodes).
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 8 else { return nil }
        self.bytes = bytes
        little = bytes[0] == 0x49
        let magic = Self.read(bytes, at: 2, size: 2, little: little)
        let big = magic == 43
        guard magic == 42 || big else { return nil }
        guard let first = big ? Self.read(bytes, at: 8, size: 8, little: little) : Self.read(bytes, at: 4, size: 4, little: little),
              first >= 8, first < bytes.count else { return nil }
        let countSize = big ? 8 : 2, entrySize = big ? 20 : 12, inlineSize = big ? 8 : 4
        guard let n = Self.read(bytes, at: Int(first), size: countSize, little: little), n <= 4096 else { return nil }
        for k in 0..<Int(n) {
            let at = Int(first) + countSize + k * entrySize
            guard at + entrySize <= bytes.count,
                  let tag = Self.read(bytes, at: at, size: 2, little: little),
                  let type = Self.read(bytes, at: at + 2, size: 2, little: little),
                  let count = Self.read(bytes, at: at + 4, size: big ? 8 : 4, little: little),
                  let unit = Self.typeSize(Int(type)) else { continue }
            let (total, overflow) = Int(clamping: count).multipliedReportingOverflow(by: unit)
            guard !overflow, total <= bytes.count else { continue }
            let valueAt = at + (big ? 12 : 8)
            let offset: Int
            if total <= inlineSize {
                offset = valueAt
            } else {
                guard let o = Self.read(bytes, at: valueAt, size: inlineSize, little: little), o <= UInt64(bytes.count) else { continue }
                offset = Int(o)
            }
            guard offset + total <= bytes.count else { continue }
            entries[Int(tag)] = Entry(type: Int(type), count: Int(count), offset: offset)
        }
    }

    static func typeSize(_ type: Int) -> Int? {
        switch type {
        case 1, 2, 6, 7: return 1       // BYTE, ASCII, SBYTE, UNDEFINED
        case 3, 8: return 2             // SHORT, SSHORT
        case 4, 9, 11, 13: return 4     // LONG, SLONG, FLOAT, IFD
        case 5, 10, 12, 16, 17, 18: return 8  // RATIONAL, SRATIONAL, DOUBLE, LONG8, SLONG8, IFD8
        default: return nil
        }
    }

    static func read(_ bytes: [UInt8], at offset: Int, size: Int, little: Bool) -> UInt64? {
        guard offset >= 0, offset + size <= bytes.count else { return nil }
        var v: UInt64 = 0
        for k in 0..<size {
            let b = UInt64(bytes[offset + (little ? size - 1 - k : k)])
            v = v << 8 | b
        }
        return v
    }

    func has(_ tag: Int) -> Bool { entries[tag] != nil }

    /// The tag's bytes as text (ASCII, UNDEFINED or BYTE), up to the first NUL; UTF-8, else Latin-1.
    func text(_ tag: Int) -> String? {
        guard let e = entries[tag], [1, 2, 7].contains(e.type) else { return nil }
        let raw = bytes[e.offset..<(e.offset + e.count)].prefix { $0 != 0 }
        return String(validatingUTF8: raw.map { CChar(bitPattern: $0) } + [0])
            ?? String(raw.map { Character(Unicode.Scalar($0)) })
    }

    /// The tag's bytes as Latin-1/UTF-8 text with every NUL read as a line break (Zeiss's
    /// CZ_SEM tag packs binary fields and text lines together).
    func lines(_ tag: Int) -> String? {
        guard let e = entries[tag], [1, 2, 7].contains(e.type) else { return nil }
        let raw = bytes[e.offset..<(e.offset + e.count)].map { $0 == 0 ? 0x0A : $0 }
        return String(bytes: raw, encoding: .utf8) ?? String(raw.map { Character(Unicode.Scalar($0)) })
    }

    /// The tag's values as numbers, any numeric type.
    func numbers(_ tag: Int) -> [Double]? {
        guard let e = entries[tag], let unit = Self.typeSize(e.type), e.type != 2 else { return nil }
        return (0..<min(e.count, 1 << 16)).compactMap { k -> Double? in
            let at = e.offset + k * unit
            guard let raw = Self.read(bytes, at: at, size: unit, little: little) else { return nil }
            switch e.type {
            case 1, 3, 4, 7, 13, 16, 18: return Double(raw)
            case 6: return Double(Int8(truncatingIfNeeded: raw))
            case 8: return Double(Int16(truncatingIfNeeded: raw))
            case 9: return Double(Int32(truncatingIfNeeded: raw))
            case 17: return Double(Int64(bitPattern: raw))
            case 11: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
            case 12: return Double(bitPattern: raw)
            case 5, 10:
                guard let n = Self.read(bytes, at: at, size: 4, little: little),
                      let d = Self.read(bytes, at: at + 4, size: 4, little: little) else { return nil }
                let num = e.type == 5 ? Double(n) : Double(Int32(truncatingIfNeeded: n))
                let den = e.type == 5 ? Double(d) : Double(Int32(truncatingIfNeeded: d))
                return den == 0 ? nil : num / den
            default: return nil
            }
        }
    }

    func number(_ tag: Int) -> Double? { numbers(tag)?.first }
}

/// A number read from a file as an Int, nil for NaN, infinities and values beyond ±2^53
/// (`Int(_:)` traps on them, and a hostile file may hold any of them).
func integer(_ value: Double) -> Int? {
    guard value.isFinite, abs(value) <= 9_007_199_254_740_992 else { return nil }
    return Int(value)
}

/// A pixel size found in a file's metadata, with where it came from.
public struct MetadataCalibration: Sendable, Equatable {
    public var pixelSize: PixelSize?
    /// Why the file's calibration was not used, or what it said that is not a length.
    public var note: String?
    /// First row of a data bar that the metadata places at the bottom (FEI's databar).
    public var footerStartRow: Int?
}

/// The calibrations microscope and analysis software store in TIFF files, in the order
/// RosettaSciIO tries them (`rsciio/tiff/_api.py`, `_parse_scale_unit`): FEI / Thermo Fisher,
/// Zeiss SEM, TVIPS, JEOL SightX, then Gatan DigitalMicrograph's private tags, ImageJ's
/// description, OME-XML, and last the plain resolution tags.
enum TIFFCalibration {
    // Private tags.
    static let feiSFEG = 34680, feiHelios = 34682, zeissSEM = 34118, tvips = 37706
    static let gatanXUnit = 65003, gatanYUnit = 65004, gatanXScale = 65009, gatanYScale = 65010
    static let imageDescription = 270, make = 271, xResolution = 282, yResolution = 283, resolutionUnit = 296

    /// Physical calibrations are accepted over a wider range than resolution tags (SEM images
    /// reach micrometres per pixel); outside, the value is reported, not used.
    static let calibratedRangeNm: ClosedRange<Double> = 1e-4...1e7

    static func find(_ dir: TIFFDirectory, height: Int) -> MetadataCalibration? {
        if let text = dir.text(feiHelios) ?? dir.text(feiSFEG) { return fei(text, height: height) }
        if let text = dir.lines(zeissSEM) { return zeiss(text) }
        if dir.has(tvips) { return tvipsCalibration(dir) }
        if dir.text(make)?.hasPrefix("JEOL") == true, let xml = dir.text(imageDescription), xml.contains("<TemReporter") {
            return jeol(xml, dir: dir)
        }
        if dir.has(gatanXScale) || dir.has(gatanXUnit) { return gatan(dir) }
        if let description = dir.text(imageDescription) {
            if description.hasPrefix("ImageJ=") { return imageJ(description, dir: dir) }
            if description.contains("<OME") { return ome(description) }
        }
        return nil
    }

    static func made(_ nm: Double?, _ source: PixelSizeSource, what: String) -> MetadataCalibration {
        guard let nm, nm.isFinite, nm > 0 else {
            return MetadataCalibration(note: "\(what) holds no usable length calibration")
        }
        guard calibratedRangeNm.contains(nm) else {
            return MetadataCalibration(note: "\(what) gives \(formatShort(nm)) nm/px, outside \(formatShort(calibratedRangeNm.lowerBound))-\(formatShort(calibratedRangeNm.upperBound)) nm/px; ignored")
        }
        return MetadataCalibration(pixelSize: PixelSize(nanometersPerPixel: nm, source: source))
    }

    /// `KEY=VALUE` lines under `[Section]` headers.
    static func iniValues(_ text: String) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        var section = ""
        for line in text.split(whereSeparator: \.isNewline) {
            let s = line.trimmingCharacters(in: .whitespaces)
            if s.hasPrefix("[") && s.hasSuffix("]") { section = String(s.dropFirst().dropLast()); continue }
            guard let eq = s.firstIndex(of: "=") else { continue }
            out[section, default: [:]][String(s[..<eq]).trimmingCharacters(in: .whitespaces)] =
                String(s[s.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    /// FEI / Thermo Fisher: `[Scan] PixelWidth` in metres, else `[IRBeam] HFW / [Image] ResolutionX`;
    /// the databar starts at `[Image] ResolutionY` when that is less than the image's height.
    static func fei(_ text: String, height: Int) -> MetadataCalibration {
        let ini = iniValues(text)
        var metres = ini["Scan"]?["PixelWidth"].flatMap(Double.init)
        if metres == nil, let hfw = ini["IRBeam"]?["HFW"].flatMap(Double.init),
           let nx = ini["Image"]?["ResolutionX"].flatMap(Double.init), nx > 0 {
            metres = hfw / nx
        }
        var found = made(metres.map { $0 * 1e9 }, .fei, what: "FEI metadata")
        if let rows = ini["Image"]?["ResolutionY"].flatMap(Int.init), rows > 0, rows < height {
            found.footerStartRow = rows
        }
        return found
    }

    /// Zeiss SmartSEM (`CZ_SEM`): the `Image Pixel Size = 2.233 nm` line.
    static func zeiss(_ text: String) -> MetadataCalibration {
        for line in text.split(whereSeparator: { $0.isNewline || $0 == "\0" }) {
            let s = line.trimmingCharacters(in: .whitespaces)
            guard s.lowercased().hasPrefix("image pixel size") || s.lowercased().hasPrefix("pixel size"),
                  let eq = s.firstIndex(of: "=") else { continue }
            let value = s[s.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if let nm = lengthInNm(value) { return made(nm, .zeiss, what: "Zeiss SEM metadata") }
        }
        return MetadataCalibration(note: "Zeiss SEM metadata without an Image Pixel Size line")
    }

    /// TVIPS: the header's `PixelSizeX` (nm; version 2 header, 2,728 bytes after the tag's
    /// offset), else the resolution tags, which TVIPS writes in pixels per cm.
    static func tvipsCalibration(_ dir: TIFFDirectory) -> MetadataCalibration {
        if let at = dir.number(tvips).flatMap(integer),
           TIFFDirectory.read(dir.bytes, at: at, size: 4, little: dir.little) == 2,
           let raw = TIFFDirectory.read(dir.bytes, at: at + 4 + 2724, size: 4, little: dir.little) {
            let nm = Double(Float(bitPattern: UInt32(raw)))
            if nm > 0, nm.isFinite { return made(nm, .tvips, what: "TVIPS header") }
        }
        guard let xres = dir.number(xResolution), xres > 0 else {
            return MetadataCalibration(note: "TVIPS file without pixel size or resolution")
        }
        let unit = dir.number(resolutionUnit) ?? 2
        return made((unit == 3 ? 1e7 : 25.4e6) / xres, .tvips, what: "TVIPS resolution")
    }

    /// JEOL SightX (`TemReporter` XML): in TEM MAG mode, pixel size = 1 / XResolution (in the
    /// resolution unit) / magnification; other modes (diffraction, STEM) hold no length.
    static func jeol(_ xml: String, dir: TIFFDirectory) -> MetadataCalibration {
        func element(_ name: String, after anchor: String? = nil) -> String? {
            var range = xml.startIndex..<xml.endIndex
            if let anchor, let a = xml.range(of: "<\(anchor)>") { range = a.upperBound..<xml.endIndex }
            guard let open = xml.range(of: "<\(name)>", range: range),
                  let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else { return nil }
            return xml[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let eos = element("EosMode")
        let mode = element("ModeString", after: "ImageFormingSystem")
        guard eos == "eosTEM", mode == "MAG" else {
            return MetadataCalibration(note: "JEOL metadata in \(eos ?? "?") / \(mode ?? "?") mode: no length calibration")
        }
        guard let mag = element("SelectorValue", after: "ImageFormingSystem").flatMap(Double.init), mag > 0,
              let xres = dir.number(xResolution), xres > 0 else {
            return MetadataCalibration(note: "JEOL metadata without magnification or resolution")
        }
        let metresPerUnit = dir.number(resolutionUnit) == 2 ? 0.0254 : 0.01
        return made(metresPerUnit / xres / mag * 1e9, .jeol, what: "JEOL metadata")
    }

    /// Gatan DigitalMicrograph's TIFF export: scale (65009) and unit (65003) of the x axis.
    static func gatan(_ dir: TIFFDirectory) -> MetadataCalibration {
        let unit = dir.text(gatanXUnit) ?? ""
        guard let scale = dir.number(gatanXScale) else {
            return MetadataCalibration(note: "Gatan tags without a scale")
        }
        guard let perUnit = GatanDM.nanometres(perUnit: unit) else {
            return MetadataCalibration(note: unit.isEmpty ? "Gatan tags without a unit"
                                        : "Gatan calibration in \(unit), not a length")
        }
        return made(scale * perUnit, .gatanTIFF, what: "Gatan tags")
    }

    /// ImageJ: `unit=` in the description, XResolution pixels per unit.
    static func imageJ(_ description: String, dir: TIFFDirectory) -> MetadataCalibration? {
        let values = iniValues(description)[""] ?? [:]
        guard let unit = values["unit"] else {
            return MetadataCalibration(note: "ImageJ file without a calibration")
        }
        guard let perUnit = lengthUnitInNm(unit) else {
            return MetadataCalibration(note: "ImageJ unit '\(unit)' is not a length")
        }
        guard let xres = dir.number(xResolution), xres > 0 else {
            return MetadataCalibration(note: "ImageJ unit without XResolution")
        }
        return made(perUnit / xres, .imageJ, what: "ImageJ calibration")
    }

    /// OME-XML: `PhysicalSizeX` of the first `Pixels` element, in `PhysicalSizeXUnit` (µm by default).
    static func ome(_ xml: String) -> MetadataCalibration {
        guard let pixels = xml.range(of: "<Pixels") ?? xml.range(of: ":Pixels"),
              let end = xml.range(of: ">", range: pixels.upperBound..<xml.endIndex) else {
            return MetadataCalibration(note: "OME-XML without a Pixels element")
        }
        let element = String(xml[pixels.upperBound..<end.lowerBound])
        func attribute(_ name: String) -> String? {
            guard let r = element.range(of: " \(name)=\"") ?? element.range(of: "\t\(name)=\"") ?? element.range(of: "\n\(name)=\""),
                  let close = element.range(of: "\"", range: r.upperBound..<element.endIndex) else { return nil }
            return String(element[r.upperBound..<close.lowerBound])
        }
        guard let size = attribute("PhysicalSizeX").flatMap(Double.init) else {
            return MetadataCalibration(note: "OME-XML without PhysicalSizeX")
        }
        let unit = attribute("PhysicalSizeXUnit") ?? "µm"
        guard let perUnit = lengthUnitInNm(unit) else {
            return MetadataCalibration(note: "OME PhysicalSizeXUnit '\(unit)' is not a length")
        }
        return made(size * perUnit, .ome, what: "OME-XML")
    }

    /// Nanometres per unit for the spellings ImageJ, OME and the microscope vendors use.
    static func lengthUnitInNm(_ unit: String) -> Double? {
        let u = unit.trimmingCharacters(in: .whitespaces)
        switch u.lowercased() {
        case "micron", "microns", "micrometer", "micrometre", "micrometers", "um", "µm", "μm", "\\u00b5m": return 1e3
        case "nanometer", "nanometre", "nanometers", "nm": return 1
        case "angstrom", "ångström", "å", "a": return 0.1
        case "pm", "picometer", "picometre": return 1e-3
        case "mm", "millimeter", "millimetre": return 1e6
        case "cm", "centimeter", "centimetre": return 1e7
        case "m", "meter", "metre": return 1e9
        case "inch", "in": return 25.4e6
        default: return GatanDM.nanometres(perUnit: u)
        }
    }

    /// `2.233 nm`, `1.5 µm`, `3e-9 m` as nanometres.
    static func lengthInNm(_ text: String) -> Double? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = parts.first, let value = Double(first) else { return nil }
        let unit = parts.count > 1 ? String(parts[1]) : "m"
        return lengthUnitInNm(unit).map { value * $0 }
    }
}
