import Foundation

/// Interpolation used by `resize`.
public enum ResizeMethod: String, Sendable, CaseIterable {
    /// Bilinear with pixel centres at half-integers (OpenCV `INTER_LINEAR`, scikit-image order 1).
    case bilinear
    /// Exact area averaging for downscaling (OpenCV `INTER_AREA`); bilinear when enlarging.
    case area
}

/// Resizes an image to `width x height`. The pixel size is rescaled by the horizontal factor.
public func resize(_ image: GrayImage, width: Int, height: Int, method: ResizeMethod = .bilinear) -> GrayImage {
    precondition(width > 0 && height > 0, "target size must be positive")
    var out = GrayImage(width: width, height: height)
    if let ps = image.pixelSize {
        out.pixelSize = PixelSize(nanometersPerPixel: ps.nanometersPerPixel * Double(image.width) / Double(width),
                                  source: ps.source)
    }
    let shrinking = width <= image.width && height <= image.height
    if method == .area && shrinking {
        areaResize(image, into: &out)
    } else {
        bilinearResize(image, into: &out)
    }
    return out
}

private func bilinearResize(_ image: GrayImage, into out: inout GrayImage) {
    let sw = image.width, sh = image.height, dw = out.width, dh = out.height
    let sx = Double(sw) / Double(dw), sy = Double(sh) / Double(dh)
    // Precompute column taps.
    var c0 = [Int](repeating: 0, count: dw), c1 = [Int](repeating: 0, count: dw)
    var fx = [Float](repeating: 0, count: dw)
    for c in 0..<dw {
        let x = min(max((Double(c) + 0.5) * sx - 0.5, 0), Double(sw - 1))
        c0[c] = Int(x); c1[c] = min(c0[c] + 1, sw - 1); fx[c] = Float(x - Double(c0[c]))
    }
    image.pixels.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            let dstBase = dst.baseAddress!
            parallelChunks(dh, minimumChunk: 8) { rows in
                for r in rows {
                    let y = min(max((Double(r) + 0.5) * sy - 0.5, 0), Double(sh - 1))
                    let r0 = Int(y), r1 = min(r0 + 1, sh - 1)
                    let fy = Float(y - Double(r0))
                    for c in 0..<dw {
                        let top = src[r0 * sw + c0[c]] * (1 - fx[c]) + src[r0 * sw + c1[c]] * fx[c]
                        let bottom = src[r1 * sw + c0[c]] * (1 - fx[c]) + src[r1 * sw + c1[c]] * fx[c]
                        dstBase[r * dw + c] = top * (1 - fy) + bottom * fy
                    }
                }
            }
        }
    }
}

/// Each output pixel is the mean of the source area it covers (fractional overlaps weighted).
private func areaResize(_ image: GrayImage, into out: inout GrayImage) {
    let sw = image.width, sh = image.height, dw = out.width, dh = out.height
    func taps(_ n: Int, _ m: Int) -> [[(Int, Float)]] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { i in
            let start = Double(i) * scale, end = Double(i + 1) * scale
            var list: [(Int, Float)] = []
            var j = Int(start)
            while Double(j) < end && j < n {
                let overlap = min(end, Double(j + 1)) - max(start, Double(j))
                if overlap > 1e-12 { list.append((j, Float(overlap / scale))) }
                j += 1
            }
            return list
        }
    }
    let columnTaps = taps(sw, dw), rowTaps = taps(sh, dh)
    image.pixels.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            let dstBase = dst.baseAddress!
            parallelChunks(dh, minimumChunk: 4) { rows in
                var rowAcc = [Float](repeating: 0, count: sw)
                for r in rows {
                    for c in 0..<sw { rowAcc[c] = 0 }
                    for (sr, wy) in rowTaps[r] {
                        for c in 0..<sw { rowAcc[c] += wy * src[sr * sw + c] }
                    }
                    for c in 0..<dw {
                        var acc: Float = 0
                        for (sc, wx) in columnTaps[c] { acc += wx * rowAcc[sc] }
                        dstBase[r * dw + c] = acc
                    }
                }
            }
        }
    }
}
