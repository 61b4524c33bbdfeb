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

    /// The particle diameters (nm) of one aggregate (the mask alone, cropped with a margin).
    public func particleDiameters(mask: BinaryMask, pixelSizeNm ps: Double) -> [Double] {
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
        for i in 0..<(w * h) where mask.bits[i] != 0 {
            let l = Int(basins.labels[i])
            if l > 0 { radius[l] = max(radius[l], e[i]) }
        }
        return radius.dropFirst().filter { $0 > 0 }.map { 2 * Double($0) * ps }
    }

    /// The geometric mean particle diameter of one aggregate.
    public func size(mask: BinaryMask, pixelSizeNm ps: Double) -> PrimaryParticleSize {
        let diameters = particleDiameters(mask: mask, pixelSizeNm: ps)
        guard !diameters.isEmpty else { return .notDetermined(.noParticlesFound) }
        let gm = exp(diameters.reduce(0) { $0 + log($1) } / Double(diameters.count))
        return .checked(gm, particleCount: diameters.count)
    }
}
