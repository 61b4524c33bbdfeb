import Foundation

/// Edge-preserving bilateral filter (defaults = MATLAB `imbilatfilt`, METHODS.md section 1.5).
///
/// Each output pixel is the normalised mean of its `(2 radius + 1)^2` window weighted by
/// exp(-(dr^2 + dc^2) / (2 spatialSigma^2)) x exp(-dI^2 / (2 rangeVariance)); intensities are
/// in 8-bit units (0...255) for the range term, padding replicates the edge.
/// When every pixel is an exact 8-bit level (the usual case: images are decoded from 8-bit
/// files or quantised by the methods), the range weights come from a 511-entry table.
/// - Parameters:
///   - radius: window half-size in pixels (MATLAB: 2, a 5 x 5 window).
///   - spatialSigma: pixels (MATLAB: 1).
///   - rangeVariance: in squared 8-bit units (MATLAB: 0.01 x 255^2 = 650.25).
public func bilateralFilter(_ image: GrayImage, radius: Int = 2, spatialSigma: Double = 1,
                            rangeVariance: Double = 650.25) -> GrayImage {
    let w = image.width, h = image.height
    let size = 2 * radius + 1
    let pw = w + 2 * radius
    // Replicate-padded copy in 8-bit units.
    var padded = [Float](repeating: 0, count: pw * (h + 2 * radius))
    var exact8 = true
    for pr in 0..<(h + 2 * radius) {
        let r = min(max(pr - radius, 0), h - 1)
        for pc in 0..<pw {
            let v = image.pixels[r * w + min(max(pc - radius, 0), w - 1)] * 255
            padded[pr * pw + pc] = v
            if v != v.rounded() { exact8 = false }
        }
    }
    var spatial = [Float](repeating: 0, count: size * size)
    var offsets = [Int](repeating: 0, count: size * size)
    for dr in -radius...radius {
        for dc in -radius...radius {
            let k = (dr + radius) * size + dc + radius
            spatial[k] = Float(exp(-Double(dr * dr + dc * dc) / (2 * spatialSigma * spatialSigma)))
            offsets[k] = dr * pw + dc
        }
    }
    let rangeScale = Float(1 / (2 * rangeVariance))
    let table = (-255...255).map { Float(exp(-Double($0 * $0) / (2 * rangeVariance))) }
    var out = image
    let taps = size * size
    padded.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            spatial.withUnsafeBufferPointer { spatialWeights in
                offsets.withUnsafeBufferPointer { tapOffsets in
                    table.withUnsafeBufferPointer { rangeTable in
                        let s = src.baseAddress!, d = dst.baseAddress!
                        let sw = spatialWeights.baseAddress!, to = tapOffsets.baseAddress!
                        let lut = rangeTable.baseAddress! + 255
                        parallelChunks(h, minimumChunk: 4) { rows in
                            for r in rows {
                                for c in 0..<w {
                                    let center = s + (r + radius) * pw + c + radius
                                    let cv = center.pointee
                                    var sum: Float = 0, weightSum: Float = 0
                                    if exact8 {
                                        for k in 0..<taps {
                                            let v = center[to[k]]
                                            let weight = sw[k] * lut[Int(v - cv)]
                                            sum += weight * v
                                            weightSum += weight
                                        }
                                    } else {
                                        for k in 0..<taps {
                                            let v = center[to[k]]
                                            let diff = v - cv
                                            let weight = sw[k] * expf(-diff * diff * rangeScale)
                                            sum += weight * v
                                            weightSum += weight
                                        }
                                    }
                                    d[r * w + c] = sum / weightSum / 255
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return out
}
