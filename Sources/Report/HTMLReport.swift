import Foundation
import ImageCore
import PrimarySizing
import Statistics

/// A self-contained HTML page (no network: styles inline, figures as inline SVG, pictures as
/// data URIs) built section by section.
public struct HTMLPage: Sendable {
    public var title: String
    var body = ""

    public init(title: String) { self.title = title }

    public mutating func heading(_ text: String, level: Int = 2, id: String? = nil) {
        let anchor = id.map { " id=\"\(escapeXML($0))\"" } ?? ""
        body += "<h\(level)\(anchor)>\(escapeXML(text))</h\(level)>\n"
    }

    public mutating func paragraph(_ text: String) { body += "<p>\(escapeXML(text))</p>\n" }

    /// Raw HTML (the caller escapes).
    public mutating func raw(_ html: String) { body += html + "\n" }

    public mutating func table(_ table: Table, headers: [String]? = nil, caption: String? = nil, csvName: String? = nil) {
        body += "<div class=\"table\">" + table.html(headers: headers, caption: caption)
        if let csvName { body += "<p class=\"note\">Also in <a href=\"\(escapeXML(csvName))\">\(escapeXML(csvName))</a>.</p>" }
        body += "</div>\n"
    }

    public mutating func figure(_ chart: Chart, caption: String? = nil, file: String? = nil) {
        body += "<figure class=\"chart\">" + chart.svg()
        var text = caption.map(escapeXML) ?? ""
        if let file { text += (text.isEmpty ? "" : " ") + "<a href=\"\(escapeXML(file))\">\(escapeXML(file))</a>" }
        if !text.isEmpty { body += "<figcaption>\(text)</figcaption>" }
        body += "</figure>\n"
    }

    /// A row of pictures (PNG bytes) with captions.
    public mutating func gallery(_ pictures: [(caption: String, png: [UInt8])]) {
        body += "<div class=\"gallery\">"
        for p in pictures {
            body += "<figure><img alt=\"\(escapeXML(p.caption))\" src=\"data:image/png;base64,\(Data(p.png).base64EncodedString())\"/>"
                + "<figcaption>\(escapeXML(p.caption))</figcaption></figure>"
        }
        body += "</div>\n"
    }

    public var html: String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escapeXML(title))</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:1400px;padding:0 16px;color:#222}
        h1{font-size:24px}h2{font-size:19px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
        table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
        th{background:#f2f2f2}td:first-child,td:nth-child(2){text-align:left}caption{text-align:left;font-weight:bold;padding:4px 0}
        .table{overflow-x:auto}.note{color:#666;font-size:12px}
        figure{display:inline-block;margin:8px;vertical-align:top}figcaption{font-size:12px;color:#555;max-width:640px}
        .gallery img{max-width:330px;border:1px solid #ccc}
        </style></head><body>
        <h1>\(escapeXML(title))</h1>
        \(body)
        <p class="note">Made by sootctl. Methods: Sipkens et al., Powder Technology (2021); see Docs/Methods.md.</p>
        </body></html>

        """
    }
}

/// An overlay for reports: the image with `mask` tinted and outlined, and `truth` outlined in
/// white when given, shrunk to `maximumWidth`.
public func overlayThumbnail(image: GrayImage, mask: BinaryMask?, truth: BinaryMask?, maximumWidth: Int = 560) throws -> [UInt8] {
    var canvas = RGBCanvas(image: image)
    let thickness = max(1, image.width / 500)
    if let mask {
        canvas.tint(mask, color: .aggregateTint)
        canvas.outline(mask, color: .outline, thickness: thickness)
    }
    if let truth { canvas.outline(truth, color: RGB(255, 255, 255), thickness: thickness) }
    let small = canvas.thumbnail(maximumWidth: maximumWidth)
    return try ImageWriter.encodeRGB(width: small.width, height: small.height, rgb: small.bytes)
}

/// What the `analyze` report shows: per-image pictures, the aggregate table, the da
/// distribution, dp against da with power-law fits, and summary statistics.
public struct AnalysisReport: Sendable {
    public var title: String
    public var pictures: [(caption: String, png: [UInt8])] = []
    public var aggregates: Table
    public var summary: Table
    public var daNm: [Double] = []
    /// Per sizing method: the (da, dp) pairs of the aggregates it sized.
    public var sizes: [(method: SizingMethod, daNm: [Double], dpNm: [Double])] = []
    /// How the results were made (version, command, configuration, model, date).
    public var provenance: Table?
    /// The fractal fit N = kf (Rg / a)^Df per locating method.
    public var morphology: Table?

    public init(title: String, aggregates: Table, summary: Table) {
        self.title = title
        self.aggregates = aggregates
        self.summary = summary
    }

    public var densityChart: Chart { daDensityChart([("all images", daNm)]) }

    public var powerLawCharts: [Chart] {
        sizes.map { powerLawChart(title: "dp vs da, \($0.method.rawValue)", sets: [($0.method.rawValue, $0.daNm, $0.dpNm)]) }
    }

    public var html: String {
        var page = HTMLPage(title: title)
        page.heading("Summary")
        page.table(summary, csvName: "summary.json")
        page.heading("Images")
        page.gallery(pictures)
        page.heading("Aggregate size distribution")
        page.figure(densityChart, caption: "Gaussian kernel density of log10 da, bandwidth 0.15.")
        if !sizes.isEmpty {
            page.heading("Primary particle size against aggregate size")
            for chart in powerLawCharts { page.figure(chart, caption: "Fitted power law, data ellipse and the universal relation (dashed).") }
        }
        if let morphology {
            page.heading("Morphology from located primaries")
            page.paragraph("N = kf (Rg / a)^Df over all aggregates: N the primaries a method located in an aggregate, a half its dp, "
                + "Rg the aggregate's projected radius of gyration; least squares in log-log, 95 % confidence intervals. "
                + "Located primaries miss those hidden behind others, so N and Df are low in dense aggregates.")
            page.table(morphology, csvName: "summary.json")
        }
        page.heading("Aggregates")
        page.table(aggregates, csvName: "aggregates.csv")
        if let provenance {
            page.heading("How this was made")
            page.table(provenance, csvName: "run.json")
        }
        return page.html
    }
}
