import Foundation
import ImageCore
import Randomness

/// Cuts one augmented training crop out of a sample (METHODS.md 7.3): flips, 90-degree
/// turns, shift-scale, perspective, padding and a random crop as one inverse mapping
/// (bilinear for the image, nearest for the mask), then brightness / gamma, sharpen / blur /
/// motion blur, contrast and Gaussian noise. Deterministic in `rng`.
///
/// The colour step is one of CLAHE, brightness and gamma, or (with `clahe` off, as in the CPU
/// preset) one of brightness and gamma (see Docs/Training.md).
public func augmentedCrop(_ sample: TrainingSample, size: Int, configuration c: TrainingConfiguration,
                          rng: inout SplitMix64) -> (image: [Float], mask: [Float]) {
    let a = c.augmentation
    let w = sample.width, h = sample.height
    func chance(_ p: Double) -> Bool { p > 0 && Double.random(in: 0..<1, using: &rng) < p }
    // Centre of the crop in the source.
    var cx = Double.random(in: 0..<Double(w), using: &rng), cy = Double.random(in: 0..<Double(h), using: &rng)
    if !sample.foreground.isEmpty && chance(c.foregroundCropProbability) {
        let i = Int(sample.foreground[Int.random(in: 0..<sample.foreground.count, using: &rng)])
        cx = Double(i % w) + 0.5
        cy = Double(i / w) + 0.5
    }
    cx += Double.random(in: -a.shift...a.shift, using: &rng) * Double(size)
    cy += Double.random(in: -a.shift...a.shift, using: &rng) * Double(size)
    let scale = Double.random(in: a.scale, using: &rng)
    let flipX = chance(a.horizontalFlip), flipY = chance(a.verticalFlip)
    let turns = a.rotate90 ? Int.random(in: 0..<4, using: &rng) : 0
    // Perspective: a homography moving the crop's corners by up to `perspectiveScale` x size.
    var homography: [Double]?
    if chance(a.perspective) {
        let s = Double.random(in: a.perspectiveScale, using: &rng) * Double(size)
        let half = Double(size) / 2
        let src = [(-half, -half), (half, -half), (half, half), (-half, half)]
        let dst = src.map { ($0.0 + Double.random(in: -s...s, using: &rng), $0.1 + Double.random(in: -s...s, using: &rng)) }
        homography = solveHomography(from: src, to: dst)
    }
    let reflect = c.padMode == "reflect"
    var image = [Float](repeating: 0, count: size * size)
    var mask = [Float](repeating: 0, count: size * size)
    let fold = reflect101
    for v in 0..<size {
        for u in 0..<size {
            var x = Double(u) - Double(size) / 2 + 0.5, y = Double(v) - Double(size) / 2 + 0.5
            if let m = homography {
                let d = m[6] * x + m[7] * y + 1
                (x, y) = ((m[0] * x + m[1] * y + m[2]) / d, (m[3] * x + m[4] * y + m[5]) / d)
            }
            for _ in 0..<turns { (x, y) = (-y, x) }
            if flipX { x = -x }
            if flipY { y = -y }
            let sx = x / scale + cx - 0.5, sy = y / scale + cy - 0.5
            let o = v * size + u
            let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
            let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
            func pixel(_ xx: Int, _ yy: Int) -> Float? {
                if xx >= 0 && xx < w && yy >= 0 && yy < h { return sample.image[yy * w + xx] }
                return reflect ? sample.image[fold(yy, h) * w + fold(xx, w)] : nil
            }
            let p00 = pixel(x0, y0) ?? 0, p10 = pixel(x0 + 1, y0) ?? 0
            let p01 = pixel(x0, y0 + 1) ?? 0, p11 = pixel(x0 + 1, y0 + 1) ?? 0
            image[o] = (p00 * (1 - fx) + p10 * fx) * (1 - fy) + (p01 * (1 - fx) + p11 * fx) * fy
            let nx = Int(sx.rounded()), ny = Int(sy.rounded())
            if nx >= 0 && nx < w && ny >= 0 && ny < h {
                mask[o] = Float(sample.mask[ny * w + nx])
            } else if reflect {
                mask[o] = Float(sample.mask[fold(ny, h) * w + fold(nx, w)])
            }
        }
    }
    // Photometric steps.
    func brightness() {
        let beta = Float.random(in: -0.2...0.2, using: &rng)
        for i in 0..<image.count { image[i] += beta }
    }
    func gamma() {
        let gamma = Float.random(in: 0.8...1.2, using: &rng)
        for i in 0..<image.count { image[i] = powf(min(max(image[i], 0), 1), gamma) }
    }
    if chance(a.colour) {
        if a.clahe {
            // One of CLAHE, brightness, gamma (CarbonBlackSegmentation's OneOf).
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                let clip = Double.random(in: 1...4, using: &rng)
                let bytes = image.map { UInt8(min(max(($0 * 255).rounded(), 0), 255)) }
                image = clahe(bytes, width: size, height: size, clipLimit: clip).map { Float($0) / 255 }
            case 1: brightness()
            default: gamma()
            }
        } else if Bool.random(using: &rng) {
            brightness()
        } else {
            gamma()
        }
    }
    if chance(a.sharpness) {
        let kernel: [Float]
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            let alpha = Float.random(in: 0.2...0.5, using: &rng), lightness = Float.random(in: 0.5...1, using: &rng)
            kernel = [-alpha, -alpha, -alpha, -alpha, 1 - alpha + alpha * (8 + lightness), -alpha, -alpha, -alpha, -alpha]
        case 1:
            kernel = [Float](repeating: 1 / 9, count: 9)
        default:
            // A 3-px line through the centre in one of four directions.
            let lines: [[Int]] = [[3, 4, 5], [1, 4, 7], [0, 4, 8], [2, 4, 6]]
            var k = [Float](repeating: 0, count: 9)
            for i in lines[Int.random(in: 0..<4, using: &rng)] { k[i] = 1 / 3 }
            kernel = k
        }
        image = filter3x3(image, size: size, kernel: kernel)
    }
    if chance(a.contrast) {
        let alpha = Float.random(in: 0.8...1.2, using: &rng)
        for i in 0..<image.count { image[i] *= alpha }
    }
    if chance(a.noise) {
        let sigma = Double.random(in: a.noiseSigma, using: &rng) / 255
        for i in 0..<image.count { image[i] += Float(sigma * rng.nextGaussian()) }
    }
    for i in 0..<image.count { image[i] = min(max(image[i], 0), 1) }
    return (image, mask)
}

/// 3 x 3 correlation with replicate padding.
func filter3x3(_ x: [Float], size n: Int, kernel k: [Float]) -> [Float] {
    var out = x
    for r in 0..<n {
        for c in 0..<n {
            var s: Float = 0
            for dr in -1...1 {
                let rr = min(max(r + dr, 0), n - 1)
                for dc in -1...1 { s += k[(dr + 1) * 3 + dc + 1] * x[rr * n + min(max(c + dc, 0), n - 1)] }
            }
            out[r * n + c] = s
        }
    }
    return out
}

/// The homography (row-major, h33 = 1) taking four points to four others.
func solveHomography(from src: [(Double, Double)], to dst: [(Double, Double)]) -> [Double]? {
    var a = [[Double]](repeating: [Double](repeating: 0, count: 9), count: 8)
    for k in 0..<4 {
        let (x, y) = src[k], (u, v) = dst[k]
        a[2 * k] = [x, y, 1, 0, 0, 0, -u * x, -u * y, u]
        a[2 * k + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y, v]
    }
    // Gauss-Jordan with partial pivoting.
    for col in 0..<8 {
        guard let pivot = (col..<8).max(by: { abs(a[$0][col]) < abs(a[$1][col]) }), abs(a[pivot][col]) > 1e-12 else { return nil }
        a.swapAt(col, pivot)
        let p = a[col][col]
        for j in col..<9 { a[col][j] /= p }
        for r in 0..<8 where r != col {
            let f = a[r][col]
            if f != 0 { for j in col..<9 { a[r][j] -= f * a[col][j] } }
        }
    }
    return (0..<8).map { a[$0][8] }
}
