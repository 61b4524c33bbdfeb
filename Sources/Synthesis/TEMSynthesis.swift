import Foundation
import ImageCore
import Randomness

/// How primary-particle size relates to aggregate size in a synthetic image.
public enum PrimarySizeModel: Sendable, Equatable, Codable {
    /// dp = dp,100 (da / 100 nm)^D_TEM (Olfert & Rogak's universal relation: 17.8 nm, 0.35),
    /// with lognormal scatter of the given geometric standard deviation between aggregates.
    case universal(dp100Nm: Double, exponent: Double, scatter: Double)
    /// Aggregate geometric means drawn lognormally around `meanNm` with `spread`.
    case fixed(meanNm: Double, spread: Double)
    /// Aggregate geometric means drawn log-uniformly in `lowNm...highNm`, whatever the
    /// aggregate's size (training images that cover every primary size, issue 13).
    case logUniform(lowNm: Double, highNm: Double)

    public static let standard = PrimarySizeModel.universal(dp100Nm: 17.8, exponent: 0.35, scatter: 1.1)
}

/// Everything that defines a synthetic TEM image besides the seed.
public struct SynthesisParameters: Sendable, Equatable, Codable {
    public var width = 2240
    public var height = 1952
    public var pixelSizeNm = 0.4
    /// Aggregates per image (uniform).
    public var aggregateCount: ClosedRange<Int> = 2...6
    /// Primaries per aggregate (log-uniform).
    public var primaryCount: ClosedRange<Int> = 5...300
    public var primarySize: PrimarySizeModel = .standard
    /// Geometric standard deviation of primary diameters within an aggregate.
    public var withinAggregateStd = 1.15
    public var fractalDimension = 1.78
    public var fractalPrefactor = 1.3
    /// Overlap between neighbouring primaries (uniform per aggregate).
    public var overlap: ClosedRange<Double> = 0.1...0.3
    public var algorithm: AggregationAlgorithm = .clusterCluster
    /// Output bit depth (8 or 16).
    public var bitDepth = 8
    // Rendering.
    /// Attenuation of the beam per nm of carbon crossed (uniform per image).
    public var attenuationPerNm: ClosedRange<Double> = 0.018...0.03
    /// Mean background level, 0...1 (uniform per image).
    public var backgroundLevel: ClosedRange<Double> = 0.6...0.75
    /// Peak-to-peak illumination change across the image, relative.
    public var illuminationGradient = 0.12
    /// Relative amplitude of the carbon-film speckle (fine) and mottle (coarse).
    public var filmTexture = 0.035
    /// Shot-noise standard deviation at the background level (grey level fraction).
    public var shotNoise = 0.015
    /// Defocus: Gaussian blur (px) and Fresnel-fringe strength.
    public var blurPx: ClosedRange<Double> = 0.4...0.8
    public var fringe = 1.0
    // Realism ingredients (issue 13). nil: off, and the generator draws exactly what it drew
    // before they existed (same seed, same image).
    /// Fractal dimension drawn per aggregate (dense and open aggregates) in place of `fractalDimension`.
    public var fractalDimensionRange: ClosedRange<Double>? = nil
    /// Probability that an aggregate is placed touching or overlapping one placed before it.
    public var aggregateContact: Double? = nil
    /// Probability that the film is holey (round holes) or lacey (a network of strands), with
    /// bright holes and darker film edges; each kind half of the time.
    public var holeyFilm: Double? = nil
    /// Strength of a wide bright halo around dark objects (defocus), drawn per image.
    public var halo: ClosedRange<Double>? = nil

    public init() {}
}

/// The truth about one synthetic aggregate.
public struct AggregateTruth: Sendable, Equatable, Codable {
    public struct ProjectedPrimary: Sendable, Equatable, Codable {
        public var xPx: Double
        public var yPx: Double
        public var diameterNm: Double
        /// Share of the primary's projected disc where it is the nearest primary to the viewer
        /// (0...1): what a person outlining primaries would see of it. Detectors are scored on
        /// primaries at least `PrimaryVisibility.countedFraction` visible (Docs/Primaries.md).
        /// nil in truth files written before it was recorded.
        public var visibleFraction: Double?
        enum CodingKeys: String, CodingKey {
            case xPx = "x_px", yPx = "y_px", diameterNm = "d_nm", visibleFraction = "visible_fraction"
        }
        public init(xPx: Double, yPx: Double, diameterNm: Double, visibleFraction: Double? = nil) {
            self.xPx = xPx; self.yPx = yPx; self.diameterNm = diameterNm; self.visibleFraction = visibleFraction
        }
    }
    public var id: Int
    public var primaryCount: Int
    public var dpGeometricMeanNm: Double
    public var dpGeometricStd: Double
    /// Projected-area-equivalent diameter of the aggregate's own projection (inside the image).
    public var daNm: Double
    public var areaPx: Int
    /// Volume-weighted 3-D radius of gyration of the primary centres.
    public var rg3dNm: Double
    /// Radius of gyration of the projected pixels (inside the image).
    public var rgProjectedNm: Double
    public var centroidXPx: Double
    public var centroidYPx: Double
    public var touchesBorder: Bool
    public var fractalDimension: Double
    public var fractalPrefactor: Double
    public var overlap: Double
    public var primaries: [ProjectedPrimary]

    enum CodingKeys: String, CodingKey {
        case id, primaryCount = "primary_count", dpGeometricMeanNm = "dp_geometric_mean_nm"
        case dpGeometricStd = "dp_geometric_std", daNm = "da_nm", areaPx = "area_px", rg3dNm = "rg_3d_nm"
        case rgProjectedNm = "rg_projected_nm", centroidXPx = "centroid_x_px", centroidYPx = "centroid_y_px"
        case touchesBorder = "touches_border", fractalDimension = "fractal_dimension"
        case fractalPrefactor = "fractal_prefactor", overlap, primaries
    }
}

/// The truth file of one synthetic image.
public struct SynthesisTruth: Sendable, Equatable, Codable {
    public var generator = "sootctl synth 1"
    public var seed: UInt64
    public var parameters: SynthesisParameters
    public var aggregates: [AggregateTruth]
    /// Per-image rendering draws (attenuation, background, blur).
    public var rendering: [String: Double]
}

/// A synthetic TEM image, its true mask and its truth.
public struct SyntheticImage: Sendable {
    public var image: GrayImage
    public var mask: BinaryMask
    public var truth: SynthesisTruth
}

/// Generates one synthetic TEM image of soot (bright-field, soot dark) with known truth.
///
/// Aggregates: `FractalAggregate`s with primary sizes from `primarySize`, turned at random and
/// projected. Image: mass-thickness contrast exp(-mu t) (t = carbon crossed, nm; each primary's
/// density varies by +-15 %), carbon-film speckle and mottle, a Fresnel fringe and defocus blur,
/// uneven illumination, shot noise, 8- or 16-bit quantisation. Same seed, same image.
public func synthesize(_ parameters: SynthesisParameters, seed: UInt64) -> SyntheticImage {
    var rng = SplitMix64(seed: seed)
    let w = parameters.width, h = parameters.height
    let ps = parameters.pixelSizeNm
    // 1. Aggregates, placed without overlapping bounding circles.
    struct Placed { var primaries: [Primary]; var aggregate: FractalAggregate; var cx: Double; var cy: Double }
    var placed: [Placed] = []
    var circles: [(Double, Double, Double)] = []
    let count = Int.random(in: parameters.aggregateCount, using: &rng)
    for _ in 0..<count {
        let lo = log(Double(max(parameters.primaryCount.lowerBound, 1))), hi = log(Double(max(parameters.primaryCount.upperBound, 1)))
        let n = Int(exp(Double.random(in: lo...hi, using: &rng)).rounded())
        let dp: Double
        switch parameters.primarySize {
        case let .universal(dp100, exponent, scatter):
            // da of an n-primary aggregate ~ dp (n / 1.1)^(1/2.18) (projected-area scaling), so
            // dp^(1 - D) = dp100 ((n / 1.1)^(1/2.18) / 100)^D.
            let ratio = pow(Double(n) / 1.1, 1 / 2.18)
            let base = pow(dp100 * pow(ratio / 100, exponent), 1 / (1 - exponent))
            dp = base * exp(log(max(scatter, 1)) * rng.nextGaussian())
        case let .fixed(mean, spread):
            dp = mean * exp(log(max(spread, 1)) * rng.nextGaussian())
        case let .logUniform(low, high):
            dp = exp(Double.random(in: log(max(low, 0.1))...log(max(high, low, 0.1)), using: &rng))
        }
        var recipe = AggregateRecipe(primaryCount: n, dpGeometricMeanNm: dp, dpGeometricStd: parameters.withinAggregateStd)
        recipe.fractalDimension = parameters.fractalDimensionRange.map { Double.random(in: $0, using: &rng) }
            ?? parameters.fractalDimension
        recipe.fractalPrefactor = parameters.fractalPrefactor
        recipe.overlap = Double.random(in: parameters.overlap, using: &rng)
        recipe.algorithm = parameters.algorithm
        let aggregate = FractalAggregate.build(recipe, using: &rng)
        let turned = aggregate.rotated(using: &rng)
        let radiusPx = (turned.map { ($0.x * $0.x + $0.y * $0.y).squareRoot() + $0.diameterNm / 2 }.max() ?? 0) / ps
        // Touching or overlapping an aggregate placed before: the centre at 0.5-1 times the sum of
        // the two bounding radii from that aggregate's centre.
        if let contact = parameters.aggregateContact, !circles.isEmpty, Double.random(in: 0..<1, using: &rng) < contact {
            let other = circles[Int.random(in: 0..<circles.count, using: &rng)]
            let angle = Double.random(in: 0..<(2 * Double.pi), using: &rng)
            let distance = (other.2 + radiusPx) * Double.random(in: 0.5...1, using: &rng)
            let cx = other.0 + distance * cos(angle), cy = other.1 + distance * sin(angle)
            if cx + radiusPx > 0 && cx - radiusPx < Double(w) && cy + radiusPx > 0 && cy - radiusPx < Double(h) {
                circles.append((cx, cy, radiusPx))
                placed.append(Placed(primaries: turned, aggregate: aggregate, cx: cx, cy: cy))
                continue
            }
        }
        for _ in 0..<60 {
            // Centres may lie a little outside the frame: some aggregates touch the border.
            let cx = Double.random(in: -0.05...1.05, using: &rng) * Double(w)
            let cy = Double.random(in: -0.05...1.05, using: &rng) * Double(h)
            let clear = circles.allSatisfy { c in
                let d = ((c.0 - cx) * (c.0 - cx) + (c.1 - cy) * (c.1 - cy)).squareRoot()
                return d > c.2 + radiusPx + 10
            }
            // At least part of the aggregate must be inside.
            let inside = cx + radiusPx > 0 && cx - radiusPx < Double(w) && cy + radiusPx > 0 && cy - radiusPx < Double(h)
            if clear && inside {
                circles.append((cx, cy, radiusPx))
                placed.append(Placed(primaries: turned, aggregate: aggregate, cx: cx, cy: cy))
                break
            }
        }
    }
    // 2. Mass thickness and the truth mask (owner = aggregate index + 1).
    var thickness = [Double](repeating: 0, count: w * h)
    var owner = [Int32](repeating: 0, count: w * h)
    // Which primary is nearest the viewer at each pixel (flat index + 1), for `visibleFraction`.
    var front = [Int32](repeating: 0, count: w * h)
    var frontZ = [Double](repeating: -.infinity, count: w * h)
    let firstPrimary = placed.reduce(into: [0]) { $0.append($0.last! + $1.primaries.count) }
    var discPixels = [Int](repeating: 0, count: firstPrimary.last!)
    for (k, agg) in placed.enumerated() {
        for (j, p) in agg.primaries.enumerated() {
            let flat = firstPrimary[k] + j
            let density = Double.random(in: 0.85...1.15, using: &rng)
            let rPx = p.diameterNm / 2 / ps
            let x = agg.cx + p.x / ps, y = agg.cy + p.y / ps
            let r0 = max(Int((y - rPx).rounded(.down)), 0), r1 = min(Int((y + rPx).rounded(.up)), h - 1)
            let c0 = max(Int((x - rPx).rounded(.down)), 0), c1 = min(Int((x + rPx).rounded(.up)), w - 1)
            guard r0 <= r1, c0 <= c1 else { continue }
            for r in r0...r1 {
                let dy = Double(r) - y
                for c in c0...c1 {
                    let dx = Double(c) - x
                    let q = rPx * rPx - dx * dx - dy * dy
                    if q >= 0 {
                        let i = r * w + c
                        let half = q.squareRoot()
                        thickness[i] += density * 2 * half * ps
                        owner[i] = Int32(k + 1)
                        discPixels[flat] += 1
                        let z = p.z / ps + half
                        if z > frontZ[i] { frontZ[i] = z; front[i] = Int32(flat + 1) }
                    }
                }
            }
        }
    }
    // 3. Rendering.
    let mu = Double.random(in: parameters.attenuationPerNm, using: &rng)
    let level = Double.random(in: parameters.backgroundLevel, using: &rng)
    let blur = Double.random(in: parameters.blurPx, using: &rng)
    let gx = Double.random(in: -1...1, using: &rng), gy = Double.random(in: -1...1, using: &rng)
    let gq = Double.random(in: -1...1, using: &rng)
    func noiseField(sigma: Double) -> [Float] {
        var field = GrayImage(width: w, height: h)
        for i in 0..<field.count { field.pixels[i] = Float(rng.nextGaussian()) }
        let smooth = gaussianFilter(field, sigma: sigma)
        var sumSq: Double = 0
        for v in smooth.pixels { sumSq += Double(v) * Double(v) }
        let sd = max((sumSq / Double(smooth.count)).squareRoot(), 1e-12)
        return smooth.pixels.map { Float(Double($0) / sd) }
    }
    let speckle = noiseField(sigma: 0.9)
    let mottle = noiseField(sigma: 8)
    // Turbostratic carbon is not uniform: a few-pixel texture modulates the soot's density.
    let grain = noiseField(sigma: 2.5)
    // Holey or lacey film: where the film is absent the beam is brighter by 1 / filmTransmission,
    // and the film thickens along its edges (a darker rim). Neither is soot.
    var filmCover: [Float]? = nil
    var filmTransmission = 1.0, rimStrength = 0.0
    if let holey = parameters.holeyFilm, Double.random(in: 0..<1, using: &rng) < holey {
        filmTransmission = Double.random(in: 0.72...0.92, using: &rng)
        rimStrength = Double.random(in: 0...0.25, using: &rng)
        var cover = [Float](repeating: 1, count: w * h)
        if Double.random(in: 0..<1, using: &rng) < 0.5 {
            // Holey: round holes 60-500 nm across.
            let holes = Int.random(in: 1...6, using: &rng)
            for _ in 0..<holes {
                let radius = Double.random(in: 30...250, using: &rng) / ps
                let hx = Double.random(in: -0.1...1.1, using: &rng) * Double(w)
                let hy = Double.random(in: -0.1...1.1, using: &rng) * Double(h)
                let r0 = max(Int(hy - radius), 0), r1 = min(Int(hy + radius), h - 1)
                let c0 = max(Int(hx - radius), 0), c1 = min(Int(hx + radius), w - 1)
                guard r0 <= r1, c0 <= c1 else { continue }
                for r in r0...r1 {
                    for c in c0...c1 where (Double(r) - hy) * (Double(r) - hy) + (Double(c) - hx) * (Double(c) - hx) <= radius * radius {
                        cover[r * w + c] = 0
                    }
                }
            }
        } else {
            // Lacey: film strands where a smooth random field is near zero.
            let sigma = Double.random(in: 40...120, using: &rng) / ps
            let coarse = max(1, Int(sigma / 4))
            let cw = max(w / coarse + 2, 2), ch = max(h / coarse + 2, 2)
            var field = GrayImage(width: cw, height: ch)
            for i in 0..<field.count { field.pixels[i] = Float(rng.nextGaussian()) }
            field = gaussianFilter(field, sigma: 4)
            var sumSq: Double = 0
            for v in field.pixels { sumSq += Double(v) * Double(v) }
            let sd = Float(max((sumSq / Double(field.count)).squareRoot(), 1e-12))
            let band = Float(Double.random(in: 0.25...0.6, using: &rng))
            let big = resize(field, width: cw * coarse, height: ch * coarse, method: .bilinear)
            for r in 0..<h { for c in 0..<w { cover[r * w + c] = abs(big.pixels[r * big.width + c] / sd) < band ? 1 : 0 } }
        }
        filmCover = cover
    }
    let rim: [Float]? = filmCover.map { cover in
        var image = GrayImage(width: w, height: h)
        image.pixels = cover
        let soft = gaussianFilter(image, sigma: max(1.5, 2 / ps)).pixels
        return soft.map { 4 * $0 * (1 - $0) }
    }
    var specimen = GrayImage(width: w, height: h)
    for i in 0..<(w * h) {
        var film = 1 + parameters.filmTexture * (0.8 * Double(speckle[i]) + 0.3 * Double(mottle[i]))
        if let filmCover, let rim {
            let cover = Double(filmCover[i])
            film = cover * film + (1 - cover) / filmTransmission
            film *= 1 - rimStrength * Double(rim[i])
        }
        let carbon = thickness[i] * (1 + 0.12 * Double(grain[i]))
        specimen.pixels[i] = Float(film * exp(-mu * carbon))
    }
    // Fresnel fringe (bright rim outside edges) then defocus blur.
    if parameters.fringe > 0 {
        let wide = gaussianFilter(specimen, sigma: 1.8)
        for i in 0..<(w * h) {
            specimen.pixels[i] += Float(parameters.fringe) * (specimen.pixels[i] - wide.pixels[i])
        }
    }
    if let halo = parameters.halo {
        // A wide bright halo outside dark objects (and a darker inner band): unsharp masking at
        // 3-10 px.
        let strength = Double.random(in: halo, using: &rng)
        let wide = gaussianFilter(specimen, sigma: Double.random(in: 3...10, using: &rng))
        for i in 0..<(w * h) { specimen.pixels[i] += Float(strength) * (specimen.pixels[i] - wide.pixels[i]) }
    }
    if blur > 0 { specimen = gaussianFilter(specimen, sigma: blur) }
    var image = GrayImage(width: w, height: h, pixelSize: PixelSize(nanometersPerPixel: ps, source: .user))
    let dose = level / max(parameters.shotNoise * parameters.shotNoise, 1e-12)
    for r in 0..<h {
        let v = Double(r) / Double(max(h - 1, 1)) - 0.5
        for c in 0..<w {
            let u = Double(c) / Double(max(w - 1, 1)) - 0.5
            let illumination = level * (1 + parameters.illuminationGradient * (gx * u + gy * v + gq * (u * u + v * v - 1 / 6)))
            let i = r * w + c
            let mean = illumination * Double(specimen.pixels[i])
            let noisy = mean + (max(mean, 0) / dose).squareRoot() * rng.nextGaussian()
            let clamped = min(max(noisy, 0), 1)
            image.pixels[i] = Float(parameters.bitDepth == 16 ? (clamped * 65535).rounded() / 65535 : (clamped * 255).rounded() / 255)
        }
    }
    // 4. Truth.
    var mask = BinaryMask(width: w, height: h, pixelSize: image.pixelSize)
    for i in 0..<(w * h) where owner[i] != 0 { mask.bits[i] = 1 }
    var frontPixels = [Int](repeating: 0, count: discPixels.count)
    for f in front where f > 0 { frontPixels[Int(f) - 1] += 1 }
    var truths: [AggregateTruth] = []
    for (k, agg) in placed.enumerated() {
        var n = 0, sr = 0.0, sc = 0.0, srr = 0.0, scc = 0.0
        var border = false
        for r in 0..<h {
            for c in 0..<w where owner[r * w + c] == Int32(k + 1) {
                n += 1
                sr += Double(r); sc += Double(c); srr += Double(r * r); scc += Double(c * c)
                if r == 0 || c == 0 || r == h - 1 || c == w - 1 { border = true }
            }
        }
        guard n > 0 else { continue }
        let mr = sr / Double(n), mc = sc / Double(n)
        let rg = max(srr / Double(n) - mr * mr + scc / Double(n) - mc * mc, 0).squareRoot() * ps
        truths.append(AggregateTruth(
            id: truths.count + 1, primaryCount: agg.primaries.count,
            dpGeometricMeanNm: agg.aggregate.dpGeometricMeanNm, dpGeometricStd: agg.aggregate.dpGeometricStd,
            daNm: 2 * ps * (Double(n) / Double.pi).squareRoot(), areaPx: n,
            rg3dNm: agg.aggregate.radiusOfGyrationNm, rgProjectedNm: rg, centroidXPx: mc, centroidYPx: mr,
            touchesBorder: border, fractalDimension: agg.aggregate.recipe.fractalDimension,
            fractalPrefactor: agg.aggregate.recipe.fractalPrefactor, overlap: agg.aggregate.recipe.overlap,
            primaries: agg.primaries.enumerated().map { j, p in
                let flat = firstPrimary[k] + j
                // A primary wholly outside the frame has no disc pixels: nothing of it is seen.
                let visible = discPixels[flat] > 0 ? Double(frontPixels[flat]) / Double(discPixels[flat]) : 0
                return .init(xPx: agg.cx + p.x / ps, yPx: agg.cy + p.y / ps, diameterNm: p.diameterNm, visibleFraction: visible)
            }))
    }
    let truth = SynthesisTruth(seed: seed, parameters: parameters, aggregates: truths,
                               rendering: ["attenuation_per_nm": mu, "background_level": level, "blur_px": blur])
    return SyntheticImage(image: image, mask: mask, truth: truth)
}

/// The example the README's quick start analyses (`Examples/synthetic_soot.png`, with its
/// mask and truth beside it): 640 x 480 px at 0.8 nm/px, three fractal aggregates of 20-80
/// primaries, none cut by the border (the first such seed from 2021 on). `sootbench
/// write-example` regenerates the files.
public func readmeExample() -> SyntheticImage {
    var p = SynthesisParameters()
    p.width = 640
    p.height = 480
    p.pixelSizeNm = 0.8
    p.aggregateCount = 3...3
    p.primaryCount = 20...80
    var seed: UInt64 = 2021
    while true {
        let s = synthesize(p, seed: seed)
        if s.truth.aggregates.count == 3 && s.truth.aggregates.allSatisfy({ !$0.touchesBorder }) { return s }
        seed += 1
    }
}
