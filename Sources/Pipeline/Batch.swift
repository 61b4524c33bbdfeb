import Aggregates
import Foundation
import ImageCore
import PrimarySizing
import Statistics
import Report

/// What a batch reports while it runs.
public enum BatchEvent: Sendable {
    /// Image `index` of `total` starts.
    case started(index: Int, total: Int, stem: String)
    /// A remark about one input (the analysis went on).
    case warning(path: String, message: String)
    /// One input could not be processed; the batch goes on.
    case failed(path: String, error: any Error)
    /// `--resume`: the input was finished by an earlier run and is unchanged.
    case skipped(path: String)
}

/// The message of an error, for tables and the terminal.
public func describe(_ error: any Error) -> String {
    (error as? LocalizedError)?.errorDescription ?? String(describing: error)
}

/// The inputs of a batch and how their pixel sizes and masks are found.
public struct BatchInputs: Sendable {
    public var inputs: InputList
    public var pixelSizes: PixelSizeRule
    /// Masks to analyse instead of segmenting (`analyze --mask`).
    public var masks: MaskSource?

    /// Inputs (by position) whose stem an earlier input has, with that input (computed once).
    let duplicates: [Int: String]

    public init(inputs: InputList, pixelSizes: PixelSizeRule = PixelSizeRule(), masks: MaskSource? = nil) throws {
        self.inputs = inputs
        self.pixelSizes = pixelSizes
        self.masks = masks
        var seen: [String: String] = [:]
        var later: [Int: String] = [:]
        for (k, file) in inputs.files.enumerated() {
            let s = stem(of: file)
            if let first = seen[s] { later[k] = first } else { seen[s] = file }
        }
        duplicates = later
        guard !inputs.files.isEmpty else { throw PipelineError.noInputs }
        if case let .file(path)? = masks, inputs.files.count > 1 { throw PipelineError.singleMaskForManyImages(path) }
    }

    /// The output folder for these inputs: none of the images or masks is ever written.
    public func outputFolder(_ root: String, extraInputs: [String] = []) -> OutputFolder {
        var files = inputs.files + extraInputs
        var folders: [String] = []
        switch masks {
        case let .file(p)?: files.append(p)
        case let .folder(p)?: folders.append(p)
        case nil: break
        }
        return OutputFolder(root, inputs: files, inputFolders: folders)
    }

    /// Loads input `k`, checking its stem against the earlier ones and its pixel size.
    func load(_ k: Int) throws -> LoadedImage {
        let path = inputs.files[k]
        try checkStem(k)
        return try LoadedImage(path: path, pixelSizes: pixelSizes)
    }

    /// Throws when an earlier input has the same stem as input `k` (their outputs would collide).
    func checkStem(_ k: Int) throws {
        if let first = duplicates[k] { throw PipelineError.duplicateStem(inputs.files[k], first: first) }
    }
}

/// What `analyze` produced over a batch.
public struct AnalysisOutcome: Sendable {
    public var records: [AggregateRecord]
    /// Every located primary (`primaries.csv`).
    public var primaries: [PrimaryRecord] = []
    public var images: [ImageRecord]
    public var summary: RunSummary
    /// Inputs that failed (missing files included).
    public var failures: Int
    public var analysed: Int { images.filter { $0.status != .error }.count }
}

/// `sootctl analyze` as a library call: every image through the per-image pipeline, its mask,
/// overlay and result written as it finishes (memory does not grow with the batch but for
/// the records), then the tables, `run.json` and the report, made from the stored per-image
/// results in input order. The output folder is locked while the run writes; `run.json` says
/// `incomplete` until the end. With `resume`, images whose result is stored and whose files
/// are unchanged are skipped; with `shard`, only that share of the inputs is analysed (and
/// `MergeRun` combines the shards).
public struct AnalysisRun: Sendable {
    public var configuration: AnalysisConfiguration
    public var provenance: RunProvenance
    /// Overlays shown in `report.html`.
    public var reportPictures = 24
    public var resume = false
    public var shard: Shard?

    public init(configuration: AnalysisConfiguration, provenance: RunProvenance) {
        self.configuration = configuration
        self.provenance = provenance
    }

    /// Runs the batch into `output`.
    /// - Throws: `PipelineError.nothingAnalysed` (after reporting each failure) when no input
    ///   could be analysed; nothing is left then. `PipelineError.folderInUse` when another run
    ///   holds the folder. Errors writing the result tables.
    public func run(_ batch: BatchInputs, analyzer: Analyzer, output: OutputFolder,
                    events: (BatchEvent) -> Void = { _ in }) throws -> AnalysisOutcome {
        let folder = try RunFolder(output)
        defer { folder.release() }
        let files = batch.inputs.files
        let reportsMissing = shard.map { $0.index == 1 } ?? true
        try folder.begin(RunState(command: "analyze", configuration: try encodeJSON(configuration), total: files.count,
                                  missing: reportsMissing ? batch.inputs.missing : [], shard: shard?.description,
                                  masks: provenance.masks),
                         resume: resume)
        var provenance = self.provenance
        provenance.shard = shard?.description
        try output.write(encodeJSON(provenance), to: "run.json")
        if reportsMissing { for m in batch.inputs.missing { events(.failed(path: m, error: PipelineError.notFound(m))) } }
        let mine = files.indices.filter { shard?.contains($0) ?? true }
        for (n, k) in mine.enumerated() {
            let path = files[k]
            events(.started(index: n, total: mine.count, stem: stem(of: path)))
            var stored = StoredImage(index: k, file: path, fingerprint: "", image: .error(file: path, message: ""),
                                     records: [], edmCurves: [], outputs: [])
            var written: [String] = []
            do {
                let maskPath = try batch.masks.map { try $0.mask(for: path) }
                stored.fingerprint = try inputFingerprint(path, mask: maskPath)
                if resume, folder.finished(stem: stem(of: path), fingerprint: stored.fingerprint) != nil {
                    events(.skipped(path: path))
                    continue
                }
                let loaded = try batch.load(k)
                let given = try maskPath.map { try loaded.readMask($0) }
                let result = try analyzer.analyze(loaded, mask: given)
                let overlay = Overlay.analysis(result)
                try writeImageFiles(loaded, mask: loaded.fullSize(result.analysis.mask), overlay: overlay, into: output,
                                    recording: &written)
                let small = overlay.thumbnail(maximumWidth: 560)
                try record(".sootctl/thumbnails/\(loaded.stem).png", in: &written, output) {
                    try ImageWriter.writeRGB(width: small.width, height: small.height, rgb: small.bytes, pixelSize: nil, to: $0)
                }
                let outputs = written
                for w in result.warnings { events(.warning(path: path, message: w)) }
                stored.image = result.summary
                stored.records = result.records
                stored.primaries = result.primaries
                stored.edmCurves = result.sizing.edmCurves
                stored.outputs = outputs
            } catch {
                events(.failed(path: path, error: error))
                stored.image = .error(file: path, message: describe(error))
                // Complete or absent: nothing this attempt wrote stays.
                removeWritten(written, in: output)
            }
            try folder.store(stored, duplicate: batch.duplicates[k] != nil)
        }
        let all = try folder.storedImages()
        guard all.contains(where: { $0.image.status != .error }) else {
            folder.abandon()
            throw PipelineError.nothingAnalysed(failed: all.count + (reportsMissing ? batch.inputs.missing.count : 0))
        }
        let outcome = try Self.finish(all, missing: folder.state?.missing ?? [], configuration: configuration,
                                      provenance: provenance, reportPictures: reportPictures, to: output)
        return outcome
    }

    /// Writes the tables and the report from the stored images, then `run.json` marked complete.
    static func finish(_ stored: [StoredImage], missing: [String], configuration: AnalysisConfiguration,
                       provenance: RunProvenance, reportPictures: Int, to output: OutputFolder) throws -> AnalysisOutcome {
        let methods = configuration.sizing
        let images = stored.map(\.image)
        let records = stored.flatMap(\.records)
        let analysed = images.filter { $0.status != .error }.count
        let failures = images.filter { $0.status == .error }.count + missing.count
        let summary = RunSummary(
            classifier: provenance.usesMasks ? "mask" : configuration.classifier.rawValue,
            postProcessing: provenance.usesMasks ? nil : configuration.postProcessing(for: configuration.classifier).summary,
            border: configuration.border.rawValue, sizing: methods.map(\.rawValue), images: images,
            overall: OverallSummary(
                images: images.count + missing.count, analysed: analysed,
                failedSegmentations: images.filter { $0.status == .failed }.count, errors: failures,
                statistics: SizeStatistics(records, methods: methods),
                edmSbsEnsemble: EnsembleFit(curves: stored.flatMap(\.edmCurves)),
                fractal: fractalFits(records, methods: methods)))
        var outcome = AnalysisOutcome(records: records, images: images, summary: summary, failures: failures)
        outcome.primaries = stored.flatMap(\.primaries)
        var pictures: [(caption: String, png: [UInt8])] = []
        for s in stored where s.image.status != .error && pictures.count < reportPictures {
            if let png = FileManager.default.contents(atPath: (output.root as NSString).appendingPathComponent(".sootctl/thumbnails/\(s.image.image).png")) {
                pictures.append(("\(s.image.image): \(s.records.count) aggregate(s)", [UInt8](png)))
            }
        }
        var complete = provenance
        complete.status = "complete"
        complete.images = images.compactMap(\.calibration)
        try writeTables(outcome, provenance: complete, methods: methods, pictures: pictures, to: output)
        return outcome
    }

    /// Writes `aggregates.csv`, `aggregates.json`, `primaries.csv` and `primaries.json` (when a
    /// locating method ran), `images.csv`, `summary.json`, `report.html` and, last, `run.json`.
    public static func writeTables(_ outcome: AnalysisOutcome, provenance: RunProvenance, methods: [SizingMethod],
                                   pictures: [(caption: String, png: [UInt8])], to output: OutputFolder) throws {
        try output.write(AggregateRecord.table(outcome.records).csv, to: "aggregates.csv")
        try output.write(encodeJSON(outcome.records), to: "aggregates.json")
        if methods.contains(where: \.locatesPrimaries) {
            try output.write(PrimaryRecord.table(outcome.primaries).csv, to: "primaries.csv")
            try output.write(encodeJSON(outcome.primaries), to: "primaries.json")
        }
        try output.write(ImageRecord.table(outcome.images, methods: methods).csv, to: "images.csv")
        try output.write(encodeJSON(outcome.summary), to: "summary.json")
        var report = analysisReport(records: outcome.records, images: outcome.images, methods: methods)
        report.pictures = pictures
        report.provenance = Table(columns: ["what", "value"], rows: provenance.reportRows)
        try output.write(report.html, to: "report.html")
        // Last: the manifest that says the set is complete.
        try output.write(encodeJSON(provenance), to: "run.json")
    }

    /// The `report.html` of a run: the per-image and overall statistics, the aggregate table
    /// and the distributions.
    static func analysisReport(records: [AggregateRecord], images: [ImageRecord], methods: [SizingMethod]) -> AnalysisReport {
        func number(_ v: Double?, _ decimals: Int = 1) -> String { fixed(v, decimals) }
        var aggregateTable = Table(columns: ["image", "id", "area_px", "da_nm", "rg_nm", "perimeter_nm", "aspect_ratio"]
            + methods.map(\.columnName))
        for r in records {
            aggregateTable.rows.append([r.image, String(r.id), String(r.areaPx), number(r.daNm), number(r.rgNm),
                                        number(r.perimeterNm), number(r.aspectRatio, 2)] + methods.map { number(r.dp($0)) })
        }
        var summaryTable = Table(columns: ["image", "status", "aggregates", "da_g_nm", "da_sigma_g", "da_median_nm"]
            + methods.flatMap { [$0.rawValue + " dp_g_nm", $0.rawValue + " sigma_g"] })
        func statisticsRow(_ name: String, _ status: String, _ rs: [AggregateRecord]) -> [String] {
            let da = QuantitySummary(rs.map(\.daNm))
            var row = [name, status, String(rs.count), number(da.geometricMean), number(da.geometricStd, 2), number(da.median)]
            for m in methods {
                let s = QuantitySummary(rs.compactMap { $0.dp(m) })
                row += [number(s.geometricMean), number(s.geometricStd, 2)]
            }
            return row
        }
        for image in images {
            summaryTable.rows.append(statisticsRow(image.image, image.status.rawValue, records.filter { $0.image == image.image }))
        }
        summaryTable.rows.append(statisticsRow("all images", "", records))
        var report = AnalysisReport(title: "sootctl analyze: \(records.count) aggregate(s) in \(images.count) image(s)",
                                    aggregates: aggregateTable, summary: summaryTable)
        report.daNm = records.map(\.daNm)
        if let fits = fractalFits(records, methods: methods) {
            func range(_ r: ClosedRange<Double>?, _ decimals: Int) -> String {
                r.map { "\(fixed($0.lowerBound, decimals)) to \(fixed($0.upperBound, decimals))" } ?? ""
            }
            report.morphology = Table(columns: ["method", "aggregates", "Df", "Df 95 %", "kf", "kf 95 %", "R²"],
                                      rows: methods.filter(\.locatesPrimaries).map { m in
                let f = fits[m.rawValue]
                return [m.rawValue, String(f?.count ?? 0), fixed(f?.fractalDimension, 2), range(f?.fractalDimensionInterval, 2),
                        fixed(f?.prefactor, 2), range(f?.prefactorInterval, 2), fixed(f?.rSquared, 3)]
            })
        }
        report.sizes = methods.map { m in
            let pairs = records.compactMap { r in r.dp(m).map { (r.daNm, $0) } }
            return (m, pairs.map(\.0), pairs.map(\.1))
        }
        return report
    }
}

/// The fractal fits of the locating methods among `methods` (nil when there is none).
func fractalFits(_ records: [AggregateRecord], methods: [SizingMethod]) -> [String: FractalFit]? {
    let locating = methods.filter(\.locatesPrimaries)
    guard !locating.isEmpty else { return nil }
    var out: [String: FractalFit] = [:]
    for m in locating { out[m.rawValue] = AggregateRecord.fractalFit(records, method: m) }
    return out
}

/// What `segment` produced over a batch.
public struct SegmentationOutcome: Sendable {
    public var segmented: [String]
    public var failures: Int
}

/// `sootctl segment` as a library call: masks, overlays and (cnn) probability maps, written
/// as each image finishes, then `run.json`.
public struct SegmentationRun: Sendable {
    public var configuration: AnalysisConfiguration
    public var provenance: RunProvenance
    /// The classifier's own mask, without post-processing or border removal.
    public var raw = false
    /// Also write `probability/STEM.png` (16-bit) for classifiers that have one.
    public var probability = false

    public init(configuration: AnalysisConfiguration, provenance: RunProvenance) {
        self.configuration = configuration
        self.provenance = provenance
    }

    public func run(_ batch: BatchInputs, analyzer: Analyzer, output: OutputFolder,
                    events: (BatchEvent) -> Void = { _ in }) throws -> SegmentationOutcome {
        let folder = try RunFolder(output)
        defer { folder.release() }
        var failures = batch.inputs.missing.count
        var done: [String] = []
        var calibrations: [ImageCalibration] = []
        let files = batch.inputs.files
        try folder.begin(RunState(command: "segment", configuration: try encodeJSON(configuration), total: files.count,
                                  missing: batch.inputs.missing, shard: nil, masks: nil), resume: false)
        try output.write(encodeJSON(provenance), to: "run.json")
        for m in batch.inputs.missing { events(.failed(path: m, error: PipelineError.notFound(m))) }
        for (k, path) in files.enumerated() {
            events(.started(index: k, total: files.count, stem: stem(of: path)))
            var written: [String] = []
            do {
                let loaded = try batch.load(k)
                for w in loaded.warnings { events(.warning(path: path, message: w)) }
                let segmented = try analyzer.segment(loaded, raw: raw)
                var mask = segmented.mask
                var excluded: BinaryMask?
                if !raw && configuration.border == .remove {
                    let kept = clearBorder(mask)
                    excluded = subtracting(mask, kept)
                    mask = kept
                }
                let full = loaded.fullSize(mask)
                try writeImageFiles(loaded, mask: full, overlay: Overlay.mask(loaded, mask: full, excluded: excluded.map(loaded.fullSize)),
                                    into: output, recording: &written)
                if probability, let p = segmented.segmentation.probability {
                    var plane = GrayImage(width: loaded.original.width, height: loaded.original.height, pixelSize: loaded.pixelSize)
                    for i in 0..<p.count { plane.pixels[i] = p.pixels[i] }
                    try record("probability/\(loaded.stem).png", in: &written, output) { try ImageWriter.writePNG16(plane, to: $0) }
                }
                for w in segmented.segmentation.warnings { events(.warning(path: path, message: w)) }
                if !raw, let reason = detectSegmentationFailure(segmented.mask, options: configuration.aggregateOptions) {
                    events(.warning(path: path, message: "segmentation looks failed (\(reason.rawValue))"))
                }
                done.append(loaded.stem)
                calibrations.append(loaded.calibration)
                try folder.store(StoredImage(index: k, file: path, fingerprint: "", image: .error(file: path, message: ""),
                                             records: [], edmCurves: [], outputs: written))
            } catch {
                failures += 1
                events(.failed(path: path, error: error))
                removeWritten(written, in: output)
            }
        }
        guard !done.isEmpty else {
            folder.abandon()
            throw PipelineError.nothingAnalysed(failed: failures)
        }
        var complete = provenance
        complete.status = "complete"
        complete.images = calibrations
        try output.write(encodeJSON(complete), to: "run.json")
        return SegmentationOutcome(segmented: done, failures: failures)
    }
}

/// Writes one per-image file, recording its path first so that a failure removes it.
func record(_ relative: String, in written: inout [String], _ output: OutputFolder, _ write: (String) throws -> Void) throws {
    written.append(relative)
    try write(try output.path(relative))
}

/// `masks/STEM.png` and `overlays/STEM.png` of one image (the pixel size in both).
func writeImageFiles(_ loaded: LoadedImage, mask: BinaryMask, overlay: RGBCanvas, into output: OutputFolder,
                     recording written: inout [String]) throws {
    try record("masks/\(loaded.stem).png", in: &written, output) { try ImageWriter.writeMask(mask, to: $0) }
    try record("overlays/\(loaded.stem).png", in: &written, output) {
        try ImageWriter.writeRGB(width: overlay.width, height: overlay.height, rgb: overlay.bytes, pixelSize: loaded.pixelSize, to: $0)
    }
}

/// Removes the files (relative paths) a failed image's attempt wrote; never an input, never
/// a folder.
func removeWritten(_ written: [String], in output: OutputFolder) {
    for relative in written where (try? output.path(relative)) != nil {
        let file = (output.root as NSString).appendingPathComponent(relative)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue {
            try? FileManager.default.removeItem(atPath: file)
        }
    }
}
