import Dispatch
import Foundation
import ImageCore
import Aggregates
import Statistics

/// A circle found by the Hough transform, in pixels (0-based centre).
public struct Circle: Sendable, Equatable, Codable {
    public var centerX: Double
    public var centerY: Double
    public var radius: Double
    /// Accumulator strength at the centre (the 5 x 5 median-filtered vote); for other
    /// locating methods their own score (the detector's centre probability).
    public var metric: Double

    public init(centerX: Double, centerY: Double, radius: Double, metric: Double = 0) {
        self.centerX = centerX; self.centerY = centerY; self.radius = radius; self.metric = metric
    }
}

/// Primary particles by the Hough transform after Kook et al. (atems `+pp/hough_kook2.m`,
/// METHODS.md 5.3): self-subtraction and unsharp masking of the image, Canny edges (MATLAB
/// `edge(..., 'canny')`), the two-stage circular Hough transform of MATLAB `imfindcircles`
/// for radii 8-50 px, and the circles whose centres fall in an aggregate assigned to it.
public struct HoughKook: Sendable {
    public var selfSubtraction = 0.8
    public var unsharpAlpha = 0.1
    public var minimumRadiusPx = 8.0
    public var maximumRadiusPx = 50.0
    /// imfindcircles sensitivity; centres need an accumulator value of at least 1 - sensitivity.
    public var sensitivity = 0.75

    public init() {}

    /// Finds circles in an image at `ps` nm/px: the image is resampled to
    /// `PaperScale.imageMethodsPixelSizeNm` (0.8 nm/px), so that the radius range (8-50 px
    /// there: primary diameters of 12.8-80 nm), the Canny smoothing and the search window keep
    /// their length in nm at every magnification; circles are mapped back to the image's
    /// pixels. (At 0.4 nm/px, tried: upsampled images gave 15.5-15.7 nm and downsampled ones
    /// 18.7-20.2 nm for the same 26 nm primaries; at 0.8 nm/px 23.8-25.0 nm.)
    public func circles(in image: GrayImage, pixelSizeNm ps: Double?) -> [Circle] {
        guard let ps, ps > 0 else { return circles(in: image) }
        let factor = PaperScale.imageMethodsWorkingPixelSizeNm(ps) / ps
        guard abs(factor - 1) > 1e-9 else { return circles(in: image) }
        let w = max(Int((Double(image.width) / factor).rounded()), 3), h = max(Int((Double(image.height) / factor).rounded()), 3)
        let working = resize(image, width: w, height: h, method: factor > 1 ? .area : .bilinear)
        let sx = Double(image.width) / Double(w), sy = Double(image.height) / Double(h)
        return circles(in: working).map { c in
            var out = c
            out.centerX = (c.centerX + 0.5) * sx - 0.5
            out.centerY = (c.centerY + 0.5) * sy - 0.5
            out.radius = c.radius * (sx + sy) / 2
            return out
        }
    }

    /// Finds circles in a whole image (soot dark, values 0...1) with the paper's pixel constants.
    public func circles(in image: GrayImage) -> [Circle] {
        let w = image.width, h = image.height
        guard w >= 3, h >= 3 else { return [] }
        let v = image.bytes8()
        // 1. Self-subtraction in saturating 8-bit arithmetic.
        var j = [Double](repeating: 0, count: w * h)
        for i in 0..<(w * h) {
            let inv = 255 - Int(v[i])
            let sub = Int((selfSubtraction * Double(v[i])).rounded())
            j[i] = Double(max(inv - sub, 0))
        }
        // 2. Unsharp mask, zero padding, 8-bit cast.
        let a = unsharpAlpha
        let k = [[-a, a - 1, -a], [a - 1, a + 5, a - 1], [-a, a - 1, -a]].map { $0.map { $0 / (1 + a) } }
        var sharp = [Double](repeating: 0, count: w * h)
        for r in 0..<h {
            for c in 0..<w {
                var s = 0.0
                for dr in -1...1 {
                    let rr = r + dr
                    guard rr >= 0, rr < h else { continue }
                    for dc in -1...1 {
                        let cc = c + dc
                        guard cc >= 0, cc < w else { continue }
                        s += k[dr + 1][dc + 1] * j[rr * w + cc]
                    }
                }
                sharp[r * w + c] = Double(min(max(s.rounded(), 0), 255)) / 255
            }
        }
        // 3. Canny; 4. circle finder.
        let edges = cannyEdges(sharp, width: w, height: h)
        return findCircles(edges: edges, width: w, height: h)
    }

    /// Sizes every aggregate from the circles whose rounded centre lies in it.
    /// - Returns: per aggregate (in `analysis.aggregates` order) the size and its circles.
    public func size(circles: [Circle], analysis: AggregateAnalysis) -> [(PrimaryParticleSize, [Circle])] {
        assignToAggregates(circles, analysis: analysis).map { (sizeFromLocated($0, pixelSizeNm: analysis.pixelSizeNm), $0) }
    }

    /// MATLAB `edge(f, 'canny')` with sigma = sqrt(2) and default thresholds (METHODS.md 5.3.3).
    func cannyEdges(_ f: [Double], width w: Int, height h: Int) -> [UInt8] {
        let sigma = 2.0.squareRoot()
        let xs = (-6...6).map(Double.init)
        var g = xs.map { exp(-$0 * $0 / (2 * sigma * sigma)) }
        let gs = g.reduce(0, +)
        g = g.map { $0 / gs }
        // Numerical gradient, then positive and negative parts scaled to +1 and -1.
        var d = [Double](repeating: 0, count: g.count)
        for i in 0..<g.count {
            if i == 0 { d[i] = g[1] - g[0] } else if i == g.count - 1 { d[i] = g[i] - g[i - 1] } else {
                d[i] = (g[i + 1] - g[i - 1]) / 2
            }
        }
        let pos = d.filter { $0 > 0 }.reduce(0, +), neg = -d.filter { $0 < 0 }.reduce(0, +)
        d = d.map { $0 > 0 ? $0 / pos : ($0 < 0 ? $0 / neg : 0) }
        // True convolution = correlation with the reversed kernel; g is symmetric.
        let dr = Array(d.reversed())
        let smoothColumns = convolve(f, width: w, height: h, kernel: g, alongRows: false)
        let gx = convolve(smoothColumns, width: w, height: h, kernel: dr, alongRows: true)
        let smoothRows = convolve(f, width: w, height: h, kernel: g, alongRows: true)
        let gy = convolve(smoothRows, width: w, height: h, kernel: dr, alongRows: false)
        var m = [Double](repeating: 0, count: w * h)
        var mMax = 0.0
        for i in 0..<m.count { m[i] = (gx[i] * gx[i] + gy[i] * gy[i]).squareRoot(); mMax = max(mMax, m[i]) }
        if mMax > 0 { for i in 0..<m.count { m[i] /= mMax } }
        // Thresholds from the 64-bin histogram.
        var hist = [Int](repeating: 0, count: 65)
        for v in m { hist[Int((63 * v).rounded()) + 1] += 1 }
        var cumulative = 0, highBin = 64
        for b in 1...64 {
            cumulative += hist[b]
            if Double(cumulative) > 0.7 * Double(w * h) { highBin = b; break }
        }
        let high = Double(highBin) / 64, low = 0.4 * high
        // Non-maximum suppression on interior pixels.
        var strongOrWeak = [UInt8](repeating: 0, count: w * h)
        if h > 2 && w > 2 {
            for r in 1..<(h - 1) {
                for c in 1..<(w - 1) {
                    let i = r * w + c
                    let mv = m[i]
                    guard mv > low else { continue }
                    let ix = gx[i], iy = gy[i]
                    func M(_ rr: Int, _ cc: Int) -> Double { m[rr * w + cc] }
                    var keep = false
                    if (iy <= 0 && ix > -iy) || (iy >= 0 && ix < -iy) {
                        let t = abs(iy / ix)
                        let g1 = (1 - t) * M(r, c + 1) + t * M(r - 1, c + 1)
                        let g2 = (1 - t) * M(r, c - 1) + t * M(r + 1, c - 1)
                        if mv >= g1 && mv >= g2 { keep = true }
                    }
                    if !keep && ((ix > 0 && -iy >= ix) || (ix < 0 && -iy <= ix)) {
                        let t = abs(ix / iy)
                        let g1 = (1 - t) * M(r - 1, c) + t * M(r - 1, c + 1)
                        let g2 = (1 - t) * M(r + 1, c) + t * M(r + 1, c - 1)
                        if mv >= g1 && mv >= g2 { keep = true }
                    }
                    if !keep && ((ix <= 0 && ix > iy) || (ix >= 0 && ix < iy)) {
                        let t = abs(ix / iy)
                        let g1 = (1 - t) * M(r - 1, c) + t * M(r - 1, c - 1)
                        let g2 = (1 - t) * M(r + 1, c) + t * M(r + 1, c + 1)
                        if mv >= g1 && mv >= g2 { keep = true }
                    }
                    if !keep && ((iy < 0 && ix <= iy) || (iy > 0 && ix >= iy)) {
                        let t = abs(iy / ix)
                        let g1 = (1 - t) * M(r, c - 1) + t * M(r - 1, c - 1)
                        let g2 = (1 - t) * M(r, c + 1) + t * M(r + 1, c + 1)
                        if mv >= g1 && mv >= g2 { keep = true }
                    }
                    if keep { strongOrWeak[i] = 1 }
                }
            }
        }
        // Hysteresis: 8-components of the maxima holding a pixel above `high`.
        var candidates = BinaryMask(width: w, height: h)
        candidates.bits = strongOrWeak
        let labels = label(candidates)
        var strong = [Bool](repeating: false, count: labels.count + 1)
        for i in 0..<(w * h) where strongOrWeak[i] != 0 && m[i] > high { strong[Int(labels.labels[i])] = true }
        var edges = [UInt8](repeating: 0, count: w * h)
        for i in 0..<(w * h) where strongOrWeak[i] != 0 && strong[Int(labels.labels[i])] { edges[i] = 1 }
        return edges
    }

    /// The two-stage circle finder of MATLAB `imfindcircles` on a binary edge map (METHODS.md 5.3.4).
    func findCircles(edges: [UInt8], width w: Int, height h: Int) -> [Circle] {
        // a. 6 x 6 Gaussian prefilter (sigma 1.5, offsets -2.5...2.5), anchor at the third tap.
        let taps = (0..<6).map { exp(-pow(Double($0) - 2.5, 2) / (2 * 1.5 * 1.5)) }
        let tapSum = taps.reduce(0, +)
        let g6 = taps.map { $0 / tapSum }
        let input = edges.map(Double.init)
        let rowPass = correlate(input, width: w, height: h, kernel: g6, anchor: 2, alongRows: true)
        let a = correlate(rowPass, width: w, height: h, kernel: g6, anchor: 2, alongRows: false)
        // b. Sobel (pointing toward darker), replicate padding.
        var gx = [Double](repeating: 0, count: w * h), gy = gx, gm = gx
        var gMax = 0.0
        for r in 0..<h {
            let up = max(r - 1, 0) * w, mid = r * w, down = min(r + 1, h - 1) * w
            for c in 0..<w {
                let left = max(c - 1, 0), right = min(c + 1, w - 1)
                let sx = (a[up + left] - a[up + right]) + 2 * (a[mid + left] - a[mid + right])
                    + (a[down + left] - a[down + right])
                let sy = (a[up + left] - a[down + left]) + 2 * (a[up + c] - a[down + c])
                    + (a[up + right] - a[down + right])
                let i = mid + c
                gx[i] = sx
                gy[i] = sy
                let g = (sx * sx + sy * sy).squareRoot()
                gm[i] = g
                gMax = max(gMax, g)
            }
        }
        guard gMax > 0 else { return [] }
        // c. Edge pixels above Otsu's level of the normalised gradient.
        var hist = [Int](repeating: 0, count: 256)
        for v in gm { hist[Int((255 * v / gMax).rounded())] += 1 }
        let threshold = gMax * otsuLevel(histogram: hist)
        // d. Votes.
        let radii = stride(from: minimumRadiusPx, through: maximumRadiusPx, by: 0.5).map { $0 }
        // Two accumulators (one per core) summed at the end; edge pixels split by rows.
        let weights = radii.map { Float(1 / (2 * Double.pi * $0)) }
        let parts = 2
        var partial = [[Float]](repeating: [], count: parts)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            var acc = [Float](repeating: 0, count: w * h)
            for r in (part * h / parts)..<((part + 1) * h / parts) {
                for c in 0..<w {
                    let i = r * w + c
                    guard gm[i] > threshold else { continue }
                    let ux = gx[i] / gm[i], uy = gy[i] / gm[i]
                    let x = Double(c + 1), y = Double(r + 1)
                    for (k, radius) in radii.enumerated() {
                        // Int(v + 0.5) rounds half away from zero for the v >= 0.5 that count.
                        let xc = Int(x - radius * ux + 0.5), yc = Int(y - radius * uy + 0.5)
                        if xc >= 1 && xc <= w && yc >= 1 && yc < h { acc[(yc - 1) * w + xc - 1] += weights[k] }
                    }
                }
            }
            lock.lock()
            partial[part] = acc
            lock.unlock()
        }
        var accumulator = partial[0]
        for part in 1..<parts { for i in 0..<accumulator.count { accumulator[i] += partial[part][i] } }
        // e. Centres.
        let filtered = min(w, h) > 5 ? medianFilterNonNegative(accumulator, width: w, height: h, size: 5) : accumulator
        let hValue = Float(1 - sensitivity) - Float.ulpOfOne
        let suppressed = reconstructByDilation(marker: filtered.map { $0 - hValue }, mask: filtered, width: w, height: h)
        let limit = 1 - sensitivity
        // Only plateaus that can reach the metric matter: skip the zero background quickly.
        let maxima = regionalMaxima(suppressed, width: w, height: h)
        var sums = [Double](repeating: 0, count: maxima.count + 1)
        var sumX = sums, sumY = sums, peak = [Float](repeating: 0, count: maxima.count + 1)
        for i in 0..<(w * h) {
            let l = Int(maxima.labels[i])
            guard l > 0 else { continue }
            let weight = Double(accumulator[i])
            sums[l] += weight
            sumX[l] += weight * Double(i % w)
            sumY[l] += weight * Double(i / w)
            peak[l] = max(peak[l], filtered[i])
        }
        var centres: [(x: Double, y: Double, metric: Double)] = []
        for l in 1..<(maxima.count + 1) where sums[l] > 0 && Double(peak[l]) >= limit {
            let x = sumX[l] / sums[l], y = sumY[l] / sums[l]
            let rr = min(max(Int(y.rounded()), 0), h - 1), cc = min(max(Int(x.rounded()), 0), w - 1)
            let metric = Double(filtered[rr * w + cc])
            if metric >= limit { centres.append((x, y, metric)) }
        }
        centres.sort { $0.metric > $1.metric }
        // f. Radius by the radial histogram of the gradient magnitude.
        let rMin = Int(minimumRadiusPx.rounded(.up)), rMax = Int(maximumRadiusPx)
        var circles: [Circle] = []
        for centre in centres {
            let r0 = max(Int((centre.y - maximumRadiusPx).rounded(.down)), 0)
            let r1 = min(Int((centre.y + maximumRadiusPx).rounded(.up)), h - 1)
            let c0 = max(Int((centre.x - maximumRadiusPx).rounded(.down)), 0)
            let c1 = min(Int((centre.x + maximumRadiusPx).rounded(.up)), w - 1)
            var bins = [Double](repeating: 0, count: rMax + 1)
            if r0 <= r1 && c0 <= c1 {
                for r in r0...r1 {
                    for c in c0...c1 {
                        let dx = Double(c) - centre.x, dy = Double(r) - centre.y
                        let rho = Int((dx * dx + dy * dy).squareRoot().rounded())
                        if rho >= rMin && rho <= rMax { bins[rho] += gm[r * w + c] }
                    }
                }
            }
            var best = rMin, bestValue = -1.0
            for rho in rMin...rMax {
                let value = bins[rho] / (2 * Double.pi * Double(rho))
                if value > bestValue { bestValue = value; best = rho }
            }
            circles.append(Circle(centerX: centre.x, centerY: centre.y, radius: Double(best), metric: centre.metric))
        }
        return circles
    }
}

/// 1-D correlation with replicate padding along rows or columns; tap k sits at offset k - anchor.
func correlate(_ x: [Double], width w: Int, height h: Int, kernel: [Double], anchor: Int, alongRows: Bool) -> [Double] {
    var out = [Double](repeating: 0, count: w * h)
    let n = kernel.count
    out.withUnsafeMutableBufferPointer { dst in
        x.withUnsafeBufferPointer { src in
            parallelChunks(h, minimumChunk: 16) { rows in
                for r in rows {
                    for c in 0..<w {
                        var s = 0.0
                        for k in 0..<n {
                            let off = k - anchor
                            let idx = alongRows
                                ? r * w + min(max(c + off, 0), w - 1)
                                : min(max(r + off, 0), h - 1) * w + c
                            s += kernel[k] * src[idx]
                        }
                        dst[r * w + c] = s
                    }
                }
            }
        }
    }
    return out
}

/// Centred 1-D correlation with replicate padding (odd kernel).
func convolve(_ x: [Double], width w: Int, height h: Int, kernel: [Double], alongRows: Bool) -> [Double] {
    correlate(x, width: w, height: h, kernel: kernel, anchor: kernel.count / 2, alongRows: alongRows)
}
