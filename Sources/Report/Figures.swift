import Foundation
import PrimarySizing
import Statistics

/// Kernel densities of da (paper Fig. 5), one curve per set (METHODS.md 6.6).
public func daDensityChart(_ sets: [(label: String, daNm: [Double])], title: String = "Aggregate size distribution") -> Chart {
    let curves = sets.map { (label: $0.label, curve: kernelDensityLog10($0.daNm)) }
    let xs = curves.flatMap { $0.curve.map(\.x) }
    let ymax = curves.flatMap { $0.curve.map(\.density) }.max() ?? 1
    var chart = Chart(title: title,
                      x: ChartAxis("da (nm)", range: ChartAxis.fitting(xs, logarithmic: true, margin: 0), logarithmic: true),
                      y: ChartAxis("density per log10 da", range: 0...(ymax * 1.1)))
    for (k, c) in curves.enumerated() where !c.curve.isEmpty {
        let color = ChartColor.series(k)
        chart.add(.line(c.curve.map { ($0.x, $0.density) }, color: color, width: 2))
        chart.legend.append(("\(c.label) (n = \(sets[k].daNm.count))", color))
    }
    return chart
}

/// Box-and-whisker plots of ratios on a log axis: groups along x, one box per series in each
/// group (paper Figs 6 and 7; METHODS.md 6.7). `values[g][s]` are the ratios of series s in
/// group g.
public func ratioBoxChart(title: String, groups: [String], series: [String], values: [[[Double]]],
                          yLabel: String) -> Chart {
    let all = values.flatMap { $0.flatMap { $0 } }.filter { $0 > 0 && $0.isFinite }
    var range = ChartAxis.fitting(all + [1], logarithmic: true, margin: 0.08, fallback: 0.5...2)
    range = min(range.lowerBound, 0.5)...max(range.upperBound, 2)
    let ticks = groups.enumerated().map { (Double($0.offset), $0.element) }
    var chart = Chart(title: title,
                      x: ChartAxis("", range: -0.6...(Double(groups.count) - 0.4), ticks: ticks),
                      y: ChartAxis(yLabel, range: range, logarithmic: true))
    chart.add(.horizontalRule(y: 1, color: .grey))
    let width = 0.8 / Double(max(series.count, 1))
    for (s, name) in series.enumerated() {
        let color = ChartColor.series(s + 1)
        chart.legend.append((name, color))
        for g in groups.indices {
            guard s < values[g].count, let box = BoxStatistics(values[g][s], logarithmic: true) else { continue }
            let x = Double(g) - 0.4 + width * (Double(s) + 0.5)
            chart.add(.box(x: x, width: width * 0.8, lowerWhisker: box.lowerWhisker, lowerQuartile: box.lowerQuartile,
                           median: box.median, upperQuartile: box.upperQuartile, upperWhisker: box.upperWhisker,
                           outliers: box.outliers, color: color))
        }
    }
    return chart
}

/// dp against da on log axes (paper Fig. 8): points, data ellipse and fitted power law per
/// set, and the universal relation of Olfert and Rogak (dashed).
public func powerLawChart(title: String, sets: [(label: String, daNm: [Double], dpNm: [Double])]) -> Chart {
    let xs = sets.flatMap(\.daNm), ys = sets.flatMap(\.dpNm)
    let xr = ChartAxis.fitting(xs, logarithmic: true, margin: 0.1, fallback: 20...500)
    let yr = ChartAxis.fitting(ys, logarithmic: true, margin: 0.15, fallback: 5...60)
    var chart = Chart(title: title, x: ChartAxis("da (nm)", range: xr, logarithmic: true),
                      y: ChartAxis("dp (nm)", range: yr, logarithmic: true))
    func curve(_ dp: (Double) -> Double) -> [(x: Double, y: Double)] {
        (0...40).map { k in
            let x = xr.lowerBound * pow(xr.upperBound / xr.lowerBound, Double(k) / 40)
            return (x, dp(x))
        }
    }
    chart.add(.line(curve { PowerLawFit.universalDp100Nm * pow($0 / 100, PowerLawFit.universalDTEM) },
                    color: .grey, width: 1.5, dashed: true))
    chart.legend.append(("universal: 17.8 (da/100)^0.35", .grey))
    for (k, set) in sets.enumerated() {
        let color = ChartColor.series(k)
        chart.add(.points(Array(zip(set.daNm, set.dpNm)).map { ($0.0, $0.1) }, color: color, radius: 2.5, opacity: 0.55))
        if let ellipse = dataEllipse(x: set.daNm, y: set.dpNm) {
            chart.add(.polygon(ellipse.map { ($0.x, $0.y) }, color: color, fillOpacity: 0.06))
        }
        if let fit = PowerLawFit(daNm: set.daNm, dpNm: set.dpNm) {
            chart.add(.line(curve { fit.dpNm(atDaNm: $0) }, color: color, width: 2))
            chart.legend.append((String(format: "%@: %.1f (da/100)^%.2f", set.label, fit.dp100Nm, fit.dTEM), color))
        } else {
            chart.legend.append((set.label, color))
        }
    }
    return chart
}

