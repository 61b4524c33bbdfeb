import Foundation
import ImageCore
import Testing
import TestSupport

let example = TestPaths.packageRoot.appendingPathComponent("Examples/synthetic_soot.png").path
let exampleMask = TestPaths.packageRoot.appendingPathComponent("Examples/synthetic_soot_mask.png").path

func readCSV(_ url: URL) throws -> [[String]] {
    try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
}

@Suite("sootctl segment and analyze")
struct AnalyzeCommandTests {
    @Test("segment writes a 0/255 mask of the input's size and an RGB overlay")
    func segment() throws {
        let out = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        for method in ["kmeans", "otsu"] {
            let result = try runSootctl(["segment", example, "--method", method, "--out", out.path + "/" + method])
            #expect(result.status == 0, "\(result.stderr)")
            let decoded = try ImageReader.read(out.path + "/\(method)/masks/synthetic_soot.png")
            #expect(decoded.image.width == 640 && decoded.image.height == 480)
            #expect(decoded.image.pixels.allSatisfy { $0 == 0 || $0 == 1 })
            let mask = try ImageReader.readMask(out.path + "/\(method)/masks/synthetic_soot.png")
            let truth = try ImageReader.readMask(exampleMask)
            var i = 0, u = 0
            for k in 0..<mask.count { if mask.bits[k] & truth.bits[k] != 0 { i += 1 }; if mask.bits[k] | truth.bits[k] != 0 { u += 1 } }
            // Measured on the example (small aggregates of 13-16 nm primaries at 0.8 nm/px):
            // k-means 0.79, Otsu 0.83.
            #expect(Double(i) / Double(u) > 0.75, "\(method) IoU \(Double(i) / Double(u))")
            let overlay = try ImageReader.read(out.path + "/\(method)/overlays/synthetic_soot.png").info
            #expect(overlay.colorModel == .rgb && overlay.width == 640)
        }
    }

    @Test("analyze writes the aggregate table with the documented columns, JSON and a summary")
    func analyze() throws {
        let out = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runSootctl(["analyze", example, "--method", "kmeans", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try readCSV(out.appendingPathComponent("aggregates.csv"))
        #expect(rows[0] == ["image", "id", "area_px", "area_nm2", "da_nm", "rg_nm", "perimeter_nm", "length_nm",
                            "width_nm", "aspect_ratio", "centroid_x_px", "centroid_y_px", "touches_border",
                            "dp_pcm_nm", "dp_edm_sbs_nm", "dp_hough_nm", "dp_edm_ws_nm", "dp_cnn_primaries_nm",
                            "hough_particles", "hough_gsd", "edm_ws_particles", "edm_ws_gsd", "cnn_primaries_particles",
                            "cnn_primaries_gsd"])
        #expect(rows.count >= 2)
        for row in rows.dropFirst() {
            #expect(row.count == 24)
            let areaPx = try #require(Double(row[2])), areaNm2 = try #require(Double(row[3]))
            #expect(abs(areaNm2 - areaPx * 0.64) < 0.01)
            for column in 13...16 {
                // The example's spheres are 17.6-30.4 nm: every method lands within 10-40 nm.
                let dp = try #require(Double(row[column]), "column \(rows[0][column]) empty")
                #expect((10...40).contains(dp), "\(rows[0][column]) = \(dp)")
            }
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("aggregates.json"))) as? [[String: Any]]
        #expect(json?.count == rows.count - 1)
        #expect(json?.first?["da_nm"] is Double)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any]
        let overall = summary?["overall"] as? [String: Any]
        let stats = overall?["statistics"] as? [String: Any]
        #expect((stats?["aggregates"] as? Int) == rows.count - 1)
        let da = stats?["da_nm"] as? [String: Any]
        #expect(da?["geometric_mean"] is Double && da?["geometric_std"] is Double && da?["median"] is Double)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("overlays/synthetic_soot.png").path))
    }

    @Test("analyze --mask measures the given mask; ids and areas follow it")
    func analyzeMask() throws {
        let out = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runSootctl(["analyze", example, "--mask", exampleMask, "--sizing", "pcm", "--border", "keep",
                                     "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try readCSV(out.appendingPathComponent("aggregates.csv"))
        let truth = try ImageReader.readMask(exampleMask)
        let total = rows.dropFirst().reduce(0) { $0 + Int($1[2])! }
        #expect(total <= truth.trueCount && total > truth.trueCount * 95 / 100)
        #expect(rows.dropFirst().allSatisfy { $0[14].isEmpty && $0[15].isEmpty && !$0[13].isEmpty })
    }

    @Test("a bad file is reported and skipped; the exit code says something failed")
    func badFile() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad = folder.appendingPathComponent("broken.png").path
        _ = FileManager.default.createFile(atPath: bad, contents: Data("not a png".utf8))
        try FileManager.default.copyItem(atPath: example,
                                         toPath: folder.appendingPathComponent("good.png").path)
        let out = folder.appendingPathComponent("out").path
        let result = try runSootctl(["analyze", folder.path, "--method", "kmeans", "--sizing", "none", "--out", out])
        #expect(result.status == 1)
        #expect(result.stderr.contains("broken.png"))
        #expect(result.stderr.contains("1 of 2 input(s) failed"))
        let rows = try readCSV(URL(fileURLWithPath: out + "/aggregates.csv"))
        #expect(rows.count >= 2 && rows.dropFirst().allSatisfy { $0[0] == "good" })
        let summary = try String(contentsOfFile: out + "/summary.json", encoding: .utf8)
        #expect(summary.contains("\"status\" : \"error\""))
    }

    @Test("clear errors: no pixel size, no CNN model, overwriting an input, bad options")
    func errors() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // An image without pixel size metadata.
        let plain = folder.appendingPathComponent("plain.png").path
        var image = try ImageReader.read(example).image
        image.pixelSize = nil
        try ImageWriter.writePNG8(image, to: plain)
        // The only image fails: exit 2, nothing written; the message names the classifier and both options.
        let noSize = try runSootctl(["segment", plain, "--method", "kmeans", "--out", folder.path + "/o1"])
        #expect(noSize.status == 2 && noSize.stderr.contains("the kmeans classifier needs the pixel size"))
        #expect(noSize.stderr.contains("--pixel-size NM") && noSize.stderr.contains("--pixel-sizes CSV"))
        #expect(noSize.stderr.contains("no result files were written"))
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/o1"))
        let analyzeNoSize = try runSootctl(["analyze", plain, "--classifier", "otsu", "--out", folder.path + "/o1"])
        #expect(analyzeNoSize.status == 2 && analyzeNoSize.stderr.contains("the otsu classifier needs the pixel size"))
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/o1"))
        let maskNoSize = try runSootctl(["analyze", plain, "--mask", exampleMask, "--out", folder.path + "/o1"])
        #expect(maskNoSize.status == 2 && maskNoSize.stderr.contains("analysing a given mask needs the pixel size"))
        let withSize = try runSootctl(["segment", plain, "--method", "kmeans", "--pixel-size", "0.8", "--out", folder.path + "/o2"])
        #expect(withSize.status == 0)
        // No model installed.
        let noModel = try runSootctl(["segment", example, "--method", "cnn", "--out", folder.path + "/o3"],
                                     environment: ["SOOTCTL_MODEL": "/nonexistent.safetensors"])
        if !FileManager.default.fileExists(atPath: TestPaths.packageRoot.appendingPathComponent("models/default.safetensors").path) {
            #expect(noModel.status == 1 && noModel.stderr.contains("no CNN model is installed"))
        }
        // The output would replace the input.
        let masks = folder.appendingPathComponent("o4/masks")
        try FileManager.default.createDirectory(at: masks, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: plain, toPath: masks.appendingPathComponent("plain.png").path)
        let before = try Data(contentsOf: masks.appendingPathComponent("plain.png"))
        let overwrite = try runSootctl(["segment", masks.appendingPathComponent("plain.png").path, "--method", "kmeans", "--pixel-size", "0.8",
                                        "--out", folder.path + "/o4"])
        #expect(overwrite.status == 2 && overwrite.stderr.contains("refusing to overwrite"))
        #expect(try Data(contentsOf: masks.appendingPathComponent("plain.png")) == before)
        // Option validation.
        #expect(try runSootctl(["segment", example, "--method", "kmeans", "--probability", "--out", folder.path]).status == 64)
        #expect(try runSootctl(["analyze", example, "--sizing", "bogus", "--out", folder.path]).status == 64)
        #expect(try runSootctl(["segment", example, "--pixel-size", "-1", "--out", folder.path]).status == 64)
        // A pixel size outside 0.01-20 nm/px is used, with a warning naming the likely unit slip.
        let slip = try runSootctl(["segment", example, "--classifier", "otsu", "--pixel-size", "0.005", "--raw", "--out", folder.path + "/o5"])
        #expect(slip.stderr.contains("warning: --pixel-size") && slip.stderr.contains("µm per pixel"))
    }
}

@Suite("sootctl shared interface")
struct SharedInterfaceTests {
    @Test("analyze takes --pixel-sizes, writes images.csv and run.json, and never writes into a --mask folder")
    func tableAndProvenance() throws {
        let work = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: work) }
        let images = work.appendingPathComponent("images"), masks = work.appendingPathComponent("masks")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: masks, withIntermediateDirectories: true)
        var image = try ImageReader.read(example).image
        image.pixelSize = nil
        try ImageWriter.writePNG8(image, to: images.appendingPathComponent("plain.png").path)
        try FileManager.default.copyItem(atPath: exampleMask, toPath: masks.appendingPathComponent("plain.png").path)
        let before = try Data(contentsOf: masks.appendingPathComponent("plain.png"))
        let table = work.appendingPathComponent("sizes.csv")
        try Data("stem,pixel_size_nm\nplain,0.8\n".utf8).write(to: table)
        // --out is the folder that holds the masks: the mask must survive, the run reports it.
        let clash = try runSootctl(["analyze", images.path, "--mask", masks.path, "--pixel-sizes", table.path,
                                    "--sizing", "pcm", "--out", work.path])
        #expect(clash.status == 2 && clash.stderr.contains("refusing to overwrite"))
        #expect(try Data(contentsOf: masks.appendingPathComponent("plain.png")) == before)
        let out = work.appendingPathComponent("out")
        let result = try runSootctl(["analyze", images.path, "--mask", masks.path, "--pixel-sizes", table.path,
                                     "--sizing", "pcm", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try readCSV(out.appendingPathComponent("images.csv"))
        #expect(rows.count == 2 && rows[1][0] == "plain" && rows[1][2] == "0.8" && rows[1][3] == "pixel-size-table")
        #expect(rows[1][4] == "ok" && Int(rows[1][7]) == 3)
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as? [String: Any]
        #expect(run?["version"] is String && run?["date"] is String)
        #expect((run?["command_line"] as? [String])?.prefix(2) == ["sootctl", "analyze"])
        #expect((run?["configuration"] as? [String: Any])?["sizing"] as? [String] == ["pcm"])
        #expect(run?["model"] == nil)  // masks given: no CNN ran
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any]
        #expect(summary?["classifier"] as? String == "mask")
    }

    @Test("segment, analyze and compare share the post-processing options and defaults; --method is kept as an alias")
    func sameOptions() throws {
        for command in ["segment", "analyze", "compare"] {
            let help = try runSootctl([command, "--help"]).stdout
            for option in ["--rolling-ball", "--min-pixels", "--border", "--pixel-size ", "--pixel-sizes", "--recursive"] {
                #expect(help.contains(option), "\(command) lacks \(option)")
            }
            #expect(help.contains("(default: 1000)") && help.contains("default: remove)"), "\(command) defaults")
        }
        #expect(try runSootctl(["train", "--help"]).stdout.contains("--pixel-sizes"))
        let out = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let old = try runSootctl(["segment", example, "--method", "otsu", "--out", out.path + "/a"])
        let new = try runSootctl(["segment", example, "--classifier", "otsu", "--out", out.path + "/b"])
        #expect(old.status == 0 && new.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out.path + "/a/masks/synthetic_soot.png"))
            == Data(contentsOf: URL(fileURLWithPath: out.path + "/b/masks/synthetic_soot.png")))
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out.path + "/b/run.json"))) as? [String: Any]
        #expect((run?["configuration"] as? [String: Any])?["classifier"] as? String == "otsu")
    }
}
