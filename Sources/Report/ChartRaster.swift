import Foundation
import ImageCore

/// PNG rendering of a `Chart`: the same layout as the SVG at twice its size, drawn with
/// anti-aliasing-free lines and the 5 x 7 bitmap font of `RGBCanvas` (characters it lacks,
/// such as Greek letters, are left blank; the SVG is the reference figure).
extension Chart {
    public func raster(scale: Int = 2) -> RGBCanvas {
        let k = Double(scale)
        var canvas = RGBCanvas(width: Int(width * k), height: Int(totalHeight * k))
        func rgb(_ c: ChartColor) -> RGB { RGB(c.r, c.g, c.b) }
        func X(_ v: Double) -> Double { px(v) * k }
        func Y(_ v: Double) -> Double { py(v) * k }
        let clip = (left * k, top * k, right * k, bottom * k)
        func inside(_ x: Double, _ y: Double) -> Bool { x >= clip.0 && x <= clip.2 && y >= clip.1 && y <= clip.3 }
        func dot(_ x: Double, _ y: Double, _ color: RGB, clipped: Bool = true) {
            if clipped && !inside(x, y) { return }
            canvas.set(Int(y.rounded()), Int(x.rounded()), color)
        }
        func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ color: RGB, width w: Double = 1,
                  dashed: Bool = false, clipped: Bool = true) {
            let length = ((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)).squareRoot()
            let steps = max(Int(length.rounded(.up)), 1)
            let half = max(Int((w * k / 2).rounded()), 0)
            for s in 0...steps {
                if dashed && (s / Int(6 * k)) % 2 == 1 { continue }
                let t = Double(s) / Double(steps)
                let x = x0 + (x1 - x0) * t, y = y0 + (y1 - y0) * t
                for dy in -half...half { for dx in -half...half { dot(x + Double(dx), y + Double(dy), color, clipped: clipped) } }
            }
        }
        func polyline(_ pts: [(x: Double, y: Double)], _ color: RGB, width w: Double, dashed: Bool = false, closed: Bool = false) {
            let usable = pts.filter { $0.x.isFinite && $0.y.isFinite && (!x.logarithmic || $0.x > 0) && (!y.logarithmic || $0.y > 0) }
            guard usable.count >= 2 else { return }
            for i in 1..<usable.count {
                line(X(usable[i - 1].x), Y(usable[i - 1].y), X(usable[i].x), Y(usable[i].y), color, width: w, dashed: dashed)
            }
            if closed { line(X(usable.last!.x), Y(usable.last!.y), X(usable[0].x), Y(usable[0].y), color, width: w) }
        }
        func disc(_ cx: Double, _ cy: Double, _ r: Double, _ color: RGB) {
            let rr = Int(r.rounded(.up))
            for dy in -rr...rr { for dx in -rr...rr where Double(dx * dx + dy * dy) <= r * r { dot(cx + Double(dx), cy + Double(dy), color) } }
        }
        func text(_ s: String, _ x: Double, _ y: Double, anchor: String = "start", color: RGB = RGB(30, 30, 30), size: Int = 2) {
            let w = Double(s.count * 6 * size)
            let x0 = anchor == "middle" ? x - w / 2 : anchor == "end" ? x - w : x
            canvas.text(s.uppercased(), row: Int(y) - 7 * size, column: Int(x0), scale: size, color: color, box: false)
        }
        let gridColor = RGB(230, 230, 230), frame = RGB(50, 50, 50)
        text(title, width * k / 2, 22 * k, anchor: "middle", size: scale + 1)
        for t in x.automaticTicks() {
            line(X(t.value), top * k, X(t.value), bottom * k, gridColor)
            let lines = x.ticks != nil ? t.label.split(separator: " ", maxSplits: 1).map(String.init) : [t.label]
            for (i, line) in lines.enumerated() { text(line, X(t.value), (bottom + 18 + 14 * Double(i)) * k, anchor: "middle") }
        }
        for t in y.automaticTicks() {
            line(left * k, Y(t.value), right * k, Y(t.value), gridColor)
            text(t.label, (left - 6) * k, Y(t.value) + 4 * k, anchor: "end")
        }
        for mark in marks {
            switch mark {
            case let .line(points, color, w, dashed):
                polyline(points, rgb(color), width: w, dashed: dashed)
            case let .points(points, color, radius, _):
                for p in points where p.x.isFinite && p.y.isFinite && (!x.logarithmic || p.x > 0) && (!y.logarithmic || p.y > 0) {
                    disc(X(p.x), Y(p.y), radius * k * 0.8, rgb(color))
                }
            case let .polygon(points, color, _):
                polyline(points, rgb(color), width: 1.5, closed: true)
            case let .box(cx, w, lw, lq, med, uq, uw, outliers, color):
                let c = rgb(color), x0 = X(cx - w / 2), x1 = X(cx + w / 2), xm = X(cx)
                line(x0, Y(uq), x1, Y(uq), c, width: 1.5); line(x0, Y(lq), x1, Y(lq), c, width: 1.5)
                line(x0, Y(uq), x0, Y(lq), c, width: 1.5); line(x1, Y(uq), x1, Y(lq), c, width: 1.5)
                line(x0, Y(med), x1, Y(med), c, width: 2.5)
                line(xm, Y(uq), xm, Y(uw), c); line(xm, Y(lq), xm, Y(lw), c)
                let cap = (x1 - x0) / 4
                line(xm - cap, Y(uw), xm + cap, Y(uw), c); line(xm - cap, Y(lw), xm + cap, Y(lw), c)
                for o in outliers where o.isFinite && (!y.logarithmic || o > 0) { disc(xm, Y(o), 2.5 * k, c) }
            case let .horizontalRule(yv, color, dashed):
                line(left * k, Y(yv), right * k, Y(yv), rgb(color), dashed: dashed)
            }
        }
        // Frame and labels.
        line(left * k, top * k, right * k, top * k, frame, clipped: false)
        line(left * k, bottom * k, right * k, bottom * k, frame, clipped: false)
        line(left * k, top * k, left * k, bottom * k, frame, clipped: false)
        line(right * k, top * k, right * k, bottom * k, frame, clipped: false)
        text(x.label, (left + right) / 2 * k, (height - 8) * k, anchor: "middle")
        // The y label, written horizontally above the axis (the bitmap font does not rotate).
        text(y.label, 8 * k, (top - 6) * k)
        for (i, entry) in legend.enumerated() {
            let yy = (height + 4 + Double(i) * 17) * k
            line(left * k, yy - 4 * k, (left + 18) * k, yy - 4 * k, rgb(entry.color), width: 3, clipped: false)
            text(entry.label, (left + 24) * k, yy)
        }
        return canvas
    }
}
