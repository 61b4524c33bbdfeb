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
    /// A folder of known primaries (`PrimaryTruth`): each image's located primaries and dp are
    /// then scored against them (`primary_detection.csv`).
    public var primaryTruth: String?

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
        var item = try EvaluationImage(name: loaded.stem, image: loaded.classifiedImage, truth: mask)
        if loaded.annotations.excludedCount > 0 { item.excluded = loaded.annotations.excluded }
        return item
    }

    /// One image's stored part of a comparison (`OUT/.sootctl/images/STEM.json`).
    struct StoredEvaluation: Codable {
        var index: Int
        var file: String
        var fingerprint: String
        /// nil when the image could not be loaded (`failure` says why).
        var evaluation: ImageEvaluation?
        var failure: String?
        /// Figure 4's pictures (sample images only): captions, files under `.sootctl/`.
        var pictures: [[String]]
        var outputs: [String]
    }

    /// Runs the comparison into `output`: the folder is locked, each image's evaluation is
    /// stored as it finishes (with `resume`, unchanged finished images are kept), and the
    /// tables, figures and report are made from the stored evaluations in input order.
    /// - Returns: the evaluation and the number of inputs that failed (bad pairs and
    ///   classifier errors).
    public func run(_ batch: BatchInputs, truth: MaskSource, output: OutputFolder, resume: Bool = false,
                    events: (BatchEvent) -> Void = { _ in }) throws -> (evaluation: Evaluation, failures: Int) {
        var segmenters: [any Segmenter] = []
        for c in classifiers { segmenters.append(try configuration.makeSegmenter(c)) }
        var provenance = provenance
        if let cnn = segmenters.lazy.compactMap({ $0 as? CNNSegmenter }).first { try provenance.recordModel(cnn.modelPath) }
        if let tws = segmenters.lazy.compactMap({ $0 as? TWSSegmenter }).first { try provenance.recordTWSModel(tws.modelPath) }
        let folder = try RunFolder(output)
        defer { folder.release() }
        let files = batch.inputs.files
        try folder.begin(RunState(command: "compare", configuration: try encodeJSON(configuration),
                                  total: files.count, missing: batch.inputs.missing, shard: nil,
                                  masks: classifiers.map(\.rawValue).joined(separator: ",") + " truth " + truth.path),
                         resume: resume)
        try output.write(encodeJSON(provenance), to: "run.json")
        let detector = try configuration.makePrimaryDetector()
        if let detector { try provenance.recordPrimaryModel(detector.modelPath) }
        let evaluator = Evaluator(segmenters: segmenters, configuration: configuration, detector: detector)
        for m in batch.inputs.missing { events(.failed(path: m, error: PipelineError.notFound(m))) }
        for (k, path) in files.enumerated() {
            events(.started(index: k, total: files.count, stem: stem(of: path)))
            let name = stem(of: path)
            let statePath = (folder.imagesFolder as NSString)
                .appendingPathComponent(name + (batch.duplicates[k] != nil ? ".duplicate-\(k)" : "") + ".json")
            var stored = StoredEvaluation(index: k, file: path, fingerprint: "", evaluation: nil, failure: nil,
                                          pictures: [], outputs: [])
            do {
                try batch.checkStem(k)
                stored.fingerprint = try inputFingerprint(path, mask: try truth.mask(for: path))
                if resume, let data = FileManager.default.contents(atPath: statePath),
                   let old = try? JSONDecoder().decode(StoredEvaluation.self, from: data),
                   old.fingerprint == stored.fingerprint, old.evaluation != nil,
                   old.outputs.allSatisfy({ FileManager.default.fileExists(atPath: (output.root as NSString).appendingPathComponent($0)) }) {
                    events(.skipped(path: path))
                    continue
                }
                let item = try Self.load(path, truth: truth, pixelSizes: batch.pixelSizes) {
                    events(.warning(path: path, message: $0))
                }
                let sample = k < sampleImages
                var known: PrimaryTruth?
                if let folder = primaryTruth {
                    known = try PrimaryTruth.load(folder: folder, stem: item.name, width: item.image.width, height: item.image.height)
                    if known == nil {
                        events(.warning(path: path, message: "no primary truth for \(item.name) in \(folder) (\(item.name).json or \(item.name)_NNN.png)"))
                    }
                }
                var (evaluation, masks) = try evaluator.evaluate(item, keepMasks: sample, primaryTruth: known)
                evaluation.seconds = [:]  // stored state, like the outputs, is the same on every run
                stored.evaluation = evaluation
                if sample {
                    // Figure 4 and the overlays of the sized variants, written now so that
                    // nothing but records is kept in memory.
                    var labelled: [(label: String, mask: BinaryMask)] = []
                    for (s, row) in evaluator.rows.enumerated() {
                        for (v, variant) in row.enumerated() where variant.sized && variant.variant != .raw {
                            labelled.append((variant.label, masks[s][v]))
                            let png = try overlayThumbnail(image: item.image, mask: masks[s][v], truth: item.truth, maximumWidth: 1120)
                            let relative = "overlays/\(item.name)_\(variant.classifier).png"
                            try output.write(png, to: relative)
                            stored.outputs.append(relative)
                        }
                    }
                    for (n, picture) in try Evaluation.samplePictures(item, masks: labelled).enumerated() {
                        let relative = ".sootctl/pictures/\(item.name)_\(n).png"
                        try output.write(picture.png, to: relative)
                        stored.outputs.append(relative)
                        stored.pictures.append([picture.caption, relative])
                    }
                }
            } catch {
                events(.failed(path: path, error: error))
                stored.failure = describe(error)
            }
            try output.makeFolder(folder.imagesFolder)
            try folder.writeJSON(stored, to: statePath)
        }
        // Everything stored, in input order.
        var all: [StoredEvaluation] = []
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder.imagesFolder)) ?? []) where name.hasSuffix(".json") {
            let path = (folder.imagesFolder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            do { all.append(try JSONDecoder().decode(StoredEvaluation.self, from: data)) } catch {
                throw PipelineError.corruptRunFolder(path, describe(error))
            }
        }
        all.sort { $0.index < $1.index }
        var accumulated = evaluator
        var samples: [[(caption: String, png: [UInt8])]] = []
        var pooledPrimaries: [PrimaryMethodEvaluation] = []
        var primaryImages = 0
        for s in all {
            guard let e = s.evaluation else { continue }
            accumulated.add(e)
            if let p = e.primaries {
                primaryImages += 1
                if pooledPrimaries.isEmpty { pooledPrimaries = p } else {
                    for (k, row) in p.enumerated() where k < pooledPrimaries.count { pooledPrimaries[k].add(row) }
                }
            }
            if !s.pictures.isEmpty {
                samples.append(s.pictures.compactMap { pair in
                    FileManager.default.contents(atPath: (output.root as NSString).appendingPathComponent(pair[1]))
                        .map { (pair[0], [UInt8]($0)) }
                })
            }
        }
        var failures = batch.inputs.missing.count + all.filter { $0.evaluation == nil }.count
        guard accumulated.imageCount > 0 else {
            folder.abandon()
            throw PipelineError.nothingAnalysed(failed: failures)
        }
        let evaluation = try accumulated.finish()
        for e in evaluation.errors {
            events(.failed(path: e.image, error: PipelineError.classifierFailed(classifier: e.classifier, message: e.message)))
        }
        failures += evaluation.errors.count
        var complete = provenance
        complete.status = "complete"
        let primaryTable = primaryTruth == nil ? nil : primaryEvaluationTable(pooledPrimaries, images: primaryImages)
        try write(evaluation, samples: samples, provenance: complete, primaryTable: primaryTable,
                  primaryRows: pooledPrimaries, to: output)
        return (evaluation, failures)
    }

    func write(_ evaluation: Evaluation, samples: [[(caption: String, png: [UInt8])]], provenance: RunProvenance,
               primaryTable: Table? = nil, primaryRows: [PrimaryMethodEvaluation] = [], to output: OutputFolder) throws {
        if let primaryTable {
            try output.write(primaryTable.csv, to: "primary_detection.csv")
            try output.write(encodeJSON(primaryRows), to: "primary_detection.json")
        }
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
        try output.write(evaluation.report(samples: samples, figureFiles: figureFiles, provenance: provenance,
                                           primaryDetection: primaryTable), to: "report.html")
        // Last: the manifest that says the set is complete.
        try output.write(encodeJSON(provenance), to: "run.json")
    }
}
