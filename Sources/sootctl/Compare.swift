import ArgumentParser
import Classifiers
import Foundation
import ImageCore
import NeuralNet
import PrimarySizing
import Report
import Statistics

/// `sootctl compare --images DIR --truth DIR --out DIR`: the paper's evaluation (Tables 3-5,
/// Figures 4-8) for any images with ground-truth masks.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare classifiers and sizing methods against ground-truth masks (the paper's Tables 3-5, Figures 4-8).",
        discussion: """
            Truth masks are matched to images by file stem (PNG or TIFF). Writes OUT/segmentation.csv \
            (Table 3: per classifier and post-processing variant raw, rb, 1000px, rb+1000px), \
            OUT/sizing.csv (Table 4), OUT/powerlaw.csv (Table 5), OUT/matches.csv, OUT/figures/*.svg \
            (Figures 5-8) and OUT/report.html (everything on one self-contained page, with Figure 4's \
            overlays). Primary particles are sized on the truth masks and on each classifier's raw and \
            recommended variant (cnn: rb+1000px; kmeans, otsu: 1000px).
            """)

    @Option(help: "Folder (or files) of images.", completion: .directory)
    var images: [String]

    @Option(help: "Folder of ground-truth masks named like the images.", completion: .directory)
    var truth: String

    @Option(help: "Classifiers, comma-separated: cnn, kmeans, otsu.")
    var methods: String = "cnn,kmeans,otsu"

    @Option(help: "Primary-particle sizing: comma-separated pcm, edm-sbs, hough, edm-ws, or all / none.")
    var sizing: String = "all"

    @Option(name: .customLong("pixel-size"), help: "Pixel size in nm per pixel (overrides the files' metadata).")
    var pixelSizeNm: Double?

    @Option(name: .customLong("pixel-sizes"),
            help: "CSV of per-image pixel sizes (stem,pixel_size_nm) for files that carry none; --pixel-size wins.",
            completion: .file())
    var pixelSizesFile: String?

    @Option(help: "CNN model file (default: the installed model).", completion: .file())
    var model: String?

    @Option(help: "Disk shape of structuring elements: euclidean or matlab.")
    var diskShape: DiskShape = .euclidean

    @Option(help: "Output folder.", completion: .directory)
    var out: String

    func parsedMethods() throws -> [MethodName] {
        var out: [MethodName] = []
        for part in methods.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            guard let m = MethodName(rawValue: part) else { throw ValidationError("unknown classifier '\(part)' (cnn, kmeans, otsu)") }
            if !out.contains(m) { out.append(m) }
        }
        guard !out.isEmpty else { throw ValidationError("--methods names no classifier") }
        return out
    }

    func validate() throws {
        let chosen = try parsedMethods()
        do { _ = try SizingMethod.parseList(sizing) } catch { throw ValidationError(error.localizedDescription) }
        if let ps = pixelSizeNm, !(ps.isFinite && PixelSize.plausibleRangeNm.contains(ps)) {
            throw ValidationError("--pixel-size must be between 0.001 and 1000 nm per pixel")
        }
        if model != nil && !chosen.contains(.cnn) { throw ValidationError("--model only applies with cnn") }
    }

    func run() throws {
        let classifiers = try parsedMethods()
        let sizingMethods = try SizingMethod.parseList(sizing)
        let (files, missing) = expandInputs(images)
        for m in missing { printError(CommandError.notFound(m), path: m) }
        guard !files.isEmpty else { throw failure(CommandError.noInputs) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: truth, isDirectory: &isDirectory) else {
            throw failure(CommandError.notFound(truth))
        }
        guard isDirectory.boolValue else { throw failure(CommandError.notAFolder(truth, option: "--truth")) }
        let output: OutputFolder
        do { output = try OutputFolder(out, inputs: files) } catch { throw failure(error) }
        var failures = missing.count
        let pixelSizes: [String: Double]
        do { pixelSizes = try pixelSizesFile.map { try PixelSize.readTable($0) } ?? [:] } catch { throw failure(error) }

        // Load every image with its truth; a bad pair is reported and skipped.
        var items: [EvaluationImage] = []
        var seen: [String: String] = [:]
        for path in files {
            do {
                let name = stem(of: path)
                if let first = seen[name] { throw CommandError.duplicateStem(path, first: first) }
                seen[name] = path
                let loaded = try LoadedImage(path: path, pixelSizeOverride: pixelSizeNm, fallbackNm: pixelSizes[name])
                guard let ps = loaded.pixelSize?.nanometersPerPixel else { throw ClassifierError.missingPixelSize(method: "compare") }
                let maskPath = try Analyze.matchingMask(for: path, folder: truth)
                let mask = try loaded.fitted(ImageReader.readMask(maskPath), maskPath: maskPath)
                items.append(EvaluationImage(name: name, image: loaded.image, truth: mask, pixelSizeNm: ps))
            } catch {
                failures += 1
                printError(error, path: path)
            }
        }
        guard !items.isEmpty else { throw failure(EvaluationError.noImages) }

        var segmenters: [any Segmenter] = []
        do {
            for c in classifiers {
                var options = try ClassifierOptions.parse(["--method", c.rawValue, "--disk-shape", diskShape.rawValue])
                if c == .cnn { options.model = model }
                segmenters.append(try options.makeSegmenter())
            }
        } catch {
            throw failure(error)
        }

        let progress = Progress(total: items.count * (1 + segmenters.count))
        let evaluation: Evaluation
        do {
            evaluation = try evaluate(images: items, segmenters: segmenters, sizing: sizingMethods, diskShape: diskShape) { step, _, what in
                progress.update(step, what)
            }
        } catch {
            progress.finish()
            throw failure(error)
        }
        progress.finish()
        for e in evaluation.errors {
            printError("error: \(e.image): \(e.classifier) failed (\(e.message)); counted as a failed segmentation")
        }
        failures += evaluation.errors.count

        do {
            try output.write(evaluation.segmentationTable.csv, to: "segmentation.csv")
            try output.write(evaluation.sizingTable.csv, to: "sizing.csv")
            try output.write(evaluation.powerLawTable.csv, to: "powerlaw.csv")
            try output.write(evaluation.matchesTable.csv, to: "matches.csv")
            var figureFiles: [String: String] = [:]
            var figures: [(String, Chart)] = [("density", evaluation.densityFigure), ("truth_ratio", evaluation.truthRatioFigure)]
            if let f = evaluation.edmRatioFigure { figures.append(("edm_ratio", f)) }
            for (m, chart) in evaluation.powerLawFigures { figures.append(("powerlaw_" + m.rawValue, chart)) }
            for (name, chart) in figures {
                let file = "figures/\(name).svg"
                try ImageWriter.writeAtomically(Array(chart.svg().utf8), to: try output.path("figures", name + ".svg"))
                try writeChartPNG(chart, to: try output.path("figures", name + ".png"))
                figureFiles[name] = file
            }
            for item in items.prefix(4) {
                for v in evaluation.variants where v.sized && v.variant != .raw {
                    guard let mask = v.masks[item.name] else { continue }
                    let png = try overlayThumbnail(image: item.image, mask: mask, truth: item.truth, maximumWidth: 1120)
                    try ImageWriter.writeAtomically(png, to: try output.path("overlays", "\(item.name)_\(v.classifier).png"))
                }
            }
            try output.write(try evaluation.report(images: items, figureFiles: figureFiles), to: "report.html")
        } catch {
            throw failure(error)
        }
        let table = evaluation.segmentationTable
        for row in table.rows where row[1] == "raw" || row[1] == PostProcessingVariant.recommended(for: row[0]).rawValue {
            print("\(row[0]) \(row[1]): IoU \(row[6]) (incl. failed \(row[7])), \(row[5]) failed image(s), \(row[8]) aggregates")
        }
        print("\(items.count) image(s), \(evaluation.truth.count) truth aggregate(s) -> \(out)/report.html")
        if failures > 0 {
            printError("\(failures) input(s) failed")
            throw ExitCode.failure
        }
    }
}

/// Writes a chart as PNG, rasterised by `ChartRaster`.
func writeChartPNG(_ chart: Chart, to path: String) throws {
    let canvas = chart.raster()
    try ImageWriter.writeRGB(width: canvas.width, height: canvas.height, rgb: canvas.bytes, pixelSize: nil, to: path)
}
