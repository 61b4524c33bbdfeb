import Aggregates
import Foundation
import ImageCore
import PrimarySizing

/// The annotated pictures of `segment` and `analyze`: the image with the aggregates tinted and
/// outlined, excluded aggregates (touching the border) in grey, and for `analyze` the Rg
/// circle, the dp circle and label of one sizing method, and the Hough circles; below the
/// image a legend band naming what is drawn, with a scale bar in nm.
public enum Overlay {
    /// The sizing method whose dp the labels show: the first of the paper's order of
    /// preference (EDM-SBS, PCM, Hough, EDM-WS) among `methods`.
    public static func labelMethod(_ methods: [SizingMethod]) -> SizingMethod? {
        [SizingMethod.edmSBS, .pcm, .hough, .edmWS].first { methods.contains($0) }
    }

    /// The overlay of a mask: `mask` (full image size) tinted and outlined, `excluded` in grey.
    public static func mask(_ loaded: LoadedImage, mask: BinaryMask, excluded: BinaryMask?) -> RGBCanvas {
        var canvas = base(loaded, mask: mask, excluded: excluded)
        var legend: [(RGB, String)] = [(.outline, "AGGREGATE")]
        if let excluded, excluded.trueCount > 0 { legend.append((.excluded, "EXCLUDED: TOUCHES THE BORDER")) }
        legend += annotationLegend(loaded)
        addLegend(&canvas, loaded: loaded, entries: legend)
        return canvas
    }

    /// The overlay of an analysed image.
    public static func analysis(_ result: ImageResult) -> RGBCanvas {
        let loaded = result.loaded
        let analysis = result.analysis
        var canvas = base(loaded, mask: loaded.fullSize(analysis.mask), excluded: result.excluded.map(loaded.fullSize))
        let thickness = lineThickness(loaded)
        let scale = textScale(loaded)
        let ps = analysis.pixelSizeNm
        let methods = result.sizingMethods
        let shown = labelMethod(methods)
        for (k, aggregate) in analysis.aggregates.enumerated() {
            for (method, color) in locatedColors where methods.contains(method) {
                for c in result.sizing.located[k][method] ?? [] {
                    canvas.circle(centerX: c.centerX, centerY: c.centerY, radius: c.radius, color: color)
                }
            }
            canvas.circle(centerX: aggregate.centroidXPx, centerY: aggregate.centroidYPx,
                          radius: aggregate.rgNm / ps, color: .gyration, thickness: thickness)
            var label = "#\(aggregate.id)"
            if let shown, let dp = result.sizing.sizes[k][shown]?.diameterNm {
                canvas.circle(centerX: aggregate.centroidXPx, centerY: aggregate.centroidYPx,
                              radius: dp / ps / 2, color: .particle, thickness: thickness)
                label += String(format: " dp=%.1fnm", dp)
            }
            // Keep the label inside the picture.
            let labelWidth = label.count * 6 * scale + scale
            let column = max(min(Int(aggregate.centroidXPx), canvas.width - labelWidth - 1), scale)
            let row = max(min(Int(aggregate.centroidYPx) + 4 * scale, loaded.original.height - 9 * scale), scale)
            canvas.text(label, row: row, column: column, scale: scale)
        }
        var legend: [(RGB, String)] = [(.outline, "AGGREGATE"), (.gyration, "CIRCLE OF RADIUS Rg")]
        if let shown {
            legend.append((.particle, "CIRCLE OF DIAMETER dp, LABELS: #ID dp BY \(shown.rawValue.uppercased())"))
        } else {
            legend.append((.label, "LABELS: #ID"))
        }
        if methods.contains(.hough) { legend.append((.circle, "HOUGH CIRCLES (PRIMARY PARTICLES)")) }
        if methods.contains(.edmWS) { legend.append((.watershedCircle, "EDM-WS PARTICLES")) }
        if methods.contains(.cnnPrimaries) { legend.append((.detectorCircle, "PRIMARIES FOUND BY THE DETECTOR (CNN-PRIMARIES)")) }
        if let excluded = result.excluded, excluded.trueCount > 0 {
            legend.append((.excluded, "EXCLUDED: TOUCHES THE BORDER"))
        }
        legend += annotationLegend(loaded)
        addLegend(&canvas, loaded: loaded, entries: legend)
        return canvas
    }

    /// The colour of each locating method's circles, in drawing order (the detector's on top).
    static let locatedColors: [(SizingMethod, RGB)] = [(.edmWS, .watershedCircle), (.hough, .circle), (.cnnPrimaries, .detectorCircle)]

    static func lineThickness(_ loaded: LoadedImage) -> Int { max(1, loaded.original.width / 1000) }
    static func textScale(_ loaded: LoadedImage) -> Int { max(2, loaded.original.width / 600) }

    /// The image with the legend band's rows added below it, the mask tinted and outlined.
    static func base(_ loaded: LoadedImage, mask: BinaryMask, excluded: BinaryMask?) -> RGBCanvas {
        var canvas = RGBCanvas(image: loaded.original)
        let thickness = lineThickness(loaded)
        if let excluded, excluded.trueCount > 0 {
            canvas.tint(excluded, color: .excluded, opacity: 0.5)
            canvas.outline(excluded, color: .excluded, thickness: thickness)
        }
        let notSoot = loaded.fullSize(loaded.annotations.excluded)
        if notSoot.trueCount > 0 {
            canvas.tint(notSoot, color: .annotation, opacity: 0.35)
            canvas.outline(notSoot, color: .annotation, thickness: thickness)
        }
        canvas.tint(mask, color: .aggregateTint)
        canvas.outline(mask, color: .outline, thickness: thickness)
        return canvas
    }

    /// The legend line of the excluded annotations, naming the scale bar read.
    static func annotationLegend(_ loaded: LoadedImage) -> [(RGB, String)] {
        guard loaded.annotations.excludedCount > 0 else { return [] }
        var kinds = Array(Set(loaded.annotations.regions.map { $0.kind.rawValue.uppercased().replacingOccurrences(of: "-", with: " ") })).sorted()
        if let bar = loaded.annotations.scaleBar {
            kinds = kinds.map { $0 == "SCALE BAR" ? "SCALE BAR \(bar.label.replacingOccurrences(of: "µ", with: "u").uppercased()) = \(bar.barLengthPx) PX" : $0 }
        }
        return [(.annotation, "NOT SOOT, EXCLUDED: " + kinds.joined(separator: ", "))]
    }

    /// Appends a dark band below the picture with one line per entry (a colour swatch and its
    /// meaning) and a scale bar in nm when the pixel size is known.
    static func addLegend(_ canvas: inout RGBCanvas, loaded: LoadedImage, entries: [(RGB, String)]) {
        let scale = textScale(loaded)
        let line = 10 * scale
        var lines = entries
        let bar = loaded.pixelSize.map { scaleBar(widthPx: canvas.width, pixelSizeNm: $0.nanometersPerPixel) }
        let bandHeight = (lines.count + (bar == nil ? 0 : 2)) * line + 2 * scale
        var out = RGBCanvas(width: canvas.width, height: canvas.height + bandHeight, color: RGB(30, 30, 30))
        for i in 0..<canvas.bytes.count { out.bytes[i] = canvas.bytes[i] }
        var row = canvas.height + 2 * scale
        if let bar {
            out.fill(row: row, column: 2 * scale, width: bar.lengthPx, height: 2 * scale, color: .label)
            out.text(bar.label, row: row + 4 * scale, column: 2 * scale, scale: scale, box: false)
            row += 2 * line
        }
        for (color, text) in lines {
            out.fill(row: row, column: 2 * scale, width: 5 * scale, height: 7 * scale, color: color)
            out.text(text, row: row, column: 9 * scale, scale: scale, box: false)
            row += line
        }
        lines.removeAll()
        canvas = out
    }

    /// A scale bar of a round length (1, 2 or 5 x 10^k nm) about a fifth of the picture wide.
    public static func scaleBar(widthPx: Int, pixelSizeNm: Double) -> (lengthPx: Int, label: String) {
        let target = Double(widthPx) / 5 * pixelSizeNm
        let decade = pow(10, floor(log10(target)))
        let nm = [5.0, 2, 1].map { $0 * decade }.first { $0 <= target } ?? decade
        let px = max(1, min(Int((nm / pixelSizeNm).rounded()), widthPx - 4))
        let label = nm >= 1000 ? String(format: "%g um", nm / 1000) : String(format: "%g nm", nm)
        return (px, label)
    }
}
