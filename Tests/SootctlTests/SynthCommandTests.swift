import Foundation
import ImageCore
import Testing
import TestSupport

@Suite("sootctl synth")
struct SynthCommandTests {
    @Test("writes images with the pixel size, masks and truth; same seed, same bytes")
    func synth() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let args = ["synth", "--count", "2", "--seed", "9", "--size", "480x360", "--pixel-size", "0.8", "--primaries", "10-40"]
        let a = try runSootctl(args + ["--out", folder.path + "/a"])
        let b = try runSootctl(args + ["--out", folder.path + "/b"])
        #expect(a.status == 0 && b.status == 0, "\(a.stderr)")
        for name in ["synth_9_0000", "synth_9_0001"] {
            for (sub, ext) in [("images", "png"), ("masks", "png"), ("truth", "json")] {
                let pa = folder.path + "/a/\(sub)/\(name).\(ext)", pb = folder.path + "/b/\(sub)/\(name).\(ext)"
                #expect(try Data(contentsOf: URL(fileURLWithPath: pa)) == Data(contentsOf: URL(fileURLWithPath: pb)))
            }
            let image = try ImageReader.read(folder.path + "/a/images/\(name).png")
            #expect(image.info.width == 480 && image.info.height == 360)
            #expect(image.image.pixelSize?.nanometersPerPixel == 0.8)
            let mask = try ImageReader.readMask(folder.path + "/a/masks/\(name).png")
            let truth = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: folder.path + "/a/truth/\(name).json"))) as? [String: Any]
            let aggregates = truth?["aggregates"] as? [[String: Any]] ?? []
            let area = aggregates.reduce(0) { $0 + ($1["area_px"] as? Int ?? 0) }
            #expect(area == mask.trueCount)
            #expect(aggregates.allSatisfy { ($0["primaries"] as? [[String: Any]])?.isEmpty == false })
            #expect(truth?["seed"] is NSNumber)
        }
    }

    @Test("the synthetic images analyse end to end with the true masks")
    func analyseSynthetic() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let made = try runSootctl(["synth", "--count", "1", "--seed", "2", "--size", "640x480", "--primaries", "20-60",
                                   "--out", folder.path + "/s"])
        #expect(made.status == 0)
        let result = try runSootctl(["analyze", folder.path + "/s/images", "--mask", folder.path + "/s/masks",
                                     "--sizing", "edm-ws", "--out", folder.path + "/a"])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("bad options are refused with a message")
    func badOptions() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for bad in [["--size", "10x10"], ["--bit-depth", "12"], ["--primaries", "50-5"], ["--algorithm", "dla"],
                    ["--count", "0"], ["--overlap", "0.6-0.7"]] {
            let r = try runSootctl(["synth", "--out", folder.path] + bad)
            #expect(r.status == 64, "\(bad)")
        }
    }
}
