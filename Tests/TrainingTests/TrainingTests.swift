import Foundation
import ImageCore
import NeuralNet
import Randomness
import Testing
import TestSupport
import Training

/// A small data folder in CarbonBlackSegmentation's layout: dark discs on a bright field.
func makeDataFolder(train: Int = 2, validation: Int = 1, size: Int = 96) throws -> URL {
    let root = TestPaths.temporaryFolder()
    for (split, count) in [("train", train), ("val", validation)] {
        for sub in ["input", "ground_truth"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("\(split)/\(sub)"),
                                                    withIntermediateDirectories: true)
        }
        for k in 0..<count {
            let mask = randomBlobs(width: size, height: size, count: 3, radius: 6...14, seed: UInt64(100 + k + (split == "val" ? 50 : 0)))
            var pixels = [Float](repeating: 0.8, count: size * size)
            var rng = SplitMix64(seed: UInt64(k))
            for i in 0..<pixels.count {
                pixels[i] = (mask.bits[i] != 0 ? 0.35 : 0.8) + Float(0.03 * rng.nextGaussian())
                pixels[i] = min(max(pixels[i], 0), 1)
            }
            let image = try GrayImage(width: size, height: size, pixels: pixels)
            let name = (split == "val" ? "val" : "img") + String(k)
            try ImageWriter.writePNG8(image, to: root.appendingPathComponent("\(split)/input/\(name).png").path)
            try ImageWriter.writeMask(mask, to: root.appendingPathComponent("\(split)/ground_truth/\(name).png").path)
        }
    }
    return root
}

/// A configuration small enough to train in a second: ResNet-18, 64 px crops, batch 2.
func tinyConfiguration(iterations: Int = 4) -> TrainingConfiguration {
    var c = TrainingConfiguration.cpuPreset
    c.iterations = iterations
    c.batchSize = 2
    c.cropSize = 64
    c.warmupIterations = 2
    c.milestones = [3]
    c.validateEvery = 2
    c.checkpointEvery = 2
    c.modelPixelSizeNm = nil
    c.defaultScale = 1
    c.iterationsPerEpoch = 2
    return c
}

@Suite("Training configuration")
struct TrainingConfigurationTests {
    @Test("defaults are the paper's recipe (METHODS.md 7.4)")
    func paperDefaults() {
        let c = TrainingConfiguration()
        #expect(c.encoder == "resnet50")
        #expect(c.learningRate == 1e-4 && c.weightDecay == 1e-4)
        #expect(c.warmupIterations == 1000 && c.warmupFactor == 0.001)
        #expect(c.milestones == [2000, 8000] && c.decay == 0.1)
        #expect(c.iterations == 10000 && c.batchSize == 24 && c.cropSize == 1280)
        #expect(c.augmentation.scale == 0.5...1.5 && c.augmentation.horizontalFlip == 0.5)
        #expect(c.dropout == 0.2 && c.keepBest == 3)
    }

    @Test("the paper's learning-rate schedule: i * 1e-7 warm-up, x0.1 at 2,000 and 8,000")
    func schedule() {
        let c = TrainingConfiguration()
        let lr = warmupMultiStepSchedule(peak: c.learningRate, warmupSteps: c.warmupIterations, warmupFactor: c.warmupFactor,
                                         milestones: c.milestones, decay: c.decay)
        let expected: [(Int, Float)] = [(1, 1e-7), (500, 5e-5), (1000, 1e-4), (1001, 1e-4), (1999, 1e-4),
                                        (2000, 1e-5), (7999, 1e-5), (8000, 1e-6), (10000, 1e-6)]
        for (step, value) in expected {
            #expect(abs(lr(step) - value) <= value * 1e-4, "step \(step): \(lr(step)) vs \(value)")
        }
    }

    @Test("a config file overlays a preset; unknown fields and bad values are named")
    func loading() throws {
        let folder = TestPaths.temporaryFolder()
        let good = folder.appendingPathComponent("good.json")
        try Data(#"{"preset": "cpu", "iterations": 123, "augmentation": {"noise": 0.5}}"#.utf8).write(to: good)
        let c = try TrainingConfiguration.load(good.path)
        #expect(c.encoder == "resnet18" && c.iterations == 123 && c.cropSize == 256)
        #expect(c.augmentation.noise == 0.5 && c.augmentation.rotate90)

        let unknown = folder.appendingPathComponent("unknown.json")
        try Data(#"{"iteratons": 5}"#.utf8).write(to: unknown)
        #expect { try TrainingConfiguration.load(unknown.path) } throws: { error in
            (error as? TrainingError)?.errorDescription?.contains("iteratons") == true
        }
        let bad = folder.appendingPathComponent("bad.json")
        try Data(#"{"cropSize": 100}"#.utf8).write(to: bad)
        #expect { try TrainingConfiguration.load(bad.path) } throws: { error in
            (error as? TrainingError)?.errorDescription?.contains("cropSize") == true
        }
        #expect(throws: TrainingError.self) { try TrainingConfiguration.load(folder.appendingPathComponent("missing.json").path) }
        // Without a preset in the file, the caller's preset is the base.
        let plain = folder.appendingPathComponent("plain.json")
        try Data(#"{"iterations": 7}"#.utf8).write(to: plain)
        #expect(try TrainingConfiguration.load(plain.path, preset: "cpu").encoder == "resnet18")
        #expect(try TrainingConfiguration.load(plain.path).encoder == "resnet50")
        // A field of the wrong type is named, with the type it needs.
        let wrongType = folder.appendingPathComponent("type.json")
        try Data(#"{"iterations": "many", "augmentation": {"noise": 0.5}}"#.utf8).write(to: wrongType)
        #expect { try TrainingConfiguration.load(wrongType.path) } throws: { error in
            (error as? TrainingError)?.errorDescription?.contains("field iterations must be a whole number") == true
        }
        try Data(#"{"augmentation": {"noise": "high"}}"#.utf8).write(to: wrongType)
        #expect { try TrainingConfiguration.load(wrongType.path) } throws: { error in
            (error as? TrainingError)?.errorDescription?.contains("field augmentation.noise must be a number") == true
        }
        let array = folder.appendingPathComponent("array.json")
        try Data("[1, 2]".utf8).write(to: array)
        #expect { try TrainingConfiguration.load(array.path) } throws: { error in
            (error as? TrainingError)?.errorDescription?.contains("not a JSON object") == true
        }
    }
}

@Suite("Training data")
struct TrainingDataTests {
    @Test("a data folder loads with its pairs; pixel_sizes.csv rescales to the model's pixel size")
    func loads() throws {
        let root = try makeDataFolder()
        let d = try SegmentationDataset.load(root.path, configuration: tinyConfiguration())
        #expect(d.train.count == 2 && d.validation.count == 1)
        #expect(d.train[0].width == 96 && d.train[0].mask.contains(1))
        try Data("stem,pixel_size_nm\nimg0,0.4\nimg1,0.4\n".utf8).write(to: root.appendingPathComponent("pixel_sizes.csv"))
        var c = tinyConfiguration()
        c.modelPixelSizeNm = 0.8
        let half = try SegmentationDataset.load(root.path, configuration: c)
        #expect(half.train[0].width == 48)
        // val0 has no entry: the default scale (1) applies.
        #expect(half.validation[0].width == 96)
        // A table given on the command line (--pixel-sizes) wins over the folder's.
        let quarter = try SegmentationDataset.load(root.path, configuration: c, pixelSizes: ["img0": 0.2, "val0": 0.4])
        #expect(quarter.train.first { $0.name.hasPrefix("img0") }?.width == 24)
        #expect(quarter.train.first { $0.name.hasPrefix("img1") }?.width == 48)
        #expect(quarter.validation[0].width == 48)
        // A bad entry names its line.
        try Data("stem,pixel_size_nm\nimg0,abc\n".utf8).write(to: root.appendingPathComponent("pixel_sizes.csv"))
        #expect { try SegmentationDataset.load(root.path, configuration: c) } throws: { error in
            (error as? TrainingError)?.errorDescription?.contains("line 2") == true
        }
    }

    @Test("an image without a mask, a mask of another size, a non-binary mask: errors name the files")
    func errors() throws {
        let c = tinyConfiguration()
        let root = try makeDataFolder()
        let extra = root.appendingPathComponent("train/input/lonely.png")
        try ImageWriter.writePNG8(GrayImage(width: 8, height: 8, value: 0.5), to: extra.path)
        #expect { try SegmentationDataset.load(root.path, configuration: c) } throws: { error in
            let text = (error as? TrainingError)?.errorDescription ?? ""
            return text.contains("no mask") && text.contains("lonely.png")
        }
        try FileManager.default.removeItem(at: extra)

        let mask = root.appendingPathComponent("train/ground_truth/img1.png")
        try ImageWriter.writeMask(BinaryMask(width: 50, height: 40), to: mask.path)
        #expect { try SegmentationDataset.load(root.path, configuration: c) } throws: { error in
            let text = (error as? TrainingError)?.errorDescription ?? ""
            return text.contains("img1.png") && text.contains("50 x 40")
        }
        try ImageWriter.writePNG8(randomImage(width: 96, height: 96, seed: 3), to: mask.path)
        #expect { try SegmentationDataset.load(root.path, configuration: c) } throws: { error in
            (error as? TrainingError)?.errorDescription?.contains("not a binary mask") == true
        }

        let empty = TestPaths.temporaryFolder()
        for sub in ["train/input", "train/ground_truth", "val/input", "val/ground_truth"] {
            try FileManager.default.createDirectory(at: empty.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        #expect { try SegmentationDataset.load(empty.path, configuration: c) } throws: { error in
            (error as? TrainingError)?.errorDescription?.contains("holds no images") == true
        }
        #expect(throws: TrainingError.self) { try SegmentationDataset.load(empty.path + "/nope", configuration: c) }
    }

    @Test("augmented crops are deterministic in the seed, keep masks binary and images in 0...1")
    func augmentation() throws {
        let root = try makeDataFolder()
        var c = tinyConfiguration()
        c.augmentation.noise = 1
        c.augmentation.perspective = 1
        c.augmentation.clahe = true
        c.augmentation.colour = 1
        let d = try SegmentationDataset.load(root.path, configuration: c)
        var g1 = SplitMix64(seed: 9), g2 = SplitMix64(seed: 9), g3 = SplitMix64(seed: 10)
        let a = augmentedCrop(d.train[0], size: 64, configuration: c, rng: &g1)
        let b = augmentedCrop(d.train[0], size: 64, configuration: c, rng: &g2)
        let other = augmentedCrop(d.train[0], size: 64, configuration: c, rng: &g3)
        #expect(a.image == b.image && a.mask == b.mask)
        #expect(a.image != other.image)
        #expect(a.mask.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(a.image.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Every branch of the colour step (CLAHE included) runs over a few seeds.
        for seed in UInt64(20)..<32 {
            var g = SplitMix64(seed: seed)
            let crop = augmentedCrop(d.train[1], size: 64, configuration: c, rng: &g)
            #expect(crop.image.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
        #expect(TrainingConfiguration().augmentation.clahe && !TrainingConfiguration.cpuPreset.augmentation.clahe)
    }

    @Test("with every augmentation off a crop's mask is a window of the source mask, pixel for pixel")
    func identityCrop() throws {
        let root = try makeDataFolder()
        var c = tinyConfiguration()
        c.augmentation = AugmentationSettings()
        c.augmentation.horizontalFlip = 0; c.augmentation.verticalFlip = 0
        c.augmentation.scale = 1...1; c.augmentation.shift = 0
        c.augmentation.noise = 0; c.augmentation.perspective = 0
        c.augmentation.colour = 0; c.augmentation.sharpness = 0; c.augmentation.contrast = 0
        // Uniform crop centres (soot-centred crops sit half a pixel off the grid, see Docs/Training.md).
        c.foregroundCropProbability = 0
        let d = try SegmentationDataset.load(root.path, configuration: c)
        let s = d.train[0]
        var sawSoot = false
        for seed in UInt64(1)...5 {
            var g = SplitMix64(seed: seed)
            let crop = augmentedCrop(s, size: 32, configuration: c, rng: &g)
            sawSoot = sawSoot || crop.mask.contains(1)
            // The crop must equal some 32 x 32 window of the source (reflected beyond the edges).
            func fold(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i }
            var found = false
            search: for r0 in -31..<s.height {
                for c0 in -31..<s.width {
                    var same = true
                    check: for v in 0..<32 {
                        for u in 0..<32 where Float(s.mask[fold(r0 + v, s.height) * s.width + fold(c0 + u, s.width)]) != crop.mask[v * 32 + u] {
                            same = false
                            break check
                        }
                    }
                    if same { found = true; break search }
                }
            }
            #expect(found, "seed \(seed)")
            // Bilinear sampling at a sub-pixel offset: the mean grey level is kept.
            let meanCrop = crop.image.reduce(0, +) / Float(crop.image.count)
            #expect(meanCrop > 0.3 && meanCrop < 0.85)
        }
        #expect(sawSoot)
    }
}

@Suite("Trainer")
struct TrainerTests {
    @Test("a run stopped and resumed ends with the same weights as an uninterrupted run")
    func resumeMatchesUninterrupted() throws {
        let root = try makeDataFolder()
        var c = tinyConfiguration(iterations: 4)
        c.syntheticPerEpoch = 1
        c.syntheticFraction = 0.5
        let d = try SegmentationDataset.load(root.path, configuration: c)
        let whole = TestPaths.temporaryFolder().path, split = TestPaths.temporaryFolder().path

        let a = try Trainer(configuration: c, dataset: d, outputFolder: whole)
        try a.run()
        let first = try Trainer(configuration: c, dataset: d, outputFolder: split)
        try first.run(stopAfter: 2)
        #expect(first.iterationsDone == 2)
        let resumed = try Trainer(configuration: c, dataset: d, outputFolder: split, resume: split)
        #expect(resumed.iterationsDone == 2)
        try resumed.run()
        #expect(resumed.iterationsDone == 4)

        let wa = a.model.stateDict(), wb = resumed.model.stateDict()
        var maxDifference: Float = 0
        for name in wa.order {
            let x = wa.entries[name]!.tensor.data, y = wb.entries[name]!.tensor.data
            #expect(x.count == y.count)
            for i in 0..<x.count { maxDifference = max(maxDifference, abs(x[i] - y[i])) }
        }
        #expect(maxDifference == 0, "largest weight difference \(maxDifference)")
        #expect(a.validationLog.map(\.validation) == resumed.validationLog.map(\.validation))
        // Same seed, same bytes: the exported model files are identical, header included.
        #expect(try Data(contentsOf: URL(fileURLWithPath: whole + "/model.safetensors"))
            == Data(contentsOf: URL(fileURLWithPath: split + "/model.safetensors")))

        // Outputs: log, best models (at most keepBest), checkpoint, final and best model files.
        let fm = FileManager.default
        let log = try String(contentsOfFile: whole + "/log.csv", encoding: .utf8)
        #expect(log.split(separator: "\n").count == 3)
        #expect(log.hasPrefix("iteration,learning_rate,train_loss,val_loss,val_accuracy,val_iou"))
        #expect(fm.fileExists(atPath: whole + "/checkpoint/state.json"))
        #expect(try fm.contentsOfDirectory(atPath: whole + "/best").count == 2)
        let predictor = try SegmentationPredictor(contentsOf: whole + "/model.safetensors")
        #expect(predictor.metadata["encoder"] == "resnet18")
        #expect(predictor.metadata["validation_iou"] != nil)
    }

    @Test("a few iterations on an easy task lower the training loss")
    func learns() throws {
        let root = try makeDataFolder(train: 2, validation: 1, size: 64)
        var c = tinyConfiguration(iterations: 12)
        c.learningRate = 3e-3
        c.milestones = []
        c.validateEvery = 6
        let d = try SegmentationDataset.load(root.path, configuration: c)
        let trainer = try Trainer(configuration: c, dataset: d, outputFolder: TestPaths.temporaryFolder().path)
        try trainer.run()
        let losses = trainer.validationLog.map(\.trainLoss)
        #expect(losses.count == 2)
        #expect(losses[1] < losses[0], "\(losses)")
    }

    @Test("the encoder initialises from torchvision-named weights and frozen stages stay fixed")
    func initialWeightsAndFreezing() throws {
        let root = try makeDataFolder()
        let d = try SegmentationDataset.load(root.path, configuration: tinyConfiguration())
        // torchvision ResNet names: the encoder's keys without "encoder.", plus an fc layer.
        let source = FPN(encoder: .resnet18, seed: 77).stateDict()
        var entries: [String: StateDict.Entry] = [:], order: [String] = []
        for name in source.order where name.hasPrefix("encoder.") {
            let short = String(name.dropFirst("encoder.".count))
            entries[short] = source.entries[name]
            order.append(short)
        }
        entries["fc.weight"] = StateDict.Entry(tensor: Tensor(zeros: [1000, 512]), isInteger: false)
        order.append("fc.weight")
        let file = TestPaths.temporaryFolder().appendingPathComponent("resnet18.safetensors").path
        try SafeTensors.write(StateDict(entries: entries, order: order), to: file)

        var c = tinyConfiguration(iterations: 2)
        c.initialWeights = file
        c.frozenStages = 5
        let trainer = try Trainer(configuration: c, dataset: d, outputFolder: TestPaths.temporaryFolder().path)
        try trainer.run()
        let after = trainer.model.stateDict()
        for name in source.order where name.hasPrefix("encoder.") && name.hasSuffix(".weight") && name.contains("conv") {
            #expect(after.entries[name]!.tensor.data == source.entries[name]!.tensor.data, "\(name) changed")
        }
        // The decoder trains.
        let decoderName = "decoder.p5.weight"
        #expect(after.entries[decoderName]!.tensor.data != FPN(encoder: .resnet18, seed: c.seed).stateDict().entries[decoderName]!.tensor.data)
    }

    @Test("a checkpoint that is not there is a clear error")
    func missingCheckpoint() throws {
        let root = try makeDataFolder()
        let d = try SegmentationDataset.load(root.path, configuration: tinyConfiguration())
        #expect { try Trainer(configuration: tinyConfiguration(), dataset: d, outputFolder: TestPaths.temporaryFolder().path,
                              resume: "/nonexistent/run") } throws: { error in
            (error as? TrainingError)?.errorDescription?.contains("no checkpoint") == true
        }
    }
}
