import Foundation
import ImageCore
import NeuralNet
import Testing
import TestSupport

@Suite("sootctl train --init: fine-tuning a trained model")
struct TrainInitCommandTests {
    @Test("bare --init starts from the installed default model, keeps its encoder and pixel size, and moves its weights only a little")
    func fineTunesDefaultModel() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try tinyTrainingData(in: root)
        // The finetune preset (the default with --init), shrunk to one step of one small crop.
        let config = root.appendingPathComponent("tiny.json")
        try Data(#"{"iterations": 1, "batchSize": 1, "cropSize": 64, "validateEvery": 1, "checkpointEvery": 1, "syntheticPerEpoch": 0}"#.utf8)
            .write(to: config)
        let out = root.appendingPathComponent("run").path
        let result = try runSootctl(["train", "--data", data, "--out", out, "--config", config.path, "--init"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("training FPN-resnet18") && result.stdout.contains("default.safetensors"), "\(result.stdout)")
        let shipped = try SafeTensors.read(TestPaths.packageRoot.appendingPathComponent("models/default.safetensors").path)
        let tuned = try SafeTensors.read(out + "/final.safetensors")
        #expect(tuned.metadata["encoder"] == "resnet18")
        #expect(tuned.metadata["model_pixel_size_nm"].flatMap(Double.init) == 0.8)
        let configuration = try JSONSerialization.jsonObject(with: Data((tuned.metadata["configuration"] ?? "{}").utf8)) as? [String: Any]
        #expect(configuration?["preset"] as? String == "finetune")
        #expect((configuration?["learningRate"] as? Double).map { abs($0 - 1e-4) < 1e-9 } == true)
        // One step at the warm-up's 1e-5 moves Adam's weights by about 1e-5 each: the start was the
        // shipped model, not a fresh initialisation (which differs by about the weights' size).
        var moved: Float = 0
        for key in ["encoder.conv1.weight", "encoder.layer3.0.conv1.weight", "decoder.p5.weight", "segmentation_head.0.weight"] {
            let a = try #require(tuned.state[key]), b = try #require(shipped.state[key])
            #expect(a.maxAbsDifference(b) < 1e-3, "\(key)")
            moved = max(moved, a.maxAbsDifference(b))
        }
        #expect(moved > 0, "the weights did not train")
    }

    @Test("--init refuses a missing file, a detector for segmentation, and --resume together")
    func refusals() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try tinyTrainingData(in: root)
        let missing = try runSootctl(["train", "--data", data, "--out", root.appendingPathComponent("a").path,
                                      "--init", root.appendingPathComponent("nope.safetensors").path])
        #expect(missing.status != 0 && missing.stderr.contains("no such file"), "\(missing.stderr)")
        let detector = TestPaths.packageRoot.appendingPathComponent("models/primaries.safetensors").path
        let wrongTask = try runSootctl(["train", "--data", data, "--out", root.appendingPathComponent("b").path, "--init", detector])
        #expect(wrongTask.status != 0 && wrongTask.stderr.contains("is a primaries model"), "\(wrongTask.stderr)")
        let both = try runSootctl(["train", "--data", data, "--out", root.appendingPathComponent("c").path, "--init",
                                   "--resume", root.appendingPathComponent("c").path])
        #expect(both.status != 0 && both.stderr.contains("--resume continues a run"), "\(both.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("a").path))
    }
}

/// A `train` data folder (ROOT/data) of one 640 x 128 strip of the README example, in both
/// train/ and val/; returns its path.
func tinyTrainingData(in root: URL) throws -> String {
    for sub in ["train/input", "train/ground_truth", "val/input", "val/ground_truth"] {
        try FileManager.default.createDirectory(at: root.appendingPathComponent("data/" + sub), withIntermediateDirectories: true)
    }
    let image = try ImageReader.read(example).image.cropped(rows: 0..<128)
    let strip = try GrayImage(width: 640, height: 128, pixels: image.pixels)
    let mask = try ImageReader.readMask(exampleMask)
    var top = BinaryMask(width: 640, height: 128)
    for i in 0..<top.count { top.bits[i] = mask.bits[i] }
    for split in ["train", "val"] {
        try ImageWriter.writePNG8(strip, to: root.appendingPathComponent("data/\(split)/input/a.png").path)
        try ImageWriter.writeMask(top, to: root.appendingPathComponent("data/\(split)/ground_truth/a.png").path)
    }
    return root.appendingPathComponent("data").path
}
