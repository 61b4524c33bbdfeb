import Foundation
import ImageCore
import Testing
import TestSupport

/// Every file of ../shared/data/formats through `ImageReader`, against RosettaSciIO's
/// readings in expected.json: shape, stored type, stored values and pixel size (0.1 %).
@Suite("Microscope files through ImageReader", .enabled(if: TestPaths.hasSharedData))
struct FormatFilesTests {
    static let folder = GatanDMTests.folder

    @Test("every shared file reads as expected.json says")
    func everyFile() throws {
        let all = try GatanDMTests.expected()
        #expect(all.count == 28)
        for (file, e) in all.sorted(by: { $0.key < $1.key }) {
            let decoded = try ImageReader.read(Self.folder.appendingPathComponent(file).path)
            let info = decoded.info
            #expect([info.height, info.width] == e.shape, "\(file)")
            if e.note != nil {
                #expect(info.sampleType == "rgba8" && info.colorModel == .rgba, "\(file)")
                continue
            }
            #expect(info.sampleType == e.dtype, "\(file): \(info.sampleType)")
            let range = try #require(info.storedRange, "\(file)")
            #expect(range.minimum == e.min && range.maximum == e.max, "\(file): \(range)")
            #expect(abs(range.mean - e.mean!) <= 1e-6 * max(1, abs(e.mean!)), "\(file): mean \(range.mean)")
            let expectedNm = e.axes?.first?.nm_per_px
            if let expectedNm {
                let nm = try #require(info.pixelSize?.nanometersPerPixel, "\(file): \(info.pixelSizeNote ?? "")")
                #expect(abs(nm - expectedNm) <= 1e-3 * expectedNm, "\(file): \(nm) vs \(expectedNm)")
                #expect(decoded.image.pixelSize == info.pixelSize)
            } else {
                #expect(info.pixelSize == nil, "\(file)")
                #expect(info.pixelSizeNote != nil, "\(file): no reason given for the missing pixel size")
            }
            // The gray image stays in 0...1 whatever the stored type.
            #expect(decoded.image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(file)")
        }
    }

    @Test("each calibration names where it came from")
    func sources() throws {
        let cases: [(String, PixelSizeSource?, String?)] = [
            ("FEI-Helios-Ebeam-8bits.tif", .fei, nil),
            ("JEOL-SightX-TEM-mag-dummy.tif", .jeol, nil),
            ("TVIPS_bin4.tif", .tvips, nil),
            ("test_loading_image_saved_with_DM.tif", .gatanTIFF, nil),
            ("test_loading_image_saved_with_imageJ.tif", .imageJ, nil),
            ("test_loading_image_saved_with_imageJ_no_scale.tif", nil, "without a calibration"),
            ("test_STEM_image.dm3", .dmCalibration, nil),
            ("test_diffraction_pattern.dm3", nil, "1/nm, not a length"),
            ("test-2.dm4", nil, "no length calibration"),
        ]
        for (file, source, note) in cases {
            let info = try ImageReader.read(Self.folder.appendingPathComponent(file).path).info
            #expect(info.pixelSize?.source == source, "\(file)")
            if let note { #expect(info.pixelSizeNote?.contains(note) == true, "\(file): \(info.pixelSizeNote ?? "nil")") }
        }
    }

    @Test("stored values map to 0...1: full scale for 8/16-bit, stretched otherwise")
    func mapping() throws {
        let u16 = try ImageReader.read(Self.folder.appendingPathComponent("test-10.dm3").path)
        #expect(u16.info.intensityMapping == .fullScale(maximum: 65535))
        #expect(abs(Double(u16.image.pixels.max()!) - 4.0 / 65535) < 1e-7)
        let f32 = try ImageReader.read(Self.folder.appendingPathComponent("test_loading_image_saved_with_imageJ.tif").path)
        #expect(f32.info.intensityMapping == .stretched(low: 2866, high: 3774))
        #expect(f32.image.pixels.min() == 0 && f32.image.pixels.max() == 1)
        // The same data stored as int32 by DigitalMicrograph maps to the same gray image.
        let i32 = try ImageReader.read(Self.folder.appendingPathComponent("test_loading_image_saved_with_DM.tif").path)
        let worst = zip(i32.image.pixels, f32.image.pixels).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-3)
    }

    @Test("FEI's databar is the footer its metadata places (ResolutionY = 442 of 471 rows)")
    func feiDatabar() throws {
        let info = try ImageReader.read(Self.folder.appendingPathComponent("FEI-Helios-Ebeam-8bits.tif").path).info
        #expect(info.metadataFooterStartRow == 442)
    }
}
