import Classifiers
import Foundation
import ImageCore
import PrimarySizing
import Report
import Aggregates
import Statistics
import Testing
import TestSupport

@Suite("Comparison statistics")
struct ComparisonStatisticsTests {
    @Test("pixel scores: FP and FN rates, accuracy and IoU of constructed masks; scores add up")
    func pixelScores() {
        var truth = BinaryMask(width: 10, height: 10), predicted = BinaryMask(width: 10, height: 10)
        for i in 0..<20 { truth.bits[i] = 1 }          // 20 truth pixels
        for i in 10..<35 { predicted.bits[i] = 1 }     // 25 predicted: 10 TP, 15 FP, 10 FN
        let s = PixelScores(predicted: predicted, truth: truth)
        #expect(s.truePositives == 10 && s.falsePositives == 15 && s.falseNegatives == 10 && s.trueNegatives == 65)
        #expect(abs(s.falsePositivePercent - 100 * 15 / 80) < 1e-12)
        #expect(abs(s.falseNegativePercent - 50) < 1e-12)
        #expect(abs(s.accuracyPercent - 75) < 1e-12)
        #expect(abs(s.iou - 10.0 / 35) < 1e-12)
        let twice = s + s
        #expect(twice.total == 200 && abs(twice.iou - s.iou) < 1e-12)
        #expect(PixelScores(predicted: BinaryMask(width: 3, height: 3), truth: BinaryMask(width: 3, height: 3)).iou == 1)
    }

    @Test("power-law fit equals SciPy's linregress on log10 values, with t-based 95 % intervals")
    func powerLaw() throws {
        let da = [40.0, 60, 85, 120, 150, 220, 300], dp = [14.0, 16.5, 17, 19.5, 18, 22, 23]
        let fit = try #require(PowerLawFit(daNm: da, dpNm: dp))
        // Values from scipy.stats.linregress and scipy.stats.t.ppf (computed independently).
        #expect(abs(fit.dTEM - 0.23333719480977697) < 1e-10)
        #expect(abs(fit.dp100Nm - 17.805111252542698) < 1e-8)
        #expect(abs(fit.rSquared - 0.9285300056378616) < 1e-10)
        let dInterval = try #require(fit.dTEMInterval), pInterval = try #require(fit.dp100Interval)
        #expect(abs(dInterval.lowerBound - 0.15891639942882368) < 1e-8 && abs(dInterval.upperBound - 0.30775799019073025) < 1e-8)
        #expect(abs(pInterval.lowerBound - 16.9376205962229) < 1e-6 && abs(pInterval.upperBound - 18.717032000712) < 1e-6)
        // An exact power law is recovered exactly; NaN and non-positive sizes are ignored.
        let exactDa = [30.0, 70, 100, 250, 600]
        let exact = try #require(PowerLawFit(daNm: exactDa + [50], dpNm: exactDa.map { 17.8 * pow($0 / 100, 0.35) } + [.nan]))
        #expect(exact.count == 5 && abs(exact.dp100Nm - 17.8) < 1e-9 && abs(exact.dTEM - 0.35) < 1e-12)
        #expect(PowerLawFit(daNm: [100], dpNm: [20]) == nil)
        #expect(PowerLawFit(daNm: [100, 100], dpNm: [20, 25]) == nil)
    }

    @Test("Student's t quantiles match SciPy")
    func tQuantiles() {
        #expect(abs(studentTQuantile(0.975, degreesOfFreedom: 10) - 2.228138851986274) < 1e-8)
        #expect(abs(studentTQuantile(0.975, degreesOfFreedom: 1) - 12.706204736174694) < 1e-6)
        #expect(abs(studentTQuantile(0.975, degreesOfFreedom: 30) - 2.0422724563012378) < 1e-8)
        #expect(abs(studentTQuantile(0.9, degreesOfFreedom: 3.5) - 1.5765766051364052) < 1e-8)
        #expect(abs(studentTQuantile(0.025, degreesOfFreedom: 10) + 2.228138851986274) < 1e-8)
    }

    @Test("matching: nearest reciprocal partner within 250 px; large dissimilar aggregates are not matched")
    func matching() {
        func c(_ image: String, _ x: Double, _ y: Double, _ area: Int) -> MatchCandidate {
            MatchCandidate(image: image, centroidXPx: x, centroidYPx: y, areaPx: area)
        }
        let reference = [c("a", 100, 100, 5000), c("a", 400, 100, 5000), c("a", 1000, 1000, 50_000), c("b", 100, 100, 900),
                         c("a", 1600, 1600, 2000)]
        let other = [c("a", 110, 100, 5200),   // reference 0
                     c("a", 1010, 1000, 10_000),  // near reference 2, but s = 0.2 < 0.3 and area > 30,000 px
                     c("b", 130, 140, 800),     // reference 3 (other image)
                     c("a", 1600, 1900, 2000),  // 300 px from reference 4: too far
                     c("a", 300, 100, 4000)]    // nearest to reference 1 (100 px) but reference 0 is nearer to it? no: 190 px vs 100 px
        let m = matchAggregates(reference: reference, other: other)
        let pairs = m.pairs.map { [$0.reference, $0.other] }
        #expect(pairs == [[0, 0], [1, 4], [3, 2]])
        #expect(m.added == 2 && m.removed == 2)
        // Reciprocity: b is nearer to reference 0 than to reference 1, so reference 1 gets nothing.
        let r2 = matchAggregates(reference: [c("a", 0, 0, 100), c("a", 200, 0, 100)], other: [c("a", 50, 0, 100)])
        #expect(r2.pairs.map(\.reference) == [0])
        let closer = matchAggregates(reference: [c("a", 200, 0, 100), c("a", 0, 0, 100)], other: [c("a", 50, 0, 100)])
        #expect(closer.pairs.map(\.reference) == [1])
    }

    @Test("kernel density integrates to one over log10 da and peaks at a single value")
    func kernelDensity() throws {
        let single = kernelDensityLog10([100])
        #expect(single.count == 100)
        let peak = try #require(single.max { $0.density < $1.density })
        #expect(abs(log10(peak.x) - 2) < 0.01)
        #expect(abs(peak.density - 1 / (0.15 * (2 * Double.pi).squareRoot())) < 5e-3)
        let curve = kernelDensityLog10([30, 45, 80, 120, 400])
        var integral = 0.0
        for k in 1..<curve.count {
            integral += (log10(curve[k].x) - log10(curve[k - 1].x)) * (curve[k].density + curve[k - 1].density) / 2
        }
        #expect(abs(integral - 1) < 0.01)
        #expect(abs(log10(curve.first!.x) - (log10(30) - 0.45)) < 1e-12)
        #expect(kernelDensityLog10([]).isEmpty)
    }

    @Test("data ellipse points lie at Mahalanobis radius sqrt(2) from the log mean")
    func ellipse() throws {
        let x = [20.0, 35, 50, 80, 130, 200, 310], y = [12.0, 15, 14, 18, 19, 24, 22]
        let points = try #require(dataEllipse(x: x, y: y))
        #expect(points.count == 100)
        let lx = x.map { log10($0) }, ly = y.map { log10($0) }
        let n = Double(lx.count), mx = lx.reduce(0, +) / n, my = ly.reduce(0, +) / n
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for k in lx.indices { sxx += (lx[k] - mx) * (lx[k] - mx); syy += (ly[k] - my) * (ly[k] - my); sxy += (lx[k] - mx) * (ly[k] - my) }
        sxx /= n - 1; syy /= n - 1; sxy /= n - 1
        let det = sxx * syy - sxy * sxy
        for p in points {
            let dx = log10(p.x) - mx, dy = log10(p.y) - my
            let d2 = (syy * dx * dx - 2 * sxy * dx * dy + sxx * dy * dy) / det
            #expect(abs(d2 - 2) < 1e-9)
        }
        #expect(dataEllipse(x: [1, 2], y: [1, 2]) == nil)
    }

    @Test("box statistics use MATLAB's prctile and 1.5 IQR whiskers")
    func boxes() throws {
        let b = try #require(BoxStatistics((1...10).map(Double.init)))
        #expect(b.lowerQuartile == 3 && b.median == 5.5 && b.upperQuartile == 8)
        #expect(b.lowerWhisker == 1 && b.upperWhisker == 10 && b.outliers.isEmpty)
        let withOutlier = try #require(BoxStatistics((1...10).map(Double.init) + [100]))
        #expect(withOutlier.outliers == [100] && withOutlier.upperWhisker == 10)
        #expect(matlabPercentile([1, 2, 3, 4], 50) == 2.5)
        #expect(matlabPercentile([5], 10) == 5)
        #expect(BoxStatistics([]) == nil)
    }
}

@Suite("Tables")
struct TableTests {
    @Test("tables quote CSV fields and escape HTML")
    func tables() {
        let t = Table(columns: ["a", "b"], rows: [["x,y", "say \"hi\""], ["<b>", "1"]])
        #expect(t.csv == "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n<b>,1\n")
        #expect(t.html().contains("&lt;b&gt;"))
    }
}
