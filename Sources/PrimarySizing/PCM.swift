import Foundation
import ImageCore
import Aggregates
import Statistics

/// Pair correlation method (atems `+pp/pcm.m`, configuration v1.s of the paper; METHODS.md 5.1).
///
/// The pair correlation between a subsample of the aggregate's pixels and its skeleton, in
/// 1-nm radius bins, normalised by the pair counts of a filled disk, smoothed, made strictly
/// decreasing and scaled to a maximum of 1. "Simple" PCM reports twice the radius where the
/// curve falls to 0.913; "general" PCM moves that level with the aggregate's shape.
public struct PCM: Sendable {
    public enum Kind: String, Sendable, Codable { case simple, general }
    public var kind: Kind = .simple
    /// Curve level for the simple method (0.913).
    public var level = 0.913
    /// Reference behaviour: the disk denominator is measured from a point offset by (-6, -6)
    /// px, a typo in the original code the 0.913 level was tuned with (METHODS.md 5.1 [REF]).
    /// true measures from the disk centre instead.
    public var centeredDenominator = false
    /// Subsampling target: every t-th pixel with t = max(round(N / 6000), 1).
    public var sampleTarget = 6000

    public init(kind: Kind = .simple) { self.kind = kind }

    /// The normalised PCM curve: radii (nm) and values (1 at the first radius), or nil when the
    /// aggregate spans a single bin.
    public func curve(mask: BinaryMask, pixelSizeNm ps: Double) -> (radiiNm: [Double], values: [Double])? {
        let w = mask.width, h = mask.height
        let skeleton = thin(mask)
        var skel: [(Double, Double)] = []
        for r in 0..<h { for c in 0..<w where skeleton.bits[r * w + c] != 0 { skel.append((Double(r), Double(c))) } }
        // Mask pixels in column-major order, every t-th.
        var pixels: [(Double, Double)] = []
        for c in 0..<w { for r in 0..<h where mask.bits[r * w + c] != 0 { pixels.append((Double(r), Double(c))) } }
        let n = pixels.count
        guard n > 0, !skel.isEmpty else { return nil }
        let t = max(Int((Double(n) / Double(sampleTarget)).rounded()), 1)
        let samples = stride(from: 0, to: n, by: t).map { pixels[$0] }
        // Maximum distance first (it sets the bins), then the histogram.
        var maxD2 = 0.0
        for p in samples { for s in skel { maxD2 = max(maxD2, (p.0 - s.0) * (p.0 - s.0) + (p.1 - s.1) * (p.1 - s.1)) } }
        let dMax = maxD2.squareRoot().rounded()
        let bins = Int((dMax * ps).rounded(.down))
        guard bins >= 1 else { return nil }
        var counts = [Double](repeating: 0, count: bins)
        counts.withUnsafeMutableBufferPointer { hist in
            for p in samples {
                for s in skel {
                    let d2 = (p.0 - s.0) * (p.0 - s.0) + (p.1 - s.1) * (p.1 - s.1)
                    guard d2 > 0 else { continue }
                    if let b = bin(d2.squareRoot() * ps, bins: bins) { hist[b] += 1 }
                }
            }
        }
        // Disk denominator.
        var denominator = [Double](repeating: 0, count: bins)
        let reach = Int(dMax)
        let shift = centeredDenominator ? 0.0 : 6.0
        for u in -reach...reach {
            for v in -reach...reach where Double(u * u + v * v) <= dMax * dMax {
                let du = Double(u) + shift, dv = Double(v) + shift
                let delta = (du * du + dv * dv).squareRoot()
                guard delta > 0 else { continue }
                if let b = bin(delta * ps, bins: bins) { denominator[b] += 1 }
            }
        }
        let scale = Double(skel.count) / Double(t)
        var radii: [Double] = []
        var pcf: [Double] = []
        for b in 0..<bins where counts[b] > 0 {
            let den = denominator[b] * scale
            radii.append(Double(b + 1))
            pcf.append(counts[b] / (den == 0 ? 1 : den))
        }
        guard pcf.count > 1 else { return nil }
        var s = smooth5(pcf)
        for k in 0..<(s.count - 1) where s[k] <= s[k + 1] { s[k + 1] = s[k] - 1e-12 }
        let top = s.max() ?? 1
        if top != 0 { s = s.map { $0 / top } }
        return (radii, s)
    }

    /// The primary particle diameter of one aggregate.
    /// - Parameters:
    ///   - mask: the aggregate alone, cropped with a margin.
    ///   - aggregate: its properties (da, Rg, aspect ratio, pixel count).
    public func size(mask: BinaryMask, aggregate: Aggregate, pixelSizeNm ps: Double) -> PrimaryParticleSize {
        guard let (radii, s) = curve(mask: mask, pixelSizeNm: ps) else {
            // A single bin: the aggregate is about one particle (METHODS.md 5.1 step 7).
            return .checked(aggregate.daNm)
        }
        switch kind {
        case .simple:
            if let r = interpolateRadius(radii: radii, values: s, at: level) { return .checked(2 * r) }
            if aggregate.areaPx < 500 && aggregate.aspectRatio < 1.4 { return .checked(aggregate.daNm) }
            return .notDetermined(.thresholdNotCrossed)
        case .general:
            let rg = aggregate.rgNm
            guard let p0 = interpolate(radii, s, at: rg), let pPlus = interpolate(radii, s, at: 1.1 * rg),
                  let pMinus = interpolate(radii, s, at: 0.9 * rg) else { return .notDetermined(.thresholdNotCrossed) }
            let slope = (pPlus + pMinus - p0) / (0.2 * rg)
            guard slope > 0 else { return .notDetermined(.fitFailed) }
            let target = (level / 0.84) * (0.7 + 0.003 * pow(slope, -0.24) + 0.2 * pow(aggregate.aspectRatio, -1.13))
            guard let r = interpolateRadius(radii: radii, values: s, at: target) else {
                return .notDetermined(.thresholdNotCrossed)
            }
            return .checked(2 * r)
        }
    }
}

/// Bin of a radius in nm for bins centred on 1, 2, ..., `bins` nm (edges r +- 1/2, last closed).
@inline(__always) private func bin(_ x: Double, bins: Int) -> Int? {
    guard x >= 0.5 else { return nil }
    let upper = Double(bins) + 0.5
    if x > upper { return nil }
    if x == upper { return bins - 1 }
    return min(Int(x + 0.5) - 1, bins - 1)
}

/// MATLAB `smooth` with the default span 5: centred moving average whose half-width shrinks
/// to min(2, i, n - 1 - i) near the ends (first and last points unchanged).
func smooth5(_ y: [Double]) -> [Double] {
    let n = y.count
    var out = y
    for i in 0..<n {
        let k = min(2, i, n - 1 - i)
        var sum = 0.0
        for j in (i - k)...(i + k) { sum += y[j] }
        out[i] = sum / Double(2 * k + 1)
    }
    return out
}

/// The radius where a strictly decreasing curve takes `value` (linear interpolation; nil outside).
func interpolateRadius(radii: [Double], values: [Double], at value: Double) -> Double? {
    guard let first = values.first, let last = values.last, value <= first, value >= last else { return nil }
    for k in 0..<(values.count - 1) where values[k] >= value && values[k + 1] <= value {
        let span = values[k] - values[k + 1]
        return span == 0 ? radii[k] : radii[k] + (values[k] - value) / span * (radii[k + 1] - radii[k])
    }
    return nil
}

/// Linear interpolation of y(x) at `x` (nil outside the data range, as MATLAB `interp1`).
func interpolate(_ xs: [Double], _ ys: [Double], at x: Double) -> Double? {
    guard let lo = xs.first, let hi = xs.last, x >= lo, x <= hi else { return nil }
    for k in 0..<(xs.count - 1) where xs[k] <= x && x <= xs[k + 1] {
        let span = xs[k + 1] - xs[k]
        return span == 0 ? ys[k] : ys[k] + (x - xs[k]) / span * (ys[k + 1] - ys[k])
    }
    return ys.last
}
