import Foundation
import ImageCore
import Testing
import TestSupport

@Suite("sootctl: primaries one by one (primaries.csv, --primary-truth, --task primaries)")
struct PrimaryCommandTests {
    @Test("analyze writes primaries.csv and .json for the locating methods, and the counts and spreads in aggregates.csv")
    func analyze() throws {
        let out = TestPaths.temporaryFolder().appendingPathComponent("out")
        let result = try runSootctl(["analyze", example, "--mask", exampleMask, "--sizing", "pcm,hough,edm-ws", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let primaries = try readCSV(out.appendingPathComponent("primaries.csv"))
        #expect(primaries[0] == ["image", "aggregate_id", "method", "center_x_px", "center_y_px", "diameter_nm", "score"])
        #expect(primaries.count > 10 && Set(primaries.dropFirst().map { $0[2] }) == ["hough", "edm-ws"])
        let aggregates = try readCSV(out.appendingPathComponent("aggregates.csv"))
        let header = aggregates[0]
        let count = try #require(header.firstIndex(of: "edm_ws_particles")), spread = try #require(header.firstIndex(of: "edm_ws_gsd"))
        let total = aggregates.dropFirst().compactMap { Int($0[count]) }.reduce(0, +)
        #expect(total == primaries.dropFirst().filter { $0[2] == "edm-ws" }.count)
        #expect(aggregates.dropFirst().allSatisfy { (Double($0[spread]) ?? 0) >= 1 })
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("primaries.json"))) as? [[String: Any]]
        #expect(json?.count == primaries.count - 1)
        let summary = try String(contentsOf: out.appendingPathComponent("summary.json"), encoding: .utf8)
        #expect(summary.contains("\"fractal\"") && summary.contains("fractal_dimension"))
        #expect(try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8).contains("Morphology from located primaries"))
        // Without a locating method there is no primaries.csv.
        let none = TestPaths.temporaryFolder().appendingPathComponent("out")
        #expect(try runSootctl(["analyze", example, "--mask", exampleMask, "--sizing", "pcm", "--out", none.path]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: none.appendingPathComponent("primaries.csv").path))
    }

    @Test("the shipped detector finds the example's primaries: dp within 20 % of the truth, one row per primary")
    func shippedDetector() throws {
        let out = TestPaths.temporaryFolder().appendingPathComponent("out")
        let result = try runSootctl(["analyze", example, "--mask", exampleMask, "--sizing", "cnn-primaries,pcm", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let primaries = try readCSV(out.appendingPathComponent("primaries.csv")).dropFirst()
        #expect(primaries.count > 20 && primaries.allSatisfy { $0[2] == "cnn-primaries" && Double($0[6]) != nil })
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.packageRoot
            .appendingPathComponent("Examples/synthetic_soot_truth.json"))) as? [String: Any]
        let trueDp = (truth?["aggregates"] as? [[String: Any]] ?? []).compactMap { $0["dp_geometric_mean_nm"] as? Double }
        let gm = exp(trueDp.map(log).reduce(0, +) / Double(trueDp.count))
        let rows = try readCSV(out.appendingPathComponent("aggregates.csv"))
        let column = try #require(rows[0].firstIndex(of: "dp_cnn_primaries_nm"))
        let found = rows.dropFirst().compactMap { Double($0[column]) }
        #expect(found.count == trueDp.count)
        let foundGm = exp(found.map(log).reduce(0, +) / Double(found.count))
        #expect(abs(foundGm / gm - 1) < 0.2, "detector dp,g \(foundGm) nm, truth \(gm) nm")
        let run = try String(contentsOf: out.appendingPathComponent("run.json"), encoding: .utf8)
        #expect(run.contains("primary_model") && run.contains("primaries.safetensors"))
    }

    @Test("a missing or wrong detector model, or a model option without the method, is a clear error")
    func badModel() throws {
        let out = TestPaths.temporaryFolder().appendingPathComponent("out")
        let missing = try runSootctl(["analyze", example, "--mask", exampleMask, "--sizing", "cnn-primaries",
                                      "--primary-model", "/nonexistent/model.safetensors", "--out", out.path])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/model.safetensors"))
        let segmentationModel = TestPaths.packageRoot.appendingPathComponent("models/default.safetensors").path
        let wrong = try runSootctl(["analyze", example, "--mask", exampleMask, "--sizing", "cnn-primaries",
                                    "--primary-model", segmentationModel, "--out", out.path])
        #expect(wrong.status != 0 && wrong.stderr.contains("not a primary-particle detector"))
        let stray = try runSootctl(["analyze", example, "--mask", exampleMask, "--sizing", "pcm", "--primary-model", segmentationModel,
                                    "--out", out.path])
        #expect(stray.status != 0 && stray.stderr.contains("--primary-model only applies"))
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test("compare --primary-truth scores every method against sootctl synth's truth files")
    func compare() throws {
        let root = TestPaths.temporaryFolder()
        let images = root.appendingPathComponent("images"), masks = root.appendingPathComponent("masks")
        let truth = root.appendingPathComponent("truth"), out = root.appendingPathComponent("out")
        for folder in [images, masks, truth] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try FileManager.default.copyItem(atPath: example, toPath: images.appendingPathComponent("synthetic_soot.png").path)
        try FileManager.default.copyItem(atPath: exampleMask, toPath: masks.appendingPathComponent("synthetic_soot.png").path)
        try FileManager.default.copyItem(at: TestPaths.packageRoot.appendingPathComponent("Examples/synthetic_soot_truth.json"),
                                         to: truth.appendingPathComponent("synthetic_soot.json"))
        let result = try runSootctl(["compare", images.path, "--truth", masks.path, "--primary-truth", truth.path,
                                     "--classifiers", "otsu", "--sizing", "pcm,hough,edm-ws", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let table = try readCSV(out.appendingPathComponent("primary_detection.csv"))
        #expect(table[0].prefix(10) == ["method", "images", "true_primaries", "located", "true_positives", "false_positives",
                                        "false_negatives", "precision", "recall", "f1"])
        #expect(table.dropFirst().map { $0[0] } == ["pcm", "hough", "edm-ws"])
        for row in table.dropFirst(2) {
            let f1 = try #require(Double(row[9]))
            #expect(f1 > 0.1 && f1 <= 1, "\(row[0]) F1 \(f1)")
        }
        #expect(try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8).contains("Primary particles one by one"))
        let notFolder = try runSootctl(["compare", images.path, "--truth", masks.path, "--primary-truth", example,
                                        "--classifiers", "otsu", "--out", root.appendingPathComponent("out2").path])
        #expect(notFolder.status != 0 && notFolder.stderr.contains("--primary-truth"))
    }

    @Test("compare sizes with the detector on every mask (Table 4), not only against primary truth")
    func compareTable4() throws {
        let root = TestPaths.temporaryFolder()
        let images = root.appendingPathComponent("images"), masks = root.appendingPathComponent("masks")
        for folder in [images, masks] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try FileManager.default.copyItem(atPath: example, toPath: images.appendingPathComponent("synthetic_soot.png").path)
        try FileManager.default.copyItem(atPath: exampleMask, toPath: masks.appendingPathComponent("synthetic_soot.png").path)
        let out = root.appendingPathComponent("out")
        let result = try runSootctl(["compare", images.path, "--truth", masks.path, "--classifiers", "otsu",
                                     "--sizing", "cnn-primaries", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let sizing = try readCSV(out.appendingPathComponent("sizing.csv"))
        let truth = try #require(sizing.first { $0[0] == "truth" && $0[1] == "cnn-primaries" })
        #expect(truth[2] == "3" && truth[3] == "3", "\(truth)")
        #expect(try String(contentsOf: out.appendingPathComponent("run.json"), encoding: .utf8).contains("primary_model"))
    }

    @Test("train --task primaries refuses data options and unknown tasks")
    func trainOptions() throws {
        let out = TestPaths.temporaryFolder().appendingPathComponent("run")
        let withData = try runSootctl(["train", "--task", "primaries", "--data", "/tmp", "--out", out.path])
        #expect(withData.status != 0 && withData.stderr.contains("--data"))
        let unknown = try runSootctl(["train", "--task", "aggregates", "--out", out.path])
        #expect(unknown.status != 0 && unknown.stderr.contains("--task"))
        let noData = try runSootctl(["train", "--out", out.path])
        #expect(noData.status != 0 && noData.stderr.contains("--data is required"))
    }
}
