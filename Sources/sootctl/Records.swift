import Foundation
import PrimarySizing
import Report
import Statistics

/// One row of aggregates.csv / one object of aggregates.json.
struct AggregateRecord: Encodable {
    var image: String
    var id: Int
    var areaPx: Int
    var areaNm2: Double
    var daNm: Double
    var rgNm: Double
    var perimeterNm: Double
    var lengthNm: Double
    var widthNm: Double
    /// nil when the width is 0 (infinite aspect ratio).
    var aspectRatio: Double?
    var centroidXPx: Double
    var centroidYPx: Double
    var touchesBorder: Bool
    var dpPcmNm: Double?
    var dpEdmSbsNm: Double?
    var dpHoughNm: Double?
    var dpEdmWsNm: Double?
    var houghParticles: Int?
    var edmWsParticles: Int?
    var circularity: Double
    /// Why a requested size is missing, by method.
    var sizingNotes: [String: String]

    static let columns = ["image", "id", "area_px", "area_nm2", "da_nm", "rg_nm", "perimeter_nm", "length_nm",
                          "width_nm", "aspect_ratio", "centroid_x_px", "centroid_y_px", "touches_border",
                          "dp_pcm_nm", "dp_edm_sbs_nm", "dp_hough_nm", "dp_edm_ws_nm"]

    enum CodingKeys: String, CodingKey {
        case image, id, areaPx = "area_px", areaNm2 = "area_nm2", daNm = "da_nm", rgNm = "rg_nm"
        case perimeterNm = "perimeter_nm", lengthNm = "length_nm", widthNm = "width_nm"
        case aspectRatio = "aspect_ratio", centroidXPx = "centroid_x_px", centroidYPx = "centroid_y_px"
        case touchesBorder = "touches_border", dpPcmNm = "dp_pcm_nm", dpEdmSbsNm = "dp_edm_sbs_nm"
        case dpHoughNm = "dp_hough_nm", dpEdmWsNm = "dp_edm_ws_nm", houghParticles = "hough_particles"
        case edmWsParticles = "edm_ws_particles", circularity, sizingNotes = "sizing_notes"
    }

    init(image: String, aggregate a: Aggregate, sizes: [SizingMethod: PrimaryParticleSize]) {
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
        if case let .diameter(_, count)? = sizes[.hough] { houghParticles = count }
        if case let .diameter(_, count)? = sizes[.edmWS] { edmWsParticles = count }
        var notes: [String: String] = [:]
        for (method, size) in sizes {
            if case let .notDetermined(reason) = size { notes[method.rawValue] = reason.rawValue }
        }
        sizingNotes = notes
    }

    func dp(_ method: SizingMethod) -> Double? {
        switch method {
        case .pcm: return dpPcmNm
        case .edmSBS: return dpEdmSbsNm
        case .hough: return dpHoughNm
        case .edmWS: return dpEdmWsNm
        }
    }

    var csvFields: [String] {
        func number(_ v: Double?) -> String { v.map { formatNumber($0) } ?? "" }
        return [csvField(image), String(id), String(areaPx), number(areaNm2), number(daNm), number(rgNm),
                number(perimeterNm), number(lengthNm), number(widthNm), aspectRatio.map { formatNumber($0) } ?? "inf",
                number(centroidXPx), number(centroidYPx), touchesBorder ? "true" : "false",
                number(dpPcmNm), number(dpEdmSbsNm), number(dpHoughNm), number(dpEdmWsNm)]
    }

    static func csv(_ records: [AggregateRecord]) -> String {
        var text = columns.joined(separator: ",") + "\n"
        for r in records { text += r.csvFields.joined(separator: ",") + "\n" }
        return text
    }
}

/// Six significant digits, no exponent for ordinary magnitudes.
func formatNumber(_ v: Double) -> String {
    guard v.isFinite else { return v > 0 ? "inf" : (v < 0 ? "-inf" : "nan") }
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return String(format: "%.6g", v)
}

/// Count, geometric mean, geometric standard deviation and median of one quantity.
struct QuantitySummary: Encodable {
    var count: Int
    var geometricMean: Double?
    var geometricStd: Double?
    var median: Double?

    enum CodingKeys: String, CodingKey {
        case count, geometricMean = "geometric_mean", geometricStd = "geometric_std", median
    }

    init(_ values: [Double]) {
        let s = GeometricSummary(values)
        count = s.count
        geometricMean = s.geometricMean
        geometricStd = s.geometricStandardDeviation
        median = s.median
    }
}

/// Statistics of da and of each dp over a set of aggregates.
struct SizeStatistics: Encodable {
    var aggregates: Int
    var quantities: [String: QuantitySummary]

    init(_ records: [AggregateRecord], methods: [SizingMethod]) {
        aggregates = records.count
        var q: [String: QuantitySummary] = ["da_nm": QuantitySummary(records.map(\.daNm))]
        for m in methods { q[m.columnName] = QuantitySummary(records.compactMap { $0.dp(m) }) }
        quantities = q
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(aggregates, forKey: DynamicKey("aggregates"))
        for (k, v) in quantities { try container.encode(v, forKey: DynamicKey(k)) }
    }
}

struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

struct ImageSummaryRecord: Encodable {
    var image: String
    var file: String
    /// ok, failed (segmentation flagged as failed), error (not analysed).
    var status: String
    var failure: String?
    var pixelSizeNm: Double?
    var pixelSizeSource: String?
    var footerRows: Int?
    var statistics: SizeStatistics?
    var edmSbsEnsemble: [String: Double]?
    var warnings: [String]
    var seconds: Double

    enum CodingKeys: String, CodingKey {
        case image, file, status, failure, pixelSizeNm = "pixel_size_nm", pixelSizeSource = "pixel_size_source"
        case footerRows = "footer_rows", statistics, edmSbsEnsemble = "edm_sbs_ensemble", warnings, seconds
    }
}

struct OverallSummary: Encodable {
    var images: Int
    var analysed: Int
    var failedSegmentations: Int
    var errors: Int
    var statistics: SizeStatistics
    var edmSbsEnsemble: [String: Double]?

    enum CodingKeys: String, CodingKey {
        case images, analysed, failedSegmentations = "failed_segmentations", errors, statistics
        case edmSbsEnsemble = "edm_sbs_ensemble"
    }
}

struct RunSummary: Encodable {
    var tool = "sootctl"
    var version = SootCtl.configuration.version
    var method: String
    var postProcessing: String?
    var border: String
    var sizing: [String]
    var images: [ImageSummaryRecord]
    var overall: OverallSummary

    enum CodingKeys: String, CodingKey {
        case tool, version, method, postProcessing = "post_processing", border, sizing, images, overall
    }
}

/// Pretty, key-sorted JSON text with a final newline.
func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                  nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
}
