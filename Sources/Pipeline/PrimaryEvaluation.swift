import Aggregates
import Foundation
import ImageCore
import PrimarySizing
import Report
import Statistics
import Synthesis

/// The known primaries of one image for `compare --primary-truth`: from a synthetic truth
/// file (`truth/STEM.json` of `sootctl synth`) or from one mask per hand-outlined primary
/// (`STEM_NNN.png`, as annotation tools export them, in the folder or its `STEM/`).
public struct PrimaryTruth: Sendable {
    public var primaries: [TruePrimary]
    /// The file(s) it came from.
    public var source: String

    /// The truth of `stem` in `folder`, nil when the folder holds none for it.
    /// - Throws: `PipelineError.primaryTruthUnusable` for a file that cannot be read or does
    ///   not fit the image (`width` x `height`).
    public static func load(folder: String, stem: String, width: Int, height: Int) throws -> PrimaryTruth? {
        let fm = FileManager.default
        let json = (folder as NSString).appendingPathComponent(stem + ".json")
        if fm.fileExists(atPath: json) { return try fromSyntheticTruth(json, width: width, height: height) }
        var masks: [String] = []
        for dir in [folder, (folder as NSString).appendingPathComponent(stem)] {
            for name in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted() {
                let base = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension.lowercased()
                guard ["png", "tif", "tiff"].contains(ext), base.hasPrefix(stem + "_") else { continue }
                let number = base.dropFirst(stem.count + 1)
                if !number.isEmpty && number.allSatisfy(\.isNumber) { masks.append((dir as NSString).appendingPathComponent(name)) }
            }
            if !masks.isEmpty { break }
        }
        guard !masks.isEmpty else { return nil }
        return try fromMasks(masks, width: width, height: height)
    }

    /// Synthetic truth: every primary, counted when at least `PrimaryVisibility.countedFraction`
    /// of it is visible (all of them in files written before visibility was recorded).
    public static func fromSyntheticTruth(_ path: String, width: Int, height: Int) throws -> PrimaryTruth {
        let truth: SynthesisTruth
        do { truth = try JSONDecoder().decode(SynthesisTruth.self, from: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw PipelineError.primaryTruthUnusable(path, "not a sootctl synth truth file: \(describe(error))")
        }
        guard truth.parameters.width == width, truth.parameters.height == height else {
            throw PipelineError.primaryTruthUnusable(path, "made for a \(truth.parameters.width) x \(truth.parameters.height) image, "
                + "the image is \(width) x \(height)")
        }
        let ps = truth.parameters.pixelSizeNm
        let primaries = truth.aggregates.flatMap(\.primaries).map {
            TruePrimary(centerX: $0.xPx, centerY: $0.yPx, radius: $0.diameterNm / ps / 2,
                        counts: ($0.visibleFraction ?? 1) >= PrimaryVisibility.countedFraction)
        }
        return PrimaryTruth(primaries: primaries, source: path)
    }

    /// Hand-outlined primaries, one mask each: its centroid and area-equivalent disc (a located
    /// disc is scored against that disc; outlines of primaries are close to round).
    public static func fromMasks(_ paths: [String], width: Int, height: Int) throws -> PrimaryTruth {
        var primaries: [TruePrimary] = []
        for path in paths {
            let mask: BinaryMask
            do { mask = try ImageReader.readMask(path) } catch {
                throw PipelineError.primaryTruthUnusable(path, describe(error))
            }
            guard mask.width == width, mask.height == height else {
                throw PipelineError.primaryTruthUnusable(path, "mask is \(mask.width) x \(mask.height), the image \(width) x \(height)")
            }
            var n = 0, sx = 0.0, sy = 0.0
            for y in 0..<height {
                for x in 0..<width where mask.bits[y * width + x] != 0 { n += 1; sx += Double(x); sy += Double(y) }
            }
            guard n > 0 else { throw PipelineError.primaryTruthUnusable(path, "the mask is empty") }
            primaries.append(TruePrimary(centerX: sx / Double(n), centerY: sy / Double(n), radius: (Double(n) / Double.pi).squareRoot()))
        }
        return PrimaryTruth(primaries: primaries, source: paths.count == 1 ? paths[0] : "\(paths.count) primary masks")
    }
}

/// How one sizing method did against the known primaries of a set of images.
public struct PrimaryMethodEvaluation: Sendable, Codable, Equatable {
    public var method: String
    /// Located primaries against counted true ones (locating methods only).
    public var match: PrimaryMatchScore?
    /// Per aggregate: the method's dp / the geometric mean diameter of the true primaries whose
    /// centres lie in the aggregate - 1.
    public var aggregateDpErrors: [Double]

    enum CodingKeys: String, CodingKey { case method, match, aggregateDpErrors = "aggregate_dp_errors" }

    public mutating func add(_ other: PrimaryMethodEvaluation) {
        if let m = other.match {
            var pooled = match ?? PrimaryMatchScore()
            pooled.add(m)
            match = pooled
        }
        aggregateDpErrors += other.aggregateDpErrors
    }
}

/// Scores the sizing of one image's aggregates against its known primaries: the aggregates of
/// `analysis` (from the truth mask), the sizes and located primaries of `sizing`. Only true
/// primaries whose centres lie in an analysed aggregate, and located ones assigned to one,
/// take part (aggregates removed at the border are nobody's).
public func evaluatePrimaries(analysis: AggregateAnalysis, sizing: ImageSizing, methods: [SizingMethod],
                              truth: PrimaryTruth, pixelSizeNm ps: Double) -> [PrimaryMethodEvaluation] {
    let w = analysis.labels.width, h = analysis.labels.height
    var indexOfLabel: [Int32: Int] = [:]
    for (k, a) in analysis.aggregates.enumerated() { indexOfLabel[a.label] = k }
    var truthByAggregate = [[TruePrimary]](repeating: [], count: analysis.aggregates.count)
    for t in truth.primaries {
        let r = Int(t.disc.centerY.rounded()), c = Int(t.disc.centerX.rounded())
        guard r >= 0, r < h, c >= 0, c < w, let k = indexOfLabel[analysis.labels.labels[r * w + c]] else { continue }
        truthByAggregate[k].append(t)
    }
    let trueDp: [Double?] = truthByAggregate.map { ts in
        ts.isEmpty ? nil : exp(ts.reduce(0) { $0 + log(2 * $1.disc.radius * ps) } / Double(ts.count))
    }
    return methods.map { m in
        var errors: [Double] = []
        for k in analysis.aggregates.indices {
            if let t = trueDp[k], let dp = sizing.sizes[k][m]?.diameterNm { errors.append(dp / t - 1) }
        }
        var match: PrimaryMatchScore?
        if m.locatesPrimaries {
            let located = analysis.aggregates.indices.flatMap { sizing.located[$0][m] ?? [] }
            match = matchPrimaries(located: located, truth: truthByAggregate.flatMap { $0 })
        }
        return PrimaryMethodEvaluation(method: m.rawValue, match: match, aggregateDpErrors: errors)
    }
}

/// `primary_detection.csv`: one row per sizing method.
public func primaryEvaluationTable(_ rows: [PrimaryMethodEvaluation], images: Int) -> Table {
    func median(_ v: [Double]) -> Double? { percentile(v, 50) }
    func number(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "" }
    var table = Table(columns: ["method", "images", "true_primaries", "located", "true_positives", "false_positives",
                                "false_negatives", "precision", "recall", "f1", "median_abs_diameter_error",
                                "aggregates", "median_abs_aggregate_dp_error", "median_aggregate_dp_error"], rows: [])
    for r in rows {
        let m = r.match
        table.rows.append([
            r.method, String(images),
            m.map { String($0.truePositives + $0.falseNegatives) } ?? "", m.map { String($0.truePositives + $0.falsePositives) } ?? "",
            m.map { String($0.truePositives) } ?? "", m.map { String($0.falsePositives) } ?? "", m.map { String($0.falseNegatives) } ?? "",
            number(m?.precision), number(m?.recall), number(m?.f1), number(m?.medianAbsoluteDiameterError),
            String(r.aggregateDpErrors.count), number(median(r.aggregateDpErrors.map(abs))), number(median(r.aggregateDpErrors)),
        ])
    }
    return table
}
