import ArgumentParser
import Foundation
import ImageCore
import NeuralNet
import Training

/// `sootctl train --data DIR --out DIR`: trains the CNN, or with `--classifier tws` the TWS
/// random forest.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the segmentation CNN (FPN over a ResNet encoder) or the TWS random forest on images with ground-truth masks.",
        discussion: """
            DIR follows CarbonBlackSegmentation's layout: train/input, train/ground_truth, val/input, \
            val/ground_truth, images and masks paired by file stem (PNG or TIFF); an optional \
            pixel_sizes.csv (stem,pixel_size_nm) gives pixel sizes the files lack. Defaults are the \
            paper's recipe (ResNet-50, 10,000 iterations of 24 crops of 1280 px); --preset cpu trains \
            a ResNet-18 at 0.8 nm/px in well under an hour on 2 cores. Writes OUT/log.csv, \
            OUT/best/ (the best models by validation IoU), OUT/checkpoint/ (to --resume from), \
            OUT/final.safetensors and OUT/model.safetensors (the best, half precision, ready for \
            `segment --method cnn --model`). With --classifier tws: the random forest of Trainable Weka \
            Segmentation on a balanced sample of each train/ image's pixels (val/ optional, scored only); \
            writes OUT/model.sootrf and OUT/training.json (time, size, IoU of every image).
            """)

    @Option(name: [.customLong("classifier"), .customLong("method")], help: "What to train: cnn (default) or tws (--method is an alias).")
    var classifier: String = "cnn"

    @Option(help: "tws: trees in the forest (default 100).")
    var trees: Int?

    @Option(name: .customLong("pixels-per-class"), help: "tws: pixels drawn from each class of each training image (default 20000).")
    var pixelsPerClass: Int?

    @Option(help: "tws: random seed (default 1); the same seed and data give the same model.")
    var seed: UInt64?

    @Option(help: "What the CNN learns: segmentation (default; needs --data) or primaries (the primary-particle detector, on synthetic images with known primaries).")
    var task: String = "segmentation"

    @Option(help: "Data folder (train/input, train/ground_truth, val/input, val/ground_truth); not used by --task primaries.", completion: .directory)
    var data: String?

    @Option(help: "Output folder.", completion: .directory)
    var out: String

    @Option(help: "Configuration file (JSON); its fields override the preset's.", completion: .file())
    var config: String?

    @Option(name: .customLong("preset"), help: "Preset: paper (default), cpu, or finetune (the default with --init) for segmentation, primaries (default) for --task primaries; a --config file's fields apply on top, and a preset named in the file wins.")
    var presetOption: String?

    var preset: String { presetOption ?? (task == "primaries" ? "primaries" : initModel != nil ? "finetune" : "paper") }

    @Option(name: .customLong("init"),
            help: ArgumentHelp("Start from a trained model's weights (fine-tuning): a model file, or --init alone for the installed default model; its encoder and working pixel size are kept. With --task segmentation the preset defaults to finetune.",
                               valueName: "model"))
    var initModel: String?

    @Option(help: "Resume from a checkpoint folder (or an output folder holding checkpoint/).", completion: .directory)
    var resume: String?

    @Option(help: "Synthetic images generated per epoch and mixed into training.")
    var synthetic: Int?

    @Option(name: .customLong("pixel-sizes"),
            help: "CSV of per-image pixel sizes (stem,pixel_size_nm); wins over the data folder's pixel_sizes.csv and the files' metadata.",
            completion: .file())
    var pixelSizesFile: String?

    @Option(help: "Override the number of iterations (with --resume: train the run on to this many).")
    var iterations: Int?

    func validate() throws {
        guard classifier == "cnn" || classifier == "tws" else { throw ValidationError("--classifier must be cnn or tws") }
        if classifier == "tws" {
            if config != nil || resume != nil || synthetic != nil || iterations != nil || presetOption != nil || task != "segmentation" {
                throw ValidationError("--config, --preset, --resume, --synthetic and --iterations are the CNN's; tws takes --trees, --pixels-per-class, --seed")
            }
        } else if trees != nil || pixelsPerClass != nil || seed != nil {
            throw ValidationError("--trees, --pixels-per-class and --seed apply to --classifier tws")
        }
        guard task == "segmentation" || task == "primaries" else { throw ValidationError("--task must be segmentation or primaries") }
        if task == "primaries" {
            guard preset == "primaries" else { throw ValidationError("--task primaries takes --preset primaries") }
            if data != nil || pixelSizesFile != nil { throw ValidationError("--task primaries trains on synthetic images: --data and --pixel-sizes do not apply") }
        } else {
            guard ["paper", "cpu", "finetune"].contains(preset) else { throw ValidationError("--preset must be paper, cpu or finetune") }
            guard data != nil else { throw ValidationError("--data is required (the training images and their masks)") }
        }
        if let synthetic, synthetic < 0 { throw ValidationError("--synthetic must not be negative") }
        if let iterations, iterations <= 0 { throw ValidationError("--iterations must be positive") }
        if initModel != nil && resume != nil {
            throw ValidationError("--init starts a run from a model's weights; --resume continues a run (give one of them)")
        }
        if classifier == "tws" && initModel != nil { throw ValidationError("--init is the CNN's") }
    }

    /// `--init` alone (last, or followed by another option) means the installed default model.
    static let bareInitValue = "default"

    /// The arguments with a bare `--init` given its value, `default`.
    static func expandingBareInit(_ arguments: [String]) -> [String] {
        var out: [String] = []
        for (i, a) in arguments.enumerated() {
            out.append(a)
            if a == "--init" && (i + 1 == arguments.count || arguments[i + 1].hasPrefix("-")) { out.append(bareInitValue) }
        }
        return out
    }

    func run() throws {
        if classifier == "tws" { return try runTWS() }
        NeuralNetRuntime.keepLargeAllocationsInHeap()
        NeuralNetRuntime.selectBLASKernels()
        do {
            var configuration = try config.map { try TrainingConfiguration.load($0, preset: preset) }
                ?? TrainingConfiguration.preset(named: preset)!
            if let synthetic { configuration.syntheticPerEpoch = synthetic }
            if let initModel {
                let path = initModel == Self.bareInitValue && !FileManager.default.fileExists(atPath: initModel)
                    ? try TrainingConfiguration.installedInitialModel(task: configuration.task) : initModel
                try configuration.initialise(fromModel: path)
            }
            if let iterations { configuration.iterations = iterations }
            try configuration.validate()
            if resume == nil && FileManager.default.fileExists(atPath: out + "/checkpoint/state.json") {
                throw TrainingError.checkpoint("\(out) already holds a training run; pass --resume \(out) to continue it, "
                    + "or choose another --out (nothing was overwritten)")
            }
            let table = try pixelSizesFile.map { try PixelSize.readTable($0) } ?? [:]
            let dataset = configuration.isPrimaryDetector
                ? SegmentationDataset.syntheticOnly
                : try SegmentationDataset.load(data!, configuration: configuration, pixelSizes: table)
            let trainer = try Trainer(configuration: configuration, dataset: dataset, outputFolder: out, resume: resume,
                                      extendTo: resume == nil ? nil : iterations)
            let effective = trainer.configuration
            if effective.isPrimaryDetector {
                print("training the primary-particle detector FPN-\(effective.encoder) at \(effective.modelPixelSizeNm ?? 1) nm/px: "
                      + "\(effective.iterations) iterations of \(effective.batchSize) x \(effective.cropSize) px, "
                      + "\(effective.syntheticPerEpoch) synthetic images per epoch")
            } else {
            print("training FPN-\(effective.encoder): \(dataset.train.count) training and \(dataset.validation.count) validation image(s), "
                  + "\(effective.iterations) iterations of \(effective.batchSize) x \(effective.cropSize) px"
                  + (effective.syntheticPerEpoch > 0 ? ", \(effective.syntheticPerEpoch) synthetic images per epoch" : "")
                  + (effective.initialWeights.map { ", from \($0)" } ?? ""))
            }
            let tty = isatty(2) != 0
            var lastPrinted = Date.distantPast
            let score = try trainer.run { p in
                var line = String(format: "iter %d/%d  loss %.4f  lr %.2g  %.1f img/s  %@ left", p.iteration, p.iterations,
                                  p.loss, Double(p.learningRate), p.imagesPerSecond, formatDuration(p.secondsLeft))
                if let v = p.lastValidation {
                    if let f1 = v.f1 {
                        line += String(format: "  val F1 %.4f recall %.4f precision %.4f", f1, v.recall ?? 0, v.accuracy)
                    } else {
                        line += String(format: "  val IoU %.4f acc %.4f", v.iou, v.accuracy)
                    }
                }
                if tty {
                    FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
                } else if Date().timeIntervalSince(lastPrinted) > 30 || p.iteration == p.iterations {
                    // Not a terminal: one line every 30 s, for logs.
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                    lastPrinted = Date()
                }
            }
            if tty { FileHandle.standardError.write(Data("\n".utf8)) }
            if let f1 = score.f1 {
                print(String(format: "done: validation F1 %.4f (recall %.4f, precision %.4f) -> %@/model.safetensors",
                             f1, score.recall ?? 0, score.accuracy, out))
            } else {
                print(String(format: "done: validation IoU %.4f, accuracy %.4f, loss %.4f -> %@/model.safetensors",
                             score.iou, score.accuracy, score.loss, out))
            }
        } catch {
            throw failure(error)
        }
    }
}

extension Train {
    func runTWS() throws {
        var configuration = TWSTrainingConfiguration()
        if let trees { configuration.trees = trees }
        if let pixelsPerClass { configuration.pixelsPerClass = pixelsPerClass }
        if let seed { configuration.seed = seed }
        do {
            let table = try pixelSizesFile.map { try PixelSize.readTable($0) } ?? [:]
            let progress = Progress(total: 0)
            let report = try TWSTraining.run(data: data ?? "", out: out, configuration: configuration, pixelSizes: table) { progress.say($0) }
            progress.finish()
            var line = String(format: "done: %d pixels, %d trees in %.1f s, %@ -> %@/model.sootrf", report.trainingRows,
                              configuration.trees, report.trainingSeconds,
                              ByteCountFormatter.string(fromByteCount: Int64(report.modelBytes), countStyle: .file), out)
            if let train = report.meanIoU(split: "train") { line += String(format: "; IoU train %.4f", train) }
            if let val = report.meanIoU(split: "val") { line += String(format: ", val %.4f", val) }
            print(line)
        } catch {
            throw failure(error)
        }
    }
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm%02ds", s / 60, s % 60)
}
