import Dispatch
import Foundation
import ImageCore

/// The per-pixel features of Trainable Weka Segmentation's default set (Fiji TWS
/// documentation), over its default sigma range 1-16 (σ = 1, 2, 4, 8, 16 px):
///
/// | group | features | count |
/// |---|---|---|
/// | original | the image | 1 |
/// | Gaussian blur | G_σ | 5 |
/// | Sobel filter | gradient magnitude of G_σ (3 x 3 Sobel) | 5 |
/// | Hessian | of G_σ: module, trace, determinant, first and second eigenvalue, orientation, gamma-normalised square eigenvalue difference, square of gamma-normalised eigenvalue difference | 40 |
/// | difference of Gaussians | G_σ2 - G_σ1 for σ1 < σ2 | 10 |
/// | membrane projections | a 19 x 19 kernel holding a vertical line of width 1, rotated 30 times by 6°; the 30 responses z-projected by sum, mean, standard deviation, median, maximum and minimum | 6 |
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
        let blurred = sigmas.map { gaussianFilter(image, sigma: $0).pixels }
        planes += blurred
        planes += blurred.map { sobelMagnitude($0, width: w, height: h) }
        for (k, g) in blurred.enumerated() { planes += hessianFeatures(g, width: w, height: h, sigma: sigmas[k]) }
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

    /// The eight Hessian features of a smoothed plane (central differences, edges replicated),
    /// TWS's definitions: module √(a² + b·c + d²) with a = ∂²/∂x², b = c = ∂²/∂x∂y, d = ∂²/∂y²;
    /// trace a + d; determinant a·d - b·c; eigenvalues (a+d)/2 ± √(4b² + (a-d)²)/2;
    /// orientation ½ acos(4b² + (a-d)² ...) as TWS; t = σ^(3/4) for the gamma-normalised terms.
    static func hessianFeatures(_ p: [Float], width w: Int, height h: Int, sigma: Double) -> [[Float]] {
        let n = w * h
        var out = [[Float]](repeating: [Float](repeating: 0, count: n), count: 8)
        func v(_ r: Int, _ c: Int) -> Float { p[min(max(r, 0), h - 1) * w + min(max(c, 0), w - 1)] }
        let t = Float(pow(sigma, 0.75))
        for r in 0..<h {
            for c in 0..<w {
                let a = v(r, c + 1) - 2 * v(r, c) + v(r, c - 1)
                let d = v(r + 1, c) - 2 * v(r, c) + v(r - 1, c)
                let b = (v(r + 1, c + 1) - v(r + 1, c - 1) - v(r - 1, c + 1) + v(r - 1, c - 1)) / 4
                let i = r * w + c
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
        }
        return out
    }

    /// The six z-projections of the image convolved with 30 rotations of a line kernel.
    static func membraneProjections(_ p: [Float], width w: Int, height h: Int) -> [[Float]] {
        let size = membraneSize, half = size / 2
        // Rotated kernels: a centred vertical line of width 1, sampled bilinearly at each angle.
        let kernels: [[(dr: Int, dc: Int, weight: Float)]] = (0..<membraneAngles).map { k in
            let angle = Double(k) * Double.pi / Double(membraneAngles)
            var taps: [Int: Float] = [:]  // key (r + half) * size + (c + half)
            for step in stride(from: -Double(half), through: Double(half), by: 0.5) {
                let r = Int((step * cos(angle)).rounded()), c = Int((step * sin(angle)).rounded())
                guard abs(r) <= half, abs(c) <= half else { continue }
                taps[(r + half) * size + (c + half), default: 0] += 1
            }
            let total = taps.values.reduce(0, +)
            return taps.keys.sorted().map { key in (dr: key / size - half, dc: key % size - half, weight: taps[key]! / total) }
        }
        let n = w * h
        var out = [[Float]](repeating: [Float](repeating: 0, count: n), count: 6)
        let rowsPerChunk = max(1, h / 16)
        let chunks = (h + rowsPerChunk - 1) / rowsPerChunk
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var local = [[Float]](repeating: [], count: 6)
            let r0 = chunk * rowsPerChunk, r1 = min(h, r0 + rowsPerChunk)
            var responses = [Float](repeating: 0, count: membraneAngles)
            for k in 0..<6 { local[k].reserveCapacity((r1 - r0) * w) }
            for r in r0..<r1 {
                for c in 0..<w {
                    for (k, kernel) in kernels.enumerated() {
                        var s: Float = 0
                        for tap in kernel {
                            let rr = min(max(r + tap.dr, 0), h - 1), cc = min(max(c + tap.dc, 0), w - 1)
                            s += tap.weight * p[rr * w + cc]
                        }
                        responses[k] = s
                    }
                    let sum = responses.reduce(0, +), mean = sum / Float(membraneAngles)
                    let variance = responses.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(membraneAngles)
                    let sorted = responses.sorted()
                    local[0].append(sum)
                    local[1].append(mean)
                    local[2].append(variance.squareRoot())
                    local[3].append((sorted[membraneAngles / 2 - 1] + sorted[membraneAngles / 2]) / 2)
                    local[4].append(sorted[membraneAngles - 1])
                    local[5].append(sorted[0])
                }
            }
            lock.lock()
            for k in 0..<6 { for (i, v) in local[k].enumerated() { out[k][r0 * w + i] = v } }
            lock.unlock()
        }
        return out
    }
}
