/// Histograms and Otsu's threshold.

/// 256-bin histogram of the image's 8-bit values (bin i counts pixels whose value8 is i).
public func histogram8(_ image: GrayImage) -> [Int] {
    let chunks = imageCoreThreadCount
    var partial = [[Int]](repeating: [Int](repeating: 0, count: 256), count: chunks)
    image.pixels.withUnsafeBufferPointer { p in
        partial.withUnsafeMutableBufferPointer { parts in
            let partsBase = parts.baseAddress!
            parallelChunks(chunks, minimumChunk: 1) { range in
                for chunk in range {
                    var bins = [Int](repeating: 0, count: 256)
                    let start = chunk * p.count / chunks, end = (chunk + 1) * p.count / chunks
                    for i in start..<end { bins[Int(quantize8(p[i]))] += 1 }
                    partsBase[chunk] = bins
                }
            }
        }
    }
    return (0..<256).map { b in partial.reduce(0) { $0 + $1[b] } }
}

/// Histogram with explicit edges e0 < ... < en: bin j counts values in [e_j, e_(j+1)), the last
/// bin is closed, values outside [e0, en] and NaNs are ignored (MATLAB `histcounts`).
public func histogram(_ values: [Double], edges: [Double]) -> [Int] {
    precondition(edges.count >= 2, "need at least two edges")
    var bins = [Int](repeating: 0, count: edges.count - 1)
    let last = edges[edges.count - 1]
    for v in values where v >= edges[0] && v <= last {
        if v == last { bins[bins.count - 1] += 1; continue }
        // Binary search for the bin: largest j with edges[j] <= v.
        var lo = 0, hi = edges.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if edges[mid] <= v { lo = mid } else { hi = mid }
        }
        bins[lo] += 1
    }
    return bins
}

/// Otsu's threshold of a 256-bin histogram, as MATLAB `graythresh` computes it.
///
/// With p_i = h_i / N, omega(k) = sum_{i<=k} p_i, mu(k) = sum_{i<=k} (i+1) p_i and
/// sigma^2(k) = (mu_T omega(k) - mu(k))^2 / (omega(k)(1 - omega(k))), the threshold bin k* is the mean
/// of all k attaining the largest finite sigma^2 (METHODS.md section 1.5).
/// - Returns: the level k* / 255 in 0...1; 0 when no finite sigma^2 exists (constant image).
///
/// ## References
/// N. Otsu, "A threshold selection method from gray-level histograms", IEEE Trans. SMC 9 (1979) 62-66.
public func otsuLevel(histogram bins: [Int]) -> Double {
    let total = Double(bins.reduce(0, +))
    guard total > 0, bins.count > 1 else { return 0 }
    var omega = 0.0, mu = 0.0
    var muTotal = 0.0
    for (i, h) in bins.enumerated() { muTotal += Double(i + 1) * Double(h) / total }
    var best = -Double.infinity
    var bestSum = 0.0, bestCount = 0
    for (k, h) in bins.enumerated() {
        let p = Double(h) / total
        omega += p
        mu += Double(k + 1) * p
        let denominator = omega * (1 - omega)
        let numerator = (muTotal * omega - mu) * (muTotal * omega - mu)
        let sigma = numerator / denominator
        guard sigma.isFinite else { continue }
        if sigma > best {
            best = sigma; bestSum = Double(k); bestCount = 1
        } else if sigma == best {
            bestSum += Double(k); bestCount += 1
        }
    }
    guard bestCount > 0 else { return 0 }
    return (bestSum / Double(bestCount)) / Double(bins.count - 1)
}

/// Otsu's level (0...1) of an image's 8-bit histogram; a pixel is "bright" when value8 > 255 * level.
public func otsuThreshold(_ image: GrayImage) -> Double {
    otsuLevel(histogram: histogram8(image))
}
