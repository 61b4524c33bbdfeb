import ArgumentParser
import Foundation
import Pipeline

/// `sootctl analyze IMAGE... --out DIR`: aggregates, their properties and primary-particle sizes.
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure aggregates and primary particles in TEM images.",
        discussion: """
            Segments each image (or reads its mask with --mask), splits the mask into aggregates \
            (atems analyze_binary: failed segmentations flagged, border aggregates removed, blobs \
            under 10 px dropped), measures each aggregate and sizes its primary particles. Writes \
            DIR/aggregates.csv and .json (one record per aggregate), DIR/images.csv (one row per image: \
            pixel size and its source, status, counts, da and dp statistics), DIR/summary.json, \
            DIR/run.json (version, git commit, command, configuration, model and its sha256, date), \
            DIR/masks/STEM.png, DIR/overlays/STEM.png (ids, Rg circle, dp circle and label, Hough \
            circles, excluded border aggregates, legend and scale bar) and DIR/report.html. Exit code 1 \
            when some inputs failed, 2 when none could be analysed (nothing is written then).
            """)

    @Argument(help: "Images (PNG, TIFF, JPEG, DM3, DM4) or folders of them.", completion: .file())
    var images: [String]

    @OptionGroup var classifier: ClassifierOptions
    @OptionGroup var post: PostProcessingOptions
    @OptionGroup var pixelSizes: PixelSizeOptions
    @OptionGroup var batchOptions: BatchOptions

    @Option(help: "Primary-particle sizing: comma-separated pcm, edm-sbs, hough, edm-ws, cnn-primaries (the learned detector), or paper (the first four, default) / all / none.")
    var sizing: String = "paper"

    @Option(name: .customLong("primary-model"), help: "Model file of the primary-particle detector (--sizing cnn-primaries; default: the installed models/primaries.safetensors).", completion: .file())
    var primaryModel: String?

    @Option(help: "Analyse this mask (file, or folder of masks named like the images: STEM or STEM_mask) instead of segmenting.",
            completion: .file())
    var mask: String?

    @Flag(help: "Report every aggregate even when the segmentation looks failed (speckle, soot along the border).")
    var keepFailed = false

    @Option(help: "Output folder.", completion: .directory)
    var out: String

    func validate() throws {
        let methods = try parseSizing(sizing)
        if primaryModel != nil && !methods.contains(.cnnPrimaries) { throw ValidationError("--primary-model only applies with --sizing cnn-primaries (or all)") }
    }

    func run() throws {
        try reportingErrors {
            var configuration = makeConfiguration(classifier: classifier.classifier, model: classifier.model, post: post)
            configuration.sizing = try parseSizing(sizing)
            configuration.primaryModelPath = primaryModel
            configuration.keepFailed = keepFailed
            let masks = try mask.map { try MaskSource($0, option: "--mask", allowFile: true) }
            let batch = try pixelSizes.inputs(images, masks: masks)
            let output = batch.outputFolder(out)
            try output.check()
            let analyzer = try Analyzer(configuration: configuration, classify: masks == nil)
            var provenance = try RunProvenance(
                commandLine: typedCommandLine, configuration: configuration, modelPath: analyzer.modelPath,
                pixelSizeNm: pixelSizes.pixelSizeNm, pixelSizeTable: pixelSizes.pixelSizesFile)
            provenance.masks = mask
            if let detector = analyzer.detector { try provenance.recordPrimaryModel(detector.modelPath) }
            let printer = EventPrinter(total: batch.inputs.files.count)
            var run = AnalysisRun(configuration: configuration, provenance: provenance)
            run.resume = batchOptions.resume
            run.shard = try batchOptions.parsedShard()
            let outcome = try run.run(batch, analyzer: analyzer, output: output, events: printer.callAsFunction)
            print("\(outcome.records.count) aggregate(s) in \(outcome.analysed) image(s) -> \(out)")
            try finishBatch(printer, failures: outcome.failures, of: outcome.summary.overall.images)
        }
    }
}
