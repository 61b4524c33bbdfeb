import Foundation
import ImageCore

/// Background subtraction of atems `+agg/bg_subtract.m` (METHODS.md section 3.1).
///
/// A grey closing with a disk of radius 80 px removes the dark aggregates; a quadratic surface
/// fitted to the closed image by least squares models the uneven illumination; the image is
/// flattened by adding (max G - G), G being the 8-bit surface, and stretched back to 0...255.
/// Arithmetic is in Double (METHODS.md 1.1), so nothing saturates before the final stretch.
/// - Parameters:
///   - closingRadius: radius of the closing disk in pixels (atems: 80).
///   - diskShape: Euclidean (default) or MATLAB's octagon.
/// - Returns: the flattened 8-bit image (values k/255).
public func subtractBackground(_ image: GrayImage, closingRadius: Int = 80,
                               diskShape: DiskShape = .euclidean) throws -> GrayImage {
    let w = image.width, h = image.height
    let original = image.quantized8()
    let closed = close(original, .disk(radius: closingRadius, shape: diskShape))
    let surface = try QuadraticSurface.fit(closed.pixels, width: w, height: h).sampled(width: w, height: h)
    var levels = [Double](repeating: 0, count: w * h)
    var maxLevel = 0.0
    for i in 0..<levels.count {
        let g = Double(castToByte(surface[i] * 255))
        levels[i] = g
        maxLevel = max(maxLevel, g)
    }
    var flattened = [Double](repeating: 0, count: w * h)
    var lo = Double.infinity, hi = -Double.infinity
    for i in 0..<flattened.count {
        let t = Double(original.value8(atIndex: i)) + (maxLevel - levels[i])
        flattened[i] = t
        lo = min(lo, t)
        hi = max(hi, t)
    }
    var out = GrayImage(width: w, height: h, pixelSize: image.pixelSize)
    let span = hi - lo
    guard span > 0 else { return out }
    for i in 0..<flattened.count {
        out.pixels[i] = Float(castToByte(255 * (flattened[i] - lo) / span)) / 255
    }
    return out
}

/// The rolling-ball transform of Dastanpour et al. (atems `+agg/rolling_ball.m`, METHODS.md
/// section 3.2) on a **background-true** mask: two close/open pairs with radii proportional to
/// a 4.9 nm minimum particle size, then removal of small aggregate blobs.
///
/// The blob rule compares an area in nm^2 with a squared length in px^2, as the reference
/// does (METHODS.md 3.2 [REF]): the heuristic was tuned that way and is kept exactly.
public struct DastanpourRollingBall: Sendable {
    /// "minparticlesize" of the reference, nm.
    public var minimumParticleSizeNm = 4.9
    public var diskShape: DiskShape = .euclidean

    public init(diskShape: DiskShape = .euclidean) { self.diskShape = diskShape }

    /// The coefficients (a, b, c, d, e) for a pixel size.
    public static func coefficients(pixelSizeNm ps: Double) -> (Double, Double, Double, Double, Double) {
        if ps <= 0.181 { return (0.2, 0.8, 0.4, 1.1, 0.4) }
        if ps <= 0.361 { return (0.2, 0.3, 0.7, 1.1, 1.8) }
        return (0.3, 0.8, 0.5, 2.2, 3.5)
    }

    /// Applies the transform to a background-true mask.
    public func apply(backgroundMask: BinaryMask, pixelSizeNm ps: Double) -> BinaryMask {
        let s = minimumParticleSizeNm
        let (a, b, c, d, e) = Self.coefficients(pixelSizeNm: ps)
        func disk(_ k: Double) -> StructuringElement { .disk(radius: Int((k * s / ps).rounded()), shape: diskShape) }
        var bm = close(backgroundMask, disk(a))
        bm = open(bm, disk(b))
        bm = close(bm, disk(c))
        bm = open(bm, disk(d))
        // Small aggregate blobs become background.
        let blobs = label(bm.inverted(), connectivity: .eight)
        let factor = blobs.count > 50 ? 10.0 : 1.0
        let limit = (factor * e * s / ps) * (factor * e * s / ps)
        var sizes = [Int](repeating: 0, count: blobs.count + 1)
        for l in blobs.labels where l > 0 { sizes[Int(l)] += 1 }
        for i in 0..<bm.count {
            let l = Int(blobs.labels[i])
            if l > 0 && Double(sizes[l]) * ps * ps <= limit { bm.bits[i] = 1 }
        }
        return bm
    }
}

/// The paper's "Otsu + RB" classifier (atems `+agg/seg_otsu.m`, METHODS.md section 3.3):
/// background subtraction, bilateral denoising, a global Otsu threshold and the Dastanpour
/// rolling ball. `original` selects atems `seg_otsu_orig` instead (Otsu on the raw image,
/// border blobs removed before the rolling ball).
public struct OtsuSegmenter: Segmenter {
    public var name: String { "otsu" }
    public var usesPaperPixelConstants: Bool { true }
    public var original = false
    public var diskShape: DiskShape = .euclidean

    public init(original: Bool = false, diskShape: DiskShape = .euclidean) {
        self.original = original
        self.diskShape = diskShape
    }

    /// The rolling ball is part of the method; the paper adds nothing after it.
    public var defaultPostProcessing: PostProcessing { PostProcessing() }

    public func segment(_ image: GrayImage, pixelSizeNm: Double?) throws -> Segmentation {
        let ps = try requirePixelSize(pixelSizeNm, neededBy: name)
        let working: GrayImage
        if original {
            working = image.quantized8()
        } else {
            working = bilateralFilter(try subtractBackground(image, diskShape: diskShape)).quantized8()
        }
        let level = otsuThreshold(working)
        let limit = 255 * level
        var background = BinaryMask(width: image.width, height: image.height, pixelSize: image.pixelSize)
        for i in 0..<image.count where Double(working.value8(atIndex: i)) > limit { background.bits[i] = 1 }
        if original {
            // Aggregate blobs touching the border are turned into background first.
            let kept = clearBorder(background.inverted())
            background = kept.inverted()
        }
        let rolled = DastanpourRollingBall(diskShape: diskShape).apply(backgroundMask: background, pixelSizeNm: ps)
        var mask = rolled.inverted()
        mask.pixelSize = image.pixelSize
        return Segmentation(mask: mask, diagnostics: ["otsu_level": level])
    }
}
