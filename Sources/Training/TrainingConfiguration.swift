import Foundation
import NeuralNet

/// Everything a training run needs besides its data, as a JSON file (`sootctl train --config`).
///
/// Defaults are the paper's recipe (METHODS.md section 7): FPN over ResNet-50, Adam 1e-4 with
/// coupled weight decay 1e-4, warm-up over 1,000 iterations from factor 0.001, x0.1 at 2,000 and
/// 8,000, 10,000 iterations of batch 24, 1280 px crops, CarbonBlackSegmentation's augmentations.
/// `preset: "cpu"` (see `cpuPreset`) makes it trainable on a 2-core machine. Every field can be
/// overridden in the file; fields left out keep their defaults.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public var preset: String? = nil
    /// What the network learns: "segmentation" (aggregates vs background, one output channel)
    /// or "primaries" (the primary-particle detector: centre heatmap and log diameter, trained
    /// on synthetic images only; see `primariesPreset`).
    public var task = "segmentation"
    public var encoder = "resnet50"
    /// Optional safetensors/PyTorch weights to initialise from (keys `encoder.*` are used;
    /// a full FPN state dict is loaded whole).
    public var initialWeights: String? = nil
    /// Encoder stages kept fixed: 0 none, 1 the stem (conv1, bn1), 2 also layer1, ..., 5 all.
    public var frozenStages = 0
    public var learningRate: Float = 1e-4
    public var weightDecay: Float = 1e-4
    public var warmupIterations = 1000
    public var warmupFactor: Float = 0.001
    public var milestones = [2000, 8000]
    public var decay: Float = 0.1
    public var iterations = 10000
    public var batchSize = 24
    public var cropSize = 1280
    public var dropout: Float = 0.2
    /// The FPN decoder's widths (smp's `decoder_pyramid_channels`, `decoder_segmentation_channels`);
    /// nil: 256 and 128, smp's and the paper's. Narrower decoders run faster (Docs/Training.md).
    public var decoderPyramidChannels: Int? = nil
    public var decoderSegmentationChannels: Int? = nil
    /// Images are resampled so that one pixel is this many nm (when the image's pixel size is
    /// known, from its metadata or `pixel_sizes.csv` in the data folder); nil = no resampling.
    public var modelPixelSizeNm: Double? = nil
    /// Scale applied to images whose pixel size is unknown (1 = as is).
    public var defaultScale: Double = 1
    /// Share of crops centred on a soot pixel (the rest are uniform).
    public var foregroundCropProbability = 0.0
    /// "constant" (zeros, as CarbonBlackSegmentation) or "reflect" padding of crops.
    public var padMode = "constant"
    public var augmentation = AugmentationSettings()
    /// Synthetic images mixed in per epoch (`--synthetic N`) and the share of crops from them.
    public var syntheticPerEpoch = 0
    public var syntheticFraction = 0.5
    /// Realism ingredients of the synthetic images (`SyntheticIngredient` names, or "all");
    /// empty: the plain generator at the model's pixel size, as the shipped model was trained.
    public var syntheticIngredients: [String] = []
    public var iterationsPerEpoch = 100
    /// The detector's centre target (`task: primaries`): nil or "heatmap", CenterNet's Gaussian
    /// heatmap under the penalty-reduced focal loss (the shipped detector); "distance", a
    /// distance map regressed with a squared error (1 at a primary's centre falling linearly to
    /// 0 at its rim, `renderPrimaryDistanceTargets`, `distanceMapLoss`). Both decode the same
    /// way (peaks of channel 0, diameters from channel 1); the comparison is in Docs/Primaries.md.
    public var primaryTarget: String? = nil
    /// Validation, log and checkpoint cadence (iterations).
    public var validateEvery = 200
    public var checkpointEvery = 200
    public var keepBest = 3
    public var seed: UInt64 = 42

    public init() {}

    /// The CPU preset: FPN-ResNet-18 from scratch on images at 0.8 nm/px (half the UBC
    /// resolution), 900 iterations of 8 crops of 256 px, Adam peaking at 1e-3.
    public static var cpuPreset: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.preset = "cpu"
        c.encoder = "resnet18"
        c.learningRate = 1e-3
        c.warmupIterations = 50
        c.warmupFactor = 0.01
        c.milestones = [600, 800]
        c.iterations = 900
        c.batchSize = 8
        c.cropSize = 256
        c.modelPixelSizeNm = 0.8
        c.defaultScale = 0.5
        c.foregroundCropProbability = 0.5
        c.padMode = "reflect"
        c.augmentation.scale = 0.8...1.25
        c.augmentation.rotate90 = true
        c.augmentation.clahe = false
        c.validateEvery = 50
        c.checkpointEvery = 50
        return c
    }

    /// The detector preset (`--task primaries`): FPN-ResNet-18 from scratch at 1 nm/px on
    /// synthetic images only (16 new ones per epoch of 100 iterations), 3,200 iterations of 8
    /// crops of 192 px (192 nm: several primaries of up to 60 nm), Adam at 1e-3 (x0.1 at 2,300
    /// and 2,900), no dropout before the two-channel head. The shipped detector's recipe.
    public static var primariesPreset: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.preset = "primaries"
        c.task = "primaries"
        c.encoder = "resnet18"
        c.learningRate = 1e-3
        c.warmupIterations = 100
        c.warmupFactor = 0.01
        c.milestones = [2300, 2900]
        c.iterations = 3200
        c.batchSize = 8
        c.cropSize = 192
        c.dropout = 0
        c.modelPixelSizeNm = 1.0
        c.syntheticPerEpoch = 16
        c.syntheticFraction = 1
        c.validateEvery = 200
        c.checkpointEvery = 100
        return c
    }

    /// The fine-tuning preset (`sootctl train --init MODEL`, the default with `--init`): a
    /// trained segmentation model adapted to a lab's own few images. The CPU preset's crops and
    /// augmentations, 300 iterations at a tenth of its learning rate (1e-4, warm-up over 20
    /// iterations, x0.1 at 200), a quarter of the crops from 8 synthetic images per epoch so the
    /// model keeps what it knew. Encoder and working pixel size come from the model file
    /// (`initialise(fromModel:)`).
    public static var fineTunePreset: TrainingConfiguration {
        var c = cpuPreset
        c.preset = "finetune"
        c.learningRate = 1e-4
        c.warmupIterations = 20
        c.warmupFactor = 0.1
        c.milestones = [200]
        c.iterations = 300
        c.syntheticPerEpoch = 8
        c.syntheticFraction = 0.25
        c.validateEvery = 50
        c.checkpointEvery = 50
        return c
    }

    /// Starts from the weights of a trained model file: sets `initialWeights` and takes the
    /// encoder, the decoder's widths, the working pixel size and the task from the file's metadata (`sootctl train`
    /// models carry them), so the fine-tuned model sees images at the scale it was made for.
    /// - Throws: `TrainingError.invalidConfiguration` when the file is unreadable, is a model
    ///   of the other task, or names an encoder this configuration cannot build.
    public mutating func initialise(fromModel path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TrainingError.invalidConfiguration("--init \(path): no such file")
        }
        let lower = path.lowercased()
        initialWeights = path
        guard !(lower.hasSuffix(".pt") || lower.hasSuffix(".pth")) else { return }  // no metadata: keep the configuration's
        let metadata: [String: String]
        let state: StateDict
        do {
            (state, metadata) = try SafeTensors.read(path)
        } catch {
            throw TrainingError.invalidConfiguration("--init \(path): \((error as? LocalizedError)?.errorDescription ?? "\(error)")")
        }
        let fileTask = metadata["task"] ?? "segmentation"
        guard fileTask == task else {
            throw TrainingError.invalidConfiguration("--init \(path) is a \(fileTask) model; this run trains \(task)")
        }
        if let encoder = metadata["encoder"] {
            guard ResNetDepth(rawValue: encoder) != nil else {
                throw TrainingError.invalidConfiguration("--init \(path): unknown encoder \(encoder)")
            }
            self.encoder = encoder
        }
        if let ps = metadata["model_pixel_size_nm"].flatMap(Double.init), ps > 0, ps.isFinite { modelPixelSizeNm = ps }
        // The decoder's widths from its shapes (a narrower decoder is built to match the file).
        if let widths = FPNDecoderWidths(state: state), widths.isValid {
            decoderPyramidChannels = widths == .standard ? nil : widths.pyramidChannels
            decoderSegmentationChannels = widths == .standard ? nil : widths.segmentationChannels
        }
        if let scale = metadata["default_scale"].flatMap(Double.init), scale > 0, scale.isFinite { defaultScale = scale }
    }

    /// The installed model a run of `task` fine-tunes when `--init` names no file: the default
    /// segmentation model (`$SOOTCTL_MODEL`, then `models/default.safetensors` where the CNN
    /// looks for it) or the default primary-particle detector (`$SOOTCTL_PRIMARY_MODEL`,
    /// `models/primaries.safetensors`).
    /// - Throws: `TrainingError.invalidConfiguration` naming the places searched.
    public static func installedInitialModel(task: String) throws -> String {
        let candidates = task == "primaries"
            ? installedModelCandidates(fileName: "primaries.safetensors", environmentVariable: "SOOTCTL_PRIMARY_MODEL")
            : installedModelCandidates(fileName: "default.safetensors", environmentVariable: "SOOTCTL_MODEL")
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw TrainingError.invalidConfiguration("--init: no installed model to start from; looked in "
                + candidates.joined(separator: ", ") + " (name a model file: --init FILE)")
        }
        return found
    }

    /// The preset of a name (paper, cpu, finetune, primaries).
    public static func preset(named name: String) -> TrainingConfiguration? {
        switch name {
        case "paper": return TrainingConfiguration()
        case "cpu": return cpuPreset
        case "finetune": return fineTunePreset
        case "primaries": return primariesPreset
        default: return nil
        }
    }

    public var isPrimaryDetector: Bool { task == "primaries" }

    /// Whether the detector regresses a distance map (`primaryTarget` "distance").
    public var usesDistanceTarget: Bool { isPrimaryDetector && primaryTarget == "distance" }

    /// The ingredients `syntheticIngredients` names ("all": every one).
    public var ingredients: Set<SyntheticIngredient> {
        syntheticIngredients.contains("all") ? Set(SyntheticIngredient.allCases)
            : Set(syntheticIngredients.compactMap(SyntheticIngredient.init(rawValue:)))
    }

    public var depth: ResNetDepth? { ResNetDepth(rawValue: encoder) }

    /// The decoder widths the network is built with.
    public var decoderWidths: FPNDecoderWidths {
        FPNDecoderWidths(pyramidChannels: decoderPyramidChannels ?? FPNDecoderWidths.standard.pyramidChannels,
                         segmentationChannels: decoderSegmentationChannels ?? FPNDecoderWidths.standard.segmentationChannels)
    }

    /// Checks the values; the message names the field.
    public func validate() throws {
        func bad(_ s: String) -> TrainingError { .invalidConfiguration(s) }
        guard depth != nil else { throw bad("encoder must be resnet18, resnet34 or resnet50") }
        guard decoderWidths.isValid else {
            throw bad("decoderPyramidChannels must be 8-1024 and decoderSegmentationChannels a multiple of 32 in 32-1024, not \(decoderWidths)")
        }
        guard (0...5).contains(frozenStages) else { throw bad("frozenStages must be 0...5") }
        guard learningRate > 0, learningRate.isFinite, weightDecay >= 0 else { throw bad("learningRate must be positive, weightDecay not negative") }
        guard iterations > 0, batchSize > 0 else { throw bad("iterations and batchSize must be positive") }
        guard cropSize >= 32, cropSize % 32 == 0 else { throw bad("cropSize must be a multiple of 32, at least 32") }
        guard validateEvery > 0, checkpointEvery > 0, keepBest > 0, iterationsPerEpoch > 0 else {
            throw bad("validateEvery, checkpointEvery, keepBest and iterationsPerEpoch must be positive")
        }
        guard padMode == "constant" || padMode == "reflect" else { throw bad("padMode must be constant or reflect") }
        guard defaultScale > 0.05, defaultScale <= 4 else { throw bad("defaultScale must be in (0.05, 4]") }
        if let ps = modelPixelSizeNm, !(ps > 0 && ps.isFinite) { throw bad("modelPixelSizeNm must be positive") }
        guard (0...1).contains(foregroundCropProbability), (0...1).contains(syntheticFraction) else {
            throw bad("foregroundCropProbability and syntheticFraction must be in 0...1")
        }
        guard syntheticPerEpoch >= 0 else { throw bad("syntheticPerEpoch must not be negative") }
        for name in syntheticIngredients where name != "all" && SyntheticIngredient(rawValue: name) == nil {
            throw bad("unknown synthetic ingredient \(name) (all, \(SyntheticIngredient.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard task == "segmentation" || task == "primaries" else { throw bad("task must be segmentation or primaries") }
        if isPrimaryDetector {
            guard syntheticPerEpoch > 0 else { throw bad("the primaries task trains on synthetic images: syntheticPerEpoch must be positive") }
            guard modelPixelSizeNm != nil else { throw bad("the primaries task needs modelPixelSizeNm (its working pixel size)") }
        }
        guard primaryTarget == nil || primaryTarget == "heatmap" || primaryTarget == "distance" else {
            throw bad("primaryTarget must be heatmap or distance")
        }
    }

    /// Reads a configuration: the preset named in the file (else `preset`, "paper" or "cpu") is
    /// applied first, then the file's fields.
    public static func load(_ path: String, preset defaultPreset: String = "paper") throws -> TrainingConfiguration {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TrainingError.invalidConfiguration("\(path): cannot read (\(error.localizedDescription))")
        }
        do {
            let parsed: Any
            do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
                throw TrainingError.invalidConfiguration("\(path): not valid JSON")
            }
            guard let object = parsed as? [String: Any] else {
                throw TrainingError.invalidConfiguration("\(path): not a JSON object of configuration fields")
            }
            if object["preset"] != nil && !(object["preset"] is String) {
                throw TrainingError.invalidConfiguration("\(path): preset must be a string (cpu, paper, finetune or primaries)")
            }
            let preset = object["preset"] as? String ?? defaultPreset
            guard let base = TrainingConfiguration.preset(named: preset) else {
                throw TrainingError.invalidConfiguration("\(path): unknown preset \(preset) (cpu, paper, finetune or primaries)")
            }
            // Overlay the file's fields on the base.
            var merged = try JSONSerialization.jsonObject(with: JSONEncoder().encode(base)) as? [String: Any] ?? [:]
            for (k, v) in object {
                if k == "augmentation", let a = v as? [String: Any], var m = merged["augmentation"] as? [String: Any] {
                    for (ak, av) in a { m[ak] = av }
                    merged[k] = m
                } else {
                    merged[k] = v
                }
            }
            let known = Set((try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingConfiguration())) as? [String: Any] ?? [:]).keys)
                .union(["preset", "initialWeights", "modelPixelSizeNm", "decoderPyramidChannels", "decoderSegmentationChannels", "primaryTarget"])
            let unknown = object.keys.filter { !known.contains($0) }
            guard unknown.isEmpty else {
                throw TrainingError.invalidConfiguration("\(path): unknown field(s) \(unknown.sorted().joined(separator: ", "))")
            }
            let config = try JSONDecoder().decode(TrainingConfiguration.self,
                                                  from: JSONSerialization.data(withJSONObject: merged))
            try config.validate()
            return config
        } catch let error as TrainingError {
            throw error
        } catch let error as DecodingError {
            throw TrainingError.invalidConfiguration("\(path): \(describeDecodingError(error))")
        } catch {
            throw TrainingError.invalidConfiguration("\(path): \(error.localizedDescription)")
        }
    }
}

/// Augmentations (METHODS.md 7.3), each with its probability.
public struct AugmentationSettings: Codable, Sendable, Equatable {
    public var horizontalFlip = 0.5
    public var verticalFlip = 0.5
    /// Random multiples of 90 degrees (not in the paper's list; on in the CPU preset).
    public var rotate90 = false
    /// Shift-scale: scale range and shift as a fraction of the size (p = 1).
    public var scale: ClosedRange<Double> = 0.5...1.5
    public var shift = 0.1
    /// Gaussian noise, sigma in grey levels.
    public var noise = 0.2
    public var noiseSigma: ClosedRange<Double> = 2.55...12.75
    /// Perspective: corner jitter as a fraction of the size.
    public var perspective = 0.5
    public var perspectiveScale: ClosedRange<Double> = 0.05...0.1
    /// One of CLAHE / brightness / gamma (CLAHE: clip limit 1-4, 8 x 8 tiles).
    public var colour = 0.9
    /// Whether CLAHE is among the colour step's choices (off: brightness or gamma, as in the
    /// CPU preset the default model was trained with).
    public var clahe = true
    /// One of sharpen / box blur / motion blur.
    public var sharpness = 0.9
    /// Contrast x U(0.8, 1.2).
    public var contrast = 0.9

    public init() {}
}

public enum TrainingError: LocalizedError, Equatable {
    case invalidConfiguration(String)
    case invalidData(String)
    case checkpoint(String)
    /// Writing the run's files failed (folder, reason).
    case output(String, String)

    public var errorDescription: String? {
        switch self {
        case let .invalidConfiguration(s): return "training configuration: " + s
        case let .invalidData(s): return "training data: " + s
        case let .checkpoint(s): return "checkpoint: " + s
        case let .output(path, reason): return "\(path): cannot write the training run (\(reason))"
        }
    }
}

/// A decoding error as a sentence that names the field (`augmentation.flip`) and what it needs.
func describeDecodingError(_ error: DecodingError) -> String {
    func field(_ path: [CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case let .typeMismatch(type, context):
        return "field \(field(context.codingPath)) must be \(jsonTypeName(type))"
    case let .valueNotFound(type, context):
        return "field \(field(context.codingPath)) must be \(jsonTypeName(type)), not null"
    case let .keyNotFound(key, context):
        return "field \(field(context.codingPath + [key])) is missing"
    case let .dataCorrupted(context):
        return "field \(field(context.codingPath)): \(context.debugDescription)"
    @unknown default:
        return String(describing: error)
    }
}

func jsonTypeName(_ type: Any.Type) -> String {
    switch type {
    case is Bool.Type: return "true or false"
    case is Int.Type, is UInt64.Type, is Int64.Type: return "a whole number"
    case is Double.Type, is Float.Type: return "a number"
    case is String.Type: return "a string"
    default: return "of type \(type)"
    }
}
