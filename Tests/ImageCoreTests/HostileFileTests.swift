import Foundation
import ImageCore
import Testing
import TestSupport

/// A PNG chunk with its CRC.
func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in Array(type.utf8) + data {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    crc = ~crc
    func be(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> UInt32($0)) } }
    return be(UInt32(data.count)) + Array(type.utf8) + data + be(crc)
}

/// A gray 8-bit PNG whose header says `width` x `height`, with the given IDAT and text chunks.
func craftedPNG(width: UInt32, height: UInt32, idat: [UInt8], text: [String: String] = [:]) -> [UInt8] {
    func be(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> UInt32($0)) } }
    var out: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
    out += pngChunk("IHDR", be(width) + be(height) + [8, 0, 0, 0, 0])
    for (k, v) in text { out += pngChunk("tEXt", Array(k.utf8) + [0] + Array(v.utf8)) }
    out += pngChunk("IDAT", idat) + pngChunk("IEND", [])
    return out
}

/// A zlib stream of stored (uncompressed) blocks.
func storedZlib(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x78, 0x01]
    var k = 0
    repeat {
        let n = min(65535, data.count - k)
        out += [k + n == data.count ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
        out += data[k..<(k + n)]
        k += n
    } while k < data.count
    var a: UInt32 = 1, b: UInt32 = 0
    for v in data { a = (a + UInt32(v)) % 65521; b = (b + a) % 65521 }
    let adler = b << 16 | a
    return out + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: adler >> UInt32($0)) }
}

@Suite("Hostile files")
struct HostileFileTests {
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = TestPaths.temporaryFolder().appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("a 69-byte PNG that declares 100,000 x 100,000 px is refused before any allocation")
    func hugeDeclaredSize() throws {
        let path = try write(craftedPNG(width: 100_000, height: 100_000, idat: [0x78, 0x9C, 3, 0, 0, 0, 0, 1]), "huge.png")
        #expect(throws: ImageCoreError.self) { try ImageReader.read(path) }
        do { _ = try ImageReader.read(path) } catch let e as ImageCoreError {
            #expect(e.errorDescription?.contains("over the limit") == true)
        }
    }

    @Test("a header that declares more pixels than the compressed data can hold is a truncated file")
    func declaredBeyondData() throws {
        // 10,000 x 10,000 = 100 Mpx (under the limit) from 8 bytes of data.
        let path = try write(craftedPNG(width: 10_000, height: 10_000, idat: [0x78, 0x9C, 3, 0, 0, 0, 0, 1]), "thin.png")
        #expect {
            try ImageReader.read(path)
        } throws: { error in
            if case .truncated? = error as? ImageCoreError { return true }
            return false
        }
    }

    @Test("pixel_size_nm texts outside 0.001-1000 nm/px are ignored with a note, never used",
          arguments: ["1e-300", "1e300", "1e-320", "-1", "nan", "0"])
    func implausiblePixelSize(text: String) throws {
        let rows = (0..<4).flatMap { _ in [UInt8(0)] + [UInt8](repeating: 128, count: 4) }
        let path = try write(craftedPNG(width: 4, height: 4, idat: storedZlib(rows), text: ["pixel_size_nm": text]), "ps.png")
        let decoded = try ImageReader.read(path)
        #expect(decoded.info.pixelSize == nil && decoded.image.pixelSize == nil)
        if !["-1", "nan", "0"].contains(text) { #expect(decoded.info.pixelSizeNote?.contains("outside") == true) }
        let good = try write(craftedPNG(width: 4, height: 4, idat: storedZlib(rows), text: ["pixel_size_nm": "0.4"]), "ok.png")
        #expect(try ImageReader.read(good).info.pixelSize?.nanometersPerPixel == 0.4)
    }

    @Test("thumbnails of strips lower than the shrink factor, and circles far larger than the canvas, draw without crashing")
    func drawing() {
        var strip = RGBCanvas(width: 6000, height: 10, color: RGB(10, 20, 30))
        let small = strip.thumbnail(maximumWidth: 560)
        #expect(small.width == 545 && small.height == 1)
        #expect(small.bytes[0] == 10 && small.bytes[1] == 20 && small.bytes[2] == 30)
        strip.circle(centerX: 5, centerY: 5, radius: 1e12, color: .label)
        strip.fill(row: 50, column: 10, width: 5, height: 5, color: .label)  // outside: nothing
        #expect(strip.bytes[0] == 10)
    }

    /// Every input that once crashed or hung a decoder (found by `sootfuzz`, see
    /// `scripts/fuzz.sh`) is read again: a clear error or an image, never a crash.
    @Test("the fuzzing regression corpus reads as an image or a clear error")
    func regressionCorpus() throws {
        let folder = TestPaths.fixture("fuzz")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted()
        #expect(files.count >= 1)
        var errors = 0
        for name in files {
            do {
                let decoded = try ImageReader.read((folder as NSString).appendingPathComponent(name))
                #expect(decoded.image.count == decoded.info.width * decoded.info.height)
            } catch is ImageCoreError {
                errors += 1
            }
        }
        #expect(errors >= 1)
    }
}
