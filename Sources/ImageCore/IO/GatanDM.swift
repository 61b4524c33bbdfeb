import Foundation

/// A Gatan DigitalMicrograph image (DM3 or DM4) as stored: the samples in their own units,
/// the stored type, and the calibration. `ImageReader.read` turns it into a `DecodedImage`
/// (`decodeDM`: full scale for uint8, uint16, bool and RGBA, `IntensityMapping.stretched`
/// for the other types).
public struct GatanImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// numpy-style name of the stored type: int8, uint8, int16, uint16, int32, uint32,
    /// float32, float64, bool, int64, uint64; `rgba8` for colour (the first channel is kept).
    public var dataType: String
    /// Samples row by row, in stored units.
    public var values: [Double]
    /// Per axis (0: rows, 1: columns): scale per pixel and the unit the file stores.
    public var scales: [Double]
    public var units: [String]
    /// The pixel size in nm when the calibration is a length (nm, µm, Å, pm, mm, m).
    public var pixelSizeNm: Double?
    /// Why there is no pixel size (not a length, no calibration, unequal axes).
    public var pixelSizeNote: String?
}

/// Why a DM file was refused.
public enum GatanDMError: LocalizedError, Equatable, Sendable {
    case notDM(String)
    case damaged(String, String)
    case unsupported(String, String)

    public var errorDescription: String? {
        switch self {
        case let .notDM(name): return "\(name): not a Gatan DM3/DM4 file"
        case let .damaged(name, why): return "\(name): damaged DM file (\(why))"
        case let .unsupported(name, why): return "\(name): unsupported DM content (\(why))"
        }
    }
}

/// A reader of Gatan's tag files (DM3 version 3, DM4 version 4): a tree of named groups
/// and typed data; the image is `ImageList`'s last entry with image data (the first is
/// usually the thumbnail). Every count and length is checked against the bytes present.
public enum GatanDM {
    indirect enum Tag {
        case group([(name: String, tag: Tag)])
        case number(Double)
        case text(String)
        case array(type: Int, offset: Int, count: Int)
        case structure([Double])
    }

    struct Reader {
        let bytes: [UInt8]
        let name: String
        let version: Int
        let littleEndianData: Bool
        var offset = 0
        var depth = 0

        mutating func big(_ n: Int) throws -> UInt64 {
            guard offset + n <= bytes.count else { throw GatanDMError.damaged(name, "ends at byte \(bytes.count)") }
            var v: UInt64 = 0
            for k in 0..<n { v = v << 8 | UInt64(bytes[offset + k]) }
            offset += n
            return v
        }
        mutating func count() throws -> Int {
            let v = try big(version == 4 ? 8 : 4)
            guard v <= UInt64(bytes.count) else { throw GatanDMError.damaged(name, "a count of \(v) in a file of \(bytes.count) bytes") }
            return Int(v)
        }

        static func size(of type: Int) -> Int? {
            switch type {
            case 2, 4: return 2
            case 3, 5, 6: return 4
            case 7, 11, 12: return 8
            case 8, 9, 10: return 1
            default: return nil
            }
        }

        func value(type: Int, at p: Int) -> Double {
            let n = Self.size(of: type)!
            var raw: UInt64 = 0
            for k in 0..<n { raw |= UInt64(bytes[p + k]) << (8 * UInt64(littleEndianData ? k : n - 1 - k)) }
            switch type {
            case 2: return Double(Int16(truncatingIfNeeded: raw))
            case 3: return Double(Int32(truncatingIfNeeded: raw))
            case 4: return Double(UInt16(truncatingIfNeeded: raw))
            case 5: return Double(UInt32(truncatingIfNeeded: raw))
            case 6: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
            case 7: return Double(bitPattern: raw)
            case 8, 9: return Double(UInt8(truncatingIfNeeded: raw))
            case 10: return Double(Int8(truncatingIfNeeded: raw))
            case 11: return Double(Int64(bitPattern: raw))
            default: return Double(raw)
            }
        }

        mutating func group() throws -> Tag {
            depth += 1
            defer { depth -= 1 }
            guard depth < 64 else { throw GatanDMError.damaged(name, "groups nested over 64 deep") }
            _ = try big(2)  // sorted, open
            let n = try count()
            var entries: [(String, Tag)] = []
            for _ in 0..<n {
                let kind = try big(1)
                if kind == 0 { break }
                let length = Int(try big(2))
                guard offset + length <= bytes.count else { throw GatanDMError.damaged(name, "a tag name runs past the end") }
                let tagName = String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
                offset += length
                if version == 4 { _ = try big(8) }
                switch kind {
                case 20: entries.append((tagName, try group()))
                case 21: entries.append((tagName, try data()))
                default: throw GatanDMError.damaged(name, "tag kind \(kind)")
                }
            }
            return .group(entries)
        }

        mutating func data() throws -> Tag {
            guard offset + 4 <= bytes.count, Array(bytes[offset..<(offset + 4)]) == Array("%%%%".utf8) else {
                throw GatanDMError.damaged(name, "a data tag without its %%%% mark")
            }
            offset += 4
            let infoCount = try count()
            guard infoCount >= 1, infoCount <= 4096 else { throw GatanDMError.damaged(name, "\(infoCount) type words") }
            var info: [Int] = []
            for _ in 0..<infoCount { info.append(try count()) }
            func need(_ n: Int) throws {
                guard n >= 0, offset + n <= bytes.count else { throw GatanDMError.damaged(name, "data runs past the end") }
            }
            let type = info[0]
            if let size = Self.size(of: type) {
                try need(size)
                defer { offset += size }
                return .number(value(type: type, at: offset))
            }
            switch type {
            case 18:  // string: UTF-16 code units
                guard info.count >= 2 else { throw GatanDMError.damaged(name, "a string without its length") }
                try need(2 * info[1])
                var units: [UInt16] = []
                for k in 0..<info[1] {
                    let p = offset + 2 * k
                    units.append(littleEndianData ? UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8 : UInt16(bytes[p]) << 8 | UInt16(bytes[p + 1]))
                }
                offset += 2 * info[1]
                return .text(String(decoding: units, as: UTF16.self))
            case 15:  // struct: 0, field count, (name length, type) per field
                guard info.count >= 3, info.count == 3 + 2 * info[2] else { throw GatanDMError.damaged(name, "a struct's type words") }
                var values: [Double] = []
                for k in 0..<info[2] {
                    guard let size = Self.size(of: info[4 + 2 * k]) else { throw GatanDMError.unsupported(name, "struct field type \(info[4 + 2 * k])") }
                    try need(size)
                    values.append(value(type: info[4 + 2 * k], at: offset))
                    offset += size
                }
                return .structure(values)
            case 20:  // array: element type, (struct description), length
                guard info.count >= 3 else { throw GatanDMError.damaged(name, "an array's type words") }
                let element = info[1], length = info[info.count - 1]
                var elementSize: Int
                if element == 15 {
                    guard info.count >= 5, info.count == 5 + 2 * info[3] else { throw GatanDMError.damaged(name, "an array of structs' type words") }
                    elementSize = 0
                    for k in 0..<info[3] {
                        guard let size = Self.size(of: info[5 + 2 * k]) else { throw GatanDMError.unsupported(name, "struct field type \(info[5 + 2 * k])") }
                        elementSize += size
                    }
                } else {
                    guard let size = Self.size(of: element) else { throw GatanDMError.unsupported(name, "array element type \(element)") }
                    elementSize = size
                }
                let (total, overflow) = elementSize.multipliedReportingOverflow(by: length)
                guard !overflow else { throw GatanDMError.damaged(name, "an array of \(length) elements") }
                try need(total)
                defer { offset += total }
                return .array(type: element, offset: offset, count: length)
            default:
                throw GatanDMError.damaged(name, "data type \(type)")
            }
        }
    }

    static func child(_ tag: Tag?, _ key: String) -> Tag? {
        guard case let .group(entries)? = tag else { return nil }
        return entries.first { $0.name == key }?.tag
    }
    static func entries(_ tag: Tag?) -> [Tag] {
        guard case let .group(entries)? = tag else { return [] }
        return entries.map(\.tag)
    }
    static func number(_ tag: Tag?) -> Double? {
        if case let .number(v)? = tag { return v }
        return nil
    }
    static func text(_ tag: Tag?) -> String? {
        if case let .text(s)? = tag { return s }
        return nil
    }

    /// nm per unit of a length unit as Gatan writes it; nil for anything else.
    public static func nanometres(perUnit unit: String) -> Double? {
        switch unit.trimmingCharacters(in: .whitespaces) {
        case "nm": return 1
        case "µm", "um", "μm", "micron": return 1e3
        case "Å", "A", "Angstrom": return 0.1
        case "pm": return 1e-3
        case "mm": return 1e6
        case "m": return 1e9
        default: return nil
        }
    }

    /// Reads a DM3 or DM4 file's image.
    public static func read(_ path: String) throws -> GatanImage {
        guard let data = FileManager.default.contents(atPath: path) else { throw GatanDMError.notDM(path) }
        return try decode([UInt8](data), name: path)
    }

    /// Decodes DM3/DM4 bytes.
    public static func decode(_ bytes: [UInt8], name: String) throws -> GatanImage {
        guard bytes.count >= 16 else { throw GatanDMError.notDM(name) }
        let version = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        guard version == 3 || version == 4 else { throw GatanDMError.notDM(name) }
        let orderOffset = version == 4 ? 12 : 8
        let order = bytes[orderOffset..<(orderOffset + 4)].reduce(0) { $0 << 8 | Int($1) }
        guard order == 0 || order == 1 else { throw GatanDMError.notDM(name) }
        var reader = Reader(bytes: bytes, name: name, version: version, littleEndianData: order == 1, offset: orderOffset + 4)
        let root = try reader.group()
        // The image: the last ImageList entry whose ImageData holds Data and two dimensions.
        var chosen: (data: Tag, dimensions: [Int], type: Int, calibration: Tag?)?
        for entry in entries(child(root, "ImageList")) {
            let imageData = child(entry, "ImageData")
            guard let data = child(imageData, "Data") else { continue }
            // Through `integer`: a NaN or huge dimension or type is refused below, never a trap.
            let dimensions = entries(child(imageData, "Dimensions")).compactMap(number).map { integer($0) ?? -1 }
            chosen = (data, dimensions, number(child(imageData, "DataType")).flatMap(integer) ?? -1,
                      child(child(imageData, "Calibrations"), "Dimension"))
        }
        guard let image = chosen else { throw GatanDMError.unsupported(name, "no image in ImageList") }
        guard image.dimensions.count == 2 else {
            throw GatanDMError.unsupported(name, "\(image.dimensions.count)-D data (\(image.dimensions.map(String.init).joined(separator: " x "))): sootctl reads 2-D images, not spectra or stacks")
        }
        let width = image.dimensions[0], height = image.dimensions[1]
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !overflow, pixels <= ImageLimits.maximumPixels else {
            throw GatanDMError.unsupported(name, "an image of \(width) x \(height) pixels")
        }
        guard case let .array(elementType, start, length) = image.data, let elementSize = Reader.size(of: elementType) else {
            throw GatanDMError.damaged(name, "image data is not an array of numbers")
        }
        let names: [Int: String] = [1: "int16", 2: "float32", 6: "uint8", 7: "int32", 9: "int8", 10: "uint16", 11: "uint32",
                                    12: "float64", 14: "bool", 23: "rgba8", 39: "int64", 40: "uint64"]
        if [3, 5, 13].contains(image.type) { throw GatanDMError.unsupported(name, "complex data") }
        guard let typeName = names[image.type] else { throw GatanDMError.unsupported(name, "image data type \(image.type)") }
        var values: [Double] = []
        values.reserveCapacity(width * height)
        if typeName == "rgba8" {
            // Stored as one 32-bit word per pixel, or 4 bytes per pixel: keep the first channel (R).
            let stride = length == width * height ? max(elementSize, 4) : 4
            guard length * elementSize >= width * height * stride else { throw GatanDMError.damaged(name, "RGBA data too short") }
            for i in 0..<(width * height) { values.append(Double(bytes[start + i * stride])) }
        } else {
            guard length == width * height else { throw GatanDMError.damaged(name, "\(length) samples for \(width) x \(height) pixels") }
            for i in 0..<length { values.append(reader.value(type: elementType, at: start + i * elementSize)) }
        }
        // Calibration: Dimension entries in the order x (columns), y (rows).
        let axes = entries(image.calibration)
        var scales = [1.0, 1.0], units = ["", ""]
        for (k, axis) in axes.prefix(2).enumerated() {
            let index = 1 - k  // file x -> axis 1 (columns), y -> axis 0 (rows)
            scales[index] = number(child(axis, "Scale")) ?? 1
            if case let .array(type, offset, count)? = child(axis, "Units"), type == 4 {
                units[index] = String(decoding: (0..<count).map { reader.value(type: 4, at: offset + 2 * $0) }.map { UInt16($0) }, as: UTF16.self)
            } else if let s = text(child(axis, "Units")) {
                units[index] = s
            }
        }
        var pixelSizeNm: Double?
        var note: String?
        if let factor = nanometres(perUnit: units[1]), units[0] == units[1] {
            let ps = scales[1] * factor
            if abs(scales[0] - scales[1]) <= 1e-6 * abs(scales[1]), ps > 0, ps.isFinite { pixelSizeNm = ps } else { note = "unequal or invalid axis scales" }
        } else if units.allSatisfy({ $0.isEmpty }) {
            note = "no length calibration"
        } else {
            note = "calibrated in \(units[1]), not a length"
        }
        return GatanImage(width: width, height: height, dataType: typeName, values: values, scales: scales, units: units,
                          pixelSizeNm: pixelSizeNm, pixelSizeNote: note)
    }
}

extension GatanDM {
    /// True for the first bytes of a DM3 or DM4 file (version 3 or 4, big-endian, then a
    /// byte-order flag of 0 or 1).
    public static func isDM(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 16, bytes[0] == 0, bytes[1] == 0, bytes[2] == 0, bytes[3] == 3 || bytes[3] == 4 else { return false }
        let at = bytes[3] == 4 ? 12 : 8
        return bytes[at] == 0 && bytes[at + 1] == 0 && bytes[at + 2] == 0 && bytes[at + 3] <= 1
    }

    /// Bits per sample of a stored type name.
    static func bits(of type: String) -> Int {
        switch type {
        case "bool": return 1
        case "int8", "uint8", "rgba8": return 8
        case "int16", "uint16": return 16
        case "int32", "uint32", "float32": return 32
        default: return 64
        }
    }
}

extension ImageReader {
    /// A DM3/DM4 file as a `DecodedImage`: uint8, uint16, bool and RGBA's first channel keep
    /// their full scale; the other types are stretched (`IntensityMapping`).
    static func decodeDM(_ bytes: [UInt8], path: String) throws -> DecodedImage {
        let dm: GatanImage
        do { dm = try GatanDM.decode(bytes, name: path) } catch let error as GatanDMError {
            switch error {
            case .notDM: throw ImageCoreError.unrecognisedFormat(path: path)
            case let .damaged(_, why): throw ImageCoreError.truncated(path: path, detail: "damaged DM file: \(why)")
            case let .unsupported(_, why): throw ImageCoreError.unsupported(path: path, detail: why)
            }
        }
        let pixels: [Float]
        let mapping: IntensityMapping
        let range = StoredRange(dm.values)
        switch dm.dataType {
        case "uint8", "uint16", "rgba8", "bool":
            let full: Double = dm.dataType == "uint16" ? 65535 : dm.dataType == "bool" ? 1 : 255
            pixels = dm.values.map { Float(min(max($0 / full, 0), 1)) }
            mapping = .fullScale(maximum: full)
        default:
            let stretched = IntensityMapping.stretch(dm.values)
            pixels = stretched.pixels
            mapping = stretched.mapping
        }
        var pixelSize: PixelSize?
        var note = dm.pixelSizeNote
        if let nm = dm.pixelSizeNm {
            if TIFFCalibration.calibratedRangeNm.contains(nm) {
                pixelSize = PixelSize(nanometersPerPixel: nm, source: .dmCalibration)
            } else {
                note = "DM calibration of \(formatShort(nm)) nm/px is outside the accepted range; ignored"
            }
        }
        var info = ImageFileInfo(
            format: bytes[3] == 4 ? .dm4 : .dm3, width: dm.width, height: dm.height, bitDepth: GatanDM.bits(of: dm.dataType),
            colorModel: dm.dataType == "rgba8" ? .rgba : .gray, compression: "none", pageCount: 1,
            pixelSize: pixelSize, pixelSizeNote: note.map { "DM file: \($0)" })
        info.sampleType = dm.dataType
        info.storedRange = range
        info.intensityMapping = mapping
        let image = try GrayImage(width: dm.width, height: dm.height, pixels: pixels, pixelSize: pixelSize)
        return DecodedImage(image: image, info: info)
    }
}
