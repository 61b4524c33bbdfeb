import Foundation
import ImageCore
import Testing
import TestSupport

/// The vendors' TIFF calibrations on files written with the tags each vendor writes, and
/// JPEG files through libjpeg-turbo.
@Suite("TIFF calibrations and JPEG")
struct CalibrationTagTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func read(_ bytes: [UInt8]) throws -> DecodedImage {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("calib-\(UUID().uuidString).tif")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try ImageReader.read(url.path)
    }

    let samples = (0..<(8 * 6)).map { Double($0 * 5) }

    @Test("FEI, Zeiss, ImageJ (nm, Å, pixel), OME-XML and Gatan tags give the pixel size they store",
          arguments: [
            ([34682: TestTIFF.Value.ascii("[User]\r\nDate=01/01/2020\r\n[Scan]\r\nPixelWidth=2.5e-010\r\nPixelHeight=2.5e-010\r\n[Image]\r\nResolutionX=8\r\nResolutionY=4\r\n")], 0.25, PixelSizeSource.fei),
            ([34682: .ascii("[IRBeam]\r\nHFW=4e-06\r\n[Image]\r\nResolutionX=8\r\n")], 500.0, .fei),
            ([34118: .ascii("\0AP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 1.166 nm\r\nAP_WD\r\nWD = 5.0 mm\r\n")], 1.166, .zeiss),
            ([34118: .ascii("AP_PIXEL_SIZE\nPixel Size = 0.5 µm\n")], 500.0, .zeiss),
            ([270: .ascii("ImageJ=1.53t\nunit=nm\n"), 282: .rational(5, 2)], 0.4, .imageJ),
            ([270: .ascii("ImageJ=1.53t\nunit=angstrom\n"), 282: .rational(1, 4)], 0.4, .imageJ),
            ([270: .ascii("<?xml version=\"1.0\"?><OME xmlns=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\"><Image ID=\"Image:0\"><Pixels DimensionOrder=\"XYCZT\" ID=\"Pixels:0\" PhysicalSizeX=\"0.0004\" PhysicalSizeY=\"0.0004\" SizeX=\"8\" SizeY=\"6\" Type=\"uint8\"/></Image></OME>")], 0.4, .ome),
            ([270: .ascii("<OME><Image><Pixels PhysicalSizeX=\"3.5\" PhysicalSizeXUnit=\"Å\" SizeX=\"8\"/></Image></OME>")], 0.35, .ome),
            ([65003: .ascii("nm"), 65009: .double(0.8)], 0.8, .gatanTIFF),
          ] as [([Int: TestTIFF.Value], Double, PixelSizeSource)])
    func vendorTags(tags: [Int: TestTIFF.Value], nm: Double, source: PixelSizeSource) throws {
        let decoded = try read(TestTIFF.make(width: 8, height: 6, samples: samples, tags: tags))
        let ps = try #require(decoded.info.pixelSize, "\(decoded.info.pixelSizeNote ?? "")")
        #expect(abs(ps.nanometersPerPixel - nm) <= 1e-6 * nm)
        #expect(ps.source == source)
    }

    @Test("calibrations that are not lengths are reported, not used")
    func notLengths() throws {
        let cases: [([Int: TestTIFF.Value], String)] = [
            ([270: .ascii("ImageJ=1.53t\nunit=pixel\n"), 282: .rational(1, 1)], "not a length"),
            ([270: .ascii("ImageJ=1.53t\nunit=1/nm\n"), 282: .rational(1, 1)], "not a length"),
            ([65003: .ascii("1/nm"), 65009: .double(0.1)], "not a length"),
            ([270: .ascii("<OME><Image><Pixels SizeX=\"8\"/></Image></OME>")], "without PhysicalSizeX"),
            ([34682: .ascii("[User]\r\nDate=1\r\n")], "no usable length"),
        ]
        for (tags, note) in cases {
            let info = try read(TestTIFF.make(width: 8, height: 6, samples: samples, tags: tags)).info
            #expect(info.pixelSize == nil)
            #expect(info.pixelSizeNote?.contains(note) == true, "\(info.pixelSizeNote ?? "nil")")
        }
    }

    @Test("a float TIFF without calibration reads stretched; damaged tag offsets are skipped, not followed")
    func floatAndDamagedTags() throws {
        let values = (0..<48).map { Double($0) * 0.25 - 3 }
        let decoded = try read(TestTIFF.make(width: 8, height: 6, samples: values, float: true))
        #expect(decoded.info.sampleType == "float32")
        #expect(decoded.info.storedRange?.minimum == -3 && decoded.info.storedRange?.maximum == 8.75)
        #expect(decoded.image.pixels.first == 0 && decoded.image.pixels.last == 1)
        // A description tag whose offset points past the end of the file.
        var bytes = TestTIFF.make(width: 8, height: 6, samples: samples, tags: [270: .ascii("ImageJ=1.53t\nunit=nm\n"), 282: .rational(5, 2)])
        if let at = bytes.indices.dropLast(12).first(where: { bytes[$0] == 0x0E && bytes[$0 + 1] == 0x01 && bytes[$0 + 2] == 2 }) {
            bytes[at + 8] = 0xFF; bytes[at + 9] = 0xFF; bytes[at + 10] = 0xFF; bytes[at + 11] = 0x7F
        }
        let damaged = try read(bytes)
        #expect(damaged.info.pixelSize?.source != .imageJ)
    }

    @Test("JPEG: gray and progressive colour decode; a 300 dpi density is not a calibration; truncation is an error")
    func jpeg() throws {
        let gray = try ImageReader.read(Self.fixtures.appendingPathComponent("gray8_300dpi.jpg").path)
        #expect(gray.info.format == .jpeg && gray.info.width == 64 && gray.info.height == 48)
        #expect(gray.info.pixelSize == nil && gray.info.pixelSizeNote?.contains("300 dpi") == true)
        // The dark rectangle (30/255) and the ramp (40...220) survive quality 92.
        #expect(abs(gray.image[20, 30] - 30.0 / 255) < 0.03)
        #expect(abs(gray.image[40, 63] - 220.0 / 255) < 0.03)
        let colour = try ImageReader.read(Self.fixtures.appendingPathComponent("rgb_progressive.jpg").path)
        #expect(colour.info.colorModel == .rgb)
        #expect(zip(colour.image.pixels, gray.image.pixels).map { abs($0 - $1) }.max()! < 0.05)
        #expect(throws: ImageCoreError.self) {
            try ImageReader.read(Self.fixtures.appendingPathComponent("gray8_truncated.jpg").path)
        }
    }
}
