import Classifiers
import Foundation
import ImageCore
import Testing
import TestSupport
import Training

@Suite("TWS training (sootctl train --classifier tws)")
struct TWSTrainingTests {
    /// A small data folder (the CNN's layout) whose images are at the TWS working pixel size.
    func dataFolder(pixelSizes: Bool = true) throws -> URL {
        let root = try makeDataFolder(train: 2, validation: 1, size: 128)
        if pixelSizes {
            try "stem,pixel_size_nm\nimg0,1.6\nimg1,1.6\nval0,1.6\n"
                .write(to: root.appendingPathComponent("pixel_sizes.csv"), atomically: true, encoding: .utf8)
        }
        return root
    }

    func configuration() -> TWSTrainingConfiguration {
        var c = TWSTrainingConfiguration()
        c.trees = 10
        c.pixelsPerClass = 300
        c.minimumPixels = 0  // the blobs are under 1,000 px
        return c
    }

    @Test("trains on train/, scores train/ and val/, writes model.sootrf and training.json; nothing is overwritten")
    func run() throws {
        let data = try dataFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        let out = data.appendingPathComponent("out").path
        let report = try TWSTraining.run(data: data.path, out: out, configuration: configuration())
        #expect(report.trainImages == ["img0", "img1"] && report.validationImages == ["val0"])
        #expect(report.trainingRows == 2 * 2 * 300)
        #expect(report.scores.map(\.split) == ["train", "train", "val"])
        let val = try #require(report.meanIoU(split: "val"))
        #expect(val > 0.85, "validation IoU \(val)")
        let model = try TWSSegmenter(modelPath: out + "/model.sootrf")
        #expect(model.forest.trees.count == 10 && model.workingPixelSizeNm == 1.6)
        #expect(model.metadata["train_images"] == "img0,img1" && model.metadata["trees"] == "10")
        #expect(model.flattening == TWSSegmenter.Flattening())
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/training.json"))) as? [String: Any]
        #expect(json?["model_bytes"] as? Int == report.modelBytes && report.modelBytes > 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/model.sootrf"))
        #expect(throws: TrainingError.self) { try TWSTraining.run(data: data.path, out: out, configuration: configuration()) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/model.sootrf")) == before)
    }

    @Test("the same seed and data give the same model file; another seed another")
    func reproducible() throws {
        let data = try dataFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        var c = configuration()
        try TWSTraining.run(data: data.path, out: data.path + "/a", configuration: c)
        try TWSTraining.run(data: data.path, out: data.path + "/b", configuration: c)
        c.seed = 2
        try TWSTraining.run(data: data.path, out: data.path + "/c", configuration: c)
        let a = try Data(contentsOf: URL(fileURLWithPath: data.path + "/a/model.sootrf"))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: data.path + "/b/model.sootrf"))))
        #expect(a != (try Data(contentsOf: URL(fileURLWithPath: data.path + "/c/model.sootrf"))))
    }

    @Test("images without a pixel size and bad settings are errors that say what to do")
    func errors() throws {
        let data = try dataFolder(pixelSizes: false)
        defer { try? FileManager.default.removeItem(at: data) }
        do {
            try TWSTraining.run(data: data.path, out: data.path + "/out", configuration: configuration())
            Issue.record("trained without pixel sizes")
        } catch let error as TrainingError {
            let text = error.localizedDescription
            #expect(text.contains("img0.png") && text.contains("pixel_sizes.csv"), "\(text)")
        }
        var bad = configuration()
        bad.trees = 0
        #expect(throws: TrainingError.self) { try bad.validate() }
        #expect(!FileManager.default.fileExists(atPath: data.path + "/out/model.sootrf"))
    }
}
