import Classifiers
import Foundation
import ImageCore
import Report

/// `sootctl compare` as a library call: each image loaded with its truth mask, evaluated and
/// dropped (only the first few kept for Figure 4), then the tables, figures, `run.json` and
/// the report written.
public struct ComparisonRun: Sendable {
    public var configuration: AnalysisConfiguration
    public var classifiers: [ClassifierName]
    public var provenance: RunProvenance
    /// Images whose overlays the report shows (Figure 4).
    public var sampleImages = 4

    public init(configuration: AnalysisConfiguration, classifiers: [ClassifierName], provenance: RunProvenance) {
        self.configuration = configuration
        self.classifiers = classifiers
        self.provenance = provenance
    }

    /// Loads one image and its truth mask from `truth`.
    /// - Throws: `PipelineError.missingPixelSizeForComparison` when the truth exists but no pixel
    ///   size does (pointing at `--pixel-sizes`).
    public static func load(_ path: String, truth: MaskSource, pixelSizes: PixelSizeRule,
                            warn: (String) -> Void = { _ in }) throws -> EvaluationImage {
        let loaded = try LoadedImage(path: path, pixelSizes: pixelSizes)
        loaded.warnings.forEach(warn)
        let mask = try loaded.readMask(try truth.mask(for: path))
        guard loaded.pixelSize != nil else { throw PipelineError.missingPixelSizeForComparison(image: path) }
        return try EvaluationImage(name: loaded.stem, image: loaded.image, truth: mask)
    }

    /// Runs the comparison into `output`.
    /// - Returns: the evaluation and the number of inputs that failed (bad pairs and
    ///   classifier errors).
    public func run(_ batch: BatchInputs, truth: MaskSource, output: OutputFolder,
                    events: (BatchEvent) -> Void = { _ in }) throws -> (evaluation: Evaluation, failures: Int) {
        var segmenters: [any Segmenter] = []
        for c in classifiers { segmenters.append(try configuration.makeSegmenter(c)) }
        var provenance = provenance
        if let cnn = segmenters.lazy.compactMap({ $0 as? CNNSegmenter }).first { try provenance.recordModel(cnn.modelPath) }
        var evaluator = Evaluator(segmenters: segmenters, configuration: configuration)
        evaluator.keepMasks = sampleImages
        var failures = batch.inputs.missing.count
        for m in batch.inputs.missing { events(.failed(path: m, error: PipelineError.notFound(m))) }
        var samples: [EvaluationImage] = []
        let files = batch.inputs.files
        for (k, path) in files.enumerated() {
            events(.started(index: k, total: files.count, stem: stem(of: path)))
            do {
                if let duplicate = batch.inputs.duplicateStems.first(where: { $0.file == path }) {
                    throw PipelineError.duplicateStem(path, first: duplicate.first)
                }
                let item = try Self.load(path, truth: truth, pixelSizes: batch.pixelSizes) {
                    events(.warning(path: path, message: $0))
                }
                try evaluator.add(item)
                if samples.count < sampleImages { samples.append(item) }
            } catch {
                failures += 1
                events(.failed(path: path, error: error))
            }
        }
        guard evaluator.imageCount > 0 else { throw PipelineError.nothingAnalysed(failed: failures) }
        let evaluation = try evaluator.finish()
        for e in evaluation.errors {
            events(.failed(path: e.image, error: PipelineError.classifierFailed(classifier: e.classifier, message: e.message)))
        }
        failures += evaluation.errors.count
        try write(evaluation, samples: samples, provenance: provenance, to: output)
        return (evaluation, failures)
    }

    func write(_ evaluation: Evaluation, samples: [EvaluationImage], provenance: RunProvenance, to output: OutputFolder) throws {
        try output.write(evaluation.segmentationTable.csv, to: "segmentation.csv")
        try output.write(evaluation.sizingTable.csv, to: "sizing.csv")
        try output.write(evaluation.powerLawTable.csv, to: "powerlaw.csv")
        try output.write(evaluation.matchesTable.csv, to: "matches.csv")
        var figureFiles: [String: String] = [:]
        var figures: [(String, Chart)] = [("density", evaluation.densityFigure), ("truth_ratio", evaluation.truthRatioFigure)]
        if let f = evaluation.edmRatioFigure { figures.append(("edm_ratio", f)) }
        for (m, chart) in evaluation.powerLawFigures { figures.append(("powerlaw_" + m.rawValue, chart)) }
        for (name, chart) in figures {
            try output.write(chart.svg(), to: "figures", name + ".svg")
            let canvas = chart.raster()
            try ImageWriter.writeRGB(width: canvas.width, height: canvas.height, rgb: canvas.bytes, pixelSize: nil,
                                     to: try output.path("figures", name + ".png"))
            figureFiles[name] = "figures/\(name).svg"
        }
        for item in samples {
            for v in evaluation.variants where v.sized && v.variant != .raw {
                guard let mask = v.masks[item.name] else { continue }
                let png = try overlayThumbnail(image: item.image, mask: mask, truth: item.truth, maximumWidth: 1120)
                try output.write(png, to: "overlays", "\(item.name)_\(v.classifier).png")
            }
        }
        try output.write(encodeJSON(provenance), to: "run.json")
        try output.write(try evaluation.report(images: samples, figureFiles: figureFiles, provenance: provenance),
                         to: "report.html")
    }
}
