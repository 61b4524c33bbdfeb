import Annotations
import Aggregates
import Foundation
import PrimarySizing
import Report
import Statistics

/// One row of `aggregates.csv` / one object of `aggregates.json`.
public struct AggregateRecord: Codable, Sendable, Equatable {
    public var image: String
    public var id: Int
    public var areaPx: Int
    public var areaNm2: Double
    public var daNm: Double
    public var rgNm: Double
    public var perimeterNm: Double
    public var lengthNm: Double
    public var widthNm: Double
    /// nil when the width is 0 (infinite aspect ratio).
    public var aspectRatio: Double?
    public var centroidXPx: Double
    public var centroidYPx: Double
    public var touchesBorder: Bool
    public var dpPcmNm: Double?
    public var dpEdmSbsNm: Double?
    public var dpHoughNm: Double?
    public var dpEdmWsNm: Double?
    public var dpCnnPrimariesNm: Double?
    public var houghParticles: Int?
    public var edmWsParticles: Int?
    public var cnnPrimariesParticles: Int?
    /// Geometric standard deviation of the located primaries' diameters (nil under two).
    public var houghGsd: Double?
    public var edmWsGsd: Double?
    public var cnnPrimariesGsd: Double?
    public var circularity: Double
    /// Why a requested size is missing, by sizing method.
    public var sizingNotes: [String: String]

    /// The columns of `aggregates.csv`.
    public static let columns = ["image", "id", "area_px", "area_nm2", "da_nm", "rg_nm", "perimeter_nm", "length_nm",
                                 "width_nm", "aspect_ratio", "centroid_x_px", "centroid_y_px", "touches_border",
                                 "dp_pcm_nm", "dp_edm_sbs_nm", "dp_hough_nm", "dp_edm_ws_nm", "dp_cnn_primaries_nm",
                                 "hough_particles", "hough_gsd", "edm_ws_particles", "edm_ws_gsd",
                                 "cnn_primaries_particles", "cnn_primaries_gsd"]

    enum CodingKeys: String, CodingKey {
        case image, id, areaPx = "area_px", areaNm2 = "area_nm2", daNm = "da_nm", rgNm = "rg_nm"
        case perimeterNm = "perimeter_nm", lengthNm = "length_nm", widthNm = "width_nm"
        case aspectRatio = "aspect_ratio", centroidXPx = "centroid_x_px", centroidYPx = "centroid_y_px"
        case touchesBorder = "touches_border", dpPcmNm = "dp_pcm_nm", dpEdmSbsNm = "dp_edm_sbs_nm"
        case dpHoughNm = "dp_hough_nm", dpEdmWsNm = "dp_edm_ws_nm", houghParticles = "hough_particles"
        case edmWsParticles = "edm_ws_particles", circularity, sizingNotes = "sizing_notes"
        case dpCnnPrimariesNm = "dp_cnn_primaries_nm", cnnPrimariesParticles = "cnn_primaries_particles"
        case houghGsd = "hough_gsd", edmWsGsd = "edm_ws_gsd", cnnPrimariesGsd = "cnn_primaries_gsd"
    }

    /// - Parameters:
    ///   - located: the primaries of the locating methods (for their spread).
    public init(image: String, aggregate a: Aggregate, sizes: [SizingMethod: PrimaryParticleSize],
                located: [SizingMethod: [Circle]] = [:]) {
        self.image = image
        id = a.id
        areaPx = a.areaPx
        areaNm2 = a.areaNm2
        daNm = a.daNm
        rgNm = a.rgNm
        perimeterNm = a.perimeterNm
        lengthNm = a.lengthNm
        widthNm = a.widthNm
        aspectRatio = a.aspectRatio.isFinite ? a.aspectRatio : nil
        centroidXPx = a.centroidXPx
        centroidYPx = a.centroidYPx
        touchesBorder = a.touchesBorder
        circularity = a.circularity
        dpPcmNm = sizes[.pcm]?.diameterNm
        dpEdmSbsNm = sizes[.edmSBS]?.diameterNm
        dpHoughNm = sizes[.hough]?.diameterNm
        dpEdmWsNm = sizes[.edmWS]?.diameterNm
        dpCnnPrimariesNm = sizes[.cnnPrimaries]?.diameterNm
        if case let .diameter(_, count)? = sizes[.hough] { houghParticles = count }
        if case let .diameter(_, count)? = sizes[.edmWS] { edmWsParticles = count }
        if case let .diameter(_, count)? = sizes[.cnnPrimaries] { cnnPrimariesParticles = count }
        // The spread does not depend on the unit: radii in pixels will do.
        func spread(_ m: SizingMethod) -> Double? {
            guard let c = located[m], c.count >= 2 else { return nil }
            return GeometricSummary(c.map { 2 * $0.radius }).geometricStandardDeviation
        }
        houghGsd = spread(.hough)
        edmWsGsd = spread(.edmWS)
        cnnPrimariesGsd = spread(.cnnPrimaries)
        var notes: [String: String] = [:]
        for (method, size) in sizes {
            if case let .notDetermined(reason) = size { notes[method.rawValue] = reason.rawValue }
        }
        sizingNotes = notes
    }

    /// How many primaries a locating method found in the aggregate (nil for the others, or
    /// when it found none).
    public func particles(_ method: SizingMethod) -> Int? {
        switch method {
        case .hough: return houghParticles
        case .edmWS: return edmWsParticles
        case .cnnPrimaries: return cnnPrimariesParticles
        case .pcm, .edmSBS: return nil
        }
    }

    /// The fractal fit N = kf (Rg / a)^Df over `records` by a locating method: N its primaries
    /// per aggregate, a half its dp, Rg the aggregate's (projected) radius of gyration. N counts
    /// the primaries the method located, so in dense aggregates, where primaries hide behind
    /// others, it is a lower bound and Df comes out low (Docs/Primaries.md).
    public static func fractalFit(_ records: [AggregateRecord], method: SizingMethod) -> FractalFit? {
        let usable = records.filter { $0.particles(method) != nil && $0.dp(method) != nil }
        return FractalFit(primaryCounts: usable.map { $0.particles(method)! }, rgNm: usable.map(\.rgNm),
                          primaryRadiusNm: usable.map { $0.dp(method)! / 2 })
    }

    /// The primary-particle diameter by one sizing method.
    public func dp(_ method: SizingMethod) -> Double? {
        switch method {
        case .pcm: return dpPcmNm
        case .edmSBS: return dpEdmSbsNm
        case .hough: return dpHoughNm
        case .edmWS: return dpEdmWsNm
        case .cnnPrimaries: return dpCnnPrimariesNm
        }
    }

    var csvFields: [String] {
        func number(_ v: Double?) -> String { v.map { formatNumber($0) } ?? "" }
        return [image, String(id), String(areaPx), number(areaNm2), number(daNm), number(rgNm),
                number(perimeterNm), number(lengthNm), number(widthNm), aspectRatio.map { formatNumber($0) } ?? "inf",
                number(centroidXPx), number(centroidYPx), touchesBorder ? "true" : "false",
                number(dpPcmNm), number(dpEdmSbsNm), number(dpHoughNm), number(dpEdmWsNm), number(dpCnnPrimariesNm),
                houghParticles.map(String.init) ?? "", number(houghGsd), edmWsParticles.map(String.init) ?? "", number(edmWsGsd),
                cnnPrimariesParticles.map(String.init) ?? "", number(cnnPrimariesGsd)]
    }

    /// `aggregates.csv`.
    public static func table(_ records: [AggregateRecord]) -> Table {
        Table(columns: columns, rows: records.map(\.csvFields))
    }
}

/// One row of `primaries.csv` / one object of `primaries.json`: a primary particle located
/// by Hough, EDM-WS or the learned detector.
public struct PrimaryRecord: Codable, Sendable, Equatable {
    public var image: String
    public var aggregateId: Int
    public var method: String
    public var centerXPx: Double
    public var centerYPx: Double
    public var diameterNm: Double
    /// The method's own score (Hough's accumulator vote, the detector's centre probability);
    /// nil for EDM-WS, which has none.
    public var score: Double?

    public static let columns = ["image", "aggregate_id", "method", "center_x_px", "center_y_px", "diameter_nm", "score"]

    enum CodingKeys: String, CodingKey {
        case image, aggregateId = "aggregate_id", method, centerXPx = "center_x_px", centerYPx = "center_y_px"
        case diameterNm = "diameter_nm", score
    }

    public init(image: String, aggregateId: Int, method: SizingMethod, circle: Circle, pixelSizeNm: Double) {
        self.image = image
        self.aggregateId = aggregateId
        self.method = method.rawValue
        centerXPx = circle.centerX
        centerYPx = circle.centerY
        diameterNm = 2 * circle.radius * pixelSizeNm
        score = method == .edmWS ? nil : circle.metric
    }

    /// The records of one image's located primaries, by aggregate then method.
    public static func records(image: String, analysis: AggregateAnalysis, sizing: ImageSizing,
                               methods: [SizingMethod]) -> [PrimaryRecord] {
        var out: [PrimaryRecord] = []
        for (k, aggregate) in analysis.aggregates.enumerated() where k < sizing.located.count {
            for m in methods where m.locatesPrimaries {
                for c in sizing.located[k][m] ?? [] {
                    out.append(PrimaryRecord(image: image, aggregateId: aggregate.id, method: m, circle: c, pixelSizeNm: analysis.pixelSizeNm))
                }
            }
        }
        return out
    }

    /// `primaries.csv`.
    public static func table(_ records: [PrimaryRecord]) -> Table {
        Table(columns: columns, rows: records.map {
            [$0.image, String($0.aggregateId), $0.method, formatNumber($0.centerXPx), formatNumber($0.centerYPx),
             formatNumber($0.diameterNm), $0.score.map { formatNumber($0) } ?? ""]
        })
    }
}

/// Count, geometric mean, geometric standard deviation and median of one quantity.
public struct QuantitySummary: Codable, Sendable, Equatable {
    public var count: Int
    public var geometricMean: Double?
    public var geometricStd: Double?
    public var median: Double?

    enum CodingKeys: String, CodingKey {
        case count, geometricMean = "geometric_mean", geometricStd = "geometric_std", median
    }

    public init(_ values: [Double]) {
        let s = GeometricSummary(values)
        count = s.count
        geometricMean = s.geometricMean
        geometricStd = s.geometricStandardDeviation
        median = s.median
    }
}

/// Statistics of da and of each dp over a set of aggregates.
public struct SizeStatistics: Codable, Sendable {
    public var aggregates: Int
    /// `da_nm` and each sizing method's column name (`dp_pcm_nm`, ...).
    public var quantities: [String: QuantitySummary]

    public init(_ records: [AggregateRecord], methods: [SizingMethod]) {
        aggregates = records.count
        var q: [String: QuantitySummary] = ["da_nm": QuantitySummary(records.map(\.daNm))]
        for m in methods { q[m.columnName] = QuantitySummary(records.compactMap { $0.dp(m) }) }
        quantities = q
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(aggregates, forKey: DynamicKey("aggregates"))
        for (k, v) in quantities { try container.encode(v, forKey: DynamicKey(k)) }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: DynamicKey.self)
        aggregates = try container.decode(Int.self, forKey: DynamicKey("aggregates"))
        var q: [String: QuantitySummary] = [:]
        for key in container.allKeys where key.stringValue != "aggregates" {
            q[key.stringValue] = try container.decode(QuantitySummary.self, forKey: key)
        }
        quantities = q
    }
}

struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The EDM-SBS ensemble fit (one lognormal over the pooled curves).
public struct EnsembleFit: Codable, Sendable, Equatable {
    public var dgNm: Double
    public var sigmaG: Double

    enum CodingKeys: String, CodingKey { case dgNm = "dg_nm", sigmaG = "sigma_g" }

    /// Fits the pooled EDM-SBS curves; nil without curves or when the fit fails.
    public init?(curves: [[Double]]) {
        let usable = curves.filter { !$0.isEmpty }
        guard !usable.isEmpty, let fit = EDMSBS().ensemble(curves: usable) else { return nil }
        dgNm = fit.dgNm
        sigmaG = fit.sigmaG
    }
}

/// What became of one image: one row of `images.csv`, one entry of `summary.json`. Holds
/// nothing that changes from run to run (no timing), so identical inputs give identical bytes.
public struct ImageRecord: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// Analysed.
        case ok
        /// The segmentation was flagged as failed (no aggregates reported).
        case failed
        /// Not analysed (unreadable file, no pixel size, ...).
        case error
    }

    public var image: String
    public var file: String
    public var status: Status
    /// Why the image failed or could not be analysed.
    public var failure: String?
    public var pixelSizeNm: Double?
    public var pixelSizeSource: String?
    public var footerRows: Int?
    public var statistics: SizeStatistics?
    public var edmSbsEnsemble: EnsembleFit?
    public var warnings: [String]
    /// The pixel size's origin, the scale bar read, and what was excluded as not soot.
    public var calibration: ImageCalibration?

    enum CodingKeys: String, CodingKey {
        case image, file, status, failure, pixelSizeNm = "pixel_size_nm", pixelSizeSource = "pixel_size_source"
        case footerRows = "footer_rows", statistics, edmSbsEnsemble = "edm_sbs_ensemble", warnings, calibration
    }

    /// The record of an image that could not be analysed.
    public static func error(file: String, message: String) -> ImageRecord {
        ImageRecord(image: stem(of: file), file: file, status: .error, failure: message, pixelSizeNm: nil,
                    pixelSizeSource: nil, footerRows: nil, statistics: nil, edmSbsEnsemble: nil, warnings: [], calibration: nil)
    }

    /// `images.csv`: per image, its file, pixel size and source, status and reason, counts,
    /// and the count, geometric mean, geometric standard deviation and median of da and of
    /// every dp.
    public static func table(_ images: [ImageRecord], methods: [SizingMethod]) -> Table {
        let quantities = ["da_nm"] + methods.map(\.columnName)
        var columns = ["image", "file", "pixel_size_nm", "pixel_size_source", "status", "reason", "footer_rows", "aggregates"]
        for q in quantities {
            let base = String(q.dropLast(3))  // "da", "dp_pcm", ...
            columns += [base + "_count", base + "_g_nm", base + "_sigma_g", base + "_median_nm"]
        }
        columns += ["edm_sbs_ensemble_dg_nm", "edm_sbs_ensemble_sigma_g"]
        var table = Table(columns: columns)
        func number(_ v: Double?) -> String { v.map { formatNumber($0) } ?? "" }
        for r in images {
            var row = [r.image, r.file, number(r.pixelSizeNm), r.pixelSizeSource ?? "", r.status.rawValue, r.failure ?? "",
                       r.footerRows.map(String.init) ?? "", r.statistics.map { String($0.aggregates) } ?? ""]
            for q in quantities {
                if let s = r.statistics?.quantities[q] {
                    row += [String(s.count), number(s.geometricMean), number(s.geometricStd), number(s.median)]
                } else {
                    row += ["", "", "", ""]
                }
            }
            row += [number(r.edmSbsEnsemble?.dgNm), number(r.edmSbsEnsemble?.sigmaG)]
            table.rows.append(row)
        }
        return table
    }
}

/// The whole run over all images (the `overall` block of `summary.json`).
public struct OverallSummary: Encodable, Sendable {
    public var images: Int
    public var analysed: Int
    public var failedSegmentations: Int
    public var errors: Int
    public var statistics: SizeStatistics
    public var edmSbsEnsemble: EnsembleFit?
    /// Per locating method (hough, edm-ws, cnn-primaries): N = kf (Rg / a)^Df over all aggregates.
    public var fractal: [String: FractalFit]?

    enum CodingKeys: String, CodingKey {
        case images, analysed, failedSegmentations = "failed_segmentations", errors, statistics
        case edmSbsEnsemble = "edm_sbs_ensemble", fractal
    }
}

/// `summary.json`.
public struct RunSummary: Encodable, Sendable {
    public var tool = "sootctl"
    public var version = sootctlVersion
    /// The classifier, or "mask" when masks were given.
    public var classifier: String
    public var postProcessing: String?
    public var border: String
    public var sizing: [String]
    public var images: [ImageRecord]
    public var overall: OverallSummary

    enum CodingKeys: String, CodingKey {
        case tool, version, classifier, postProcessing = "post_processing", border, sizing, images, overall
    }
}

/// Pretty, key-sorted JSON text with a final newline.
public func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                  nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
}


/// A scale bar as recorded in `images.csv`, `run.json` and `sootctl info --json`.
public struct ScaleBarRecord: Codable, Sendable, Equatable {
    public var label: String
    public var lengthNm: Double
    public var barLengthPx: Int
    public var pixelSizeNm: Double
    /// Bar and label boxes: x, y, width, height in px of the file.
    public var bar: [Int]
    public var labelBox: [Int]

    enum CodingKeys: String, CodingKey {
        case label, lengthNm = "length_nm", barLengthPx = "bar_length_px", pixelSizeNm = "pixel_size_nm", bar, labelBox = "label_box"
    }

    public init(_ reading: ScaleBarReading) {
        label = reading.label
        lengthNm = reading.lengthNm
        barLengthPx = reading.barLengthPx
        pixelSizeNm = reading.pixelSizeNm
        bar = [reading.bar.x, reading.bar.y, reading.bar.width, reading.bar.height]
        labelBox = [reading.labelBox.x, reading.labelBox.y, reading.labelBox.width, reading.labelBox.height]
    }
}

/// Where an image's pixel size came from and what of it is not specimen.
public struct ImageCalibration: Codable, Sendable, Equatable {
    public var image: String
    public var pixelSizeNm: Double?
    public var pixelSizeSource: String?
    /// Why the file's own calibration was not used, when it had one it did not use or none.
    public var fileNote: String?
    public var scaleBar: ScaleBarRecord?
    /// Why no scale bar was read.
    public var scaleBarNote: String?
    /// The footer's calibration token read by OCR (`0.421 nm/pix`), when it gave the pixel size.
    public var footerToken: String?
    /// Pixels excluded from segmentation, and the regions by kind.
    public var excludedPx: Int
    public var excludedRegions: [String: Int]

    enum CodingKeys: String, CodingKey {
        case image, pixelSizeNm = "pixel_size_nm", pixelSizeSource = "pixel_size_source", fileNote = "file_note"
        case scaleBar = "scale_bar", scaleBarNote = "scale_bar_note", footerToken = "footer_token", excludedPx = "excluded_px"
        case excludedRegions = "excluded_regions"
    }
}

extension LoadedImage {
    /// This image's calibration record.
    public var calibration: ImageCalibration {
        var kinds: [String: Int] = [:]
        for r in annotations.regions { kinds[r.kind.rawValue, default: 0] += 1 }
        return ImageCalibration(
            image: stem, pixelSizeNm: pixelSize?.nanometersPerPixel, pixelSizeSource: pixelSize?.source.rawValue,
            fileNote: fileCalibrationNote, scaleBar: annotations.scaleBar.map(ScaleBarRecord.init),
            scaleBarNote: annotations.scaleBar == nil ? annotations.scaleBarNote : nil,
            footerToken: footerCalibration?.token, excludedPx: annotations.excludedCount, excludedRegions: kinds)
    }
}