import Foundation

/// Exact squared Euclidean distance from every pixel to the nearest true pixel of `mask`
/// (MATLAB `bwdist`), in px^2. Pixels of the mask get 0; with no true pixel at all every
/// value is +infinity.
///
/// Separable algorithm of Felzenszwalb and Huttenlocher: exact 1-D distances along columns,
/// then the lower envelope of parabolas along rows. O(width x height), both passes parallel.
///
/// ## References
/// P. F. Felzenszwalb, D. P. Huttenlocher, "Distance transforms of sampled functions",
/// Theory of Computing 8 (2012) 415-428, doi:10.4086/toc.2012.v008a019.
public func squaredDistanceTransform(_ mask: BinaryMask) -> [Float] {
    let w = mask.width, h = mask.height
    let infinity = Float.infinity
    // Pass 1: vertical distance to the nearest true pixel in the same column.
    var g = [Float](repeating: infinity, count: w * h)
    mask.bits.withUnsafeBufferPointer { bits in
        g.withUnsafeMutableBufferPointer { gp in
            let gBase = gp.baseAddress!
            parallelChunks(w, minimumChunk: 64) { columns in
                // Forward: distance to the nearest true pixel above (or at) the row.
                for r in 0..<h {
                    let b = r * w
                    for c in columns {
                        if bits[b + c] != 0 { gBase[b + c] = 0 }
                        else if r > 0 { gBase[b + c] = gBase[b - w + c] + 1 }
                    }
                }
                // Backward: take the nearer of above and below.
                if h > 1 {
                    for r in stride(from: h - 2, through: 0, by: -1) {
                        let b = r * w
                        for c in columns {
                            let below = gBase[b + w + c] + 1
                            if below < gBase[b + c] { gBase[b + c] = below }
                        }
                    }
                }
            }
        }
    }
    // Pass 2: along rows, lower envelope of parabolas (x - q)^2 + g(q)^2.
    var out = [Float](repeating: 0, count: w * h)
    g.withUnsafeBufferPointer { gp in
        out.withUnsafeMutableBufferPointer { op in
            let outBase = op.baseAddress!
            parallelChunks(h, minimumChunk: 16) { rows in
                var f = [Double](repeating: 0, count: w)
                var v = [Int](repeating: 0, count: w)
                var z = [Double](repeating: 0, count: w + 1)
                for r in rows {
                    let b = r * w
                    var finite = 0
                    for c in 0..<w {
                        let d = Double(gp[b + c])
                        f[c] = d.isFinite ? d * d : .infinity
                        if d.isFinite { finite += 1 }
                    }
                    if finite == 0 {
                        for c in 0..<w { outBase[b + c] = infinity }
                        continue
                    }
                    // Envelope over the finite samples only.
                    var k = -1
                    for q in 0..<w where f[q].isFinite {
                        if k < 0 {
                            k = 0; v[0] = q; z[0] = -.infinity; z[1] = .infinity
                            continue
                        }
                        // z[0] = -infinity stops the loop at k = 0.
                        var p = v[k]
                        var s = ((f[q] + Double(q * q)) - (f[p] + Double(p * p))) / Double(2 * (q - p))
                        while s <= z[k] {
                            k -= 1
                            p = v[k]
                            s = ((f[q] + Double(q * q)) - (f[p] + Double(p * p))) / Double(2 * (q - p))
                        }
                        k += 1
                        v[k] = q; z[k] = s; z[k + 1] = .infinity
                    }
                    var j = 0
                    for q in 0..<w {
                        while z[j + 1] < Double(q) { j += 1 }
                        let dq = Double(q - v[j])
                        outBase[b + q] = Float(dq * dq + f[v[j]])
                    }
                }
            }
        }
    }
    return out
}

/// Euclidean distance from every pixel to the nearest true pixel of `mask` (MATLAB `bwdist`), px.
public func distanceTransform(_ mask: BinaryMask) -> [Float] {
    squaredDistanceTransform(mask).map { $0.squareRoot() }
}

/// Euclidean distance from every true pixel to the nearest false pixel (0 on the background),
/// px: the "Euclidean distance map" of an aggregate used by EDM-SBS and EDM-WS. Pixels outside
/// the image do not count as background.
public func distanceToBackground(_ mask: BinaryMask) -> [Float] {
    distanceTransform(mask.inverted())
}
