import ArgumentParser
import Foundation
import ImageCore
import Pipeline
import PrimarySizing

extension ClassifierName: ExpressibleByArgument {}
extension BorderPolicy: ExpressibleByArgument {}
extension DiskShape: ExpressibleByArgument {}

enum Toggle: String, ExpressibleByArgument { case on, off }

/// How the images' pixel sizes are found (segment, analyze, compare): the command line,
/// then the table, then the file's metadata.
struct PixelSizeOptions: ParsableArguments {
    @Option(name: .customLong("pixel-size"), parsing: .unconditional, help: "Pixel size in nm per pixel for every image (wins over --pixel-sizes and the files' metadata).")
    var pixelSizeNm: Double?

    @Option(name: .customLong("pixel-sizes"),
            help: "CSV of per-image pixel sizes (stem,pixel_size_nm); wins over the files' metadata.", completion: .file())
    var pixelSizesFile: String?

    @Flag(help: "Also take the images in sub-folders of the folders given.")
    var recursive = false

    func validate() throws {
        if let ps = pixelSizeNm, !(ps.isFinite && PixelSize.plausibleRangeNm.contains(ps)) {
            throw ValidationError("--pixel-size must be between 0.001 and 1000 nm per pixel (got \(ps))")
        }
        if let ps = pixelSizeNm, let warning = PixelSizeRule.unitWarning(ps) { printError("warning: --pixel-size: " + warning) }
    }

    func rule() throws -> PixelSizeRule {
        let rule = try PixelSizeRule(commandLineNm: pixelSizeNm, tablePath: pixelSizesFile)
        for (stem, v) in rule.table.sorted(by: { $0.key < $1.key }) {
            if let warning = PixelSizeRule.unitWarning(v) { printError("warning: --pixel-sizes: \(stem): " + warning) }
        }
        return rule
    }

    /// The batch of `arguments`; files that are another input's mask in `masks` or `truth`
    /// (masks kept beside their images) are left out, with a note.
    func inputs(_ arguments: [String], masks: MaskSource? = nil, truth: MaskSource? = nil) throws -> BatchInputs {
        let all = InputList(arguments, recursive: recursive)
        let list = all.excludingMasks(in: masks).excludingMasks(in: truth)
        if list.files.count < all.files.count {
            let n = all.files.count - list.files.count
            printError("note: \(n) input file(s) are the masks of other inputs and are not analysed as images")
        }
        return try BatchInputs(inputs: list, pixelSizes: rule(), masks: masks)
    }
}

/// Resuming and sharding a batch (analyze, compare).
struct BatchOptions: ParsableArguments {
    @Flag(help: "Keep the images an earlier, interrupted run into --out finished (same options, unchanged files) and do the rest.")
    var resume = false

    @Option(help: "Take only share K of N of the inputs (every N-th from the K-th, 1-based); combine the shards with sootctl merge.")
    var shard: String?

    func validate() throws { _ = try parsedShard() }

    func parsedShard() throws -> Shard? {
        guard let shard else { return nil }
        guard let parsed = Shard(shard) else { throw ValidationError("--shard must be K/N with 1 <= K <= N (got \(shard))") }
        return parsed
    }
}

/// The post-processing options, with the same defaults on segment, analyze and compare.
struct PostProcessingOptions: ParsableArguments {
    @Option(name: .customLong("rolling-ball"),
            help: "Close-then-open rolling ball after the classifier: on or off (default: on for cnn, off for kmeans and otsu).")
    var rollingBall: Toggle?

    @Option(name: .customLong("min-pixels"), help: "Remove aggregates smaller than this many pixels (the paper's floor).")
    var minimumPixels: Int = AnalysisConfiguration().minimumPixels

    @Option(help: "Aggregates touching the image border: remove (atems default; drawn as excluded) or keep.")
    var border: BorderPolicy = AnalysisConfiguration().border

    @Option(help: "Disk shape of structuring elements: euclidean or matlab (MATLAB's octagons).")
    var diskShape: DiskShape = .euclidean

    func validate() throws {
        if minimumPixels < 0 { throw ValidationError("--min-pixels must not be negative") }
    }

    func apply(to c: inout AnalysisConfiguration) {
        c.rollingBall = rollingBall.map { $0 == .on }
        c.minimumPixels = minimumPixels
        c.border = border
        c.diskShape = diskShape
    }
}

/// The classifier of segment and analyze (`--method` is its old name).
struct ClassifierOptions: ParsableArguments {
    @Option(name: [.customLong("classifier"), .customLong("method")],
            help: "Classifier: cnn (the installed model, or --model), kmeans (atems k-means v6.1), otsu (Otsu + rolling ball) or tws (Trainable Weka Segmentation's random forest: the installed model, or --model). --method is an alias.")
    var classifier: ClassifierName = .cnn

    @Option(help: "Model file: for cnn a safetensors or PyTorch checkpoint, for tws a .sootrf from `sootctl train --classifier tws`.", completion: .file())
    var model: String?

    func validate() throws {
        if model != nil && classifier != .cnn && classifier != .tws {
            throw ValidationError("--model only applies to --classifier cnn or tws")
        }
    }
}

func parseSizing(_ text: String) throws -> [SizingMethod] {
    do { return try SizingMethod.parseList(text) } catch { throw ValidationError(describe(error)) }
}

/// The command line as typed, for run.json.
var typedCommandLine: [String] { ["sootctl"] + CommandLine.arguments.dropFirst() }

/// Prints a batch's events: a progress line on a terminal, warnings and errors as they come.
final class EventPrinter {
    let progress: Progress
    /// Inputs an earlier run had finished (`--resume`).
    private(set) var skipped = 0
    init(total: Int) { progress = Progress(total: total) }

    func callAsFunction(_ event: BatchEvent) {
        switch event {
        case let .started(index, _, stem): progress.update(index, stem)
        case let .warning(path, message):
            progress.finish()
            printError("warning: \(path): \(message)")
        case let .failed(path, error):
            progress.finish()
            printError(error, path: path)
        case .skipped:
            skipped += 1
        }
    }
}

/// The configuration of the classifier and post-processing options (defaults elsewhere).
func makeConfiguration(classifier: ClassifierName, model: String?, post: PostProcessingOptions) -> AnalysisConfiguration {
    var configuration = AnalysisConfiguration()
    configuration.classifier = classifier
    configuration.setModelPath(model, for: classifier)
    post.apply(to: &configuration)
    return configuration
}

/// Runs a command's body: an `ExitCode` passes through; any other error is reported and
/// becomes exit 1 (2 when nothing could be processed).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        throw failure(error)
    }
}

/// Ends a batch: says how many inputs failed and exits 1 when any did.
func finishBatch(_ printer: EventPrinter, failures: Int, of total: Int) throws {
    printer.progress.finish()
    if printer.skipped > 0 { printError("\(printer.skipped) image(s) finished by an earlier run were kept (--resume)") }
    guard failures > 0 else { return }
    printError("\(failures) of \(total) input(s) failed")
    throw ExitCode.failure
}

/// Exit status 2: nothing could be analysed (no result files were written).
let nothingAnalysedExitCode = ExitCode(2)

/// Reports an error that stops a whole command and returns the exit code to throw.
func failure(_ error: Error) -> ExitCode {
    printError("error: " + describe(error))
    if case PipelineError.nothingAnalysed? = error as? PipelineError { return nothingAnalysedExitCode }
    return ExitCode.failure
}

/// A progress line on standard error when it is a terminal; silent otherwise.
final class Progress {
    let total: Int
    let enabled: Bool
    let start = Date()

    /// - Parameter total: steps to count; 0: phrases only (`say`).
    init(total: Int) {
        self.total = total
        enabled = isatty(2) != 0
    }

    /// A phrase with the time elapsed, for work without a count.
    func say(_ label: String) {
        guard enabled else { return }
        let line = label + String(format: "  (%.0f s elapsed)", Date().timeIntervalSince(start))
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    func update(_ done: Int, _ label: String) {
        guard enabled, total > 0 else { return }
        let elapsed = Date().timeIntervalSince(start)
        var line = "[\(done + 1)/\(total)] \(label)"
        if done > 0 {
            let left = elapsed / Double(done) * Double(total - done)
            line += String(format: "  (%.0f s elapsed, ~%.0f s left)", elapsed, left)
        }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
