import ArgumentParser
import Foundation
import Pipeline

/// `sootctl segment IMAGE... --out DIR`: aggregate masks and overlays.
struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment TEM images into aggregate masks (true = soot).",
        discussion: """
            Writes DIR/masks/STEM.png (8-bit, 0/255, same size as the input), DIR/overlays/STEM.png \
            (aggregates tinted and outlined, border aggregates in grey as excluded, a legend and a scale \
            bar below the image) and DIR/run.json (version, command, configuration, model and its \
            sha256). A footer (instrument data bar) is detected and left out of the segmentation; its \
            rows are background in the mask. A file that cannot be processed is reported and skipped; \
            the exit code is then 1, or 2 when no image could be segmented.
            """)

    @Argument(help: "Images (PNG, TIFF, JPEG, DM3, DM4) or folders of them.", completion: .file())
    var images: [String]

    @OptionGroup var classifier: ClassifierOptions
    @OptionGroup var post: PostProcessingOptions
    @OptionGroup var pixelSizes: PixelSizeOptions

    @Flag(help: "Write the classifier's own mask, without post-processing or border removal.")
    var raw = false

    @Flag(help: "Also write DIR/probability/STEM.png, the per-pixel foreground probability as a 16-bit PNG (cnn).")
    var probability = false

    @Option(help: "Output folder.", completion: .directory)
    var out: String

    func validate() throws {
        if probability && classifier.classifier != .cnn { throw ValidationError("--probability needs --classifier cnn") }
    }

    func run() throws {
        try reportingErrors {
            let configuration = makeConfiguration(classifier: classifier.classifier, model: classifier.model, post: post)
            let batch = try pixelSizes.inputs(images)
            let output = batch.outputFolder(out)
            try output.check()
            let analyzer = try Analyzer(configuration: configuration)
            var run = SegmentationRun(configuration: configuration, provenance: try RunProvenance(
                commandLine: typedCommandLine, configuration: configuration, modelPath: analyzer.modelPath,
                pixelSizeNm: pixelSizes.pixelSizeNm, pixelSizeTable: pixelSizes.pixelSizesFile))
            run.raw = raw
            run.probability = probability
            let printer = EventPrinter(total: batch.inputs.files.count)
            let outcome = try run.run(batch, analyzer: analyzer, output: output, events: printer.callAsFunction)
            print("\(outcome.segmented.count) image(s) segmented -> \(out)")
            try finishBatch(printer, failures: outcome.failures, of: outcome.segmented.count + outcome.failures)
        }
    }
}
