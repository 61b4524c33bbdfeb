import Foundation
internal import CTurboJPEG

/// Reads baseline and progressive JPEG files through libjpeg-turbo's TurboJPEG API, decoded
/// straight to 8-bit gray (colour files are converted by libjpeg-turbo's luminance, which for
/// the gray-looking RGB exports of microscope software equals any channel). The JFIF density
/// is a pixel size only when it is plausible for a microscope (it is almost always the
/// 72 or 96 dpi of an image editor); a truncated or corrupt file is an error, not a partly
/// gray image (`TJFLAG_STOPONWARNING`).
enum JPEGCodec {
    static func isJPEG(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> DecodedImage {
        guard let handle = tjInitDecompress() else {
            throw ImageCoreError.decodeFailed(path: path, detail: "libjpeg-turbo could not start")
        }
        defer { tjDestroy(handle) }
        func failure(_ what: String) -> ImageCoreError {
            let message = String(cString: tjGetErrorStr2(handle))
            let lower = message.lowercased()
            if lower.contains("premature") || lower.contains("corrupt") || lower.contains("truncat") || lower.contains("end of") {
                return .truncated(path: path, detail: "\(what): \(message)")
            }
            return .decodeFailed(path: path, detail: "\(what): \(message)")
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else { throw failure("header") }
        try ImageLimits.checkPixels(width: Int(width), height: Int(height), path: path)
        try ImageLimits.checkData(rawBytes: Int(width) * Int(height), compressedBytes: bytes.count,
                                  ratio: ImageLimits.maximumCompressionRatio, path: path)
        var gray = [UInt8](repeating: 0, count: Int(width) * Int(height))
        let status = bytes.withUnsafeBufferPointer { src in
            gray.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(bytes.count), dst.baseAddress, width, width, height,
                              Int32(TJPF_GRAY.rawValue), Int32(TJFLAG_STOPONWARNING | TJFLAG_ACCURATEDCT))
            }
        }
        guard status == 0 else { throw failure("image data") }

        var pixelSize: PixelSize?
        var note: String?
        if let density = jfifDensity(bytes), density.x > 0, density.unit != 0 {
            let nm = (density.unit == 2 ? 1e7 : 25.4e6) / Double(density.x)
            let unitName = density.unit == 2 ? "px/cm" : "dpi"
            if PixelSize.plausibleRangeNm.contains(nm) {
                pixelSize = PixelSize(nanometersPerPixel: nm, source: .tiffResolution)
            } else {
                note = "JFIF density of \(density.x) \(unitName) ignored: not a microscope calibration"
            }
        }
        let pixels = gray.map { Float($0) / 255 }
        let colour = colorspace != Int32(TJCS_GRAY.rawValue)
        var info = ImageFileInfo(
            format: .jpeg, width: Int(width), height: Int(height), bitDepth: 8, colorModel: colour ? .rgb : .gray,
            compression: "JPEG", pageCount: 1, pixelSize: pixelSize, pixelSizeNote: note)
        info.sampleType = "uint8"
        info.intensityMapping = .fullScale(maximum: 255)
        info.storedRange = StoredRange.fullScale(pixels, maximum: 255)
        let image = try GrayImage(width: Int(width), height: Int(height), pixels: pixels, pixelSize: pixelSize)
        return DecodedImage(image: image, info: info)
    }

    /// The APP0 JFIF segment's density: units (0 none, 1 dpi, 2 dots per cm) and x density.
    static func jfifDensity(_ bytes: [UInt8]) -> (unit: Int, x: Int)? {
        var at = 2
        while at + 4 <= bytes.count, bytes[at] == 0xFF {
            let marker = bytes[at + 1]
            let length = Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            guard length >= 2, at + 2 + length <= bytes.count else { return nil }
            if marker == 0xE0, length >= 14, Array(bytes[(at + 4)..<(at + 9)]) == [0x4A, 0x46, 0x49, 0x46, 0] {
                return (Int(bytes[at + 11]), Int(bytes[at + 12]) << 8 | Int(bytes[at + 13]))
            }
            if marker == 0xDA { return nil }  // start of scan: no JFIF header before it
            at += 2 + length
        }
        return nil
    }
}
