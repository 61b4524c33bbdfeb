import Foundation

/// A colour as CSS/SVG understands it.
public struct ChartColor: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public var hex: String { String(format: "#%02x%02x%02x", r, g, b) }

    /// A colour-blind-safe qualitative palette (Okabe and Ito), black first.
    public static let palette: [ChartColor] = [
        ChartColor(0, 0, 0), ChartColor(0, 114, 178), ChartColor(213, 94, 0), ChartColor(0, 158, 115),
        ChartColor(204, 121, 167), ChartColor(230, 159, 0), ChartColor(86, 180, 233), ChartColor(240, 228, 66),
    ]
    public static func series(_ k: Int) -> ChartColor { palette[k % palette.count] }
    public static let grey = ChartColor(150, 150, 150)
}

/// One axis: its label, range in data units, and scale.
public struct ChartAxis: Sendable {
    public var label: String
    public var range: ClosedRange<Double>
    public var logarithmic: Bool
    /// Ticks in data units with their labels; nil = automatic.
    public var ticks: [(value: Double, label: String)]?

    public init(_ label: String, range: ClosedRange<Double>, logarithmic: Bool = false,
                ticks: [(value: Double, label: String)]? = nil) {
        self.label = label
        self.range = range
        self.logarithmic = logarithmic
        self.ticks = ticks
    }

    /// The range covering `values` (positive values only on a log axis), padded by `margin`
    /// of its span (in log units on a log axis); `fallback` when nothing is usable.
    public static func fitting(_ values: [Double], logarithmic: Bool, margin: Double = 0.05,
                               fallback: ClosedRange<Double> = 1...100) -> ClosedRange<Double> {
        let v = values.filter { $0.isFinite && (!logarithmic || $0 > 0) }
        guard var lo = v.min(), var hi = v.max() else { return fallback }
        if logarithmic {
            var a = log10(lo), b = log10(hi)
            if b - a < 0.2 { a -= 0.1; b += 0.1 }
            let pad = (b - a) * margin
            lo = pow(10, a - pad); hi = pow(10, b + pad)
        } else {
            if hi - lo < 1e-12 { lo -= 1; hi += 1 }
            let pad = (hi - lo) * margin
            lo -= pad; hi += pad
        }
        return lo...hi
    }

    func fraction(_ v: Double) -> Double {
        if logarithmic {
            let a = log10(range.lowerBound), b = log10(range.upperBound)
            return (log10(max(v, 1e-300)) - a) / (b - a)
        }
        return (v - range.lowerBound) / (range.upperBound - range.lowerBound)
    }

    /// Automatic ticks: decades (with 2 and 5 when the range spans few decades) on a log
    /// axis; 1-2-5 steps on a linear axis.
    func automaticTicks() -> [(value: Double, label: String)] {
        if let ticks { return ticks }
        if logarithmic {
            let a = log10(range.lowerBound), b = log10(range.upperBound)
            let multipliers: [Double] = b - a <= 0.6 ? [1, 1.5, 2, 3, 4, 5, 6, 7, 8] : b - a <= 1.2 ? [1, 2, 3, 5]
                : b - a <= 3 ? [1, 2, 5] : [1]
            var out: [(Double, String)] = []
            for e in Int(floor(a))...Int(ceil(b)) {
                for m in multipliers {
                    let v = m * pow(10, Double(e))
                    if v >= range.lowerBound * 0.9999 && v <= range.upperBound * 1.0001 { out.append((v, formatTick(v))) }
                }
            }
            return out
        }
        let span = range.upperBound - range.lowerBound
        let raw = span / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var out: [(Double, String)] = []
        var v = ceil(range.lowerBound / step) * step
        while v <= range.upperBound + step * 1e-9 {
            out.append((v, formatTick(abs(v) < step * 1e-9 ? 0 : v)))
            v += step
        }
        return out
    }
}

func formatTick(_ v: Double) -> String {
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 1e5 || a < 1e-3 { return String(format: "%.0e", v) }
    if a >= 1 && v == v.rounded() { return String(format: "%.0f", v) }
    var s = String(format: "%.3f", v)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}

/// What a chart draws, in data units.
public enum ChartMark: Sendable {
    case line([(x: Double, y: Double)], color: ChartColor, width: Double = 1.5, dashed: Bool = false)
    case points([(x: Double, y: Double)], color: ChartColor, radius: Double = 2.5, opacity: Double = 0.7)
    /// A closed outline (e.g. a data ellipse), optionally filled.
    case polygon([(x: Double, y: Double)], color: ChartColor, fillOpacity: Double = 0.1)
    /// A box-and-whisker glyph centred at `x` of `width` data units.
    case box(x: Double, width: Double, lowerWhisker: Double, lowerQuartile: Double, median: Double,
             upperQuartile: Double, upperWhisker: Double, outliers: [Double], color: ChartColor)
    /// A horizontal reference line across the plot.
    case horizontalRule(y: Double, color: ChartColor, dashed: Bool = true)
}

/// A two-axis chart rendered as a self-contained SVG.
public struct Chart: Sendable {
    public var title: String
    public var x: ChartAxis
    public var y: ChartAxis
    public var marks: [ChartMark] = []
    /// Legend entries (label, colour), drawn top right inside the plot.
    public var legend: [(label: String, color: ChartColor)] = []
    public var width = 640.0
    public var height = 420.0

    public init(title: String, x: ChartAxis, y: ChartAxis) {
        self.title = title
        self.x = x
        self.y = y
    }

    public mutating func add(_ mark: ChartMark) { marks.append(mark) }

    // Plot area.
    var left: Double { 70 }
    var right: Double { width - 20 }
    var top: Double { 48 }
    var bottom: Double { height - 52 }

    /// Legend rows sit below the plot, one per entry.
    var legendHeight: Double { legend.isEmpty ? 0 : Double(legend.count) * 17 + 8 }
    /// The height of the whole picture (plot and legend).
    public var totalHeight: Double { height + legendHeight }

    func px(_ v: Double) -> Double { left + x.fraction(v) * (right - left) }
    func py(_ v: Double) -> Double { bottom - y.fraction(v) * (bottom - top) }

    /// The SVG document.
    public func svg() -> String {
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(totalHeight))" \
            viewBox="0 0 \(f(width)) \(f(totalHeight))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <defs><clipPath id="plot\(clipID)"><rect x="\(f(left))" y="\(f(top))" width="\(f(right - left))" \
            height="\(f(bottom - top))"/></clipPath></defs>
            <text x="\(f(width / 2))" y="20" text-anchor="middle" font-size="14" font-weight="bold">\(escapeXML(title))</text>

            """
        // Grid and ticks.
        for t in x.automaticTicks() {
            let X = px(t.value)
            s += "<line x1=\"\(f(X))\" y1=\"\(f(top))\" x2=\"\(f(X))\" y2=\"\(f(bottom))\" stroke=\"#e6e6e6\"/>\n"
            // Category labels ("kmeans 1000px") break at their first space.
            let lines = x.ticks != nil ? t.label.split(separator: " ", maxSplits: 1).map(String.init) : [t.label]
            for (k, line) in lines.enumerated() {
                s += "<text x=\"\(f(X))\" y=\"\(f(bottom + 16 + 14 * Double(k)))\" text-anchor=\"middle\">\(escapeXML(line))</text>\n"
            }
        }
        for t in y.automaticTicks() {
            let Y = py(t.value)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(Y))\" x2=\"\(f(right))\" y2=\"\(f(Y))\" stroke=\"#e6e6e6\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(Y + 4))\" text-anchor=\"end\">\(escapeXML(t.label))</text>\n"
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(escapeXML(x.label))</text>\n"
        s += "<text transform=\"translate(16 \(f((top + bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escapeXML(y.label))</text>\n"
        s += "<g clip-path=\"url(#plot\(clipID))\">\n"
        for mark in marks { s += svg(mark) }
        s += "</g>\n"
        // Legend, below the plot.
        for (k, entry) in legend.enumerated() {
            let yy = height + 4 + Double(k) * 17
            s += "<line x1=\"\(f(left))\" y1=\"\(f(yy - 4))\" x2=\"\(f(left + 18))\" y2=\"\(f(yy - 4))\" stroke=\"\(entry.color.hex)\" stroke-width=\"3\"/>\n"
            s += "<text x=\"\(f(left + 24))\" y=\"\(f(yy))\">\(escapeXML(entry.label))</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// A per-chart clip id (several charts may share one HTML page).
    var clipID: String {
        var h: UInt64 = 1469598103934665603
        for b in (title + x.label + y.label).utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return String(h % 1_000_000_007, radix: 36)
    }

    func path(_ points: [(x: Double, y: Double)], closed: Bool) -> String {
        let usable = points.filter { $0.x.isFinite && $0.y.isFinite && (!x.logarithmic || $0.x > 0) && (!y.logarithmic || $0.y > 0) }
        guard let first = usable.first else { return "" }
        var d = "M\(f(px(first.x))) \(f(py(first.y)))"
        for p in usable.dropFirst() { d += " L\(f(px(p.x))) \(f(py(p.y)))" }
        return closed ? d + " Z" : d
    }

    func svg(_ mark: ChartMark) -> String {
        switch mark {
        case let .line(points, color, width, dashed):
            let d = path(points, closed: false)
            guard !d.isEmpty else { return "" }
            return "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color.hex)\" stroke-width=\"\(f(width))\"\(dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
        case let .points(points, color, radius, opacity):
            var s = "<g fill=\"\(color.hex)\" fill-opacity=\"\(f(opacity))\">"
            for p in points where p.x.isFinite && p.y.isFinite && (!x.logarithmic || p.x > 0) && (!y.logarithmic || p.y > 0) {
                s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"\(f(radius))\"/>"
            }
            return s + "</g>\n"
        case let .polygon(points, color, fillOpacity):
            let d = path(points, closed: true)
            guard !d.isEmpty else { return "" }
            return "<path d=\"\(d)\" fill=\"\(color.hex)\" fill-opacity=\"\(f(fillOpacity))\" stroke=\"\(color.hex)\" stroke-width=\"1.5\"/>\n"
        case let .box(cx, w, lw, lq, med, uq, uw, outliers, color):
            let x0 = px(cx - w / 2), x1 = px(cx + w / 2), xm = px(cx)
            var s = "<g stroke=\"\(color.hex)\" stroke-width=\"1.5\" fill=\"none\">"
            s += "<rect x=\"\(f(x0))\" y=\"\(f(py(uq)))\" width=\"\(f(x1 - x0))\" height=\"\(f(max(py(lq) - py(uq), 0.5)))\" fill=\"\(color.hex)\" fill-opacity=\"0.15\"/>"
            s += "<line x1=\"\(f(x0))\" y1=\"\(f(py(med)))\" x2=\"\(f(x1))\" y2=\"\(f(py(med)))\" stroke-width=\"2.5\"/>"
            s += "<line x1=\"\(f(xm))\" y1=\"\(f(py(uq)))\" x2=\"\(f(xm))\" y2=\"\(f(py(uw)))\"/>"
            s += "<line x1=\"\(f(xm))\" y1=\"\(f(py(lq)))\" x2=\"\(f(xm))\" y2=\"\(f(py(lw)))\"/>"
            let cap = (x1 - x0) / 4
            s += "<line x1=\"\(f(xm - cap))\" y1=\"\(f(py(uw)))\" x2=\"\(f(xm + cap))\" y2=\"\(f(py(uw)))\"/>"
            s += "<line x1=\"\(f(xm - cap))\" y1=\"\(f(py(lw)))\" x2=\"\(f(xm + cap))\" y2=\"\(f(py(lw)))\"/>"
            for o in outliers where o.isFinite && (!y.logarithmic || o > 0) {
                s += "<circle cx=\"\(f(xm))\" cy=\"\(f(py(o)))\" r=\"2.5\"/>"
            }
            return s + "</g>\n"
        case let .horizontalRule(yv, color, dashed):
            return "<line x1=\"\(f(left))\" y1=\"\(f(py(yv)))\" x2=\"\(f(right))\" y2=\"\(f(py(yv)))\" stroke=\"\(color.hex)\"\(dashed ? " stroke-dasharray=\"5 4\"" : "")/>\n"
        }
    }
}

func f(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    return String(format: "%.1f", v)
}

/// Escapes text for XML/HTML content and attribute values.
public func escapeXML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}
