import Foundation
import ImageCore
import NeuralNet
import PrimarySizing
import Randomness
import Statistics
import Synthesis

/// A primary particle in a training crop: centre and diameter in working pixels, and whether
/// it counts as visible (`PrimaryVisibility.countedFraction`).
public struct PrimaryTarget: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var diameterPx: Double
    public var visible: Bool
    public init(x: Double, y: Double, diameterPx: Double, visible: Bool) {
        self.x = x; self.y = y; self.diameterPx = diameterPx; self.visible = visible
    }
}

/// The detector's targets for one crop (`centerHeatmapLoss`): a Gaussian per primary (sigma
/// `sigmaFactor` x its diameter, at least 1 px), exactly 1 at a visible primary's centre pixel
/// and at most 0.95 around a hidden one (so it is neither a centre nor penalised as
/// background), and log(d / `referenceDiameterNm`) with weight Y where a visible primary's
/// Gaussian is at least 0.3 and the largest there.
public func renderPrimaryTargets(_ primaries: [PrimaryTarget], size s: Int, pixelSizeNm ps: Double,
                          referenceDiameterNm: Double, sigmaFactor: Double = 0.15)
    -> (heatmap: [Float], logDiameter: [Float], weight: [Float]) {
    var heat = [Float](repeating: 0, count: s * s)
    var logD = [Float](repeating: 0, count: s * s)
    var weight = [Float](repeating: 0, count: s * s)
    var sizeOwner = [Float](repeating: 0, count: s * s)
    for p in primaries {
        let sigma = max(sigmaFactor * p.diameterPx, 1)
        let reach = Int((3 * sigma).rounded(.up))
        let cx = Int(p.x.rounded()), cy = Int(p.y.rounded())
        guard cx + reach >= 0, cx - reach < s, cy + reach >= 0, cy - reach < s else { continue }
        let scale: Float = p.visible ? 1 : 0.95
        let target = Float(log(p.diameterPx * ps / referenceDiameterNm))
        for y in max(cy - reach, 0)...min(cy + reach, s - 1) {
            for x in max(cx - reach, 0)...min(cx + reach, s - 1) {
                let dx = Double(x) - p.x, dy = Double(y) - p.y
                var g = Float(exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)))
                if x == cx && y == cy { g = 1 }
                let i = y * s + x
                let v = g * scale
                // A centre pixel stays exactly 1 (the loss finds centres by Y >= 1).
                if v > heat[i] && heat[i] < 1 { heat[i] = v >= 1 && !p.visible ? 0.95 : v }
                if p.visible && g >= 0.3 && g > sizeOwner[i] {
                    sizeOwner[i] = g
                    logD[i] = target
                    weight[i] = g
                }
            }
        }
    }
    return (heat, logD, weight)
}

/// The distance-map variant of the detector's targets (`primaryTarget` "distance"): channel 0's
/// target is max over visible primaries of 1 - r / R (r the distance to its centre, R its
/// radius; 1 at the centre, 0 at the rim and outside), with a weight of 0 where a hidden
/// primary's cone is higher than every visible one's (neither asked for nor penalised, as the
/// heatmap's 0.95 cap does); the diameter targets are `renderPrimaryTargets`'.
public func renderPrimaryDistanceTargets(_ primaries: [PrimaryTarget], size s: Int, pixelSizeNm ps: Double,
                                         referenceDiameterNm: Double)
    -> (distance: [Float], distanceWeight: [Float], logDiameter: [Float], weight: [Float]) {
    let sizes = renderPrimaryTargets(primaries, size: s, pixelSizeNm: ps, referenceDiameterNm: referenceDiameterNm)
    var visible = [Float](repeating: 0, count: s * s), hidden = [Float](repeating: 0, count: s * s)
    for p in primaries {
        let radius = max(p.diameterPx / 2, 1)
        let reach = Int(radius.rounded(.up))
        let cx = Int(p.x.rounded()), cy = Int(p.y.rounded())
        guard cx + reach >= 0, cx - reach < s, cy + reach >= 0, cy - reach < s else { continue }
        for y in max(cy - reach, 0)...min(cy + reach, s - 1) {
            for x in max(cx - reach, 0)...min(cx + reach, s - 1) {
                let dx = Double(x) - p.x, dy = Double(y) - p.y
                let v = Float(max(0, 1 - (dx * dx + dy * dy).squareRoot() / radius))
                let i = y * s + x
                if p.visible { visible[i] = max(visible[i], v) } else { hidden[i] = max(hidden[i], v) }
            }
        }
    }
    let distanceWeight = (0..<(s * s)).map { hidden[$0] > visible[$0] ? Float(0) : 1 }
    return (visible, distanceWeight, sizes.logDiameter, sizes.weight)
}

/// A synthetic image for the detector, at the working pixel size, with its primaries.
public struct PrimaryTrainingImage: Sendable {
    public var width: Int
    public var height: Int
    public var image: [Float]
    /// Centres and diameters in the image's pixels.
    public var primaries: [PrimaryTarget]
    public init(width: Int, height: Int, image: [Float], primaries: [PrimaryTarget]) {
        self.width = width; self.height = height; self.image = image; self.primaries = primaries
    }
}

/// Draws the synthetic scene of one detector image: primaries of 10-60 nm (geometric means
/// 12-45 nm per image), polydisperse within aggregates, open to dense aggregates (Df
/// 1.6-2.0), overlap 0-35 %, faint to dark contrast, clean to noisy, sharp to blurred, with
/// and without Fresnel fringes. Everything is rendered at `pixelSizeNm`.
public func primaryTrainingParameters(width: Int, height: Int, pixelSizeNm: Double, rng: inout SplitMix64) -> SynthesisParameters {
    var p = SynthesisParameters()
    p.width = width
    p.height = height
    p.pixelSizeNm = pixelSizeNm
    p.aggregateCount = 2...5
    p.primaryCount = 5...200
    p.primarySize = .fixed(meanNm: exp(Double.random(in: log(12)...log(45), using: &rng)), spread: 1.2)
    p.withinAggregateStd = Double.random(in: 1.05...1.25, using: &rng)
    p.fractalDimension = Double.random(in: 1.6...2.0, using: &rng)
    p.fractalPrefactor = Double.random(in: 1.1...1.7, using: &rng)
    let overlap = Double.random(in: 0...0.3, using: &rng)
    p.overlap = overlap...(overlap + 0.05)
    p.algorithm = Bool.random(using: &rng) ? .clusterCluster : .particleCluster
    let mu = Double.random(in: 0.012...0.035, using: &rng)
    p.attenuationPerNm = mu...mu
    let level = Double.random(in: 0.5...0.8, using: &rng)
    p.backgroundLevel = level...level
    p.illuminationGradient = Double.random(in: 0...0.2, using: &rng)
    p.filmTexture = Double.random(in: 0.015...0.05, using: &rng)
    p.shotNoise = exp(Double.random(in: log(0.004)...log(0.04), using: &rng))
    let blur = Double.random(in: 0.3...1.2, using: &rng)
    p.blurPx = blur...blur
    p.fringe = Double.random(in: 0...1.5, using: &rng)
    return p
}

/// Synthesises a detector image and lists its primaries.
public func makePrimaryTrainingImage(_ parameters: SynthesisParameters, seed: UInt64) -> PrimaryTrainingImage {
    let s = synthesize(parameters, seed: seed)
    let ps = parameters.pixelSizeNm
    var primaries: [PrimaryTarget] = []
    for a in s.truth.aggregates {
        for p in a.primaries {
            primaries.append(PrimaryTarget(x: p.xPx, y: p.yPx, diameterPx: p.diameterNm / ps,
                                           visible: (p.visibleFraction ?? 1) >= PrimaryVisibility.countedFraction))
        }
    }
    return PrimaryTrainingImage(width: s.image.width, height: s.image.height, image: s.image.pixels, primaries: primaries)
}

/// One augmented detector crop: a window of `size` px centred on a random primary (85 %) or
/// anywhere, turned by a multiple of 90 degrees and flipped, with gamma and contrast jitter;
/// its primaries move with it. Outside the image the crop is reflected.
public func primaryCrop(_ sample: PrimaryTrainingImage, size s: Int, rng: inout SplitMix64) -> (image: [Float], primaries: [PrimaryTarget]) {
    let w = sample.width, h = sample.height
    var cx: Double, cy: Double
    if !sample.primaries.isEmpty && Double.random(in: 0..<1, using: &rng) < 0.85 {
        let p = sample.primaries[Int.random(in: 0..<sample.primaries.count, using: &rng)]
        cx = p.x + Double.random(in: -0.3...0.3, using: &rng) * Double(s)
        cy = p.y + Double.random(in: -0.3...0.3, using: &rng) * Double(s)
    } else {
        cx = Double.random(in: 0..<Double(w), using: &rng)
        cy = Double.random(in: 0..<Double(h), using: &rng)
    }
    let x0 = Int(cx.rounded()) - s / 2, y0 = Int(cy.rounded()) - s / 2
    let turns = Int.random(in: 0..<4, using: &rng), flip = Bool.random(using: &rng)
    let gamma = Float(exp(Double.random(in: log(0.75)...log(1.33), using: &rng)))
    let contrast = Float(Double.random(in: 0.8...1.2, using: &rng))
    // Crop pixel (u, v) shows source (x0 + a, y0 + b) where (a, b) undoes the turns and flip.
    func source(_ u: Double, _ v: Double) -> (Double, Double) {
        var a = u, b = v
        let m = Double(s - 1)
        if flip { a = m - a }
        for _ in 0..<turns { (a, b) = (b, m - a) }
        return (a, b)
    }
    func crop(_ a: Double, _ b: Double) -> (Double, Double) {
        // The inverse of `source`.
        var u = a, v = b
        let m = Double(s - 1)
        for _ in 0..<turns { (u, v) = (m - v, u) }
        if flip { u = m - u }
        return (u, v)
    }
    var image = [Float](repeating: 0, count: s * s)
    var mean: Float = 0
    for v in 0..<s {
        for u in 0..<s {
            let (a, b) = source(Double(u), Double(v))
            let x = reflect101(x0 + Int(a), w), y = reflect101(y0 + Int(b), h)
            let value = powf(max(sample.image[y * w + x], 0), gamma)
            image[v * s + u] = value
            mean += value
        }
    }
    mean /= Float(s * s)
    for i in 0..<image.count { image[i] = min(max(mean + contrast * (image[i] - mean), 0), 1) }
    var targets: [PrimaryTarget] = []
    let margin = 60.0
    for p in sample.primaries {
        let a = p.x - Double(x0), b = p.y - Double(y0)
        guard a > -margin, b > -margin, a < Double(s) + margin, b < Double(s) + margin else { continue }
        let (u, v) = crop(a, b)
        targets.append(PrimaryTarget(x: u, y: v, diameterPx: p.diameterPx, visible: p.visible))
    }
    return (image, targets)
}

/// The detector's fixed validation images (their own seeds, never trained on).
func primaryValidationImages(count: Int, size: Int, pixelSizeNm: Double, seed: UInt64) -> [PrimaryTrainingImage] {
    var out = [PrimaryTrainingImage?](repeating: nil, count: count)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: count) { k in
        var g = SplitMix64(seed: seed ^ 0x5A17_7E57 &+ UInt64(k) &* 0x9E37_79B9)
        let p = primaryTrainingParameters(width: size, height: size, pixelSizeNm: pixelSizeNm, rng: &g)
        let image = makePrimaryTrainingImage(p, seed: g.next())
        lock.lock(); out[k] = image; lock.unlock()
    }
    return out.compactMap { $0 }
}

/// The match scores of a detector on validation images, one per centre threshold.
func primaryScores(_ detector: PrimaryDetector, images: [PrimaryTrainingImage], pixelSizeNm ps: Double,
                   thresholds: [Float]) -> [PrimaryMatchScore] {
    var scores = [PrimaryMatchScore](repeating: PrimaryMatchScore(), count: thresholds.count)
    for image in images {
        let gray = GrayImage(width: image.width, height: image.height, value: 0).with(pixels: image.image)
        let planes = detector.outputPlanes(gray, pixelSizeNm: ps)
        let truth = image.primaries.map {
            TruePrimary(centerX: $0.x, centerY: $0.y, radius: $0.diameterPx / 2, counts: $0.visible)
        }
        for (k, t) in thresholds.enumerated() {
            var d = detector.decoding
            d.threshold = t
            let located = decodePrimaryPeaks(heatmapLogits: planes.heatmap, logDiameter: planes.logDiameter, width: planes.width,
                                             height: planes.height, pixelSizeNm: detector.workingPixelSizeNm, decoding: d)
            scores[k].add(matchPrimaries(located: located, truth: truth))
        }
    }
    return scores
}

/// The centre thresholds validation tries.
let validationThresholds: [Float] = [0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5]

func validationScore(_ s: PrimaryMatchScore, threshold: Float) -> ValidationScore {
    var v = ValidationScore(loss: 0, accuracy: s.precision, iou: 0)
    v.f1 = s.f1
    v.recall = s.recall
    v.medianDiameterError = s.medianAbsoluteDiameterError
    v.peakThreshold = Double(threshold)
    return v
}

/// Scores a detector on validation images at several centre thresholds; returns the best.
func scorePrimaryDetector(_ detector: PrimaryDetector, images: [PrimaryTrainingImage], pixelSizeNm ps: Double) -> ValidationScore {
    let scores = primaryScores(detector, images: images, pixelSizeNm: ps, thresholds: validationThresholds)
    let best = scores.indices.max { scores[$0].f1 < scores[$1].f1 } ?? 0
    return validationScore(scores[best], threshold: validationThresholds[best])
}

/// What an exported detector is run with, chosen on the validation images: the centre
/// threshold with the best F1, mirror averaging where it adds at least 0.02 to F1 (it costs
/// four network passes), and the
/// diameter scale that makes the median located / true diameter of matched pairs 1.
public struct DetectorCalibration: Sendable, Equatable {
    public var threshold: Float
    public var testTimeFlips: Bool
    public var diameterScale: Double
    /// The validation score with all three applied.
    public var score: ValidationScore
}

/// The validation F1 that mirror averaging must add to be worth its four network passes.
let minimumFlipGain = 0.02

func calibratePrimaryDetector(_ model: FPN, images: [PrimaryTrainingImage], pixelSizeNm ps: Double,
                              referenceDiameterNm: Double) -> DetectorCalibration {
    var decoding = PeakDecoding()
    decoding.referenceDiameterNm = referenceDiameterNm
    var best: [(f1: Double, threshold: Float, flips: Bool, score: PrimaryMatchScore)] = []
    for flips in [false, true] {
        let detector = PrimaryDetector(model: model, workingPixelSizeNm: ps, decoding: decoding, testTimeFlips: flips)
        let scores = primaryScores(detector, images: images, pixelSizeNm: ps, thresholds: validationThresholds)
        let k = scores.indices.max { scores[$0].f1 < scores[$1].f1 } ?? 0
        best.append((scores[k].f1, validationThresholds[k], flips, scores[k]))
    }
    // Mirror averaging costs four network passes: it is kept only where it gains at least
    // `minimumFlipGain` in F1.
    let chosen = best[1].f1 >= best[0].f1 + minimumFlipGain ? best[1] : best[0]
    let medianRatio = 1 + (percentile(chosen.score.diameterErrors, 50) ?? 0)
    decoding.diameterScale = medianRatio > 0.2 ? 1 / medianRatio : 1
    decoding.threshold = chosen.threshold
    let detector = PrimaryDetector(model: model, workingPixelSizeNm: ps, decoding: decoding, testTimeFlips: chosen.flips)
    let final = primaryScores(detector, images: images, pixelSizeNm: ps, thresholds: [chosen.threshold])[0]
    return DetectorCalibration(threshold: chosen.threshold, testTimeFlips: chosen.flips, diameterScale: decoding.diameterScale,
                               score: validationScore(final, threshold: chosen.threshold))
}
