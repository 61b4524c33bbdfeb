import Foundation

/// Edge-preserving bilateral filter (defaults = MATLAB `imbilatfilt`, METHODS.md section 1.5).
///
/// Each output pixel is the normalised mean of its `(2 radius + 1)^2` window weighted by
/// exp(-(dr^2 + dc^2) / (2 spatialSigma^2)) x exp(-dI^2 / (2 rangeVariance)); intensities are
/// in 8-bit units (0...255) for the range term, padding replicates the edge.
/// - Parameters:
///   - radius: window half-size in pixels (MATLAB: 2, a 5 x 5 window).
///   - spatialSigma: pixels (MATLAB: 1).
///   - rangeVariance: in squared 8-bit units (MATLAB: 0.01 x 255^2 = 650.25).
public func bilateralFilter(_ image: GrayImage, radius: Int = 2, spatialSigma: Double = 1,
                            rangeVariance: Double = 650.25) -> GrayImage {
    let w = image.width, h = image.height
    let size = 2 * radius + 1
    var spatial = [Float](repeating: 0, count: size * size)
    for dr in -radius...radius {
        for dc in -radius...radius {
            spatial[(dr + radius) * size + dc + radius] =
                Float(exp(-Double(dr * dr + dc * dc) / (2 * spatialSigma * spatialSigma)))
        }
    }
    // Range weight exp(-(255 d)^2 / (2 var)) for a difference d in 0...1 units.
    let scale = Float(255 * 255 / (2 * rangeVariance))
    var out = image
    image.pixels.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            let dstBase = dst.baseAddress!
            parallelChunks(h, minimumChunk: 4) { rows in
                for r in rows {
                    for c in 0..<w {
                        let center = src[r * w + c]
                        var sum: Float = 0, weightSum: Float = 0
                        var k = 0
                        for dr in -radius...radius {
                            let rr = min(max(r + dr, 0), h - 1) * w
                            for dc in -radius...radius {
                                let v = src[rr + min(max(c + dc, 0), w - 1)]
                                let d = v - center
                                let weight = spatial[k] * expf(-d * d * scale)
                                sum += weight * v
                                weightSum += weight
                                k += 1
                            }
                        }
                        dstBase[r * w + c] = sum / weightSum
                    }
                }
            }
        }
    }
    return out
}
