import Foundation
import ImageCore
import Testing
import TestSupport

/// The fixtures were written by Pillow (tools/make_image_fixtures.py): v(r, c) = (16 r + 5 c) % 256.
private func expectedGray(_ r: Int, _ c: Int) -> Int { (16 * r + 5 * c) % 256 }
private func expectedDisk(_ r: Int, _ c: Int) -> Bool { (r - 8) * (r - 8) + (c - 11) * (c - 11) <= 36 }

@Suite("Image reading and writing")
struct ImageIOTests {
    @Test("8-bit readers return the stored values (first channel of colour files)",
          arguments: ["gray8.png", "rgb8.png", "rgba8.png", "gray_alpha8.png",
                      "gray8_lzw.tif", "gray8_deflate.tif", "rgb8_lzw.tif", "multipage.tif"])
    func eightBit(name: String) throws {
        let decoded = try ImageReader.read(TestPaths.fixture(name))
        #expect(decoded.image.width == 24 && decoded.image.height == 16)
        #expect(decoded.info.bitDepth == 8)
        for r in 0..<16 {
            for c in 0..<24 {
                #expect(Int(decoded.image.value8(atIndex: r * 24 + c)) == expectedGray(r, c), "\(name) at \(r),\(c)")
            }
        }
    }

    @Test("16-bit PNG and TIFF keep full precision", arguments: ["gray16.png", "gray16.tif"])
    func sixteenBit(name: String) throws {
        let decoded = try ImageReader.read(TestPaths.fixture(name))
        #expect(decoded.info.bitDepth == 16)
        for r in 0..<16 {
            for c in 0..<24 {
                let stored = (decoded.image[r, c] * 65535).rounded()
                #expect(Int(stored) == (expectedGray(r, c) * 257 + r) % 65536)
            }
        }
    }

    @Test("palette images are expanded, first channel kept")
    func palette() throws {
        let decoded = try ImageReader.read(TestPaths.fixture("palette.png"))
        #expect(decoded.info.colorModel == .palette)
        for r in 0..<16 {
            for c in 0..<24 {
                #expect(Int(decoded.image.value8(atIndex: r * 24 + c)) == 36 * (expectedGray(r, c) / 32))
            }
        }
    }

    @Test("bilevel masks: 1-bit PNG, CCITT G3/G4 and PackBits TIFF, 8-bit PackBits",
          arguments: ["mask1.png", "mask_g3.tif", "mask_g4.tif", "mask_packbits1.tif", "mask8_packbits.tif"])
    func masks(name: String) throws {
        let mask = try ImageReader.readMask(TestPaths.fixture(name))
        for r in 0..<16 {
            for c in 0..<24 { #expect(mask[r, c] == expectedDisk(r, c), "\(name) at \(r),\(c)") }
        }
    }

    @Test("TIFF resolution becomes a pixel size only when plausible")
    func tiffResolution() throws {
        let calibrated = try ImageReader.read(TestPaths.fixture("gray8_deflate.tif"))
        #expect(calibrated.image.pixelSize?.source == .tiffResolution)
        #expect(abs((calibrated.image.pixelSize?.nanometersPerPixel ?? 0) - 0.5) < 1e-6)
        let screen = try ImageReader.read(TestPaths.fixture("gray8_72dpi.tif"))
        #expect(screen.image.pixelSize == nil)
        #expect(screen.info.pixelSizeNote?.contains("72 dpi") == true)
    }

    @Test("PNG round trip keeps values and the pixel size text chunk")
    func pngRoundTrip() throws {
        let folder = TestPaths.temporaryFolder()
        var image = randomImage(width: 37, height: 23, seed: 1)
        image.pixelSize = PixelSize(nanometersPerPixel: 0.437, source: .user)
        let path8 = folder.appendingPathComponent("a.png").path
        try ImageWriter.writePNG8(image, to: path8)
        let back = try ImageReader.read(path8)
        #expect(back.image.bytes8() == image.bytes8())
        #expect(back.image.pixelSize?.nanometersPerPixel == 0.437)
        #expect(back.image.pixelSize?.source == .pngText)

        let path16 = folder.appendingPathComponent("b.png").path
        var fine = image
        fine.pixels = (0..<image.count).map { Float($0 % 65536) / 65535 }
        try ImageWriter.writePNG16(fine, to: path16)
        let back16 = try ImageReader.read(path16)
        #expect(back16.info.bitDepth == 16)
        #expect(back16.image.pixels == fine.pixels)

        let pathRGB = folder.appendingPathComponent("c.png").path
        let rgb: [UInt8] = (0..<(5 * 4)).flatMap { i -> [UInt8] in [UInt8(i * 10), 7, 9] }
        try ImageWriter.writeRGB(width: 5, height: 4, rgb: rgb, pixelSize: nil, to: pathRGB)
        let backRGB = try ImageReader.read(pathRGB)
        #expect(backRGB.info.colorModel == .rgb)
        #expect(backRGB.image.bytes8() == (0..<20).map { UInt8($0 * 10) })

        let maskPath = folder.appendingPathComponent("m.png").path
        let mask = randomMask(width: 13, height: 11, fraction: 0.4, seed: 3)
        try ImageWriter.writeMask(mask, to: maskPath)
        #expect(try ImageReader.readMask(maskPath) == mask)
        try? FileManager.default.removeItem(at: folder)
    }

    @Test("bad files give typed errors naming the file")
    func badFiles() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let empty = folder.appendingPathComponent("empty.png").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(throws: ImageCoreError.emptyFile(path: empty)) { try ImageReader.read(empty) }

        let text = folder.appendingPathComponent("notes.png").path
        _ = FileManager.default.createFile(atPath: text, contents: Data("not a picture".utf8))
        #expect(throws: ImageCoreError.unrecognisedFormat(path: text)) { try ImageReader.read(text) }

        let missing = folder.appendingPathComponent("missing.tif").path
        #expect(throws: ImageCoreError.cannotOpen(path: missing, reason: "no such file")) {
            try ImageReader.read(missing)
        }
        #expect(throws: ImageCoreError.self) { try ImageReader.read(folder.path) }

        // Truncated copies of valid files.
        for name in ["gray8.png", "gray8_lzw.tif", "mask_g4.tif"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture(name)))
            let cut = folder.appendingPathComponent("cut-" + name).path
            _ = FileManager.default.createFile(atPath: cut, contents: bytes.prefix(bytes.count / 2))
            do {
                _ = try ImageReader.read(cut)
                Issue.record("\(name) cut in half was read without error")
            } catch let error as ImageCoreError {
                let message = error.errorDescription ?? ""
                #expect(message.hasPrefix(cut), "message names the file: \(message)")
            }
        }
    }

    @Test("the shared real images and masks read as 2240 x 1952; masks are 1-bit with known fractions",
          .enabled(if: TestPaths.hasSharedData))
    func sharedRealData() throws {
        // Foreground fractions and the mean of one image, computed independently with Pillow.
        let expectedFractions = [
            "20180529_A9_003": 0.08595922680035128, "201805A_A6_004": 0.07878823916861827,
            "Case1_E7_025": 0.06532791459309134, "RU_FI_A10_004": 0.13934266137295082,
        ]
        for (stem, fraction) in expectedFractions {
            let image = try ImageReader.read(TestPaths.sharedReal.appendingPathComponent("images/\(stem).png").path)
            #expect(image.image.width == 2240 && image.image.height == 1952)
            #expect(image.info.bitDepth == 8 && image.info.colorModel == .gray)
            let maskFile = try ImageReader.read(TestPaths.sharedReal.appendingPathComponent("masks/\(stem).tif").path)
            #expect(maskFile.info.bitDepth == 1 && maskFile.info.colorModel == .bilevel)
            #expect(maskFile.image.width == 2240 && maskFile.image.height == 1952)
            let mask = BinaryMask(maskFile.image, above: 0)
            #expect(abs(mask.trueFraction - fraction) < 1e-12, "\(stem)")
            if stem == "20180529_A9_003" {
                let mean = image.image.bytes8().reduce(0) { $0 + Double($1) } / Double(image.image.count)
                #expect(abs(mean - 164.35036775468384) < 1e-9)
            }
        }
    }
}
