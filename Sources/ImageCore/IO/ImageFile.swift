import Foundation

/// File formats sootctl reads.
public enum ImageFileFormat: String, Sendable, Codable {
    case png = "PNG"
    case tiff = "TIFF"
    case jpeg = "JPEG"
    case dm3 = "DM3"
    case dm4 = "DM4"
}

/// How the samples of an image file are organised.
public enum ImageColorModel: String, Sendable, Codable {
    case bilevel
    case gray
    case grayAlpha = "gray+alpha"
    case rgb
    case rgba
    case palette

    /// Samples per pixel as stored (a palette index counts as one).
    public var channelCount: Int {
        switch self {
        case .bilevel, .gray, .palette: return 1
        case .grayAlpha: return 2
        case .rgb: return 3
        case .rgba: return 4
        }
    }
}

/// What a file says about itself, independent of the decoded pixels.
public struct ImageFileInfo: Sendable, Equatable, Codable {
    public var format: ImageFileFormat
    public var width: Int
    public var height: Int
    /// Bits per sample as stored (1, 2, 4, 8 or 16).
    public var bitDepth: Int
    public var colorModel: ImageColorModel
    /// Compression scheme, e.g. "deflate" or "CCITT Group 3".
    public var compression: String
    /// Number of pages (TIFF directories); only the first is read.
    public var pageCount: Int
    /// Pixel size stored in the file, when present and plausible.
    public var pixelSize: PixelSize?
    /// Why a stored resolution was not used as a pixel size, if one was ignored.
    public var pixelSizeNote: String?
    /// The stored sample type, numpy-style: uint8, uint16, int16, uint32, float32, bool, ...
    public var sampleType: String = "uint8"
    /// The kept channel's values in stored units (before mapping to 0...1).
    public var storedRange: StoredRange?
    /// How stored values became the 0...1 the methods see.
    public var intensityMapping: IntensityMapping = .fullScale(maximum: 255)
    /// First row of a data bar that the file's metadata places at the bottom (FEI's databar).
    public var metadataFooterStartRow: Int?

    /// Largest stored sample value (255 for 8-bit, 65535 for 16-bit, 1 for bilevel).
    public var maximumSampleValue: Int {
        colorModel == .palette ? 255 : (1 << min(bitDepth, 16)) - 1
    }
}

/// Minimum, maximum and mean of an image's stored values (finite ones), in stored units.
public struct StoredRange: Sendable, Equatable, Codable {
    public var minimum: Double
    public var maximum: Double
    public var mean: Double

    /// The range of `values`, ignoring NaN and infinities; nil when none is finite.
    public init?<C: Collection>(_ values: C) where C.Element == Double {
        var lo = Double.infinity, hi = -Double.infinity, sum = 0.0, n = 0
        for v in values where v.isFinite {
            lo = min(lo, v); hi = max(hi, v); sum += v; n += 1
        }
        guard n > 0 else { return nil }
        minimum = lo; maximum = hi; mean = sum / Double(n)
    }
}

extension StoredRange {
    /// The stored range of 0...1 pixels that came from `value / maximum`.
    static func fullScale(_ pixels: [Float], maximum: Double) -> StoredRange? {
        var lo = Float.infinity, hi = -Float.infinity, sum = 0.0
        for v in pixels { lo = min(lo, v); hi = max(hi, v); sum += Double(v) }
        guard !pixels.isEmpty else { return nil }
        var r = StoredRange([(Double(lo) * maximum).rounded(), (Double(hi) * maximum).rounded()])
        r?.mean = sum / Double(pixels.count) * maximum
        return r
    }
}

/// How a file's stored values are mapped to the 0...1 gray values sootctl works on.
///
/// 8- and 16-bit unsigned samples (and 1-4 bit, palette) keep their meaning: value / full
/// scale, so a dark pixel stays as dark as the file says. Every other type (signed integers,
/// 32-bit integers, floating point, bool) has no full scale: such files are counts or
/// calibrated intensities (a camera's electrons, a processed float image), so the finite
/// values are stretched linearly from their minimum (0) to their maximum (1), as
/// DigitalMicrograph and ImageJ display them; NaN and infinite pixels become 1 (background).
/// A constant image maps to 0.5. Classifiers that work on relative contrast (k-means, Otsu,
/// TWS, the CNN after its normalisation) see the same image whatever the storage type.
public enum IntensityMapping: Sendable, Equatable, Codable, CustomStringConvertible {
    /// value / maximum (255, 65535, 2^n - 1).
    case fullScale(maximum: Double)
    /// (value - low) / (high - low).
    case stretched(low: Double, high: Double)

    public var description: String {
        switch self {
        case let .fullScale(maximum): return "value / \(formatShort(maximum))"
        case let .stretched(low, high): return "(value - \(formatShort(low))) / (\(formatShort(high)) - \(formatShort(low)))"
        }
    }

    /// Maps stored values to 0...1 with the stretch of their finite range.
    static func stretch(_ values: [Double]) -> (pixels: [Float], mapping: IntensityMapping, range: StoredRange?) {
        guard let range = StoredRange(values) else {
            return ([Float](repeating: 1, count: values.count), .stretched(low: 0, high: 0), nil)
        }
        let lo = range.minimum, span = range.maximum - range.minimum
        let pixels = values.map { v -> Float in
            guard v.isFinite else { return 1 }
            return span > 0 ? Float((v - lo) / span) : 0.5
        }
        return (pixels, .stretched(low: lo, high: range.maximum), range)
    }
}

/// A decoded image with the facts of the file it came from.
public struct DecodedImage: Sendable {
    /// The gray image (first channel of colour files), values in 0...1.
    public var image: GrayImage
    /// What the file says about itself.
    public var info: ImageFileInfo
}

/// Reads PNG and TIFF files.
public enum ImageReader {
    /// Decodes an image file, detecting the format from its leading bytes.
    /// - Throws: `ImageCoreError` naming the file and why it cannot be read.
    public static func read(_ path: String) throws -> DecodedImage {
        let bytes = try readBytes(path)
        if PNGCodec.isPNG(bytes) { return try PNGCodec.decode(bytes, path: path) }
        if TIFFCodec.isTIFF(bytes) { return try TIFFCodec.decode(path: path, bytes: bytes) }
        if JPEGCodec.isJPEG(bytes) { return try JPEGCodec.decode(bytes, path: path) }
        if GatanDM.isDM(bytes) { return try decodeDM(bytes, path: path) }
        throw ImageCoreError.unrecognisedFormat(path: path)
    }

    /// Reads a mask file: every nonzero pixel (after WhiteIsZero inversion) is `true`.
    /// - Throws: `ImageCoreError` as `read(_:)`.
    public static func readMask(_ path: String) throws -> BinaryMask {
        let decoded = try read(path)
        return BinaryMask(decoded.image, above: 0)
    }

    static func readBytes(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageCoreError.cannotOpen(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw ImageCoreError.cannotOpen(path: path, reason: "is a directory")
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int,
           size > ImageLimits.maximumFileBytes {
            throw ImageCoreError.tooLarge(path: path, detail: "file of \(size) bytes is over the limit of \(ImageLimits.maximumFileBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageCoreError.cannotOpen(path: path, reason: "permission denied or unreadable")
        }
        guard !data.isEmpty else { throw ImageCoreError.emptyFile(path: path) }
        return [UInt8](data)
    }
}

/// Writes PNG files atomically (to a temporary file in the same folder, then renamed).
public enum ImageWriter {
    /// Writes an 8-bit gray PNG; the pixel size, when known, goes into a `pixel_size_nm` text chunk.
    public static func writePNG8(_ image: GrayImage, to path: String) throws {
        let png = try PNGCodec.encode(
            width: image.width, height: image.height, channels: 1, bytes8: image.bytes8(),
            samples16: nil, pixelSize: image.pixelSize, path: path)
        try writeAtomically(png, to: path)
    }

    /// Writes a 16-bit gray PNG (values 0...1 scaled to 0...65535, rounded).
    public static func writePNG16(_ image: GrayImage, to path: String) throws {
        let samples = image.pixels.map { UInt16((min(max($0, 0), 1) * 65535).rounded()) }
        let png = try PNGCodec.encode(
            width: image.width, height: image.height, channels: 1, bytes8: nil,
            samples16: samples, pixelSize: image.pixelSize, path: path)
        try writeAtomically(png, to: path)
    }

    /// Writes a mask as an 8-bit PNG with values 0 and 255.
    public static func writeMask(_ mask: BinaryMask, to path: String) throws {
        let png = try PNGCodec.encode(
            width: mask.width, height: mask.height, channels: 1, bytes8: mask.bits.map { $0 != 0 ? 255 : 0 },
            samples16: nil, pixelSize: mask.pixelSize, path: path)
        try writeAtomically(png, to: path)
    }

    /// Writes an 8-bit RGB PNG from interleaved R, G, B bytes (`width * height * 3` of them).
    public static func writeRGB(width: Int, height: Int, rgb: [UInt8], pixelSize: PixelSize?, to path: String) throws {
        guard rgb.count == width * height * 3 else {
            throw ImageCoreError.invalidGeometry(width: width, height: height, count: rgb.count / 3)
        }
        let png = try PNGCodec.encode(
            width: width, height: height, channels: 3, bytes8: rgb, samples16: nil,
            pixelSize: pixelSize, path: path)
        try writeAtomically(png, to: path)
    }

    /// An 8-bit RGB PNG in memory (for pictures embedded in reports).
    public static func encodeRGB(width: Int, height: Int, rgb: [UInt8]) throws -> [UInt8] {
        guard rgb.count == width * height * 3 else {
            throw ImageCoreError.invalidGeometry(width: width, height: height, count: rgb.count / 3)
        }
        return try PNGCodec.encode(width: width, height: height, channels: 3, bytes8: rgb, samples16: nil,
                                   pixelSize: nil, path: "(memory)")
    }

    /// The mark of sootctl's temporary files: `.NAME.sootctl-tmp-PID-N` beside `NAME`. A run
    /// that is killed can leave one; the next run into the folder removes them.
    public static let temporaryMarker = ".sootctl-tmp-"

    /// Writes bytes to a temporary file beside `path` (named with `temporaryMarker`) and
    /// renames it into place, so a reader never sees a half-written file.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let name = "." + url.lastPathComponent + temporaryMarker + "\(getpid())-\(temporaryCounter.next())"
        let temporary = url.deletingLastPathComponent().appendingPathComponent(name).path
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: temporary))
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw ImageCoreError.writeFailed(path: path, detail: error.localizedDescription)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw ImageCoreError.writeFailed(path: path, detail: reason)
        }
    }
}

/// A counter shared by the threads that write files.
final class TemporaryCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

let temporaryCounter = TemporaryCounter()

extension ImageReader {
    /// Decodes a PNG held in memory (an upload); `name` names it in errors.
    /// - Throws: `ImageCoreError` as `read(_:)`; `unrecognisedFormat` for anything but PNG.
    public static func decodePNG(_ bytes: [UInt8], name: String) throws -> DecodedImage {
        guard !bytes.isEmpty else { throw ImageCoreError.emptyFile(path: name) }
        guard PNGCodec.isPNG(bytes) else { throw ImageCoreError.unrecognisedFormat(path: name) }
        guard bytes.count <= ImageLimits.maximumFileBytes else {
            throw ImageCoreError.tooLarge(path: name, detail: "\(bytes.count) bytes is over the limit of \(ImageLimits.maximumFileBytes)")
        }
        return try PNGCodec.decode(bytes, path: name)
    }
}

extension ImageWriter {
    /// An 8-bit gray PNG in memory, with the pixel size as `writePNG8` writes it.
    public static func encodePNG8(_ image: GrayImage) throws -> [UInt8] {
        try PNGCodec.encode(width: image.width, height: image.height, channels: 1, bytes8: image.bytes8(), samples16: nil,
                            pixelSize: image.pixelSize, path: "(memory)")
    }

    /// A mask as an 8-bit 0/255 PNG in memory, as `writeMask` writes it.
    public static func encodeMask(_ mask: BinaryMask) throws -> [UInt8] {
        try PNGCodec.encode(width: mask.width, height: mask.height, channels: 1, bytes8: mask.bits.map { $0 != 0 ? 255 : 0 },
                            samples16: nil, pixelSize: mask.pixelSize, path: "(memory)")
    }
}
