import Foundation
import ImageCore
import Randomness

/// A projected sphere in a synthetic scene: centre and diameter in pixels.
public struct SceneSphere: Sendable, Equatable, Codable {
    public var centerRow: Double
    public var centerColumn: Double
    public var diameterPixels: Double

    public init(centerRow: Double, centerColumn: Double, diameterPixels: Double) {
        self.centerRow = centerRow
        self.centerColumn = centerColumn
        self.diameterPixels = diameterPixels
    }
}

/// Renders bright-field TEM-like images of spheres with a known mask: the test pattern behind
/// the examples, fixtures and benchmarks.
///
/// Contrast follows mass thickness: the transmitted intensity is
/// `background x exp(-absorptionPerPixel x sum of chord lengths)` over the spheres a pixel sees,
/// on a background with a linear gradient, plus Gaussian noise. The true mask is every pixel
/// whose centre lies inside at least one projected sphere.
public struct DiskScene: Sendable {
    public var width: Int
    public var height: Int
    public var spheres: [SceneSphere]
    /// Background intensity at the image centre (0...1).
    public var background: Double = 0.78
    /// Background change from left to right edge.
    public var gradient: Double = 0.06
    /// Attenuation per pixel of carbon crossed.
    public var absorptionPerPixel: Double = 0.03
    /// Standard deviation of the additive noise (0...1 units).
    public var noise: Double = 0.02
    public var pixelSize: PixelSize?

    public init(width: Int, height: Int, spheres: [SceneSphere], pixelSize: PixelSize? = nil) {
        self.width = width
        self.height = height
        self.spheres = spheres
        self.pixelSize = pixelSize
    }

    /// A scene of `count` random chains of touching spheres, reproducible from `seed`.
    public static func chains(width: Int, height: Int, count: Int, spheresPerChain: ClosedRange<Int>,
                              diameterPixels: ClosedRange<Double>, seed: UInt64,
                              pixelSize: PixelSize? = nil) -> DiskScene {
        var rng = SplitMix64(seed: seed)
        var spheres: [SceneSphere] = []
        for _ in 0..<count {
            var row = Double.random(in: 0.15...0.85, using: &rng) * Double(height)
            var column = Double.random(in: 0.15...0.85, using: &rng) * Double(width)
            var angle = Double.random(in: 0..<(2 * Double.pi), using: &rng)
            let n = Int.random(in: spheresPerChain, using: &rng)
            for _ in 0..<n {
                let d = Double.random(in: diameterPixels, using: &rng)
                spheres.append(SceneSphere(centerRow: row, centerColumn: column, diameterPixels: d))
                angle += Double.random(in: -0.9...0.9, using: &rng)
                row += 0.8 * d * sin(angle)
                column += 0.8 * d * cos(angle)
            }
        }
        return DiskScene(width: width, height: height, spheres: spheres, pixelSize: pixelSize)
    }

    /// Renders the image and the true mask; `seed` drives the noise.
    public func render(seed: UInt64) -> (image: GrayImage, mask: BinaryMask) {
        var thickness = [Double](repeating: 0, count: width * height)
        for s in spheres {
            let radius = s.diameterPixels / 2
            let r0 = max(0, Int((s.centerRow - radius).rounded(.down)))
            let r1 = min(height - 1, Int((s.centerRow + radius).rounded(.up)))
            let c0 = max(0, Int((s.centerColumn - radius).rounded(.down)))
            let c1 = min(width - 1, Int((s.centerColumn + radius).rounded(.up)))
            if r0 > r1 || c0 > c1 { continue }
            for r in r0...r1 {
                for c in c0...c1 {
                    let dr = Double(r) - s.centerRow, dc = Double(c) - s.centerColumn
                    let q = radius * radius - dr * dr - dc * dc
                    if q >= 0 { thickness[r * width + c] += 2 * q.squareRoot() + 1e-9 }
                }
            }
        }
        var rng = SplitMix64(seed: seed)
        var image = GrayImage(width: width, height: height, pixelSize: pixelSize)
        var mask = BinaryMask(width: width, height: height, pixelSize: pixelSize)
        for r in 0..<height {
            for c in 0..<width {
                let i = r * width + c
                let bg = background + gradient * (Double(c) / Double(max(width - 1, 1)) - 0.5)
                var v = bg * exp(-absorptionPerPixel * thickness[i]) + noise * rng.nextGaussian()
                v = min(max(v, 0), 1)
                image.pixels[i] = Float(v)
                if thickness[i] > 0 { mask.bits[i] = 1 }
            }
        }
        return (image, mask)
    }
}

extension DiskScene {
    /// The example image the README's quick start runs on (`Examples/synthetic_soot.png`):
    /// 640 x 480 px at 0.8 nm/px with three chains of 18-30 nm spheres.
    public static func readmeExample() -> (image: GrayImage, mask: BinaryMask) {
        let scene = DiskScene.chains(
            width: 640, height: 480, count: 3, spheresPerChain: 6...14, diameterPixels: 22...38, seed: 2021,
            pixelSize: PixelSize(nanometersPerPixel: 0.8, source: .user))
        return scene.render(seed: 2021)
    }
}
