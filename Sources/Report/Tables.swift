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

/// A number with `decimals` decimals; empty for nil or non-finite values (tables of reports).
public func fixed(_ v: Double?, _ decimals: Int) -> String {
    guard let v, v.isFinite else { return "" }
    return String(format: "%.\(decimals)f", v)
}

/// Six significant digits, no exponent for ordinary magnitudes; whole numbers without
/// decimals (the numbers of result tables such as `aggregates.csv`).
public func formatNumber(_ v: Double) -> String {
    guard v.isFinite else { return v > 0 ? "inf" : (v < 0 ? "-inf" : "nan") }
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return String(format: "%.6g", v)
}

/// A CSV field: quoted (with doubled quotes) when it holds a comma, quote or newline.
public func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// (x / reference - 1) x 100.
public func percentDifference(_ x: Double?, _ reference: Double?) -> Double? {
    guard let x, let reference, reference != 0 else { return nil }
    return (x / reference - 1) * 100
}

public func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }

public func sampleStandardDeviation(_ v: [Double]) -> Double? {
    guard v.count >= 2, let m = mean(v) else { return nil }
    return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
}
