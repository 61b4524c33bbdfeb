import Dispatch
import Foundation
import ImageCore
import NeuralNet
import PrimarySizing
import Randomness
import Synthesis

/// What a progress report says.
public struct TrainingProgress: Sendable {
    public var iteration: Int
    public var iterations: Int
    public var loss: Float
    public var learningRate: Float
    public var imagesPerSecond: Double
    public var secondsLeft: Double
    public var lastValidation: ValidationScore?
}

/// Validation loss, pixel accuracy and IoU (pooled over the validation images, p > 0.5).
///
/// For the primary-particle detector (`task: primaries`) `accuracy` is the precision of the
/// located primaries, `iou` is 0, and `f1`, `recall`, `medianDiameterError` and
/// `peakThreshold` (the centre threshold that gave the best F1) are set.
public struct ValidationScore: Codable, Sendable, Equatable {
    public var loss: Double
    public var accuracy: Double
    public var iou: Double
    public var f1: Double? = nil
    public var recall: Double? = nil
    public var medianDiameterError: Double? = nil
    public var peakThreshold: Double? = nil

    public init(loss: Double, accuracy: Double, iou: Double) {
        self.loss = loss; self.accuracy = accuracy; self.iou = iou
    }

    /// What the best models are chosen by: F1 for the detector, IoU for segmentation.
    public var primaryMetric: Double { f1 ?? iou }
}

/// The saved state of a run (`checkpoint/state.json`).
struct RunState: Codable {
    var iteration: Int
    var configuration: TrainingConfiguration
    var best: [BestModel]
    var log: [LogRow]
    var trainingSeconds: Double
}

struct BestModel: Codable {
    var iteration: Int
    /// The validation score it was kept for (`ValidationScore.primaryMetric`: IoU, or F1 for the detector).
    var iou: Double
    var peakThreshold: Double? = nil
    var file: String
}

struct LogRow: Codable {
    var iteration: Int
    var learningRate: Float
    var trainLoss: Double
    var validation: ValidationScore
    var imagesPerSecond: Double
    var elapsedSeconds: Double
}

/// Trains an FPN on a `SegmentationDataset` (METHODS.md section 7) with checkpoints that a
/// killed run resumes from to the same result as an uninterrupted run with the same seed:
/// every crop and dropout mask of step i depends only on (seed, i), and the checkpoint holds
/// the weights, BatchNorm statistics, Adam moments and the log.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let dataset: SegmentationDataset
    public let outputFolder: String
    public let model: FPN
    let optimizer: Adam
    let schedule: LearningRateSchedule
    var state: RunState
    var syntheticEpoch = -1
    var syntheticPool: [TrainingSample] = []
    var primaryEpoch = -1
    var primaryPool: [PrimaryTrainingImage] = []
    /// Six fixed 512 px images (128 px for crops under 128 px, as in tests).
    lazy var primaryValidation: [PrimaryTrainingImage] = primaryValidationImages(
        count: 6, size: configuration.cropSize >= 128 ? 512 : 128, pixelSizeNm: configuration.modelPixelSizeNm ?? 1, seed: configuration.seed)
    /// The detector's diameter channel predicts log(d / this).
    static let referenceDiameterNm = 20.0

    /// Sets up a run; with `resume` (a checkpoint folder, or an output folder holding
    /// `checkpoint/`), continues it with the configuration it was started with, except for
    /// `iterations` when `extendTo` is given (to train a finished run further).
    public init(configuration: TrainingConfiguration, dataset: SegmentationDataset, outputFolder: String,
                resume: String? = nil, extendTo: Int? = nil) throws {
        try configuration.validate()
        self.dataset = dataset
        self.outputFolder = outputFolder
        var config = configuration
        var resumed: RunState?
        var checkpointFolder: String?
        if let resume {
            let folder = FileManager.default.fileExists(atPath: resume + "/checkpoint/state.json") ? resume + "/checkpoint" : resume
            guard let data = FileManager.default.contents(atPath: folder + "/state.json") else {
                throw TrainingError.checkpoint("\(resume): no checkpoint (state.json) found")
            }
            do { resumed = try JSONDecoder().decode(RunState.self, from: data) } catch {
                throw TrainingError.checkpoint("\(folder)/state.json: \(error.localizedDescription)")
            }
            config = resumed!.configuration
            if let extendTo {
                guard extendTo >= resumed!.iteration else {
                    throw TrainingError.checkpoint("\(folder) is at iteration \(resumed!.iteration), past --iterations \(extendTo)")
                }
                config.iterations = extendTo
                resumed!.configuration = config
            }
            checkpointFolder = folder
        }
        self.configuration = config
        model = FPN(encoder: config.depth!, classes: config.isPrimaryDetector ? 2 : 1, dropout: config.dropout, seed: config.seed,
                    decoder: config.decoderWidths)
        if config.isPrimaryDetector && config.initialWeights == nil { model.setHeadBias(channel: 0, to: -2.19) }
        if let path = config.initialWeights, resume == nil { try Self.loadInitialWeights(path, into: model) }
        Self.freeze(model, stages: config.frozenStages)
        optimizer = Adam(parameters: model.namedParameters(), learningRate: config.learningRate, weightDecay: config.weightDecay)
        schedule = warmupMultiStepSchedule(peak: config.learningRate, warmupSteps: config.warmupIterations,
                                           warmupFactor: config.warmupFactor, milestones: config.milestones, decay: config.decay)
        state = resumed ?? RunState(iteration: 0, configuration: config, best: [], log: [], trainingSeconds: 0)
        if let folder = checkpointFolder {
            do {
                try model.load(SafeTensors.read(folder + "/model.safetensors").state)
                try optimizer.load(SafeTensors.read(folder + "/optimizer.safetensors").state)
            } catch {
                throw TrainingError.checkpoint("\(folder): \((error as? LocalizedError)?.errorDescription ?? "\(error)")")
            }
        }
        try Self.writing(outputFolder) { try FileManager.default.createDirectory(atPath: outputFolder, withIntermediateDirectories: true) }
    }

    /// Runs a file operation of the run; a failure becomes `TrainingError.output` naming `path`.
    static func writing<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as TrainingError { throw error } catch {
            let reason = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
            throw TrainingError.output(path, reason)
        }
    }

    static func loadInitialWeights(_ path: String, into model: FPN) throws {
        let lower = path.lowercased()
        var state = lower.hasSuffix(".pt") || lower.hasSuffix(".pth") ? try TorchCheckpoint.read(path) : try SafeTensors.read(path).state
        // torchvision ResNet weights name the encoder's tensors without the "encoder." prefix.
        if state.entries.keys.contains(where: { $0.hasPrefix("layer1.") }) {
            var entries: [String: StateDict.Entry] = [:]
            var order: [String] = []
            for name in state.order where !name.hasPrefix("fc.") {
                entries["encoder." + name] = state.entries[name]
                order.append("encoder." + name)
            }
            state = StateDict(entries: entries, order: order)
        }
        try model.load(state, strict: false)
    }

    static func freeze(_ model: FPN, stages: Int) {
        guard stages > 0 else { return }
        let prefixes = ["encoder.conv1", "encoder.bn1", "encoder.layer1", "encoder.layer2", "encoder.layer3", "encoder.layer4"]
        let frozen = stages >= 5 ? prefixes : Array(prefixes.prefix(stages + 1))
        for (name, p) in model.namedParameters() where frozen.contains(where: { name.hasPrefix($0 + ".") }) {
            p.requiresGradient = false
        }
    }

    /// Generator for step `iteration`, sample `index` (index -1: the step itself).
    func generator(_ iteration: Int, _ index: Int) -> SplitMix64 {
        var mixer = SplitMix64(seed: configuration.seed ^ (UInt64(bitPattern: Int64(iteration)) &* 0x9E37_79B9_7F4A_7C15)
            ^ (UInt64(bitPattern: Int64(index + 1)) &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }

    /// The synthetic images of an epoch, generated at the model's scale.
    func syntheticSamples(epoch: Int) -> [TrainingSample] {
        guard configuration.syntheticPerEpoch > 0 else { return [] }
        if epoch == syntheticEpoch { return syntheticPool }
        var p = SynthesisParameters()
        let ps = configuration.modelPixelSizeNm ?? 0.4 / configuration.defaultScale
        p.pixelSizeNm = ps
        // A 2240 x 1952 field of view at 0.4 nm/px, rendered directly at the model's pixel size.
        p.width = max(Int((2240 * 0.4 / ps).rounded()), 64)
        p.height = max(Int((1952 * 0.4 / ps).rounded()), 64)
        var pool = [TrainingSample?](repeating: nil, count: configuration.syntheticPerEpoch)
        let lock = NSLock()
        let ingredients = configuration.ingredients
        let realism = SyntheticRealism(ingredients: ingredients, modelPixelSizeNm: ps)
        DispatchQueue.concurrentPerform(iterations: configuration.syntheticPerEpoch) { k in
            var g = generator(-(epoch + 1), k)
            let sample: TrainingSample
            if ingredients.isEmpty {
                let s = synthesize(p, seed: g.next())
                sample = SegmentationDataset.makeSample(name: "synthetic", image: s.image, mask: s.mask, scale: 1)
            } else {
                let (image, mask) = realism.image(using: &g)
                sample = SegmentationDataset.makeSample(name: "synthetic", image: image, mask: mask, scale: 1)
            }
            lock.lock(); pool[k] = sample; lock.unlock()
        }
        syntheticEpoch = epoch
        syntheticPool = pool.compactMap { $0 }
        return syntheticPool
    }

    /// Writes a gray crop into sample `k` of a batch [N, 3, S, S], replicated to the three
    /// channels and normalised as at inference (`InferenceConfiguration`).
    static func setInput(_ images: inout Tensor, sample k: Int, gray: [Float]) {
        let mean = InferenceConfiguration().mean, std = InferenceConfiguration().std
        let plane = gray.count
        for ch in 0..<3 {
            let base = (k * 3 + ch) * plane
            for i in 0..<plane { images.data[base + i] = (gray[i] - mean[ch]) / std[ch] }
        }
    }

    /// The detector's synthetic images of an epoch, at its working pixel size.
    func primarySamples(epoch: Int) -> [PrimaryTrainingImage] {
        if epoch == primaryEpoch { return primaryPool }
        let ps = configuration.modelPixelSizeNm ?? 1
        var pool = [PrimaryTrainingImage?](repeating: nil, count: configuration.syntheticPerEpoch)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: configuration.syntheticPerEpoch) { k in
            var g = generator(-(epoch + 1), k)
            let side = max(configuration.cropSize * 3, 512)
            let p = primaryTrainingParameters(width: side, height: side, pixelSizeNm: ps, rng: &g)
            let image = makePrimaryTrainingImage(p, seed: g.next())
            lock.lock(); pool[k] = image; lock.unlock()
        }
        primaryEpoch = epoch
        primaryPool = pool.compactMap { $0 }
        return primaryPool
    }

    /// The detector's batch of step `iteration`: images [N, 3, S, S] and the targets of
    /// `centerHeatmapLoss` (or, with `primaryTarget` "distance", of `distanceMapLoss`: `heatmap`
    /// is then the distance map and `heatWeight` its weight), each [N, 1, S, S].
    func primaryBatch(_ iteration: Int) -> (images: Tensor, heatmap: Tensor, heatWeight: Tensor, logDiameter: Tensor, weight: Tensor) {
        let n = configuration.batchSize, s = configuration.cropSize
        let pool = primarySamples(epoch: (iteration - 1) / configuration.iterationsPerEpoch)
        let ps = configuration.modelPixelSizeNm ?? 1
        let distance = configuration.usesDistanceTarget
        var images = Tensor(zeros: [n, 3, s, s])
        var heat = Tensor(zeros: [n, 1, s, s]), heatWeight = Tensor(zeros: [n, 1, s, s])
        var logD = Tensor(zeros: [n, 1, s, s]), weight = Tensor(zeros: [n, 1, s, s])
        var crops = [([Float], [Float], [Float], [Float], [Float])](repeating: ([], [], [], [], []), count: n)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: n) { k in
            var g = generator(iteration, k)
            let sample = pool[Int.random(in: 0..<pool.count, using: &g)]
            let crop = primaryCrop(sample, size: s, rng: &g)
            let targets: ([Float], [Float], [Float], [Float])
            if distance {
                let t = renderPrimaryDistanceTargets(crop.primaries, size: s, pixelSizeNm: ps, referenceDiameterNm: Self.referenceDiameterNm)
                targets = (t.distance, t.distanceWeight, t.logDiameter, t.weight)
            } else {
                let t = renderPrimaryTargets(crop.primaries, size: s, pixelSizeNm: ps, referenceDiameterNm: Self.referenceDiameterNm)
                targets = (t.heatmap, [], t.logDiameter, t.weight)
            }
            lock.lock(); crops[k] = (crop.image, targets.0, targets.1, targets.2, targets.3); lock.unlock()
        }
        let plane = s * s
        for k in 0..<n {
            Self.setInput(&images, sample: k, gray: crops[k].0)
            for i in 0..<plane {
                heat.data[k * plane + i] = crops[k].1[i]
                if distance { heatWeight.data[k * plane + i] = crops[k].2[i] }
                logD.data[k * plane + i] = crops[k].3[i]
                weight.data[k * plane + i] = crops[k].4[i]
            }
        }
        return (images, heat, heatWeight, logD, weight)
    }

    /// The batch of step `iteration`: images [N, 3, S, S] normalised as at inference, masks [N, 1, S, S].
    func batch(_ iteration: Int) -> (Tensor, Tensor) {
        let n = configuration.batchSize, s = configuration.cropSize
        let synthetic = syntheticSamples(epoch: (iteration - 1) / configuration.iterationsPerEpoch)
        var images = Tensor(zeros: [n, 3, s, s])
        var masks = Tensor(zeros: [n, 1, s, s])
        var crops = [([Float], [Float])](repeating: ([], []), count: n)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: n) { k in
            var g = generator(iteration, k)
            let useSynthetic = !synthetic.isEmpty && Double.random(in: 0..<1, using: &g) < configuration.syntheticFraction
            let pool = useSynthetic ? synthetic : dataset.train
            let sample = pool[Int.random(in: 0..<pool.count, using: &g)]
            let crop = augmentedCrop(sample, size: s, configuration: configuration, rng: &g)
            lock.lock(); crops[k] = crop; lock.unlock()
        }
        let plane = s * s
        for k in 0..<n {
            Self.setInput(&images, sample: k, gray: crops[k].0)
            for i in 0..<plane { masks.data[k * plane + i] = crops[k].1[i] }
        }
        return (images, masks)
    }

    /// Scores the model on the validation images (whole images, evaluation mode).
    public func validate() -> ValidationScore {
        if configuration.isPrimaryDetector {
            var decoding = PeakDecoding()
            decoding.referenceDiameterNm = Self.referenceDiameterNm
            let ps = configuration.modelPixelSizeNm ?? 1
            return scorePrimaryDetector(PrimaryDetector(model: model, workingPixelSizeNm: ps, decoding: decoding),
                                        images: primaryValidation, pixelSizeNm: ps)
        }
        let predictor = SegmentationPredictor(model: model)
        var loss = 0.0, correct = 0, total = 0, intersection = 0, union = 0
        for sample in dataset.validation {
            let p = predictor.probabilities(plane: sample.image, width: sample.width, height: sample.height)
            for i in 0..<p.count {
                let y = sample.mask[i] != 0, q = Double(min(max(p[i], 1e-7), 1 - 1e-7))
                loss -= y ? log(q) : log(1 - q)
                let predicted = p[i] > 0.5
                if predicted == y { correct += 1 }
                if predicted && y { intersection += 1 }
                if predicted || y { union += 1 }
                total += 1
            }
        }
        return ValidationScore(loss: loss / Double(max(total, 1)), accuracy: Double(correct) / Double(max(total, 1)),
                               iou: union == 0 ? 1 : Double(intersection) / Double(union))
    }

    var checkpointFolder: String { outputFolder + "/checkpoint" }

    /// Iterations done so far (after a resume: those of the resumed run).
    public var iterationsDone: Int { state.iteration }

    /// The validation log: one row per validation.
    public var validationLog: [(iteration: Int, trainLoss: Double, validation: ValidationScore)] {
        state.log.map { ($0.iteration, $0.trainLoss, $0.validation) }
    }

    /// Runs to `configuration.iterations` and exports the models; returns the final validation
    /// score. With `stopAfter`, stops once that many iterations are done (a checkpoint is then
    /// written and nothing exported), as a killed run would, to be resumed later.
    @discardableResult
    public func run(stopAfter: Int? = nil, progress: (TrainingProgress) -> Void = { _ in }) throws -> ValidationScore {
        let start = Date()
        let startIteration = state.iteration
        let secondsBefore = state.trainingSeconds
        var lossSum = 0.0, lossCount = 0
        var windowStart = Date(), windowImages = 0
        var last = state.log.last?.validation
        var lastLoss: Float = 0
        while state.iteration < configuration.iterations {
            if let stopAfter, state.iteration >= stopAfter {
                try Self.writing(outputFolder) { try writeCheckpoint() }
                return last ?? validate()
            }
            let i = state.iteration + 1
            optimizer.learningRate = schedule(i)
            var stepGenerator = generator(i, -1)
            model.reseedDropout(stepGenerator.next())
            model.zeroGradients()
            let loss: Float, gradient: Tensor
            if configuration.isPrimaryDetector {
                let b = primaryBatch(i)
                let logits = model.forward(b.images, training: true)
                if configuration.usesDistanceTarget {
                    (loss, _, _, gradient) = distanceMapLoss(logits, distance: b.heatmap, distanceWeight: b.heatWeight,
                                                             logDiameter: b.logDiameter, sizeWeight: b.weight)
                } else {
                    (loss, _, _, gradient) = centerHeatmapLoss(logits, heatmap: b.heatmap, logDiameter: b.logDiameter, sizeWeight: b.weight)
                }
            } else {
                let (x, y) = batch(i)
                let logits = model.forward(x, training: true)
                (loss, gradient) = binaryCrossEntropyWithLogits(logits, targets: y)
            }
            guard loss.isFinite else { throw TrainingError.invalidData("the loss became \(loss) at iteration \(i); lower learningRate") }
            _ = model.backward(gradient)
            optimizer.update()
            state.iteration = i
            lossSum += Double(loss); lossCount += 1; lastLoss = loss
            windowImages += configuration.batchSize
            let elapsed = secondsBefore + Date().timeIntervalSince(start)
            let rate = Double(windowImages) / max(Date().timeIntervalSince(windowStart), 1e-9)
            let perIteration = Date().timeIntervalSince(start) / Double(max(i - startIteration, 1))
            if i % configuration.validateEvery == 0 || i == configuration.iterations {
                let score = validate()
                last = score
                state.log.append(LogRow(iteration: i, learningRate: optimizer.learningRate, trainLoss: lossSum / Double(max(lossCount, 1)),
                                        validation: score, imagesPerSecond: rate, elapsedSeconds: elapsed))
                lossSum = 0; lossCount = 0
                windowStart = Date(); windowImages = 0
                try Self.writing(outputFolder) {
                    try keepIfBest(iteration: i, score: score)
                    try writeLog()
                }
            }
            state.trainingSeconds = secondsBefore + Date().timeIntervalSince(start)
            if i % configuration.checkpointEvery == 0 || i == configuration.iterations {
                try Self.writing(outputFolder) { try writeCheckpoint() }
            }
            progress(TrainingProgress(iteration: i, iterations: configuration.iterations, loss: lastLoss,
                                      learningRate: optimizer.learningRate, imagesPerSecond: rate,
                                      secondsLeft: perIteration * Double(configuration.iterations - i), lastValidation: last))
        }
        try Self.writing(outputFolder) { try exportModels() }
        return last ?? validate()
    }

    /// Metadata written into every exported model.
    func metadata(score: Double?, iteration: Int, peakThreshold: Double? = nil) -> [String: String] {
        var m = ["encoder": configuration.encoder, "architecture": "FPN", "threshold": "0.5",
                 "default_scale": String(configuration.defaultScale), "iteration": String(iteration),
                 "trained_by": "sootctl train", "task": configuration.task]
        if let ps = configuration.modelPixelSizeNm { m["model_pixel_size_nm"] = String(ps) }
        if configuration.isPrimaryDetector {
            m["reference_diameter_nm"] = String(Self.referenceDiameterNm)
            m["primary_target"] = configuration.primaryTarget ?? "heatmap"
            if let peakThreshold { m["peak_threshold"] = String(format: "%.4g", peakThreshold) }
            if let score { m["validation_f1"] = String(format: "%.4f", score) }
        } else if let score {
            m["validation_iou"] = String(format: "%.4f", score)
        }
        // Sorted keys: the same configuration gives the same bytes (reproducible model files).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if let json = try? encoder.encode(configuration) { m["configuration"] = String(decoding: json, as: UTF8.self) }
        return m
    }

    /// The detector's `model.safetensors`: the best validation model, calibrated on the
    /// validation images (`DetectorCalibration`: threshold, mirror averaging, diameter scale),
    /// half precision; `final.safetensors` the last weights, uncalibrated but for the threshold.
    func exportDetector() throws {
        let last = state.log.last?.validation
        try SafeTensors.write(model.stateDict(), to: outputFolder + "/final.safetensors", format: .float16,
                              metadata: metadata(score: last?.primaryMetric, iteration: state.iteration, peakThreshold: last?.peakThreshold))
        var iteration = state.iteration
        if let best = state.best.max(by: { $0.iou < $1.iou }) {
            try model.load(SafeTensors.read(outputFolder + "/best/" + best.file).state)
            iteration = best.iteration
        }
        let ps = configuration.modelPixelSizeNm ?? 1
        let c = calibratePrimaryDetector(model, images: primaryValidation, pixelSizeNm: ps, referenceDiameterNm: Self.referenceDiameterNm)
        var m = metadata(score: c.score.f1, iteration: iteration, peakThreshold: Double(c.threshold))
        m["test_time_flips"] = c.testTimeFlips ? "true" : "false"
        m["diameter_scale"] = String(format: "%.4f", c.diameterScale)
        if let r = c.score.recall { m["validation_recall"] = String(format: "%.4f", r) }
        m["validation_precision"] = String(format: "%.4f", c.score.accuracy)
        if let e = c.score.medianDiameterError { m["validation_median_diameter_error"] = String(format: "%.4f", e) }
        try SafeTensors.write(model.stateDict(), to: outputFolder + "/model.safetensors", format: .float16, metadata: m)
    }

    func keepIfBest(iteration: Int, score: ValidationScore) throws {
        let folder = outputFolder + "/best"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let worst = state.best.min { $0.iou < $1.iou }
        let value = score.primaryMetric
        guard state.best.count < configuration.keepBest || value > (worst?.iou ?? -1) else { return }
        let file = String(format: "iter_%06d_%@_%.4f.safetensors", iteration, configuration.isPrimaryDetector ? "f1" : "iou", value)
        try SafeTensors.write(model.stateDict(), to: folder + "/" + file,
                              metadata: metadata(score: value, iteration: iteration, peakThreshold: score.peakThreshold))
        state.best.append(BestModel(iteration: iteration, iou: value, peakThreshold: score.peakThreshold, file: file))
        if state.best.count > configuration.keepBest, let w = state.best.min(by: { $0.iou < $1.iou }) {
            try? FileManager.default.removeItem(atPath: folder + "/" + w.file)
            state.best.removeAll { $0.file == w.file }
        }
    }

    /// The checkpoint folder is replaced as a whole: written beside, then swapped in.
    func writeCheckpoint() throws {
        let tmp = outputFolder + "/checkpoint.partial", old = outputFolder + "/checkpoint.old"
        let fm = FileManager.default
        try? fm.removeItem(atPath: tmp)
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        try SafeTensors.write(model.stateDict(), to: tmp + "/model.safetensors", metadata: metadata(score: nil, iteration: state.iteration))
        try SafeTensors.write(optimizer.stateDict(), to: tmp + "/optimizer.safetensors")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(state).write(to: URL(fileURLWithPath: tmp + "/state.json"), options: .atomic)
        try? fm.removeItem(atPath: old)
        if fm.fileExists(atPath: checkpointFolder) { try fm.moveItem(atPath: checkpointFolder, toPath: old) }
        try fm.moveItem(atPath: tmp, toPath: checkpointFolder)
        try? fm.removeItem(atPath: old)
    }

    func writeLog() throws {
        if configuration.isPrimaryDetector {
            var text = "iteration,learning_rate,train_loss,val_precision,val_recall,val_f1,val_median_diameter_error,peak_threshold,images_per_second,elapsed_s\n"
            for r in state.log {
                let v = r.validation
                text += String(format: "%d,%.3g,%.5f,%.4f,%.4f,%.4f,%.4f,%.2f,%.2f,%.1f\n", r.iteration, Double(r.learningRate), r.trainLoss,
                               v.accuracy, v.recall ?? 0, v.f1 ?? 0, v.medianDiameterError ?? .nan, v.peakThreshold ?? 0,
                               r.imagesPerSecond, r.elapsedSeconds)
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: outputFolder + "/log.csv"), options: .atomic)
            return
        }
        var text = "iteration,learning_rate,train_loss,val_loss,val_accuracy,val_iou,images_per_second,elapsed_s\n"
        for r in state.log {
            text += String(format: "%d,%.3g,%.5f,%.5f,%.5f,%.5f,%.2f,%.1f\n", r.iteration, Double(r.learningRate), r.trainLoss,
                           r.validation.loss, r.validation.accuracy, r.validation.iou, r.imagesPerSecond, r.elapsedSeconds)
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: outputFolder + "/log.csv"), options: .atomic)
    }

    /// `final.safetensors` (last weights) and `model.safetensors` (best validation IoU), both
    /// half precision with the metadata inference needs.
    func exportModels() throws {
        if configuration.isPrimaryDetector { return try exportDetector() }
        let last = state.log.last?.validation
        let finalScore = last?.primaryMetric
        try SafeTensors.write(model.stateDict(), to: outputFolder + "/final.safetensors", format: .float16,
                              metadata: metadata(score: finalScore, iteration: state.iteration, peakThreshold: last?.peakThreshold))
        if let best = state.best.max(by: { $0.iou < $1.iou }) {
            let (bestState, _) = try SafeTensors.read(outputFolder + "/best/" + best.file)
            try SafeTensors.write(bestState, to: outputFolder + "/model.safetensors", format: .float16,
                                  metadata: metadata(score: best.iou, iteration: best.iteration, peakThreshold: best.peakThreshold))
        } else {
            try SafeTensors.write(model.stateDict(), to: outputFolder + "/model.safetensors", format: .float16,
                                  metadata: metadata(score: finalScore, iteration: state.iteration, peakThreshold: last?.peakThreshold))
        }
    }
}
