import Dispatch
import Foundation
import ImageCore

/// The per-pixel features of Trainable Weka Segmentation's default set (Fiji TWS
/// documentation), over its default sigma range 1-16 (σ = 1, 2, 4, 8, 16 px):
///
/// | group | features | count |
/// |---|---|---|
/// | original | the image | 1 |
/// | Gaussian blur | G_σ (scikit-image's `gaussian`: truncated at 4σ, edges replicated) | 5 |
/// | Sobel filter | gradient magnitude of G_σ (3 x 3 Sobel) | 5 |
/// | Hessian | of G_σ: module, trace, determinant, first and second eigenvalue, orientation, gamma-normalised square eigenvalue difference, square of gamma-normalised eigenvalue difference | 40 |
/// | difference of Gaussians | G_σ2 - G_σ1 for σ1 < σ2 | 10 |
/// | membrane projections | a 19 x 19 kernel holding a vertical line of width 1, rotated 30 times by 6° (`membraneKernel`); the 30 responses z-projected by sum, mean, standard deviation, median, maximum and minimum | 6 |
///
/// 67 features in all, computed on the image as given (the caller resamples it to the
/// classifier's working pixel size first, so that σ means the same number of nanometres on
/// every image). Values are for images in 0...1.
public enum TWSFeatures {
    public static let sigmas: [Double] = [1, 2, 4, 8, 16]
    public static let membraneSize = 19
    public static let membraneAngles = 30

    /// The feature names, in the order of `compute`.
    public static var names: [String] {
        var n = ["original"]
        n += sigmas.map { "gaussian_\(Int($0))" }
        n += sigmas.map { "sobel_\(Int($0))" }
        for s in sigmas {
            n += ["module", "trace", "determinant", "eigenvalue_1", "eigenvalue_2", "orientation",
                  "gamma_square_eigen_difference", "square_gamma_eigen_difference"].map { "hessian_\($0)_\(Int(s))" }
        }
        for (i, a) in sigmas.enumerated() { for b in sigmas[(i + 1)...] { n.append("dog_\(Int(b))_\(Int(a))") } }
        n += ["sum", "mean", "std", "median", "max", "min"].map { "membrane_\($0)" }
        return n
    }

    public static var count: Int { names.count }

    /// The features of every pixel, pixel-major (`count` values per pixel, row-major pixels).
    public static func compute(_ image: GrayImage) -> [Float] {
        let w = image.width, h = image.height, n = w * h
        var planes: [[Float]] = [image.pixels]
        let blurred = sigmas.map { gaussianFilter(image, sigma: $0, truncate: 4).pixels }
        planes += blurred
        // Sobel and Hessian of each blur, the blurs in parallel.
        var derived = [[[Float]]](repeating: [], count: sigmas.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: sigmas.count) { k in
            let planes = [sobelMagnitude(blurred[k], width: w, height: h)]
                + hessianFeatures(blurred[k], width: w, height: h, sigma: sigmas[k])
            lock.lock()
            derived[k] = planes
            lock.unlock()
        }
        planes += derived.map { $0[0] }
        for d in derived { planes += d[1...] }
        for i in 0..<sigmas.count {
            for j in (i + 1)..<sigmas.count { planes.append(zip(blurred[j], blurred[i]).map { $0 - $1 }) }
        }
        planes += membraneProjections(image.pixels, width: w, height: h)
        // Interleave: one row of features per pixel.
        let f = planes.count
        var out = [Float](repeating: 0, count: n * f)
        out.withUnsafeMutableBufferPointer { o in
            for (k, plane) in planes.enumerated() {
                plane.withUnsafeBufferPointer { p in
                    for i in 0..<n { o[i * f + k] = p[i] }
                }
            }
        }
        return out
    }

    /// Gradient magnitude by the 3 x 3 Sobel operator, edges replicated.
    static func sobelMagnitude(_ p: [Float], width w: Int, height h: Int) -> [Float] {
        var out = [Float](repeating: 0, count: w * h)
        func v(_ r: Int, _ c: Int) -> Float { p[min(max(r, 0), h - 1) * w + min(max(c, 0), w - 1)] }
        for r in 0..<h {
            for c in 0..<w {
                let gx = (v(r - 1, c + 1) + 2 * v(r, c + 1) + v(r + 1, c + 1)) - (v(r - 1, c - 1) + 2 * v(r, c - 1) + v(r + 1, c - 1))
                let gy = (v(r + 1, c - 1) + 2 * v(r + 1, c) + v(r + 1, c + 1)) - (v(r - 1, c - 1) + 2 * v(r - 1, c) + v(r - 1, c + 1))
                out[r * w + c] = (gx * gx + gy * gy).squareRoot()
            }
        }
        return out
    }

    /// `np.gradient` along rows (`alongRows`) or columns: central differences inside,
    /// one-sided differences at the first and last row or column.
    static func gradient(_ p: [Float], width w: Int, height h: Int, alongRows: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: w * h)
        let n = alongRows ? h : w, stride = alongRows ? w : 1, lines = alongRows ? w : h, lineStride = alongRows ? 1 : w
        guard n > 1 else { return out }
        for line in 0..<lines {
            let base = line * lineStride
            out[base] = p[base + stride] - p[base]
            for k in 1..<(n - 1) { out[base + k * stride] = (p[base + (k + 1) * stride] - p[base + (k - 1) * stride]) / 2 }
            out[base + (n - 1) * stride] = p[base + (n - 1) * stride] - p[base + (n - 2) * stride]
        }
        return out
    }

    /// The eight Hessian features of a smoothed plane, with the second derivatives of
    /// scikit-image's `hessian_matrix(use_gaussian_derivatives=False)` (`np.gradient` twice):
    /// a = ∂²/∂x², b = ∂²/∂x∂y, d = ∂²/∂y². TWS's definitions: module √(a² + b² + d²), trace
    /// a + d, determinant a·d - b², eigenvalues (a+d)/2 ± √(4b² + (a-d)²)/2 (scikit-image's
    /// `hessian_matrix_eigvals`, largest first), orientation ½ atan2(2b, a - d), and with
    /// t = σ^(3/4) the gamma-normalised square eigenvalue difference t⁴(e1 - e2)² and the
    /// square of the gamma-normalised eigenvalue difference t²(e1 - e2)².
    static func hessianFeatures(_ p: [Float], width w: Int, height h: Int, sigma: Double) -> [[Float]] {
        let n = w * h
        let gx = gradient(p, width: w, height: h, alongRows: false), gy = gradient(p, width: w, height: h, alongRows: true)
        let hxx = gradient(gx, width: w, height: h, alongRows: false)
        let hxy = gradient(gy, width: w, height: h, alongRows: false)
        let hyy = gradient(gy, width: w, height: h, alongRows: true)
        var out = [[Float]](repeating: [Float](repeating: 0, count: n), count: 8)
        let t = Float(pow(sigma, 0.75))
        for i in 0..<n {
            let a = hxx[i], b = hxy[i], d = hyy[i]
            let root = (4 * b * b + (a - d) * (a - d)).squareRoot()
            let e1 = (a + d) / 2 + root / 2, e2 = (a + d) / 2 - root / 2
            out[0][i] = (a * a + b * b + d * d).squareRoot()
            out[1][i] = a + d
            out[2][i] = a * d - b * b
            out[3][i] = e1
            out[4][i] = e2
            out[5][i] = 0.5 * atan2(2 * b, a - d)
            out[6][i] = t * t * t * t * (e1 - e2) * (e1 - e2)
            out[7][i] = t * t * (e1 - e2) * (e1 - e2)
        }
        return out
    }

    /// A `membraneSize`² kernel holding a centred line of width 1 at `angle` from the vertical,
    /// anti-aliased as a bilinear rotation of the vertical line draws it: a pixel at
    /// perpendicular distance d from the line (and within `membraneSize / 2` along it) weighs
    /// max(0, 1 - d); weights sum to 1. The weights are continuous in the pixel position, so no
    /// rounding tie decides a tap (a kernel built by rounding points on the line depends on
    /// the last bit of sin 30°).
    static func membraneKernel(angle: Double) -> [(dr: Int, dc: Int, weight: Float)] {
        let half = membraneSize / 2
        var taps: [(dr: Int, dc: Int, weight: Double)] = []
        for dr in -half...half {
            for dc in -half...half {
                let along = Double(dr) * cos(angle) + Double(dc) * sin(angle)
                let distance = abs(Double(dr) * sin(angle) - Double(dc) * cos(angle))
                guard abs(along) <= Double(half) + 1e-6, distance < 1 else { continue }
                taps.append((dr, dc, 1 - distance))
            }
        }
        let total = taps.reduce(0) { $0 + $1.weight }
        return taps.map { (dr: $0.dr, dc: $0.dc, weight: Float($0.weight / total)) }
    }

    /// The six z-projections of the image convolved with 30 rotations of a line kernel.
    static func membraneProjections(_ p: [Float], width w: Int, height h: Int) -> [[Float]] {
        let half = membraneSize / 2, angles = membraneAngles
        let kernels = (0..<angles).map { membraneKernel(angle: Double($0) * Double.pi / Double(angles)) }
        // The image with `half` replicated pixels on every side: taps index it directly.
        let pw = w + 2 * half, ph = h + 2 * half
        var padded = [Float](repeating: 0, count: pw * ph)
        for r in 0..<ph {
            let sr = min(max(r - half, 0), h - 1) * w
            for c in 0..<pw { padded[r * pw + c] = p[sr + min(max(c - half, 0), w - 1)] }
        }
        let n = w * h
        var out = [[Float]](repeating: [Float](repeating: 0, count: n), count: 6)
        let rowsPerChunk = max(1, h / 32)
        let chunks = (h + rowsPerChunk - 1) / rowsPerChunk
        let lock = NSLock()
        padded.withUnsafeBufferPointer { src in
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let r0 = chunk * rowsPerChunk, r1 = min(h, r0 + rowsPerChunk)
                var local = [[Float]](repeating: [Float](repeating: 0, count: (r1 - r0) * w), count: 6)
                // One row of responses per angle, accumulated tap by tap (vectorisable).
                var responses = [Float](repeating: 0, count: angles * w)
                var z = [Float](repeating: 0, count: angles)
                for r in r0..<r1 {
                    responses.withUnsafeMutableBufferPointer { rsp in
                        for (k, kernel) in kernels.enumerated() {
                            let row = rsp.baseAddress! + k * w
                            row.update(repeating: 0, count: w)
                            for tap in kernel {
                                let base = src.baseAddress! + (r + half + tap.dr) * pw + half + tap.dc
                                let weight = tap.weight
                                for c in 0..<w { row[c] += weight * base[c] }
                            }
                        }
                    }
                    let o = (r - r0) * w
                    for c in 0..<w {
                        var sum: Float = 0
                        for k in 0..<angles { z[k] = responses[k * w + c]; sum += z[k] }
                        let mean = sum / Float(angles)
                        var variance: Float = 0
                        for k in 0..<angles { variance += (z[k] - mean) * (z[k] - mean) }
                        // Insertion sort of 30 values: median, maximum, minimum.
                        for i in 1..<angles {
                            let v = z[i]
                            var j = i - 1
                            while j >= 0 && z[j] > v { z[j + 1] = z[j]; j -= 1 }
                            z[j + 1] = v
                        }
                        local[0][o + c] = sum
                        local[1][o + c] = mean
                        local[2][o + c] = (variance / Float(angles)).squareRoot()
                        local[3][o + c] = (z[angles / 2 - 1] + z[angles / 2]) / 2
                        local[4][o + c] = z[angles - 1]
                        local[5][o + c] = z[0]
                    }
                }
                lock.lock()
                for k in 0..<6 { for (i, v) in local[k].enumerated() { out[k][r0 * w + i] = v } }
                lock.unlock()
            }
        }
        return out
    }
}
