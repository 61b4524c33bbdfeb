import Foundation
import ImageCore
import Testing
import TestSupport

/// The DM3/DM4 files of ../shared/data/formats against RosettaSciIO's readings (expected.json).
@Suite("Gatan DM3/DM4 reader", .enabled(if: TestPaths.hasSharedData))
struct GatanDMTests {
    static let folder = TestPaths.sharedReal.deletingLastPathComponent().appendingPathComponent("formats")

    struct Expected: Decodable {
        struct Axis: Decodable { let unit: String?; let scale: Double?; let nm_per_px: Double? }
        let shape: [Int]
        let dtype: String
        let axes: [Axis]?
        let min: Double?
        let max: Double?
        let mean: Double?
        let note: String?
    }

    static func expected() throws -> [String: Expected] {
        try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
    }

    @Test("every DM file: shape, type, values, calibration and pixel size as RosettaSciIO reads them")
    func allFiles() throws {
        let all = try Self.expected().filter { $0.key.hasSuffix(".dm3") || $0.key.hasSuffix(".dm4") }
        #expect(all.count == 22)
        for (file, e) in all.sorted(by: { $0.key < $1.key }) {
            let image = try GatanDM.read(Self.folder.appendingPathComponent(file).path)
            #expect([image.height, image.width] == e.shape, "\(file)")
            if e.note != nil {  // RGBA: one channel kept
                #expect(image.dataType == "rgba8", "\(file)")
                continue
            }
            #expect(image.dataType == e.dtype, "\(file): \(image.dataType)")
            let mean = image.values.reduce(0, +) / Double(image.values.count)
            #expect(image.values.min() == e.min && image.values.max() == e.max, "\(file)")
            #expect(abs(mean - e.mean!) <= 1e-9 * max(1, abs(e.mean!)), "\(file): mean \(mean)")
            for (k, axis) in (e.axes ?? []).enumerated() {
                #expect(abs(image.scales[k] - (axis.scale ?? 1)) <= 1e-6 * abs(axis.scale ?? 1), "\(file) axis \(k)")
                #expect(image.units[k] == (axis.unit ?? ""), "\(file) axis \(k): \(image.units[k])")
            }
            if let nm = e.axes?.first?.nm_per_px {
                let ps = try #require(image.pixelSizeNm, "\(file)")
                #expect(abs(ps - nm) <= 1e-3 * nm, "\(file): \(ps) nm/px")
            } else {
                #expect(image.pixelSizeNm == nil && image.pixelSizeNote != nil, "\(file)")
            }
        }
    }

    @Test("a diffraction pattern in 1/nm has no pixel size, and says why; truncated files are errors")
    func diffractionAndDamage() throws {
        let image = try GatanDM.read(Self.folder.appendingPathComponent("test_diffraction_pattern.dm3").path)
        #expect(image.pixelSizeNm == nil && image.pixelSizeNote?.contains("1/nm") == true)
        let bytes = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent("test_STEM_image.dm3")))
        for cut in stride(from: 16, to: bytes.count, by: max(1, bytes.count / 40)) {
            #expect(throws: GatanDMError.self) { try GatanDM.decode(Array(bytes.prefix(cut)), name: "cut") }
        }
        #expect(throws: GatanDMError.self) { try GatanDM.decode(Array("not a dm file at all".utf8), name: "text") }
    }

    @Test("20,000 random byte mutations of the DM files read or fail with a typed error, never crash")
    func mutations() throws {
        var rng = TestRandom(seed: 7)
        for file in ["test-1.dm3", "test-8.dm4", "test_STEM_image.dm3", "test-12.dm4"] {
            let bytes = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent(file)))
            for _ in 0..<5000 {
                var mutant = bytes
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    mutant[Int(rng.next() % UInt64(mutant.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                do { _ = try GatanDM.decode(mutant, name: file) } catch is GatanDMError {} catch { Issue.record("\(file): \(error)") }
            }
        }
    }
}
