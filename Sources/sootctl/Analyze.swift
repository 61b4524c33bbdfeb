import ArgumentParser
import Classifiers
import Foundation
import ImageCore
import PrimarySizing
import Report
import Statistics

/// `sootctl analyze IMAGE... --out DIR`: aggregates, their properties and primary-particle sizes.
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure aggregates and primary particles in TEM images.",
        discussion: """
            Segments each image (or reads its mask with --mask), splits the mask into aggregates \
            (atems analyze_binary: failed segmentations flagged, border aggregates removed, blobs \
            under 10 px dropped), measures each aggregate and sizes its primary particles. Writes \
            DIR/aggregates.csv, DIR/aggregates.json, DIR/summary.json, DIR/masks/STEM.png and \
            DIR/overlays/STEM.png (aggregate ids, a circle of radius Rg, the primary particle size) and \
            DIR/report.html (overlays, the aggregate table, the da distribution, dp vs da with power-law \
            fits, summary statistics; one self-contained page).
            """)

    @Argument(help: "Images (PNG or TIFF) or folders of them.", completion: .file())
    var images: [String]

    @OptionGroup var classifier: ClassifierOptions

    @Option(help: "Primary-particle sizing: comma-separated pcm, edm-sbs, hough, edm-ws, or all / none.")
    var sizing: String = "all"

    @Option(help: "Analyse this mask (file, or folder of masks named like the images) instead of segmenting.",
            completion: .file())
    var mask: String?

    @Option(help: "Aggregates touching the image border: remove (atems default) or keep.")
    var border: BorderPolicy = .remove

    @Flag(help: "Report every aggregate even when the segmentation looks failed (speckle, soot along the border).")
    var keepFailed = false

    @Option(help: "Output folder.", completion: .directory)
    var out: String

    func validate() throws {
        _ = try parsedSizing()
    }

    func parsedSizing() throws -> [SizingMethod] {
        do { return try SizingMethod.parseList(sizing) } catch { throw ValidationError(error.localizedDescription) }
    }

    func run() throws {
        let methods = try parsedSizing()
        let (files, missing) = expandInputs(images)
        for m in missing { printError(CommandError.notFound(m), path: m) }
        guard !files.isEmpty else { throw failure(CommandError.noInputs) }
        var maskFolder: String?
        var maskFile: String?
        if let mask {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: mask, isDirectory: &isDirectory) else {
                throw failure(CommandError.notFound(mask))
            }
            if isDirectory.boolValue { maskFolder = mask } else {
                guard files.count == 1 else { throw failure(CommandError.singleMaskForManyImages(mask)) }
                maskFile = mask
            }
        }
        let output = try OutputFolder(out, inputs: files + (maskFile.map { [$0] } ?? []))
        let segmenter: (any Segmenter)?
        do { segmenter = mask == nil ? try classifier.makeSegmenter() : nil } catch { throw failure(error) }
        let post = segmenter.map { classifier.postProcessing(for: $0, removeBorder: false) }
        var options = AggregateOptions()
        options.removeBorderAggregates = border == .remove
        options.detectFailures = !keepFailed

        var records: [AggregateRecord] = []
        var imageSummaries: [ImageSummaryRecord] = []
        var failures = missing.count
        var seen: [String: String] = [:]
        var allCurves: [[Double]] = []
        var pictures: [(caption: String, png: [UInt8])] = []
        let progress = Progress(total: files.count)
        for (k, path) in files.enumerated() {
            progress.update(k, stem(of: path))
            let started = Date()
            do {
                let name = stem(of: path)
                if let first = seen[name] { throw CommandError.duplicateStem(path, first: first) }
                seen[name] = path
                let loaded = try LoadedImage(path: path, pixelSizeOverride: classifier.pixelSizeNm)
                guard let ps = loaded.pixelSize?.nanometersPerPixel else {
                    throw ClassifierError.missingPixelSize(method: "analyze")
                }
                // The mask.
                let working: BinaryMask
                var warnings: [String] = []
                if let maskPath = try maskPath(for: path, folder: maskFolder, file: maskFile) {
                    working = try loaded.fitted(ImageReader.readMask(maskPath), maskPath: maskPath)
                } else if let segmenter, let post {
                    let result = try segmenter.segment(loaded.image, pixelSizeNm: ps)
                    warnings = result.warnings
                    working = try post.apply(result.mask, pixelSizeNm: ps)
                } else {
                    preconditionFailure("either a mask or a classifier")
                }
                let analysis = extractAggregates(mask: working, image: loaded.image, pixelSizeNm: ps, options: options)
                let sizing = sizePrimaryParticles(analysis: analysis, image: loaded.image, methods: methods)
                allCurves += sizing.edmCurves.filter { !$0.isEmpty }
                let imageRecords = analysis.aggregates.enumerated().map { index, aggregate in
                    AggregateRecord(image: name, aggregate: aggregate, sizes: sizing.sizes[index])
                }
                records += imageRecords
                try ImageWriter.writeMask(loaded.fullSize(analysis.mask), to: try output.path("masks", name + ".png"))
                let overlay = try writeOverlay(loaded: loaded, analysis: analysis, sizing: sizing, methods: methods,
                                               to: try output.path("overlays", name + ".png"))
                if pictures.count < 24 {
                    let small = overlay.thumbnail(maximumWidth: 560)
                    pictures.append(("\(name): \(imageRecords.count) aggregate(s)",
                                     try ImageWriter.encodeRGB(width: small.width, height: small.height, rgb: small.bytes)))
                }
                for warning in warnings { printError("warning: \(path): \(warning)") }
                if let reason = analysis.failure, reason != .noAggregates {
                    printError("warning: \(path): segmentation failed (\(reason.rawValue)); no aggregates reported")
                }
                var ensemble: [String: Double]?
                let curves = sizing.edmCurves.filter { !$0.isEmpty }
                if !curves.isEmpty, let fit = EDMSBS().ensemble(curves: curves) {
                    ensemble = ["dg_nm": fit.dgNm, "sigma_g": fit.sigmaG]
                }
                imageSummaries.append(ImageSummaryRecord(
                    image: name, file: path, status: analysis.failure == nil ? "ok" : "failed",
                    failure: analysis.failure?.rawValue, pixelSizeNm: ps,
                    pixelSizeSource: loaded.pixelSize?.source.rawValue, footerRows: loaded.footer.map {
                        loaded.original.height - $0.startRow
                    },
                    statistics: SizeStatistics(imageRecords, methods: methods), edmSbsEnsemble: ensemble,
                    warnings: warnings, seconds: Date().timeIntervalSince(started)))
            } catch {
                failures += 1
                progress.finish()
                printError(error, path: path)
                let text = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
                imageSummaries.append(ImageSummaryRecord(
                    image: stem(of: path), file: path, status: "error", failure: text, pixelSizeNm: nil,
                    pixelSizeSource: nil, footerRows: nil, statistics: nil, edmSbsEnsemble: nil, warnings: [],
                    seconds: Date().timeIntervalSince(started)))
            }
        }
        progress.finish()
        var ensemble: [String: Double]?
        if !allCurves.isEmpty, let fit = EDMSBS().ensemble(curves: allCurves) {
            ensemble = ["dg_nm": fit.dgNm, "sigma_g": fit.sigmaG]
        }
        let summary = RunSummary(
            method: mask == nil ? classifier.method.rawValue : "mask",
            postProcessing: post?.summary, border: border.rawValue, sizing: methods.map(\.rawValue),
            images: imageSummaries,
            overall: OverallSummary(
                images: files.count + missing.count,
                analysed: imageSummaries.filter { $0.status != "error" }.count,
                failedSegmentations: imageSummaries.filter { $0.status == "failed" }.count,
                errors: failures, statistics: SizeStatistics(records, methods: methods), edmSbsEnsemble: ensemble))
        do {
            try output.write(AggregateRecord.csv(records), to: "aggregates.csv")
            try output.write(encodeJSON(records), to: "aggregates.json")
            try output.write(encodeJSON(summary), to: "summary.json")
            try output.write(analysisReport(records: records, images: imageSummaries, methods: methods, pictures: pictures).html,
                             to: "report.html")
        } catch {
            throw failure(error)
        }
        print("\(records.count) aggregate(s) in \(imageSummaries.filter { $0.status != "error" }.count) image(s) -> \(out)")
        if failures > 0 {
            printError("\(failures) of \(files.count + missing.count) input(s) failed")
            throw ExitCode.failure
        }
    }

    /// The mask for an image: the given file, or the file with the image's stem in the folder.
    func maskPath(for image: String, folder: String?, file: String?) throws -> String? {
        if let file { return file }
        guard let folder else { return nil }
        return try Self.matchingMask(for: image, folder: folder)
    }

    /// The file in `folder` with the image's stem (PNG or TIFF).
    static func matchingMask(for image: String, folder: String) throws -> String {
        let name = stem(of: image)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let match = entries.sorted().first {
            stem(of: $0) == name && imageExtensions.contains(($0 as NSString).pathExtension.lowercased())
        }
        guard let match else { throw CommandError.maskNotFound(image: image, folder: folder) }
        return (folder as NSString).appendingPathComponent(match)
    }

    /// The overlay of `analyze`: aggregates tinted and outlined, Rg circles, Hough circles,
    /// and a label "#id dp" per aggregate.
    @discardableResult
    func writeOverlay(loaded: LoadedImage, analysis: AggregateAnalysis, sizing: ImageSizing,
                      methods: [SizingMethod], to path: String) throws -> RGBCanvas {
        let full = loaded.fullSize(analysis.mask)
        var canvas = RGBCanvas(image: loaded.original)
        canvas.tint(full, color: .aggregateTint)
        let thickness = max(1, loaded.original.width / 1000)
        canvas.outline(full, color: .outline, thickness: thickness)
        let ps = analysis.pixelSizeNm
        let scale = max(2, loaded.original.width / 600)
        for (k, aggregate) in analysis.aggregates.enumerated() {
            for c in sizing.circles[k] {
                canvas.circle(centerX: c.centerX, centerY: c.centerY, radius: c.radius, color: .circle)
            }
            canvas.circle(centerX: aggregate.centroidXPx, centerY: aggregate.centroidYPx,
                          radius: aggregate.rgNm / ps, color: .gyration, thickness: thickness)
            var label = "#\(aggregate.id)"
            // The first available size in the order of the paper's preference.
            for method in [SizingMethod.edmSBS, .pcm, .hough, .edmWS] where methods.contains(method) {
                if let dp = sizing.sizes[k][method]?.diameterNm {
                    canvas.circle(centerX: aggregate.centroidXPx, centerY: aggregate.centroidYPx,
                                  radius: dp / ps / 2, color: .particle, thickness: thickness)
                    label += String(format: " dp=%.1fnm", dp)
                    break
                }
            }
            // Keep the label inside the picture.
            let labelWidth = label.count * 6 * scale + scale
            let column = max(min(Int(aggregate.centroidXPx), canvas.width - labelWidth - 1), scale)
            let row = max(min(Int(aggregate.centroidYPx) + 4 * scale, canvas.height - 9 * scale), scale)
            canvas.text(label, row: row, column: column, scale: scale)
        }
        try ImageWriter.writeRGB(width: canvas.width, height: canvas.height, rgb: canvas.bytes,
                                 pixelSize: loaded.pixelSize, to: path)
        return canvas
    }

    /// The `report.html` of a run.
    func analysisReport(records: [AggregateRecord], images: [ImageSummaryRecord], methods: [SizingMethod],
                        pictures: [(caption: String, png: [UInt8])]) -> AnalysisReport {
        func number(_ v: Double?, _ decimals: Int = 1) -> String { v.map { String(format: "%.\(decimals)f", $0) } ?? "" }
        var aggregateTable = Table(columns: ["image", "id", "area_px", "da_nm", "rg_nm", "perimeter_nm", "aspect_ratio"]
            + methods.map(\.columnName))
        for r in records {
            aggregateTable.rows.append([r.image, String(r.id), String(r.areaPx), number(r.daNm), number(r.rgNm),
                                        number(r.perimeterNm), number(r.aspectRatio, 2)] + methods.map { number(r.dp($0)) })
        }
        var summaryTable = Table(columns: ["image", "status", "aggregates", "da_g_nm", "da_sigma_g", "da_median_nm"]
            + methods.flatMap { [$0.rawValue + " dp_g_nm", $0.rawValue + " sigma_g"] })
        func statisticsRow(_ name: String, _ status: String, _ rs: [AggregateRecord]) -> [String] {
            let da = GeometricSummary(rs.map(\.daNm))
            var row = [name, status, String(rs.count), number(da.geometricMean), number(da.geometricStandardDeviation, 2), number(da.median)]
            for m in methods {
                let s = GeometricSummary(rs.compactMap { $0.dp(m) })
                row += [number(s.geometricMean), number(s.geometricStandardDeviation, 2)]
            }
            return row
        }
        for image in images {
            summaryTable.rows.append(statisticsRow(image.image, image.status, records.filter { $0.image == image.image }))
        }
        summaryTable.rows.append(statisticsRow("all images", "", records))
        var report = AnalysisReport(title: "sootctl analyze: \(records.count) aggregate(s) in \(images.count) image(s)",
                                    aggregates: aggregateTable, summary: summaryTable)
        report.pictures = pictures
        report.daNm = records.map(\.daNm)
        report.sizes = methods.map { m in
            let pairs = records.compactMap { r in r.dp(m).map { (r.daNm, $0) } }
            return (m, pairs.map(\.0), pairs.map(\.1))
        }
        return report
    }
}
