import Foundation
import ImageCore
import Aggregates
import Statistics

/// Euclidean distance mapping with scale-based analysis (Bescond et al. 2014; atems
/// `+pp/edm_sbs.m`; METHODS.md 5.2).
///
/// The fraction of the aggregate's pixels deeper than each distance from the background is a
/// curve in nm; a sigmoid parameterised by a geometric mean diameter d_g and spread sigma_g
/// (constants from Bescond's code) is fitted to it by Levenberg-Marquardt from (25 nm, 1.5),
/// without bounds: the paper-era fit (METHODS.md 5.2 [PAPER]).
public struct EDMSBS: Sendable {
    public static let a = 0.9966
    public static let beta = 1.9658
    public static let omega = -0.8515
    /// The diameter grid d_j = 10^(2j/249), j = 0...249 (1 to 100 nm).
    public static let gridNm: [Double] = (0..<250).map { pow(10, 2 * Double($0) / 249) }
    /// atems since 2023: start (25, 1.05) with upper bounds (100, 1.1). Off by default; see
    /// Docs/Methods.md for why the bounded fit is treated as a defect.
    public var boundedFit2023 = false

    public init() {}

    /// The survival curve of one aggregate on `gridNm` (fraction of pixels with distance to the
    /// background above d / ps, linearly interpolated and extrapolated).
    public static func curve(mask: BinaryMask, pixelSizeNm ps: Double) -> [Double] {
        let distance = distanceToBackground(mask)
        var n = 0
        // atems counts erosion depths up to 150 px (METHODS.md 5.2): kept at 0.4-0.8 nm/px, the
        // same depth in nm outside (PaperScale), so that high magnifications are not cut short.
        let top = max(1, Int((150 * PaperScale.lengthFactor(pixelSizeNm: ps)).rounded()))
        var counts = [Double](repeating: 0, count: top + 1)
        // counts_k = #{E > k}: histogram of ceil(E) - 1 then a reverse cumulative sum.
        var hist = [Int](repeating: 0, count: top + 2)
        for i in 0..<mask.count where mask.bits[i] != 0 {
            n += 1
            let e = Double(distance[i])
            // E > k  <=>  k < E  <=>  k <= ceil(E) - 1
            let k = min(Int(e.rounded(.up)) - 1, top)
            if k >= 0 { hist[k] += 1 }
        }
        guard n > 0 else { return [Double](repeating: 0, count: gridNm.count) }
        var running = 0
        for k in stride(from: top, through: 0, by: -1) {
            running += hist[k]
            counts[k] = Double(running) / Double(n)
        }
        counts[top] = 0
        // Linear interpolation with extrapolation on x_k = k ps.
        return gridNm.map { d in
            let x = d / ps
            let k = min(max(Int(x.rounded(.down)), 0), top - 1)
            let f = x - Double(k)
            return counts[k] + f * (counts[k + 1] - counts[k])
        }
    }

    /// The model curve at a diameter.
    @inline(__always) public static func model(_ d: Double, dg: Double, sg: Double) -> Double {
        a / (1 + exp(((log(dg) - log(d)) / log(sg) - beta) / omega))
    }

    /// Fits (d_g, sigma_g) to a curve on `gridNm`.
    public func fit(_ curve: [Double]) -> (dgNm: Double, sigmaG: Double)? {
        let start = boundedFit2023 ? (25.0, 1.05) : (25.0, 1.5)
        let upper: (Double, Double)? = boundedFit2023 ? (100, 1.1) : nil
        guard let (dg, sg) = levenbergMarquardt(curve: curve, start: start, upper: upper),
              dg > 0, sg > 0, dg.isFinite, sg.isFinite else { return nil }
        return (dg, sg)
    }

    /// d_g of one aggregate (the mask alone, cropped with a background margin).
    public func size(mask: BinaryMask, pixelSizeNm ps: Double) -> PrimaryParticleSize {
        guard let (dg, _) = fit(Self.curve(mask: mask, pixelSizeNm: ps)) else { return .notDetermined(.fitFailed) }
        return .checked(dg)
    }

    /// The ensemble fit: the mean of the aggregates' curves.
    public func ensemble(curves: [[Double]]) -> (dgNm: Double, sigmaG: Double)? {
        guard let first = curves.first else { return nil }
        var mean = [Double](repeating: 0, count: first.count)
        for c in curves { for j in 0..<mean.count { mean[j] += c[j] } }
        return fit(mean.map { $0 / Double(curves.count) })
    }

    /// Levenberg-Marquardt on the residuals (S(d_j) - Sa_j)/100 with a central-difference
    /// Jacobian; sigma_g is kept above 1 and d_g above 0 (and below `upper` when given).
    private func levenbergMarquardt(curve: [Double], start: (Double, Double), upper: (Double, Double)?)
        -> (Double, Double)?
    {
        let grid = Self.gridNm
        func clamp(_ p: (Double, Double)) -> (Double, Double) {
            var dg = max(p.0, 1e-6), sg = max(p.1, 1 + 1e-9)
            if let u = upper { dg = min(dg, u.0); sg = min(sg, u.1) }
            return (dg, sg)
        }
        func residuals(_ p: (Double, Double)) -> [Double] {
            var r = [Double](repeating: 0, count: grid.count)
            for j in 0..<grid.count { r[j] = (Self.model(grid[j], dg: p.0, sg: p.1) - curve[j]) / 100 }
            return r
        }
        func cost(_ r: [Double]) -> Double { r.reduce(0) { $0 + $1 * $1 } }
        var p = clamp(start)
        var r = residuals(p)
        var c = cost(r)
        var lambda = 1e-3
        for _ in 0..<400 {
            // Jacobian by central differences.
            let h0 = 1e-6 * max(abs(p.0), 1), h1 = 1e-7 * max(abs(p.1), 1)
            let r0p = residuals((p.0 + h0, p.1)), r0m = residuals((p.0 - h0, p.1))
            let r1p = residuals((p.0, p.1 + h1)), r1m = residuals((p.0, max(p.1 - h1, 1 + 1e-12)))
            let step1 = p.1 - max(p.1 - h1, 1 + 1e-12) + h1
            var jtj = (0.0, 0.0, 0.0), jtr = (0.0, 0.0)
            for j in 0..<grid.count {
                let j0 = (r0p[j] - r0m[j]) / (2 * h0), j1 = (r1p[j] - r1m[j]) / step1
                jtj.0 += j0 * j0; jtj.1 += j0 * j1; jtj.2 += j1 * j1
                jtr.0 += j0 * r[j]; jtr.1 += j1 * r[j]
            }
            var improved = false
            for _ in 0..<30 {
                let a00 = jtj.0 * (1 + lambda) + 1e-30, a11 = jtj.2 * (1 + lambda) + 1e-30, a01 = jtj.1
                let det = a00 * a11 - a01 * a01
                guard det != 0, det.isFinite else { lambda *= 10; continue }
                let dx0 = -(a11 * jtr.0 - a01 * jtr.1) / det
                let dx1 = -(a00 * jtr.1 - a01 * jtr.0) / det
                let candidate = clamp((p.0 + dx0, p.1 + dx1))
                let rc = residuals(candidate)
                let cc = cost(rc)
                if cc.isFinite && cc < c {
                    let stepSize = max(abs(candidate.0 - p.0) / max(abs(p.0), 1e-12),
                                       abs(candidate.1 - p.1) / max(abs(p.1), 1e-12))
                    let relativeChange = (c - cc) / max(c, 1e-300)
                    p = candidate
                    r = rc
                    c = cc
                    lambda = max(lambda / 10, 1e-12)
                    improved = true
                    if relativeChange < 1e-10 || stepSize < 1e-10 { return p }
                    break
                }
                lambda *= 10
            }
            if !improved { return p }
        }
        return p
    }
}
