import Foundation
import ImageCore
import Testing
import TestSupport

@Suite("sootctl compare and reports")
struct CompareCommandTests {
    /// The README example with its true mask, laid out as compare expects.
    func exampleFolders() throws -> (images: URL, truth: URL, out: URL) {
        let root = TestPaths.temporaryFolder()
        let images = root.appendingPathComponent("images"), truth = root.appendingPathComponent("truth")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: truth, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: example, toPath: images.appendingPathComponent("synthetic_soot.png").path)
        try FileManager.default.copyItem(atPath: exampleMask, toPath: truth.appendingPathComponent("synthetic_soot.png").path)
        return (images, truth, root.appendingPathComponent("out"))
    }

    @Test("compare writes Tables 3-5, matches, figures and a report; the truth matched against itself is exact")
    func compare() throws {
        let (images, truth, out) = try exampleFolders()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let result = try runSootctl(["compare", images.path, "--truth", truth.path, "--classifiers", "kmeans,otsu",
                                     "--sizing", "edm-sbs,pcm", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let segmentation = try readCSV(out.appendingPathComponent("segmentation.csv"))
        #expect(segmentation[0].prefix(7) == ["classifier", "variant", "fp_percent", "fn_percent", "accuracy_percent",
                                              "failed_images", "iou"])
        #expect(segmentation.count == 1 + 2 * 4)
        #expect(Set(segmentation.dropFirst().map { $0[1] }) == ["raw", "rb", "1000px", "rb+1000px"])
        for row in segmentation.dropFirst() {
            // Measured on the example: k-means 0.79, Otsu 0.83 (raw).
            let iou = try #require(Double(row[6]))
            #expect(iou > 0.75 && iou <= 1, "\(row[0]) \(row[1]) IoU \(iou)")
            #expect(row[12] == "3")
        }
        let sizing = try readCSV(out.appendingPathComponent("sizing.csv"))
        #expect(sizing.dropFirst().map { $0[0] }.first == "truth")
        #expect(sizing.count == 1 + 5 * 2)  // truth + 2 variants of 2 classifiers, 2 methods each
        let powerlaw = try readCSV(out.appendingPathComponent("powerlaw.csv"))
        #expect(powerlaw[0][3] == "dp100_nm" && powerlaw.contains { $0[0] == "average" } && powerlaw.contains { $0[0] == "std" })
        let matches = try readCSV(out.appendingPathComponent("matches.csv"))
        #expect(matches.count > 1 && matches[0].contains("truth_dp_edm_sbs_nm"))
        for name in ["density", "truth_ratio", "edm_ratio", "powerlaw_edm-sbs", "powerlaw_pcm"] {
            let svg = try String(contentsOf: out.appendingPathComponent("figures/\(name).svg"), encoding: .utf8)
            #expect(svg.hasPrefix("<svg"), "\(name).svg")
            #expect(try ImageReader.read(out.appendingPathComponent("figures/\(name).png").path).info.colorModel == .rgb)
        }
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Table 3") && html.contains("Figure 8") && html.contains("data:image/png;base64,"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 5)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("overlays/synthetic_soot_kmeans.png").path))

        // In a real browser, where one is installed (scripts/check_report.sh installs it otherwise).
        if ["/usr/bin/chromium", "/usr/bin/chromium-browser"].contains(where: { FileManager.default.fileExists(atPath: $0) }) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [TestPaths.packageRoot.appendingPathComponent("scripts/check_report.sh").path,
                                 out.appendingPathComponent("report.html").path, out.appendingPathComponent("shot.png").path]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(text)")
            // Tables 3-5, the paper's Tables 3 and 4 beside them, and how the results were made.
            #expect(text.contains("6 table(s)") && text.contains("5 chart(s)"), "\(text)")
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("shot.png").path))
        }
    }

    @Test("compare: an image without truth is reported and skipped; no truth folder is an error")
    func compareErrors() throws {
        let (images, truth, out) = try exampleFolders()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        try ImageWriter.writePNG8(GrayImage(width: 64, height: 64, value: 0.7),
                                  to: images.appendingPathComponent("lonely.png").path)
        let result = try runSootctl(["compare", "--images", images.path, "--truth", truth.path, "--methods", "otsu",
                                     "--sizing", "none", "--pixel-size", "0.8", "--out", out.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("lonely.png"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
        let missing = try runSootctl(["compare", images.path, "--truth", "/nonexistent", "--out", out.path])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent"))
        let fileAsTruth = try runSootctl(["compare", images.path, "--truth", exampleMask, "--out", out.path])
        #expect(fileAsTruth.status != 0 && fileAsTruth.stderr.contains("needs a folder"))
        let noTable = try runSootctl(["compare", images.path, "--truth", truth.path, "--pixel-sizes", "/nonexistent.csv",
                                      "--out", out.path])
        #expect(noTable.status != 0 && noTable.stderr.contains("/nonexistent.csv"))
        let badTable = out.deletingLastPathComponent().appendingPathComponent("bad.csv")
        try Data("stem,pixel_size_nm\nsynthetic_soot,-3\n".utf8).write(to: badTable)
        let badSizes = try runSootctl(["compare", images.path, "--truth", truth.path, "--pixel-sizes", badTable.path,
                                       "--out", out.path])
        #expect(badSizes.status != 0 && badSizes.stderr.contains("line 2"))
        let badMethod = try runSootctl(["compare", images.path, "--truth", truth.path, "--methods", "magic", "--out", out.path])
        #expect(badMethod.status != 0 && badMethod.stderr.contains("magic"))
    }

    @Test("compare with masks beside their images (STEM_mask.png, the images' folder as --truth): the mask is the truth, not an input")
    func masksBesideImages() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("Examples")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: example, toPath: folder.appendingPathComponent("synthetic_soot.png").path)
        try FileManager.default.copyItem(atPath: exampleMask, toPath: folder.appendingPathComponent("synthetic_soot_mask.png").path)
        let out = root.appendingPathComponent("out")
        let result = try runSootctl(["compare", folder.path, "--truth", folder.path, "--classifiers", "kmeans",
                                     "--sizing", "none", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("1 input file(s) are the masks of other inputs"))
        let segmentation = try readCSV(out.appendingPathComponent("segmentation.csv"))
        let raw = try #require(segmentation.first { $0[0] == "kmeans" && $0[1] == "raw" })
        // k-means on the example against its true mask: 0.79 (the image against itself gave 0.04).
        #expect(try #require(Double(raw[6])) > 0.75)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("overlays/synthetic_soot_mask_kmeans.png").path))
    }

    @Test("compare: same inputs, same bytes; --resume keeps the finished images")
    func compareReproducibleAndResumable() throws {
        let (images, truth, out) = try exampleFolders()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let arguments = ["compare", images.path, "--truth", truth.path, "--classifiers", "otsu", "--sizing", "pcm", "--out", out.path]
        let environment = ["SOURCE_DATE_EPOCH": "1700000000"]
        #expect(try runSootctl(arguments, environment: environment).status == 0)
        let first = try folderContents(out.path)
        #expect(first.keys.contains("segmentation.csv") && first.keys.contains("overlays/synthetic_soot_otsu.png"))
        #expect(try runSootctl(arguments, environment: environment).status == 0)
        #expect(try folderContents(out.path) == first)
        let resumed = try runSootctl(arguments + ["--resume"], environment: environment)
        #expect(resumed.status == 0 && resumed.stderr.contains("1 image(s) finished by an earlier run were kept"))
        let after = try folderContents(out.path)
        for (name, bytes) in first where name != "run.json" && name != "report.html" { #expect(after[name] == bytes, "\(name)") }
    }

    @Test("compare: truth masks without pixel sizes point at --pixel-sizes; nothing is written when no image can be compared")
    func compareNeedsPixelSizes() throws {
        let (images, truth, out) = try exampleFolders()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        var image = try ImageReader.read(images.appendingPathComponent("synthetic_soot.png").path).image
        image.pixelSize = nil
        try ImageWriter.writePNG8(image, to: images.appendingPathComponent("synthetic_soot.png").path)
        let result = try runSootctl(["compare", images.path, "--truth", truth.path, "--classifiers", "otsu", "--sizing", "none",
                                     "--out", out.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("truth mask was found but the file carries no pixel size: pass --pixel-sizes CSV"))
        #expect(!FileManager.default.fileExists(atPath: out.path))
        // With the table it runs; --min-pixels sets the floor of the Npx variants and their names.
        let table = out.deletingLastPathComponent().appendingPathComponent("sizes.csv")
        try Data("stem,pixel_size_nm\nsynthetic_soot,0.8\n".utf8).write(to: table)
        let ok = try runSootctl(["compare", images.path, "--truth", truth.path, "--classifiers", "otsu", "--sizing", "pcm",
                                 "--pixel-sizes", table.path, "--min-pixels", "500", "--out", out.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        let segmentation = try readCSV(out.appendingPathComponent("segmentation.csv"))
        #expect(segmentation.dropFirst().map { $0[1] } == ["raw", "rb", "500px", "rb+500px"])
        let sizing = try readCSV(out.appendingPathComponent("sizing.csv"))
        #expect(sizing.dropFirst().map { $0[0] } == ["truth", "otsu raw", "otsu 500px"])
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as? [String: Any]
        #expect(run?["pixel_size_table"] as? String == table.path)
        #expect((run?["configuration"] as? [String: Any])?["min_pixels"] as? Int == 500)
        #expect(try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8).contains("How this was made"))
    }

    @Test("analyze writes a self-contained report with the table, figures and overlays")
    func analyzeReport() throws {
        let out = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runSootctl(["analyze", example, "--method", "kmeans", "--sizing", "edm-sbs,hough", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<table") && html.contains("data:image/png;base64,"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 3)  // da density + 2 power-law charts
        #expect(html.contains("dp_edm_sbs_nm") && html.contains("all images"))
        #expect(!html.contains("<script"))
        #expect(html.contains("How this was made") && html.contains("sootctl analyze"))
    }

    @Test("train runs a tiny configuration end to end, resumes, and names a bad data folder")
    func train() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try tinyTrainingData(in: root)
        let config = root.appendingPathComponent("tiny.json")
        try Data(#"{"preset": "cpu", "iterations": 2, "batchSize": 1, "cropSize": 64, "validateEvery": 1, "checkpointEvery": 1, "modelPixelSizeNm": null, "defaultScale": 1}"#.utf8).write(to: config)
        let out = root.appendingPathComponent("run").path
        let result = try runSootctl(["train", "--data", root.appendingPathComponent("data").path, "--out", out, "--config", config.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("validation IoU"))
        #expect(result.stderr.contains("iter 2/2"))
        for file in ["log.csv", "model.safetensors", "final.safetensors", "checkpoint/state.json"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let segmented = try runSootctl(["segment", example, "--method", "cnn", "--model", out + "/model.safetensors",
                                        "--out", root.appendingPathComponent("seg").path])
        #expect(segmented.status == 0, "\(segmented.stderr)")
        let again = try runSootctl(["train", "--data", root.appendingPathComponent("data").path, "--out", out, "--config", config.path])
        #expect(again.status != 0 && again.stderr.contains("already holds a training run"))
        let more = try runSootctl(["train", "--data", root.appendingPathComponent("data").path, "--out", out, "--resume", out,
                                   "--iterations", "3"])
        #expect(more.status == 0, "\(more.stderr)")
        let fileAsOut = root.appendingPathComponent("a-file").path
        _ = FileManager.default.createFile(atPath: fileAsOut, contents: Data("x".utf8))
        let unwritable = try runSootctl(["train", "--data", root.appendingPathComponent("data").path, "--out", fileAsOut,
                                         "--config", config.path])
        #expect(unwritable.status != 0 && unwritable.stderr.contains("cannot write the training run"))
        let bad = try runSootctl(["train", "--data", root.appendingPathComponent("nope").path, "--out", out + "-2"])
        #expect(bad.status != 0 && bad.stderr.contains("nope"))
    }
}
