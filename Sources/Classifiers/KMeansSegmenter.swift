import Foundation
import ImageCore
import Randomness

/// The three-feature k-means classifier of atems (`+agg/seg_kmeans.m`, configuration v6.1 used
/// in the paper; METHODS.md section 3.4).
///
/// Features per pixel: (1) texture, the closed local entropy of the bottom-hat of the denoised
/// image; (2) a smoothed mask from the "adjusted threshold" (the Otsu level raised until the
/// dark-pixel count departs from its initial linear trend); (3) the denoised intensity. Two
/// clusters; the darker one is soot. Then the rolling ball and removal of blobs below 50 px.
///
/// Speed: all three features are 8-bit, so the clustering runs on the distinct feature
/// triples weighted by their pixel counts (typically 10^4-10^5 instead of 4.4 x 10^6 pixels),
/// which gives exactly the centres plain Lloyd iterations would give.
public struct KMeansSegmenter: Segmenter {
    public var name: String { "kmeans" }
    public var usesPaperPixelConstants: Bool { true }
    /// Threshold multipliers searched (v6.1: 1.000, 1.002, ..., 1.350).
    public var thresholdMultipliers: [Double] = (0...175).map { 1 + Double($0) * 0.002 }
    /// Relative deviation from the linear trend that stops the search (v6.1: 0.1).
    public var deviation = 0.1
    /// Morphological scale (v6.1: 4).
    public var morphologicalScale = 4.0
    /// Final area opening in pixels (v6.1: 50).
    public var minimumPixels = 50
    /// k-means restarts; the partition with the lowest within-cluster sum of squares is kept.
    public var restarts = 3
    public var maximumIterations = 100
    public var seed: UInt64 = 0
    public var diskShape: DiskShape = .euclidean

    public init() {}

    /// The classifier's own rolling ball and area opening are part of the method.
    public var defaultPostProcessing: PostProcessing { PostProcessing() }

    /// The three feature images (8-bit values), exposed for diagnostics and tests.
    public struct Features: Sendable {
        public var texture: [UInt8]
        public var adjustedThreshold: [UInt8]
        public var denoised: [UInt8]
        /// Index into `thresholdMultipliers` chosen, nil when the search failed (plain Otsu).
        public var thresholdIndex: Int?
        public var otsuLevel: Double
    }

    /// Computes the three features of an image.
    public func features(_ image: GrayImage, pixelSizeNm: Double) throws -> Features {
        let w = image.width, h = image.height
        let q = max(Int((5 * 0.8 / pixelSizeNm).rounded()), 1)
        let flattened = try subtractBackground(image, diskShape: diskShape)
        let denoised = bilateralFilter(flattened).quantized8()
        // Feature 1: texture.
        let hat = bottomHat(denoised, .disk(radius: Int((5 * morphologicalScale).rounded()), shape: diskShape))
        var entropy = localEntropy(hat, windowSize: 15)
        entropy = close(entropy, .disk(radius: q, shape: diskShape))
        let maxEntropy = Double(entropy.pixels.max() ?? 0)
        var texture = [UInt8](repeating: 0, count: w * h)
        if maxEntropy > 0 {
            for i in 0..<texture.count { texture[i] = castToByte(255 * Double(entropy.pixels[i]) / maxEntropy) }
        }
        // Feature 2: adjusted threshold.
        let smooth = gaussianFilter(denoised, sigma: Double(q)).quantized8()
        let smooth8 = smooth.bytes8()
        let level = otsuThreshold(smooth)
        let hist = histogram8(smooth)
        var cumulative = [Int](repeating: 0, count: 256)
        var running = 0
        for v in 0..<256 { running += hist[v]; cumulative[v] = running }
        func darkCount(_ limit: Double) -> Int {
            let v = Int(limit.rounded(.down))
            return v < 0 ? 0 : cumulative[min(v, 255)]
        }
        let counts = thresholdMultipliers.map { Double(darkCount(255 * min(level * $0, 1))) }
        let index = adjustedThresholdIndex(counts: counts)
        let chosen = index ?? 0
        let limit = 255 * min(level * thresholdMultipliers[chosen], 1)
        var bt = BinaryMask(width: w, height: h)
        var seedsA = [Bool](repeating: false, count: w * h)
        for i in 0..<(w * h) {
            let v = Double(smooth8[i])
            if v <= limit { bt.bits[i] = 1 }
            if v <= 255 * level { seedsA[i] = true }
        }
        let bc = close(bt, .disk(radius: q, shape: diskShape))
        let components = label(bc)
        var keep = [Bool](repeating: false, count: components.count + 1)
        for i in 0..<(w * h) where seedsA[i] { keep[Int(components.labels[i])] = true }
        keep[0] = false
        var k = GrayImage(width: w, height: h)
        for i in 0..<(w * h) where keep[Int(components.labels[i])] { k.pixels[i] = 1 }
        let adjusted = gaussianFilter(k, sigma: 3.75 * morphologicalScale).bytes8()
        return Features(texture: texture, adjustedThreshold: adjusted, denoised: denoised.bytes8(),
                        thresholdIndex: index, otsuLevel: level)
    }

    /// The adjusted-threshold search (METHODS.md 3.4 step 4b-d): moving mean of the counts,
    /// a line through the first ten, the first multiplier whose relative excess exceeds
    /// `deviation`. nil when none does.
    func adjustedThresholdIndex(counts: [Double]) -> Int? {
        let n = counts.count
        guard n >= 10 else { return nil }
        var smoothed = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let lo = max(i - 5, 0), hi = min(i + 4, n - 1)
            smoothed[i] = counts[lo...hi].reduce(0, +) / Double(hi - lo + 1)
        }
        let t = Array(thresholdMultipliers.prefix(10)), y = Array(smoothed.prefix(10))
        let mt = t.reduce(0, +) / 10, my = y.reduce(0, +) / 10
        var sxy = 0.0, sxx = 0.0
        for i in 0..<10 { sxy += (t[i] - mt) * (y[i] - my); sxx += (t[i] - mt) * (t[i] - mt) }
        let slope = sxx > 0 ? sxy / sxx : 0
        let intercept = my - slope * mt
        for j in 0..<n {
            let predicted = intercept + slope * thresholdMultipliers[j]
            if (smoothed[j] - predicted) / (predicted + 2.2e-16) > deviation { return j }
        }
        return nil
    }

    public func segment(_ image: GrayImage, pixelSizeNm: Double?) throws -> Segmentation {
        let ps = try requirePixelSize(pixelSizeNm, neededBy: name)
        guard image.width >= 3, image.height >= 3 else {
            throw ClassifierError.unusableImage(reason: "k-means needs at least 3 x 3 pixels")
        }
        let f = try features(image, pixelSizeNm: ps)
        let clustered = clusterDarkPixels(f)
        var mask = BinaryMask(width: image.width, height: image.height, pixelSize: image.pixelSize)
        mask.bits = clustered.assignment
        mask = cnnRollingBall(mask, pixelSizeNm: ps, diskShape: diskShape)
        mask = removeSmallComponents(mask, minimumPixels: minimumPixels)
        var warnings: [String] = []
        if f.thresholdIndex == nil { warnings.append("adjusted threshold failed, using Otsu") }
        return Segmentation(
            mask: mask,
            diagnostics: ["otsu_level": f.otsuLevel,
                          "threshold_multiplier": thresholdMultipliers[f.thresholdIndex ?? 0],
                          "kmeans_iterations": Double(clustered.iterations),
                          "distinct_feature_vectors": Double(clustered.distinct)],
            warnings: warnings)
    }

    /// Two-cluster k-means on the z-scored features; returns 1 for pixels of the darker cluster.
    func clusterDarkPixels(_ f: Features) -> (assignment: [UInt8], iterations: Int, distinct: Int) {
        let n = f.denoised.count
        // Distinct triples and their counts.
        var slot = [Int32](repeating: -1, count: 1 << 24)
        var keys: [Int] = []
        var weights: [Double] = []
        var pixelKey = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let key = Int(f.texture[i]) << 16 | Int(f.adjustedThreshold[i]) << 8 | Int(f.denoised[i])
            var s = slot[key]
            if s < 0 {
                s = Int32(keys.count)
                slot[key] = s
                keys.append(key)
                weights.append(0)
            }
            weights[Int(s)] += 1
            pixelKey[i] = s
        }
        let m = keys.count
        // z-score per channel (sample standard deviation).
        var raw = [Double](repeating: 0, count: m * 3)
        for j in 0..<m {
            raw[3 * j] = Double(keys[j] >> 16)
            raw[3 * j + 1] = Double((keys[j] >> 8) & 255)
            raw[3 * j + 2] = Double(keys[j] & 255)
        }
        var points = raw
        for ch in 0..<3 {
            var sum = 0.0
            for j in 0..<m { sum += weights[j] * raw[3 * j + ch] }
            let mean = sum / Double(n)
            var ss = 0.0
            for j in 0..<m { ss += weights[j] * (raw[3 * j + ch] - mean) * (raw[3 * j + ch] - mean) }
            let sd = n > 1 ? (ss / Double(n - 1)).squareRoot() : 0
            for j in 0..<m { points[3 * j + ch] = sd > 0 ? (raw[3 * j + ch] - mean) / sd : 0 }
        }
        var rng = SplitMix64(seed: seed)
        var best: (labels: [UInt8], sse: Double, iterations: Int)?
        for _ in 0..<max(restarts, 1) {
            let run = weightedKMeans2(points: points, weights: weights, rng: &rng)
            if best == nil || run.sse < best!.sse { best = run }
        }
        guard let chosen = best else { return ([UInt8](repeating: 0, count: n), 0, m) }
        // The darker cluster (lower mean denoised intensity) is soot.
        var sumI = [0.0, 0.0], wI = [0.0, 0.0]
        for j in 0..<m {
            let c = Int(chosen.labels[j])
            sumI[c] += weights[j] * raw[3 * j + 2]
            wI[c] += weights[j]
        }
        let mean0 = wI[0] > 0 ? sumI[0] / wI[0] : .infinity
        let mean1 = wI[1] > 0 ? sumI[1] / wI[1] : .infinity
        let soot: UInt8 = mean0 <= mean1 ? 0 : 1
        var assignment = [UInt8](repeating: 0, count: n)
        for i in 0..<n where chosen.labels[Int(pixelKey[i])] == soot { assignment[i] = 1 }
        return (assignment, chosen.iterations, m)
    }
}

/// Lloyd's k-means with k = 2 on weighted 3-D points, k-means++ seeding; stops when no centre
/// moves more than 1e-4 or after 100 iterations (MATLAB `imsegkmeans` defaults).
func weightedKMeans2(points: [Double], weights: [Double], rng: inout SplitMix64,
                     maximumIterations: Int = 100) -> (labels: [UInt8], sse: Double, iterations: Int) {
    let m = weights.count
    guard m > 0 else { return ([], 0, 0) }
    let total = weights.reduce(0, +)
    func pick(_ w: [Double], _ sum: Double) -> Int {
        var target = Double(rng.next() >> 11) / Double(1 << 53) * sum
        for j in 0..<m {
            target -= w[j]
            if target < 0 { return j }
        }
        return m - 1
    }
    func dist2(_ j: Int, _ c: [Double]) -> Double {
        let a = points[3 * j] - c[0], b = points[3 * j + 1] - c[1], d = points[3 * j + 2] - c[2]
        return a * a + b * b + d * d
    }
    let first = pick(weights, total)
    var c0 = [points[3 * first], points[3 * first + 1], points[3 * first + 2]]
    var d2w = [Double](repeating: 0, count: m)
    var sum = 0.0
    for j in 0..<m { d2w[j] = weights[j] * dist2(j, c0); sum += d2w[j] }
    let second = sum > 0 ? pick(d2w, sum) : first
    var c1 = [points[3 * second], points[3 * second + 1], points[3 * second + 2]]
    var labels = [UInt8](repeating: 0, count: m)
    var iterations = 0
    for it in 1...maximumIterations {
        iterations = it
        var s0 = [0.0, 0.0, 0.0], s1 = [0.0, 0.0, 0.0], w0 = 0.0, w1 = 0.0
        for j in 0..<m {
            let wj = weights[j]
            if dist2(j, c1) < dist2(j, c0) {
                labels[j] = 1
                w1 += wj
                for k in 0..<3 { s1[k] += wj * points[3 * j + k] }
            } else {
                labels[j] = 0
                w0 += wj
                for k in 0..<3 { s0[k] += wj * points[3 * j + k] }
            }
        }
        let n0 = w0 > 0 ? s0.map { $0 / w0 } : c0
        let n1 = w1 > 0 ? s1.map { $0 / w1 } : c1
        var move = 0.0
        for k in 0..<3 { move = max(move, abs(n0[k] - c0[k]), abs(n1[k] - c1[k])) }
        c0 = n0
        c1 = n1
        if move < 1e-4 { break }
    }
    var sse = 0.0
    for j in 0..<m { sse += weights[j] * (labels[j] == 1 ? dist2(j, c1) : dist2(j, c0)) }
    return (labels, sse, iterations)
}
