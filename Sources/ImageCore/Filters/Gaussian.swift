import Foundation

/// Sampled, normalised 1-D Gaussian of `2 * ceil(2 sigma) + 1` taps (MATLAB `imgaussfilt`).
public func gaussianKernel(sigma: Double) -> [Float] {
    gaussianKernel(sigma: sigma, radius: Int((2 * sigma).rounded(.up)))
}

/// Sampled, normalised 1-D Gaussian of `2 radius + 1` taps.
public func gaussianKernel(sigma: Double, radius half: Int) -> [Float] {
    precondition(sigma > 0 && half >= 0, "sigma must be positive")
    var k = (-half...half).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
    let sum = k.reduce(0, +)
    k = k.map { $0 / sum }
    return k.map(Float.init)
}

/// Correlates every row, then every column, with `kernel` (odd length, centred), replicate padding.
public func separableFilter(_ image: GrayImage, rowKernel: [Float], columnKernel: [Float]) -> GrayImage {
    precondition(rowKernel.count % 2 == 1 && columnKernel.count % 2 == 1, "kernels must have odd length")
    let w = image.width, h = image.height
    var temp = [Float](repeating: 0, count: w * h)
    let rh = rowKernel.count / 2
    image.pixels.withUnsafeBufferPointer { src in
        temp.withUnsafeMutableBufferPointer { dst in
            let dstBase = dst.baseAddress!
            parallelChunks(h, minimumChunk: 8) { rows in
                var padded = [Float](repeating: 0, count: w + 2 * rh)
                var acc = [Float](repeating: 0, count: w)
                for r in rows {
                    let base = r * w
                    for c in 0..<(w + 2 * rh) { padded[c] = src[base + min(max(c - rh, 0), w - 1)] }
                    for c in 0..<w { acc[c] = 0 }
                    // Tap-major order: each pass is a vectorisable multiply-add over the row.
                    padded.withUnsafeBufferPointer { p in
                        acc.withUnsafeMutableBufferPointer { a in
                            for k in 0..<rowKernel.count {
                                let weight = rowKernel[k]
                                for c in 0..<w { a[c] += weight * p[c + k] }
                            }
                        }
                    }
                    for c in 0..<w { dstBase[base + c] = acc[c] }
                }
            }
        }
    }
    var out = image
    let ch = columnKernel.count / 2
    temp.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            let dstBase = dst.baseAddress!
            parallelChunks(h, minimumChunk: 8) { rows in
                var acc = [Float](repeating: 0, count: w)
                for r in rows {
                    for c in 0..<w { acc[c] = 0 }
                    for k in 0..<columnKernel.count {
                        let sr = min(max(r + k - ch, 0), h - 1) * w
                        let weight = columnKernel[k]
                        for c in 0..<w { acc[c] += weight * src[sr + c] }
                    }
                    for c in 0..<w { dstBase[r * w + c] = acc[c] }
                }
            }
        }
    }
    return out
}

/// Gaussian blur with standard deviation `sigma` pixels (MATLAB `imgaussfilt`: kernel of
/// 2 ceil(2 sigma) + 1 taps, replicate padding). Values stay in floating point; quantise with
/// `GrayImage.quantized8()` where a method is specified on 8-bit images.
public func gaussianFilter(_ image: GrayImage, sigma: Double) -> GrayImage {
    let k = gaussianKernel(sigma: sigma)
    return separableFilter(image, rowKernel: k, columnKernel: k)
}

/// Gaussian blur truncated at `truncate` σ (scipy's and scikit-image's `gaussian`: a kernel
/// of 2 ⌊truncate σ + 0.5⌋ + 1 taps), replicate padding (their mode `nearest`).
public func gaussianFilter(_ image: GrayImage, sigma: Double, truncate: Double) -> GrayImage {
    let k = gaussianKernel(sigma: sigma, radius: Int(truncate * sigma + 0.5))
    return separableFilter(image, rowKernel: k, columnKernel: k)
}
