import ArgumentParser
import Foundation
import Pipeline

/// `sootctl compare IMAGE... --truth DIR --out DIR`: the paper's evaluation (Tables 3-5,
/// Figures 4-8) for any images with ground-truth masks.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare classifiers and sizing methods against ground-truth masks (the paper's Tables 3-5, Figures 4-8).",
        discussion: """
            Truth masks are matched to images by file stem (PNG or TIFF). Writes OUT/segmentation.csv \
            (Table 3: per classifier and post-processing variant raw, rb, Npx, rb+Npx with N = --min-pixels), \
            OUT/sizing.csv (Table 4), OUT/powerlaw.csv (Table 5), OUT/matches.csv, OUT/figures/*.svg \
            and .png (Figures 5-8), OUT/run.json and OUT/report.html (everything on one self-contained \
            page, with Figure 4's overlays). Primary particles are sized on the truth masks and on each \
            classifier's raw and configured variant (by default cnn: rb+1000px; kmeans, otsu, tws: 1000px; \
            --rolling-ball and --min-pixels choose another).
            """)

    @Argument(help: "Images (PNG, TIFF, JPEG, DM3, DM4) or folders of them.", completion: .file())
    var images: [String] = []

    @Option(name: .customLong("images"), help: ArgumentHelp("Images or folders (old form of the arguments).", visibility: .hidden))
    var imagesOption: [String] = []

    @Option(help: "Folder of ground-truth masks named like the images (STEM.png or STEM_mask.png; PNG or TIFF).", completion: .directory)
    var truth: String

    @Option(name: [.customLong("classifiers"), .customLong("methods")],
            help: "Classifiers, comma-separated: cnn, kmeans, otsu, tws (--methods is an alias).")
    var classifiers: String = "cnn,kmeans,otsu,tws"

    @Option(help: "CNN model file (default: the installed model).", completion: .file())
    var model: String?

    @Option(name: .customLong("tws-model"), help: "TWS model file (default: the installed TWS model).", completion: .file())
    var twsModel: String?

    @OptionGroup var post: PostProcessingOptions
    @OptionGroup var pixelSizes: PixelSizeOptions

    @Option(help: "Primary-particle sizing: comma-separated pcm, edm-sbs, hough, edm-ws, cnn-primaries (the learned detector), or paper (the first four, default) / all / none.")
    var sizing: String = "paper"

    @Option(name: .customLong("primary-model"), help: "Model file of the primary-particle detector (--sizing cnn-primaries; default: the installed models/primaries.safetensors).", completion: .file())
    var primaryModel: String?

    @Option(name: .customLong("primary-truth"),
            help: "Folder of known primary particles: STEM.json (sootctl synth's truth/) or STEM_NNN.png, one mask per hand-outlined primary (in the folder or its STEM/). Scores the located primaries (primary_detection.csv).",
            completion: .directory)
    var primaryTruth: String?

    @Flag(help: "Keep the images an earlier, interrupted compare into --out finished (same options, unchanged files) and do the rest.")
    var resume = false

    @Option(help: "Output folder.", completion: .directory)
    var out: String

    func parsedClassifiers() throws -> [ClassifierName] {
        var out: [ClassifierName] = []
        for part in classifiers.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            guard let c = ClassifierName(rawValue: part) else { throw ValidationError("unknown classifier '\(part)' (cnn, kmeans, otsu, tws)") }
            if !out.contains(c) { out.append(c) }
        }
        guard !out.isEmpty else { throw ValidationError("--classifiers names no classifier") }
        return out
    }

    func validate() throws {
        let chosen = try parsedClassifiers()
        _ = try parseSizing(sizing)
        if images.isEmpty && imagesOption.isEmpty { throw ValidationError("name the images (files or folders)") }
        if model != nil && !chosen.contains(.cnn) { throw ValidationError("--model only applies with cnn") }
        if twsModel != nil && !chosen.contains(.tws) { throw ValidationError("--tws-model only applies with tws") }
        let methods = try parseSizing(sizing)
        if primaryModel != nil && !methods.contains(.cnnPrimaries) {
            throw ValidationError("--primary-model only applies with --sizing cnn-primaries (or all)")
        }
    }

    func run() throws {
        try reportingErrors {
            let chosen = try parsedClassifiers()
            var configuration = makeConfiguration(classifier: chosen[0], model: nil, post: post)
            configuration.modelPath = model
            configuration.twsModelPath = twsModel
            configuration.sizing = try parseSizing(sizing)
            configuration.primaryModelPath = primaryModel
            let truthSource = try MaskSource(truth, option: "--truth", allowFile: false)
            let batch = try pixelSizes.inputs(images + imagesOption, truth: truthSource)
            let output = OutputFolder(out, inputs: batch.inputs.files, inputFolders: [truthSource.path])
            try output.check()
            let provenance = try RunProvenance(
                commandLine: typedCommandLine, configuration: configuration, classifiers: chosen.map(\.rawValue),
                modelPath: nil, pixelSizeNm: pixelSizes.pixelSizeNm, pixelSizeTable: pixelSizes.pixelSizesFile)
            let printer = EventPrinter(total: batch.inputs.files.count)
            var comparison = ComparisonRun(configuration: configuration, classifiers: chosen, provenance: provenance)
            if let primaryTruth {
                guard (try? MaskSource(primaryTruth, option: "--primary-truth", allowFile: false)) != nil else {
                    throw PipelineError.notAFolder(primaryTruth, option: "--primary-truth")
                }
                comparison.primaryTruth = primaryTruth
            }
            let (evaluation, failures) = try comparison.run(batch, truth: truthSource, output: output, resume: resume,
                                                            events: printer.callAsFunction)
            printer.progress.finish()
            for line in evaluation.summaryLines { print(line) }
            print("\(evaluation.images.count) image(s), \(evaluation.truth.count) truth aggregate(s) -> \(out)/report.html")
            try finishBatch(printer, failures: failures, of: batch.inputs.files.count + batch.inputs.missing.count)
        }
    }
}
