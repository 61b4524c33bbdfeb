import Foundation
internal import CTIFF

/// Reads TIFF files through libtiff: 1-, 2-, 4-, 8-, 16- and 32-bit unsigned, 8-, 16- and
/// 32-bit signed, 32- and 64-bit floating-point samples (mapped to 0...1 as
/// `IntensityMapping` says), gray
/// (MinIsBlack or MinIsWhite), RGB and palette, strips or tiles, contiguous or planar, any
/// compression libtiff decodes (CCITT Group 3/4, PackBits, LZW, Deflate, ...). The first
/// page of a multi-page file is read; the first channel of a colour image is kept
/// (METHODS.md section 1.1). WhiteIsZero images are inverted so that stored 0 reads as white.
///
/// libtiff's error and warning handlers are per-file (`TIFFOpenExt`), so messages are
/// collected without global state and reported in the thrown error.
enum TIFFCodec {
    static func isTIFF(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        let little = bytes[0] == 0x49 && bytes[1] == 0x49 && bytes[3] == 0
            && (bytes[2] == 42 || bytes[2] == 43)
        let big = bytes[0] == 0x4D && bytes[1] == 0x4D && bytes[2] == 0
            && (bytes[3] == 42 || bytes[3] == 43)
        return little || big
    }

    /// Collects libtiff's messages for one file.
    final class MessageLog {
        var errors: [String] = []
        var summary: String { errors.last ?? "libtiff could not read the file" }
    }

    private static let errorHandler: TIFFErrorHandlerExtR = { _, userData, module, format, arguments in
        guard let userData, let format, let arguments else { return 1 }
        var buffer = [CChar](repeating: 0, count: 512)
        _ = vsnprintf(&buffer, buffer.count, format, arguments)
        let log = Unmanaged<MessageLog>.fromOpaque(userData).takeUnretainedValue()
        var text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if let module {
            let name = String(cString: module)
            if !name.isEmpty && !name.hasPrefix("/") { text = "\(name): \(text)" }
        }
        log.errors.append(text)
        return 1
    }

    private static let warningHandler: TIFFErrorHandlerExtR = { _, _, _, _, _ in 1 }

    static func decode(path: String, bytes: [UInt8]) throws -> DecodedImage {
        let log = MessageLog()
        let retained = Unmanaged.passRetained(log)
        defer { retained.release() }
        guard let options = TIFFOpenOptionsAlloc() else {
            throw ImageCoreError.decodeFailed(path: path, detail: "libtiff allocation failed")
        }
        defer { TIFFOpenOptionsFree(options) }
        TIFFOpenOptionsSetErrorHandlerExtR(options, errorHandler, retained.toOpaque())
        TIFFOpenOptionsSetWarningHandlerExtR(options, warningHandler, nil)
        guard let tif = TIFFOpenExt(path, "r", options) else {
            throw classify(log.summary, path: path)
        }
        defer { TIFFClose(tif) }

        func field16(_ tag: Int32, default value: UInt16) -> UInt16 {
            var v: UInt16 = value
            let found = withUnsafeMutablePointer(to: &v) { p in
                withVaList([p]) { TIFFVGetField(tif, UInt32(tag), $0) }
            }
            return found != 0 ? v : value
        }
        func field32(_ tag: Int32) -> UInt32? {
            var v: UInt32 = 0
            let found = withUnsafeMutablePointer(to: &v) { p in
                withVaList([p]) { TIFFVGetField(tif, UInt32(tag), $0) }
            }
            return found != 0 ? v : nil
        }
        func fieldFloat(_ tag: Int32) -> Float? {
            var v: Float = 0
            let found = withUnsafeMutablePointer(to: &v) { p in
                withVaList([p]) { TIFFVGetField(tif, UInt32(tag), $0) }
            }
            return found != 0 ? v : nil
        }

        guard let width32 = field32(TIFFTAG_IMAGEWIDTH), let height32 = field32(TIFFTAG_IMAGELENGTH),
              width32 > 0, height32 > 0 else {
            throw ImageCoreError.decodeFailed(path: path, detail: "missing or zero image size")
        }
        let width = Int(width32), height = Int(height32)
        let bitsPerSample = Int(field16(TIFFTAG_BITSPERSAMPLE, default: 1))
        let samplesPerPixel = Int(field16(TIFFTAG_SAMPLESPERPIXEL, default: 1))
        let sampleFormat = field16(TIFFTAG_SAMPLEFORMAT, default: 1)
        let photometric = Int32(field16(TIFFTAG_PHOTOMETRIC, default: UInt16(PHOTOMETRIC_MINISBLACK)))
        let planar = Int32(field16(TIFFTAG_PLANARCONFIG, default: UInt16(PLANARCONFIG_CONTIG)))
        let compression = Int32(field16(TIFFTAG_COMPRESSION, default: 1))

        guard [1, 2, 3].contains(sampleFormat) else {
            throw ImageCoreError.unsupported(path: path, detail: "sample format \(sampleFormat) (complex or undefined samples)")
        }
        let sampleType: String
        switch (sampleFormat, bitsPerSample) {
        case (1, 1), (1, 2), (1, 4), (1, 8): sampleType = "uint8"
        case (1, 16): sampleType = "uint16"
        case (1, 32): sampleType = "uint32"
        case (2, 8): sampleType = "int8"
        case (2, 16): sampleType = "int16"
        case (2, 32): sampleType = "int32"
        case (3, 32): sampleType = "float32"
        case (3, 64): sampleType = "float64"
        default:
            let kind = sampleFormat == 3 ? "floating-point" : sampleFormat == 2 ? "signed" : "unsigned"
            throw ImageCoreError.unsupported(path: path, detail: "\(bitsPerSample)-bit \(kind) samples")
        }
        // 1-16 bit unsigned samples keep their full scale; the others are stretched (IntensityMapping).
        let fullScale = sampleFormat == 1 && bitsPerSample <= 16
        guard [PHOTOMETRIC_MINISWHITE, PHOTOMETRIC_MINISBLACK, PHOTOMETRIC_RGB, PHOTOMETRIC_PALETTE]
                .contains(photometric) else {
            throw ImageCoreError.unsupported(path: path, detail: "photometric interpretation \(photometric)")
        }
        guard fullScale || photometric != PHOTOMETRIC_PALETTE else {
            throw ImageCoreError.unsupported(path: path, detail: "palette image with \(sampleType) samples")
        }
        guard samplesPerPixel >= 1 && samplesPerPixel <= 8 else {
            throw ImageCoreError.unsupported(path: path, detail: "\(samplesPerPixel) samples per pixel")
        }

        try ImageLimits.checkPixels(width: width, height: height, path: path)
        // Bits between the first samples of neighbouring pixels within one decoded row.
        let pixelStrideBits = planar == PLANARCONFIG_CONTIG ? bitsPerSample * samplesPerPixel : bitsPerSample
        let rowBytes = (width * pixelStrideBits + 7) / 8
        // The stored data must be able to hold what the header declares (before allocating it).
        let striles = Int(TIFFIsTiled(tif) != 0 ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif))
        var storedBytes = 0
        for k in 0..<min(striles, 1 << 24) { storedBytes += Int(clamping: TIFFGetStrileByteCount(tif, UInt32(k))) }
        let ratio: Int
        switch compression {
        case COMPRESSION_NONE: ratio = 1
        case COMPRESSION_PACKBITS: ratio = 64
        // CCITT codes can stand for a whole blank row with a few bits.
        case COMPRESSION_CCITTRLE, COMPRESSION_CCITTFAX3, COMPRESSION_CCITTFAX4:
            ratio = max(ImageLimits.maximumCompressionRatio, rowBytes * 8)
        default: ratio = ImageLimits.maximumCompressionRatio
        }
        try ImageLimits.checkData(rawBytes: rowBytes * height, compressedBytes: storedBytes, ratio: ratio, path: path)
        var plane = [UInt8](repeating: 0, count: rowBytes * height)
        try plane.withUnsafeMutableBytes { planeBytes in
            let base = planeBytes.baseAddress!
            if TIFFIsTiled(tif) != 0 {
                guard let tileWidth = field32(TIFFTAG_TILEWIDTH), let tileLength = field32(TIFFTAG_TILELENGTH) else {
                    throw ImageCoreError.decodeFailed(path: path, detail: "tiled file without tile size")
                }
                try ImageLimits.checkPixels(width: Int(tileWidth), height: Int(tileLength), path: path)
                let tileSize = Int(TIFFTileSize(tif))
                let tileRowBytes = Int(TIFFTileRowSize(tif))
                var tile = [UInt8](repeating: 0, count: max(tileSize, 1))
                for ty in stride(from: 0, to: height, by: Int(tileLength)) {
                    for tx in stride(from: 0, to: width, by: Int(tileWidth)) {
                        let got = tile.withUnsafeMutableBytes {
                            TIFFReadTile(tif, $0.baseAddress, UInt32(tx), UInt32(ty), 0, 0)
                        }
                        guard got >= 0 else { throw classify(log.summary, path: path) }
                        let xByte = tx * pixelStrideBits / 8
                        let copyBytes = min(tileRowBytes, rowBytes - xByte)
                        for r in 0..<min(Int(tileLength), height - ty) {
                            tile.withUnsafeBytes { t in
                                (base + (ty + r) * rowBytes + xByte).copyMemory(
                                    from: t.baseAddress! + r * tileRowBytes, byteCount: copyBytes)
                            }
                        }
                    }
                }
            } else {
                let scanline = Int(TIFFScanlineSize(tif))
                var row = [UInt8](repeating: 0, count: max(scanline, rowBytes))
                for r in 0..<height {
                    let got = row.withUnsafeMutableBytes { TIFFReadScanline(tif, $0.baseAddress, UInt32(r), 0) }
                    guard got >= 0 else { throw classify(log.summary, path: path, row: r) }
                    row.withUnsafeBytes { (base + r * rowBytes).copyMemory(from: $0.baseAddress!, byteCount: rowBytes) }
                }
            }
        }

        // Palette lookup (red channel), 16-bit entries.
        var palette: [Float]?
        if photometric == PHOTOMETRIC_PALETTE {
            var red: UnsafeMutablePointer<UInt16>?
            var green: UnsafeMutablePointer<UInt16>?
            var blue: UnsafeMutablePointer<UInt16>?
            let found = withUnsafeMutablePointer(to: &red) { r in
                withUnsafeMutablePointer(to: &green) { g in
                    withUnsafeMutablePointer(to: &blue) { b in
                        withVaList([r, g, b]) { TIFFVGetField(tif, UInt32(TIFFTAG_COLORMAP), $0) }
                    }
                }
            }
            guard found != 0, let red else {
                throw ImageCoreError.decodeFailed(path: path, detail: "palette image without a colour map")
            }
            palette = (0..<(1 << bitsPerSample)).map { Float(red[$0]) / 65535 }
        }

        let maxValue = Float((1 << min(bitsPerSample, 16)) - 1)
        let invert = photometric == PHOTOMETRIC_MINISWHITE
        var pixels = [Float](repeating: 0, count: width * height)
        // Stored values are kept only where they are stretched; full-scale samples keep running statistics.
        var stored = [Double](repeating: 0, count: fullScale ? 0 : width * height)
        var low = Int.max, high = Int.min, total = 0.0
        plane.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            for r in 0..<height {
                let rowBase = r * rowBytes
                for c in 0..<width {
                    let at = rowBase + c * pixelStrideBits / 8
                    // libtiff hands samples over in host byte order.
                    if !fullScale {
                        let v: Double
                        switch sampleType {
                        case "int8": v = Double(Int8(bitPattern: bytes[at]))
                        case "int16": v = Double(raw.loadUnaligned(fromByteOffset: at, as: Int16.self))
                        case "int32": v = Double(raw.loadUnaligned(fromByteOffset: at, as: Int32.self))
                        case "uint32": v = Double(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))
                        case "float32": v = Double(raw.loadUnaligned(fromByteOffset: at, as: Float.self))
                        default: v = raw.loadUnaligned(fromByteOffset: at, as: Double.self)
                        }
                        stored[r * width + c] = v
                        continue
                    }
                    let sample: Int
                    switch bitsPerSample {
                    case 8: sample = Int(bytes[at])
                    case 16: sample = Int(raw.loadUnaligned(fromByteOffset: at, as: UInt16.self))
                    default:
                        let bit = c * pixelStrideBits
                        let byte = bytes[rowBase + bit / 8]
                        let shift = 8 - bitsPerSample - (bit % 8)
                        sample = Int(byte >> UInt8(shift)) & ((1 << bitsPerSample) - 1)
                    }
                    low = min(low, sample); high = max(high, sample); total += Double(sample)
                    var v = palette?[sample] ?? Float(sample) / maxValue
                    if invert { v = 1 - v }
                    pixels[r * width + c] = v
                }
            }
        }
        let mapping: IntensityMapping
        var storedRange = StoredRange(stored)
        if fullScale {
            storedRange = StoredRange([Double(low), Double(high)])
            storedRange?.mean = total / Double(width * height)
            mapping = .fullScale(maximum: Double(maxValue))
        } else {
            let stretched = IntensityMapping.stretch(stored)
            pixels = invert ? stretched.pixels.map { 1 - $0 } : stretched.pixels
            mapping = stretched.mapping
        }

        // Resolution tags -> pixel size, when plausible for a microscope.
        var pixelSize: PixelSize?
        var note: String?
        let calibration = TIFFDirectory(bytes).flatMap { TIFFCalibration.find($0, height: height) }
        let unit = Int32(field16(TIFFTAG_RESOLUTIONUNIT, default: UInt16(RESUNIT_INCH)))
        if let calibration {
            pixelSize = calibration.pixelSize
            note = calibration.note
        } else if let xres = fieldFloat(TIFFTAG_XRESOLUTION), xres > 0, unit != RESUNIT_NONE {
            let nmPerUnit = unit == RESUNIT_CENTIMETER ? 1e7 : 25.4e6
            let nm = nmPerUnit / Double(xres)
            if PixelSize.plausibleRangeNm.contains(nm) {
                pixelSize = PixelSize(nanometersPerPixel: nm, source: .tiffResolution)
            } else {
                let unitName = unit == RESUNIT_CENTIMETER ? "px/cm" : "dpi"
                note = "resolution tag of \(formatShort(Double(xres))) \(unitName) ignored: not a microscope calibration"
            }
        }

        let model: ImageColorModel
        switch photometric {
        case PHOTOMETRIC_PALETTE: model = .palette
        case PHOTOMETRIC_RGB: model = samplesPerPixel >= 4 ? .rgba : .rgb
        default:
            model = bitsPerSample == 1 ? .bilevel : (samplesPerPixel >= 2 ? .grayAlpha : .gray)
        }
        var info = ImageFileInfo(
            format: .tiff, width: width, height: height, bitDepth: bitsPerSample, colorModel: model,
            compression: compressionName(compression), pageCount: Int(TIFFNumberOfDirectories(tif)),
            pixelSize: pixelSize, pixelSizeNote: note)
        info.sampleType = sampleType
        info.storedRange = storedRange
        info.intensityMapping = mapping
        info.metadataFooterStartRow = calibration?.footerStartRow
        let image = try GrayImage(width: width, height: height, pixels: pixels, pixelSize: pixelSize)
        return DecodedImage(image: image, info: info)
    }

    private static func classify(_ message: String, path: String, row: Int? = nil) -> ImageCoreError {
        let lower = message.lowercased()
        let place = row.map { " at row \($0)" } ?? ""
        if lower.contains("read error") || lower.contains("eof") || lower.contains("seek")
            || lower.contains("premature") || lower.contains("cannot read") || lower.contains("past end")
            || lower.contains("failed to read directory") {
            return .truncated(path: path, detail: message + place)
        }
        return .decodeFailed(path: path, detail: message + place)
    }

    static func compressionName(_ code: Int32) -> String {
        switch code {
        case 1: return "none"
        case 2: return "CCITT modified Huffman (RLE)"
        case 3: return "CCITT Group 3"
        case 4: return "CCITT Group 4"
        case 5: return "LZW"
        case 6, 7: return "JPEG"
        case 8, 32946: return "Deflate"
        case 32773: return "PackBits"
        case 34925: return "LZMA"
        case 50000: return "Zstandard"
        default: return "code \(code)"
        }
    }
}

func formatShort(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(format: "%.4g", value)
}
