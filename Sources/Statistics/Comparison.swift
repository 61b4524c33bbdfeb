import Foundation
import ImageCore

/// Pixel counts of a predicted mask against a ground-truth mask (atems `+tools/aggdiff.m`,
/// METHODS.md 6.1). Counts add up, so images are pooled by summing their scores.
public struct PixelScores: Sendable, Equatable, Codable {
    public var truePositives = 0
    public var falsePositives = 0
    public var falseNegatives = 0
    public var trueNegatives = 0

    public init() {}

    /// Scores `predicted` against `truth` (same size).
    /// - Precondition: both masks have the same width and height.
    public init(predicted: BinaryMask, truth: BinaryMask) {
        precondition(predicted.width == truth.width && predicted.height == truth.height, "masks of different sizes")
        var tp = 0, fp = 0, fn = 0
        predicted.bits.withUnsafeBufferPointer { p in
            truth.bits.withUnsafeBufferPointer { t in
                for i in 0..<p.count {
                    let a = p[i] != 0, b = t[i] != 0
                    if a && b { tp += 1 } else if a { fp += 1 } else if b { fn += 1 }
                }
            }
        }
        truePositives = tp
        falsePositives = fp
        falseNegatives = fn
        trueNegatives = predicted.count - tp - fp - fn
    }

    public static func + (a: PixelScores, b: PixelScores) -> PixelScores {
        var s = PixelScores()
        s.truePositives = a.truePositives + b.truePositives
        s.falsePositives = a.falsePositives + b.falsePositives
        s.falseNegatives = a.falseNegatives + b.falseNegatives
        s.trueNegatives = a.trueNegatives + b.trueNegatives
        return s
    }

    public var total: Int { truePositives + falsePositives + falseNegatives + trueNegatives }
    /// |P and not GT| / |not GT| x 100.
    public var falsePositivePercent: Double { percent(falsePositives, falsePositives + trueNegatives) }
    /// |not P and GT| / |GT| x 100.
    public var falseNegativePercent: Double { percent(falseNegatives, falseNegatives + truePositives) }
    /// (TP + TN) / N x 100.
    public var accuracyPercent: Double { percent(truePositives + trueNegatives, total) }
    /// |P and GT| / |P or GT|; 1 when both masks are empty.
    public var iou: Double {
        let union = truePositives + falsePositives + falseNegatives
        return union == 0 ? 1 : Double(truePositives) / Double(union)
    }

    private func percent(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : 100 * Double(a) / Double(b) }
}

/// What matching needs of an aggregate: its image, centre of mass and pixel count.
public struct MatchCandidate: Sendable, Equatable {
    public var image: String
    public var centroidXPx: Double
    public var centroidYPx: Double
    public var areaPx: Int

    public init(image: String, centroidXPx: Double, centroidYPx: Double, areaPx: Int) {
        self.image = image
        self.centroidXPx = centroidXPx
        self.centroidYPx = centroidYPx
        self.areaPx = areaPx
    }
}

/// Matched aggregates of two sets (atems `+tools/match_aggs.m`, METHODS.md 6.2).
public struct AggregateMatching: Sendable, Equatable {
    /// (index in the reference set, index in the other set), in the reference set's order.
    public var pairs: [(reference: Int, other: Int)]
    public var referenceCount: Int
    public var otherCount: Int

    public init(pairs: [(reference: Int, other: Int)], referenceCount: Int, otherCount: Int) {
        self.pairs = pairs
        self.referenceCount = referenceCount
        self.otherCount = otherCount
    }

    /// Aggregates of the other set without a partner: |B| - matched.
    public var added: Int { otherCount - pairs.count }
    /// Aggregates of the reference set without a partner: |A| - matched.
    public var removed: Int { referenceCount - pairs.count }

    public static func == (a: AggregateMatching, b: AggregateMatching) -> Bool {
        a.referenceCount == b.referenceCount && a.otherCount == b.otherCount
            && a.pairs.map(\.reference) == b.pairs.map(\.reference) && a.pairs.map(\.other) == b.pairs.map(\.other)
    }
}

/// Matches each reference aggregate to the nearest aggregate of the other set in the same image
/// when that one is closer than `maximumDistancePx` (atems: 250 px), the reference aggregate is
/// also the other's nearest (reciprocal), and, for reference aggregates above `largeAreaPx`
/// (30,000 px), the pixel-count similarity s = 1 - |N_b - N_a| / N_a is at least 0.3.
///
/// Deviation [FIX, METHODS.md 6.2]: only accepted pairs are written; atems writes a tentative
/// pair and may later erase a valid one.
public func matchAggregates(reference: [MatchCandidate], other: [MatchCandidate],
                            maximumDistancePx: Double = 250, largeAreaPx: Int = 30_000,
                            minimumSimilarity: Double = 0.3) -> AggregateMatching {
    func distance(_ a: MatchCandidate, _ b: MatchCandidate) -> Double {
        let dx = a.centroidXPx - b.centroidXPx, dy = a.centroidYPx - b.centroidYPx
        return (dx * dx + dy * dy).squareRoot()
    }
    var byImage: [String: [Int]] = [:]
    for (j, b) in other.enumerated() { byImage[b.image, default: []].append(j) }
    var referenceByImage: [String: [Int]] = [:]
    for (i, a) in reference.enumerated() { referenceByImage[a.image, default: []].append(i) }
    var pairs: [(reference: Int, other: Int)] = []
    var taken = Set<Int>()
    for (i, a) in reference.enumerated() {
        guard let candidates = byImage[a.image], !candidates.isEmpty else { continue }
        let nearest = candidates.min { distance(a, other[$0]) < distance(a, other[$1]) }!
        let d = distance(a, other[nearest])
        guard d < maximumDistancePx, !taken.contains(nearest) else { continue }
        // Reciprocal: no reference aggregate is strictly closer to b*.
        let b = other[nearest]
        let closest = referenceByImage[a.image]!.map { distance(reference[$0], b) }.min()!
        guard d <= closest else { continue }
        let similarity = 1 - abs(Double(b.areaPx - a.areaPx)) / Double(max(a.areaPx, 1))
        guard !(similarity < minimumSimilarity && a.areaPx > largeAreaPx) else { continue }
        pairs.append((i, nearest))
        taken.insert(nearest)
    }
    return AggregateMatching(pairs: pairs, referenceCount: reference.count, otherCount: other.count)
}

/// dp = dp,100 (da / 100 nm)^D_TEM fitted by ordinary least squares of log10 dp on log10 da
/// (atems `+tools/viz_dadp.m`, METHODS.md 6.4), with 95 % confidence intervals.
public struct PowerLawFit: Sendable, Equatable, Codable {
    public var count: Int
    /// dp at da = 100 nm (nm).
    public var dp100Nm: Double
    /// The exponent D_TEM (slope in log-log).
    public var dTEM: Double
    /// 95 % confidence intervals (t distribution, n - 2 degrees of freedom); nil with n < 3.
    public var dp100Interval: ClosedRange<Double>?
    public var dTEMInterval: ClosedRange<Double>?
    /// Coefficient of determination of the log-log fit.
    public var rSquared: Double

    /// Fits the pairs with positive, finite da and dp; nil with fewer than two of them or when
    /// all da are equal.
    public init?(daNm: [Double], dpNm: [Double]) {
        guard let r = LogLogRegression(x: daNm, y: dpNm, referenceX: 100) else { return nil }
        count = r.count
        dTEM = r.slope
        dp100Nm = r.valueAtReference
        rSquared = r.rSquared
        dTEMInterval = r.slopeInterval
        dp100Interval = r.valueInterval
    }

    /// dp (nm) predicted at `daNm`.
    public func dpNm(atDaNm daNm: Double) -> Double { dp100Nm * pow(daNm / 100, dTEM) }

    /// The universal relation of Olfert and Rogak (2019): dp,100 = 17.8 nm, D_TEM = 0.35.
    public static let universalDp100Nm = 17.8
    public static let universalDTEM = 0.35
}

/// The boundary of the data ellipse of (log10 x, log10 y) (METHODS.md 6.5): mean + V Λ^(1/2)
/// (cos t, sin t) for the eigen-decomposition of 2 Σ, 100 values of t from 0 to 2π, returned in
/// the original units (10^). Encloses about 63 % of a bivariate normal. Nil with fewer than
/// three positive pairs.
public func dataEllipse(x: [Double], y: [Double], points: Int = 100) -> [(x: Double, y: Double)]? {
    guard let m = LogMoments(x, y), m.n >= 3 else { return nil }
    let n = m.n, mx = m.meanX, my = m.meanY, sxx = m.sxx, syy = m.syy, sxy = m.sxy
    // 2 Σ with Σ the sample covariance (N - 1).
    let a = 2 * sxx / Double(n - 1), d = 2 * syy / Double(n - 1), b = 2 * sxy / Double(n - 1)
    let (l1, l2, v1, v2) = symmetricEigen2(a, b, d)
    let r1 = max(l1, 0).squareRoot(), r2 = max(l2, 0).squareRoot()
    return (0..<points).map { k in
        let t = 2 * Double.pi * Double(k) / Double(points - 1)
        let px = mx + v1.0 * r1 * cos(t) + v2.0 * r2 * sin(t)
        let py = my + v1.1 * r1 * cos(t) + v2.1 * r2 * sin(t)
        return (pow(10, px), pow(10, py))
    }
}

/// Means and centred sums of squares and products of (log10 x, log10 y) over the pairs where
/// both are positive and finite.
/// Ordinary least squares of log10 y on log10 x, y = c (x / referenceX)^slope, with 95 %
/// confidence intervals of the slope and of c (t distribution, n - 2 degrees of freedom; nil
/// with n < 3). nil with fewer than two usable pairs or all x equal.
struct LogLogRegression {
    var count: Int
    var slope: Double
    var valueAtReference: Double
    var rSquared: Double
    var slopeInterval: ClosedRange<Double>?
    var valueInterval: ClosedRange<Double>?

    init?(x: [Double], y: [Double], referenceX: Double) {
        guard let m = LogMoments(x, y), m.n >= 2, m.sxx > 0 else { return nil }
        let n = m.n, mx = m.meanX, my = m.meanY, sxx = m.sxx, sxy = m.sxy, syy = m.syy
        let b = sxy / sxx, intercept = my - b * mx
        let x0 = log10(referenceX)
        let atReference = intercept + x0 * b
        count = n
        slope = b
        valueAtReference = pow(10, atReference)
        let residual = max(syy - b * sxy, 0)
        rSquared = syy > 0 ? 1 - residual / syy : 1
        if n >= 3 {
            let s = (residual / Double(n - 2)).squareRoot()
            let t = studentTQuantile(0.975, degreesOfFreedom: Double(n - 2))
            let seSlope = s / sxx.squareRoot()
            let seAtReference = s * (1 / Double(n) + (x0 - mx) * (x0 - mx) / sxx).squareRoot()
            slopeInterval = (b - t * seSlope)...(b + t * seSlope)
            valueInterval = pow(10, atReference - t * seAtReference)...pow(10, atReference + t * seAtReference)
        }
    }
}

/// The fractal law of a population of aggregates, N = kf (Rg / a)^Df (N primaries, Rg the
/// radius of gyration, a the primary radius), fitted by least squares in log-log with 95 %
/// confidence intervals of Df and kf.
public struct FractalFit: Sendable, Equatable, Codable {
    public var count: Int
    public var fractalDimension: Double
    public var prefactor: Double
    public var fractalDimensionInterval: ClosedRange<Double>?
    public var prefactorInterval: ClosedRange<Double>?
    public var rSquared: Double

    enum CodingKeys: String, CodingKey {
        case count, fractalDimension = "fractal_dimension", prefactor = "prefactor"
        case fractalDimensionInterval = "fractal_dimension_95", prefactorInterval = "prefactor_95", rSquared = "r_squared"
    }

    /// Fits the aggregates with a positive count, Rg and primary radius; nil with fewer than
    /// two of them or all Rg / a equal.
    public init?(primaryCounts: [Int], rgNm: [Double], primaryRadiusNm: [Double]) {
        let ratio = zip(rgNm, primaryRadiusNm).map { $0.1 > 0 ? $0.0 / $0.1 : 0 }
        guard let r = LogLogRegression(x: ratio, y: primaryCounts.map(Double.init), referenceX: 1) else { return nil }
        count = r.count
        fractalDimension = r.slope
        prefactor = r.valueAtReference
        fractalDimensionInterval = r.slopeInterval
        prefactorInterval = r.valueInterval
        rSquared = r.rSquared
    }
}

struct LogMoments {
    var n: Int, meanX: Double, meanY: Double, sxx = 0.0, syy = 0.0, sxy = 0.0

    init?(_ x: [Double], _ y: [Double]) {
        var lx: [Double] = [], ly: [Double] = []
        for (a, b) in zip(x, y) where a > 0 && b > 0 && a.isFinite && b.isFinite {
            lx.append(log10(a))
            ly.append(log10(b))
        }
        guard !lx.isEmpty else { return nil }
        n = lx.count
        meanX = lx.reduce(0, +) / Double(n)
        meanY = ly.reduce(0, +) / Double(n)
        for k in 0..<n {
            sxx += (lx[k] - meanX) * (lx[k] - meanX)
            syy += (ly[k] - meanY) * (ly[k] - meanY)
            sxy += (lx[k] - meanX) * (ly[k] - meanY)
        }
    }
}

/// Eigenvalues (descending) and unit eigenvectors of [[a, b], [b, d]].
func symmetricEigen2(_ a: Double, _ b: Double, _ d: Double) -> (Double, Double, (Double, Double), (Double, Double)) {
    let mean = (a + d) / 2, radius = (((a - d) / 2) * ((a - d) / 2) + b * b).squareRoot()
    let l1 = mean + radius, l2 = mean - radius
    if abs(b) < 1e-300 {
        return a >= d ? (a, d, (1, 0), (0, 1)) : (d, a, (0, 1), (1, 0))
    }
    var v1 = (l1 - d, b)
    let norm = (v1.0 * v1.0 + v1.1 * v1.1).squareRoot()
    v1 = (v1.0 / norm, v1.1 / norm)
    return (l1, l2, v1, (-v1.1, v1.0))
}

/// Gaussian kernel density of log10 da (atems `+tools/viz_kdensity.m`, METHODS.md 6.6):
/// bandwidth 0.15 in log10 units, `points` equally spaced from min - 3h to max + 3h.
/// Returns (da in nm, density per unit log10 da); empty without positive values.
public func kernelDensityLog10(_ values: [Double], bandwidth h: Double = 0.15, points: Int = 100)
    -> [(x: Double, density: Double)]
{
    let logs = values.filter { $0 > 0 && $0.isFinite }.map { log10($0) }
    guard let lo = logs.min(), let hi = logs.max(), points >= 2 else { return [] }
    let start = lo - 3 * h, end = hi + 3 * h
    let norm = 1 / (Double(logs.count) * h * (2 * Double.pi).squareRoot())
    return (0..<points).map { k in
        let x = start + (end - start) * Double(k) / Double(points - 1)
        var f = 0.0
        for v in logs {
            let z = (x - v) / h
            f += exp(-0.5 * z * z)
        }
        return (pow(10, x), f * norm)
    }
}

/// Box-plot statistics (paper Figs 6-7, METHODS.md 6.7): quartiles by MATLAB's `prctile`
/// (linear interpolation between the sorted values at positions (i - 0.5) / n), whiskers at
/// the most extreme values within 1.5 IQR of the box, and the values beyond them.
public struct BoxStatistics: Sendable, Equatable, Codable {
    public var count: Int
    public var lowerQuartile: Double
    public var median: Double
    public var upperQuartile: Double
    public var lowerWhisker: Double
    public var upperWhisker: Double
    public var outliers: [Double]

    /// Nil without finite values. With `logarithmic`, the IQR rule is applied to log values
    /// (the paper's axes are logarithmic).
    public init?(_ values: [Double], logarithmic: Bool = false) {
        let v = values.filter { $0.isFinite && (!logarithmic || $0 > 0) }.sorted()
        guard !v.isEmpty else { return nil }
        count = v.count
        lowerQuartile = matlabPercentile(v, 25)
        median = matlabPercentile(v, 50)
        upperQuartile = matlabPercentile(v, 75)
        let f: (Double) -> Double = logarithmic ? { log10($0) } : { $0 }
        let q1 = f(lowerQuartile), q3 = f(upperQuartile), iqr = q3 - q1
        let lowLimit = q1 - 1.5 * iqr, highLimit = q3 + 1.5 * iqr
        let inside = v.filter { f($0) >= lowLimit - 1e-12 && f($0) <= highLimit + 1e-12 }
        lowerWhisker = inside.first ?? lowerQuartile
        upperWhisker = inside.last ?? upperQuartile
        outliers = v.filter { f($0) < lowLimit - 1e-12 || f($0) > highLimit + 1e-12 }
    }
}

/// The p-th percentile (0...100) of sorted values as MATLAB's `prctile`: value i sits at
/// 100 (i - 0.5) / n; linear between, clamped at the ends.
public func matlabPercentile(_ sorted: [Double], _ p: Double) -> Double {
    let n = sorted.count
    precondition(n > 0, "no values")
    let position = p / 100 * Double(n) + 0.5  // 1-based
    if position <= 1 { return sorted[0] }
    if position >= Double(n) { return sorted[n - 1] }
    let lower = Int(position.rounded(.down))
    let fraction = position - Double(lower)
    return sorted[lower - 1] + fraction * (sorted[lower] - sorted[lower - 1])
}

/// Percentile of unsorted values (NaNs dropped) by the same rule; nil when none remain.
public func percentile(_ values: [Double], _ p: Double) -> Double? {
    let v = values.filter { !$0.isNaN }.sorted()
    return v.isEmpty ? nil : matlabPercentile(v, p)
}

// MARK: Student's t quantile

/// The p-quantile of Student's t distribution with `nu` degrees of freedom, by bisection on
/// the regularised incomplete beta function (accurate to about 1e-10).
public func studentTQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
    precondition(p > 0 && p < 1 && nu > 0)
    if p == 0.5 { return 0 }
    if p < 0.5 { return -studentTQuantile(1 - p, degreesOfFreedom: nu) }
    func cdf(_ t: Double) -> Double {
        let x = nu / (nu + t * t)
        return 1 - 0.5 * regularizedIncompleteBeta(x, nu / 2, 0.5)
    }
    var lo = 0.0, hi = 1.0
    while cdf(hi) < p { hi *= 2 }
    for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if cdf(mid) < p { lo = mid } else { hi = mid }
        if hi - lo < 1e-12 * max(1, hi) { break }
    }
    return (lo + hi) / 2
}

/// I_x(a, b) by the continued fraction of Numerical Recipes (Lentz's method).
func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let lnGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
    let lnPowers: Double = a * log(x) + b * log(1 - x)
    let lnFront = lnGammas + lnPowers
    if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, b, a) }
    let tiny = 1e-300
    var c = 1.0, d = 1 - (a + b) * x / (a + 1)
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var f = d
    for m in 1...300 {
        let m2 = Double(2 * m), md = Double(m)
        let evenDenominator: Double = (a + m2 - 1) * (a + m2)
        var numerator: Double = md * (b - md) * x / evenDenominator
        d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
        c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        f *= d * c
        let oddDenominator: Double = (a + m2) * (a + m2 + 1)
        let oddNumerator: Double = -(a + md) * (a + b + md) * x
        numerator = oddNumerator / oddDenominator
        d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
        c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        let delta = d * c
        f *= delta
        if abs(delta - 1) < 1e-14 { break }
    }
    return exp(lnFront) * f / a
}
