import Foundation
import ImageCore
import Aggregates
import Statistics

/// Euclidean distance mapping with watershed segmentation (De Temmerman et al. 2014; atems
/// `+pp/edm_ws.m`; METHODS.md 5.4): the inverted distance map, its h-minima transform (h = 1),
/// a watershed into primary particles; each particle's diameter is twice its largest distance
/// to the background. Known to merge clumps into single "particles" (50-100 % larger sizes).
public struct EDMWatershed: Sendable {
    /// Depth of the minima kept (px).
    public var minimumDepth: Float = 1

    public init() {}

    /// The particles of one aggregate (the mask alone, cropped with a margin), in the mask's
    /// pixels: each basin's centre is its pixel farthest from the background (the first in
    /// raster order on ties), its radius that distance.
    public func particles(mask: BinaryMask, pixelSizeNm ps: Double) -> [Circle] {
        let w = mask.width, h = mask.height
        let e = distanceToBackground(mask)
        var eMax: Float = 0
        for i in 0..<e.count where mask.bits[i] != 0 { eMax = max(eMax, e[i]) }
        guard eMax > 0 else { return [] }
        var d = [Float](repeating: 0, count: w * h)
        for i in 0..<d.count { d[i] = mask.bits[i] != 0 ? eMax - e[i] : eMax }
        // The paper's depth of 1 px at 0.4-0.8 nm/px, the same depth in nm outside (PaperScale).
        let depth = minimumDepth * Float(PaperScale.lengthFactor(pixelSizeNm: ps))
        let marker = d.map { $0 + depth }
        let d2 = reconstructByErosion(marker: marker, mask: d, width: w, height: h, connectivity: .four)
        let basins = watershed(d2, width: w, height: h, mask: mask, connectivity: .eight)
        var radius = [Float](repeating: 0, count: basins.count + 1)
        var centre = [Int](repeating: -1, count: basins.count + 1)
        for i in 0..<(w * h) where mask.bits[i] != 0 {
            let l = Int(basins.labels[i])
            if l > 0 && e[i] > radius[l] { radius[l] = e[i]; centre[l] = i }
        }
        return (1..<radius.count).compactMap { l in
            guard radius[l] > 0, centre[l] >= 0 else { return nil }
            return Circle(centerX: Double(centre[l] % w), centerY: Double(centre[l] / w), radius: Double(radius[l]))
        }
    }

    /// The particle diameters (nm) of one aggregate: twice each particle's radius.
    public func particleDiameters(mask: BinaryMask, pixelSizeNm ps: Double) -> [Double] {
        particles(mask: mask, pixelSizeNm: ps).map { 2 * $0.radius * ps }
    }

    /// The geometric mean particle diameter of one aggregate.
    public func size(mask: BinaryMask, pixelSizeNm ps: Double) -> PrimaryParticleSize {
        sizeFromLocated(particles(mask: mask, pixelSizeNm: ps), pixelSizeNm: ps)
    }
}
