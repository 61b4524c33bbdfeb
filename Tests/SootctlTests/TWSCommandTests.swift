import Foundation
import ImageCore
import Testing
import TestSupport

/// The TWS classifier through the command line: train, segment, analyze, compare.
@Suite("sootctl with the TWS classifier")
struct TWSCommandTests {
    @Test("train --classifier tws on the README example, then segment and compare with the model; the default model is found")
    func trainSegmentCompare() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        for sub in ["train/input", "train/ground_truth", "truth", "images"] {
            try FileManager.default.createDirectory(at: data.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(atPath: example, toPath: data.appendingPathComponent("train/input/synthetic_soot.png").path)
        try FileManager.default.copyItem(atPath: exampleMask, toPath: data.appendingPathComponent("train/ground_truth/synthetic_soot.png").path)
        try FileManager.default.copyItem(atPath: example, toPath: data.appendingPathComponent("images/synthetic_soot.png").path)
        try FileManager.default.copyItem(atPath: exampleMask, toPath: data.appendingPathComponent("truth/synthetic_soot.png").path)
        let model = root.appendingPathComponent("model")
        let train = try runSootctl(["train", "--method", "tws", "--data", data.path, "--out", model.path,
                                    "--trees", "20", "--pixels-per-class", "3000"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("IoU train"), "\(train.stdout)")
        let modelFile = model.appendingPathComponent("model.sootrf").path

        let segment = try runSootctl(["segment", example, "--classifier", "tws", "--model", modelFile, "--out", root.appendingPathComponent("seg").path])
        #expect(segment.status == 0, "\(segment.stderr)")
        let mask = try ImageReader.readMask(root.appendingPathComponent("seg/masks/synthetic_soot.png").path)
        let truth = try ImageReader.readMask(exampleMask)
        var both = 0, either = 0
        for i in 0..<mask.count { both += Int(mask.bits[i] & truth.bits[i]); either += Int(mask.bits[i] | truth.bits[i]) }
        #expect(Double(both) / Double(either) > 0.85, "IoU \(Double(both) / Double(either))")
        let run = try String(contentsOf: root.appendingPathComponent("seg/run.json"), encoding: .utf8)
        #expect(run.contains("\"tws_model\" : \"\(modelFile)\"") && run.contains("sha256"))

        let compare = try runSootctl(["compare", data.appendingPathComponent("images").path, "--truth", data.appendingPathComponent("truth").path,
                                      "--classifiers", "kmeans,tws", "--tws-model", modelFile, "--sizing", "pcm",
                                      "--out", root.appendingPathComponent("cmp").path])
        #expect(compare.status == 0, "\(compare.stderr)")
        let table = try readCSV(root.appendingPathComponent("cmp/segmentation.csv"))
        #expect(Set(table.dropFirst().map { $0[0] }) == ["kmeans", "tws"])
        let sizing = try readCSV(root.appendingPathComponent("cmp/sizing.csv"))
        #expect(sizing.contains { $0[0].hasPrefix("tws") && $0[0].contains("1000px") }, "\(sizing.map { $0[0] })")
        let report = try String(contentsOf: root.appendingPathComponent("cmp/report.html"), encoding: .utf8)
        #expect(report.contains("tws model"))

        let analyze = try runSootctl(["analyze", example, "--method", "tws", "--model", modelFile, "--sizing", "pcm",
                                      "--out", root.appendingPathComponent("ana").path])
        #expect(analyze.status == 0, "\(analyze.stderr)")
        let aggregates = try readCSV(root.appendingPathComponent("ana/aggregates.csv"))
        #expect(aggregates.count == 4, "\(aggregates.count - 1) aggregates")  // the example's 3

        // Without --model the shipped default model is used.
        let byDefault = try runSootctl(["segment", example, "--classifier", "tws", "--out", root.appendingPathComponent("seg2").path])
        #expect(byDefault.status == 0, "\(byDefault.stderr)")
        #expect(try String(contentsOf: root.appendingPathComponent("seg2/run.json"), encoding: .utf8).contains("tws_default.sootrf"))
    }

    @Test("options that belong to the other classifier are refused; a missing TWS model says where it looked")
    func errors() throws {
        let cnnWithTrees = try runSootctl(["train", "--data", "/nonexistent", "--out", "/tmp/x", "--trees", "5"])
        #expect(cnnWithTrees.status != 0 && cnnWithTrees.stderr.contains("--classifier tws"))
        let twsWithPreset = try runSootctl(["train", "--classifier", "tws", "--preset", "cpu", "--data", "/nonexistent", "--out", "/tmp/x"])
        #expect(twsWithPreset.status != 0 && twsWithPreset.stderr.contains("CNN's"))
        let otsuModel = try runSootctl(["segment", example, "--classifier", "otsu", "--model", "m.sootrf", "--out", "/tmp/x"])
        #expect(otsuModel.status != 0 && otsuModel.stderr.contains("cnn or tws"))
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let missing = try runSootctl(["segment", example, "--classifier", "tws", "--out", root.path + "/out"],
                                     environment: ["SOOTCTL_TWS_MODEL": root.path + "/none.sootrf"])
        // The environment variable is only the first place looked; the shipped model is found after it.
        #expect(missing.status == 0, "\(missing.stderr)")
        let damaged = root.appendingPathComponent("damaged.sootrf")
        try Data("SOOTRF\0\0garbage".utf8).write(to: damaged)
        let bad = try runSootctl(["segment", example, "--classifier", "tws", "--model", damaged.path, "--out", root.path + "/out2"])
        #expect(bad.status != 0 && bad.stderr.contains("damaged.sootrf"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root.path + "/out2/masks"))
    }
}
