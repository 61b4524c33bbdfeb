import Foundation
import PrimarySizing
import Statistics

/// A table with named columns; cells are already formatted. Writes CSV (RFC 4180 quoting)
/// and HTML.
public struct Table: Sendable {
    public var columns: [String]
    public var rows: [[String]]

    public init(columns: [String], rows: [[String]] = []) {
        self.columns = columns
        self.rows = rows
    }

    public var csv: String {
        ([columns] + rows).map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// An HTML table; `headers` replaces the column names shown.
    public func html(headers: [String]? = nil, caption: String? = nil) -> String {
        var s = "<table>"
        if let caption { s += "<caption>\(escapeXML(caption))</caption>" }
        s += "<thead><tr>" + (headers ?? columns).map { "<th>\(escapeXML($0))</th>" }.joined() + "</tr></thead><tbody>"
        for r in rows { s += "<tr>" + r.map { "<td>\(escapeXML($0))</td>" }.joined() + "</tr>" }
        return s + "</tbody></table>"
    }
}

/// A number with `decimals` decimals; empty for nil or non-finite values.
func fixed(_ v: Double?, _ decimals: Int) -> String {
    guard let v, v.isFinite else { return "" }
    return String(format: "%.\(decimals)f", v)
}

/// A CSV field: quoted (with doubled quotes) when it holds a comma, quote or newline.
public func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// (x / reference - 1) x 100.
func percentDifference(_ x: Double?, _ reference: Double?) -> Double? {
    guard let x, let reference, reference != 0 else { return nil }
    return (x / reference - 1) * 100
}

extension Evaluation {
    /// Table 3 (`segmentation.csv`).
    public var segmentationTable: Table {
        var t = Table(columns: ["classifier", "variant", "fp_percent", "fn_percent", "accuracy_percent", "failed_images",
                                "iou", "iou_including_failed", "aggregates", "matched", "added", "removed",
                                "truth_aggregates", "da_median_difference_percent", "da_geometric_mean_difference_percent"])
        let truthDa = GeometricSummary(truth.map(\.daNm))
        for v in variants {
            let da = GeometricSummary(v.aggregates.map(\.daNm))
            t.rows.append([
                v.classifier, v.variant.rawValue, fixed(v.scores.falsePositivePercent, 3), fixed(v.scores.falseNegativePercent, 3),
                fixed(v.scores.accuracyPercent, 3), String(v.failedImages.count), fixed(v.scores.iou, 4),
                fixed(v.scoresIncludingFailed.iou, 4), String(v.aggregates.count), String(v.matching.pairs.count),
                String(v.matching.added), String(-v.matching.removed), String(truth.count),
                fixed(percentDifference(da.median, truthDa.median), 2),
                fixed(percentDifference(da.geometricMean, truthDa.geometricMean), 2),
            ])
        }
        return t
    }

    /// Table 4 (`sizing.csv`): ensemble geometric mean and standard deviation of dp.
    public var sizingTable: Table {
        var t = Table(columns: ["mask", "method", "aggregates", "sized", "dp_geometric_mean_nm", "dp_geometric_sd", "dp_median_nm"])
        for row in sizedRows {
            for m in sizingMethods {
                let s = GeometricSummary(row.aggregates.compactMap { $0.dpNm[m] })
                t.rows.append([row.label, m.rawValue, String(row.aggregates.count), String(s.count),
                               fixed(s.geometricMean, 2), fixed(s.geometricStandardDeviation, 3), fixed(s.median, 2)])
            }
        }
        return t
    }

    /// The power-law fits of every sized row and method.
    public var powerLawFits: [(label: String, method: SizingMethod, fit: PowerLawFit?)] {
        var out: [(String, SizingMethod, PowerLawFit?)] = []
        for row in sizedRows {
            for m in sizingMethods {
                let pairs = row.aggregates.compactMap { a in a.dpNm[m].map { (a.daNm, $0) } }
                out.append((row.label, m, PowerLawFit(daNm: pairs.map(\.0), dpNm: pairs.map(\.1))))
            }
        }
        return out
    }

    /// Table 5 (`powerlaw.csv`): dp,100 and D_TEM with 95 % intervals, then the mean and
    /// standard deviation over the rows for each method.
    public var powerLawTable: Table {
        var t = Table(columns: ["mask", "method", "aggregates", "dp100_nm", "dp100_low_nm", "dp100_high_nm",
                                "d_tem", "d_tem_low", "d_tem_high", "r_squared"])
        let fits = powerLawFits
        for (label, m, fit) in fits {
            t.rows.append([label, m.rawValue, String(fit?.count ?? 0), fixed(fit?.dp100Nm, 2),
                           fixed(fit?.dp100Interval?.lowerBound, 2), fixed(fit?.dp100Interval?.upperBound, 2),
                           fixed(fit?.dTEM, 3), fixed(fit?.dTEMInterval?.lowerBound, 3),
                           fixed(fit?.dTEMInterval?.upperBound, 3), fixed(fit?.rSquared, 3)])
        }
        for m in sizingMethods {
            let usable = fits.filter { $0.method == m }.compactMap(\.fit)
            let dp = usable.map(\.dp100Nm), d = usable.map(\.dTEM)
            t.rows.append(["average", m.rawValue, String(usable.count), fixed(mean(dp), 2), "", "", fixed(mean(d), 3), "", "", ""])
            t.rows.append(["std", m.rawValue, String(usable.count), fixed(sampleStandardDeviation(dp), 2), "", "",
                           fixed(sampleStandardDeviation(d), 3), "", "", ""])
        }
        return t
    }

    /// `matches.csv`: every matched pair of the sized variants with both da and every dp.
    public var matchesTable: Table {
        var columns = ["mask", "image", "truth_id", "id", "truth_da_nm", "da_nm", "da_difference_percent"]
        for m in sizingMethods { columns += ["truth_" + m.columnName, m.columnName] }
        var t = Table(columns: columns)
        for v in variants where v.sized {
            for (i, j) in v.matching.pairs {
                let a = truth[i], b = v.aggregates[j]
                var row = [v.label, a.image, String(a.id), String(b.id), fixed(a.daNm, 2), fixed(b.daNm, 2),
                           fixed((1 - a.daNm / b.daNm) * 100, 2)]
                for m in sizingMethods { row += [fixed(a.dpNm[m], 2), fixed(b.dpNm[m], 2)] }
                t.rows.append(row)
            }
        }
        return t
    }
}

func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }

func sampleStandardDeviation(_ v: [Double]) -> Double? {
    guard v.count >= 2, let m = mean(v) else { return nil }
    return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
}
