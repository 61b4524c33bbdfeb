import Foundation
internal import CPNG

/// Reads and writes PNG files through libpng's simplified `png_image` API.
///
/// Reading keeps the stored sample values: gamma and colour-space chunks (gAMA, sRGB, cHRM,
/// iCCP) are removed from the in-memory copy before decoding, because TEM intensities are
/// detector counts, not display-encoded colours, and libpng would otherwise re-encode them.
/// Colour images keep their first (red) channel, as atems does (METHODS.md section 1.1);
/// palette images are expanded first. 16-bit images keep 16-bit precision; a 16-bit image
/// with an alpha channel is composited onto black (TEM images are opaque).
///
/// The pixel size travels in a `tEXt` chunk with keyword `pixel_size_nm` (value in nm/px).
enum PNGCodec {
    static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
    static let pixelSizeKeyword = "pixel_size_nm"

    /// The header facts and text entries gathered by walking the chunk list.
    struct ChunkSummary {
        var width = 0
        var height = 0
        var bitDepth = 0
        var colorType = 0
        var text: [String: String] = [:]
        var hasEnd = false
        /// Bytes of compressed image data (IDAT chunks).
        var dataBytes = 0
        /// The file with gamma/colour-space chunks removed.
        var stripped: [UInt8] = []
    }

    static func isPNG(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 8 && Array(bytes[0..<8]) == signature
    }

    /// Walks the chunks; throws `.truncated` when a chunk runs past the end of the file.
    static func summarize(_ bytes: [UInt8], path: String) throws -> ChunkSummary {
        var s = ChunkSummary()
        s.stripped.reserveCapacity(bytes.count)
        s.stripped.append(contentsOf: signature)
        var offset = 8
        var sawHeader = false
        while offset + 8 <= bytes.count {
            let length = Int(readUInt32BE(bytes, offset))
            let typeBytes = bytes[(offset + 4)..<(offset + 8)]
            let type = String(decoding: typeBytes, as: UTF8.self)
            let end = offset + 12 + length
            guard length >= 0, end <= bytes.count else {
                throw ImageCoreError.truncated(
                    path: path, detail: "chunk \(type) needs \(end - bytes.count) more bytes")
            }
            let data = bytes[(offset + 8)..<(offset + 8 + length)]
            switch type {
            case "IHDR":
                guard length == 13 else {
                    throw ImageCoreError.decodeFailed(path: path, detail: "IHDR chunk of length \(length)")
                }
                s.width = Int(readUInt32BE(bytes, offset + 8))
                s.height = Int(readUInt32BE(bytes, offset + 12))
                s.bitDepth = Int(bytes[offset + 16])
                s.colorType = Int(bytes[offset + 17])
                sawHeader = true
            case "tEXt":
                if let zero = data.firstIndex(of: 0) {
                    let key = String(decoding: data[data.startIndex..<zero], as: UTF8.self)
                    let value = String(decoding: data[(zero + 1)...], as: UTF8.self)
                    s.text[key] = value
                }
            case "iTXt":
                // keyword \0 compressionFlag compressionMethod language \0 translated \0 text
                if let zero = data.firstIndex(of: 0), zero + 2 < data.endIndex, data[zero + 1] == 0 {
                    let key = String(decoding: data[data.startIndex..<zero], as: UTF8.self)
                    var cursor = zero + 3
                    for _ in 0..<2 {
                        guard let next = data[cursor...].firstIndex(of: 0) else { cursor = data.endIndex; break }
                        cursor = next + 1
                    }
                    if cursor <= data.endIndex {
                        s.text[key] = String(decoding: data[cursor...], as: UTF8.self)
                    }
                }
            case "IDAT":
                s.dataBytes += length
            case "IEND":
                s.hasEnd = true
            default:
                break
            }
            if !["gAMA", "sRGB", "cHRM", "iCCP"].contains(type) {
                s.stripped.append(contentsOf: bytes[offset..<end])
            }
            offset = end
            if s.hasEnd { break }
        }
        guard sawHeader else {
            throw ImageCoreError.truncated(path: path, detail: "no PNG header chunk")
        }
        guard s.hasEnd else {
            throw ImageCoreError.truncated(path: path, detail: "no IEND chunk; the file ends early")
        }
        try ImageLimits.checkPixels(width: s.width, height: s.height, path: path)
        // Filtered scanlines: one filter byte and the packed samples of each row.
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][s.colorType] ?? 4
        let rowBytes = (s.width * channels * max(s.bitDepth, 1) + 7) / 8 + 1
        try ImageLimits.checkData(rawBytes: rowBytes * s.height, compressedBytes: s.dataBytes,
                                  ratio: ImageLimits.maximumCompressionRatio, path: path)
        return s
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> DecodedImage {
        let summary = try summarize(bytes, path: path)
        let isColor = summary.colorType & 2 != 0
        let sixteen = summary.bitDepth == 16
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = summary.stripped.withUnsafeBytes { raw in
            png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count)
        }
        guard begun != 0 else {
            let message = pngMessage(&image)
            png_image_free(&image)
            throw ImageCoreError.decodeFailed(path: path, detail: message)
        }
        // Output layout: first channel is the one we keep.
        let alphaFlag: UInt32 = sixteen ? 0 : 1  // linear + alpha would premultiply
        let colorFlag: UInt32 = isColor || summary.colorType == 3 ? 2 : 0
        let linearFlag: UInt32 = sixteen ? 4 : 0
        image.format = alphaFlag | colorFlag | linearFlag
        let channels = (colorFlag != 0 ? 3 : 1) + Int(alphaFlag)
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0 else {
            png_image_free(&image)
            throw ImageCoreError.decodeFailed(path: path, detail: "zero image size")
        }
        var pixels = [Float](repeating: 0, count: width * height)
        if sixteen {
            var buffer = [UInt16](repeating: 0, count: width * height * channels)
            let ok = buffer.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
            guard ok != 0 else { throw finishError(&image, path: path) }
            for i in 0..<(width * height) { pixels[i] = Float(buffer[i * channels]) / 65535 }
        } else {
            var buffer = [UInt8](repeating: 0, count: width * height * channels)
            let ok = buffer.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
            guard ok != 0 else { throw finishError(&image, path: path) }
            for i in 0..<(width * height) { pixels[i] = Float(buffer[i * channels]) / 255 }
        }
        png_image_free(&image)

        var pixelSize: PixelSize?
        var pixelSizeNote: String?
        if let text = summary.text.first(where: { $0.key.lowercased() == pixelSizeKeyword })?.value,
           let value = Double(text.trimmingCharacters(in: .whitespaces)) {
            // Range-checked like the command line's --pixel-size.
            if value.isFinite, PixelSize.plausibleRangeNm.contains(value) {
                pixelSize = PixelSize(nanometersPerPixel: value, source: .pngText)
            } else {
                pixelSizeNote = "pixel_size_nm text \(text) is outside 0.001-1000 nm/px; ignored"
            }
        }
        let model: ImageColorModel
        switch summary.colorType {
        case 0: model = summary.bitDepth == 1 ? .bilevel : .gray
        case 2: model = .rgb
        case 3: model = .palette
        case 4: model = .grayAlpha
        default: model = .rgba
        }
        var info = ImageFileInfo(
            format: .png, width: width, height: height, bitDepth: summary.bitDepth,
            colorModel: model, compression: "deflate", pageCount: 1,
            pixelSize: pixelSize, pixelSizeNote: pixelSizeNote)
        let full: Double = sixteen ? 65535 : 255
        info.sampleType = sixteen ? "uint16" : "uint8"
        info.intensityMapping = .fullScale(maximum: full)
        info.storedRange = StoredRange.fullScale(pixels, maximum: full)
        let gray = try GrayImage(width: width, height: height, pixels: pixels, pixelSize: pixelSize)
        return DecodedImage(image: gray, info: info)
    }

    private static func finishError(_ image: inout png_image, path: String) -> ImageCoreError {
        let message = pngMessage(&image)
        png_image_free(&image)
        let lower = message.lowercased()
        if lower.contains("not enough") || lower.contains("end of") || lower.contains("truncat")
            || lower.contains("read error") {
            return .truncated(path: path, detail: message)
        }
        return .decodeFailed(path: path, detail: message)
    }

    private static func pngMessage(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            let text = String(decoding: bytes, as: UTF8.self)
            return text.isEmpty ? "libpng error" : text
        }
    }

    /// Encodes 8-bit gray (1 channel), 8-bit RGB (3 channels) or 16-bit gray samples.
    static func encode(width: Int, height: Int, channels: Int, bytes8: [UInt8]?, samples16: [UInt16]?,
                       pixelSize: PixelSize?, path: String) throws -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = (channels == 3 ? 2 : 0) | (samples16 != nil ? 4 : 0)
        var size = 0
        func write(_ memory: UnsafeMutableRawPointer?) -> Int32 {
            if let samples16 {
                return samples16.withUnsafeBytes {
                    png_image_write_to_memory(&image, memory, &size, 0, $0.baseAddress, 0, nil)
                }
            }
            return bytes8!.withUnsafeBytes {
                png_image_write_to_memory(&image, memory, &size, 0, $0.baseAddress, 0, nil)
            }
        }
        // One compression pass into a buffer of the worst-case size (raw rows plus deflate's
        // stored-block overhead and the chunks); a second pass only if that was too small.
        let rowBytes = width * channels * (samples16 != nil ? 2 : 1) + 1
        let raw = rowBytes * height
        size = raw + raw / 1000 + 64 * 1024
        var out = [UInt8](repeating: 0, count: size)
        var ok = out.withUnsafeMutableBytes { write($0.baseAddress) }
        if ok == 0 && size > out.count {
            out = [UInt8](repeating: 0, count: size)
            ok = out.withUnsafeMutableBytes { write($0.baseAddress) }
        }
        guard ok != 0 else {
            let message = pngMessage(&image)
            throw ImageCoreError.writeFailed(path: path, detail: message)
        }
        out.removeLast(out.count - size)
        if let pixelSize {
            // Insert a tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR chunk).
            let text = Array(pixelSizeKeyword.utf8) + [0] + Array(formatPixelSize(pixelSize.nanometersPerPixel).utf8)
            out.insert(contentsOf: makeChunk(type: "tEXt", data: text), at: 33)
        }
        return out
    }

    static func formatPixelSize(_ value: Double) -> String {
        // Shortest round-tripping decimal.
        "\(value)"
    }

    static func makeChunk(type: String, data: [UInt8]) -> [UInt8] {
        var chunk: [UInt8] = []
        chunk.reserveCapacity(data.count + 12)
        let length = UInt32(data.count)
        chunk += [UInt8(length >> 24), UInt8((length >> 16) & 255), UInt8((length >> 8) & 255), UInt8(length & 255)]
        let body = Array(type.utf8) + data
        chunk += body
        let crc = crc32(body)
        chunk += [UInt8(crc >> 24), UInt8((crc >> 16) & 255), UInt8((crc >> 8) & 255), UInt8(crc & 255)]
        return chunk
    }

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 as used by PNG (ISO 3309, polynomial 0xEDB88320).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    private static func readUInt32BE(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
