import Foundation
import ImageCore
import Aggregates
import Statistics
import Synthesis
import Testing
import TestSupport

func smallParameters() -> SynthesisParameters {
    var p = SynthesisParameters()
    p.width = 640
    p.height = 512
    p.pixelSizeNm = 0.8
    p.aggregateCount = 2...3
    p.primaryCount = 10...60
    return p
}

@Suite("Synthetic TEM images")
struct SynthesisTests {
    @Test("same seed, same image and truth; another seed, another image")
    func deterministic() {
        let a = synthesize(smallParameters(), seed: 7), b = synthesize(smallParameters(), seed: 7)
        let c = synthesize(smallParameters(), seed: 8)
        #expect(a.image.pixels == b.image.pixels)
        #expect(a.mask == b.mask)
        #expect(a.truth == b.truth)
        #expect(a.image.pixels != c.image.pixels)
    }

    @Test("the truth agrees with the mask and the image")
    func truthConsistent() throws {
        let s = synthesize(smallParameters(), seed: 3)
        #expect(!s.truth.aggregates.isEmpty)
        #expect(s.truth.aggregates.reduce(0) { $0 + $1.areaPx } == s.mask.trueCount)
        for a in s.truth.aggregates {
            #expect(a.primaries.count == a.primaryCount)
            #expect(abs(a.daNm - 2 * 0.8 * (Double(a.areaPx) / Double.pi).squareRoot()) < 1e-9)
            let gm = exp(a.primaries.reduce(0) { $0 + log($1.diameterNm) } / Double(a.primaries.count))
            #expect(abs(gm / a.dpGeometricMeanNm - 1) < 1e-9)
        }
        // Soot is darker than the background.
        var inside = 0.0, outside = 0.0
        for i in 0..<s.mask.count {
            if s.mask.bits[i] != 0 { inside += Double(s.image.pixels[i]) } else { outside += Double(s.image.pixels[i]) }
        }
        #expect(inside / Double(s.mask.trueCount) < 0.92 * outside / Double(s.mask.count - s.mask.trueCount))
        #expect(s.image.pixelSize?.nanometersPerPixel == 0.8)
    }

    @Test("aggregates follow the fractal law N = kf (Rg/a)^Df", arguments: [AggregationAlgorithm.particleCluster, .clusterCluster])
    func fractalLaw(algorithm: AggregationAlgorithm) {
        var rng = TestRandom(seed: 21)
        var x: [Double] = [], y: [Double] = []
        for n in [10, 20, 40, 80, 160, 320] {
            var recipe = AggregateRecipe(primaryCount: n, dpGeometricMeanNm: 20, dpGeometricStd: 1)
            recipe.algorithm = algorithm
            recipe.overlap = 0
            let aggregate = FractalAggregate.build(recipe, using: &rng)
            #expect(aggregate.primaries.count == n)
            // No two primaries overlap more than allowed (1 % slack).
            var worst = 0.0
            for i in 0..<n {
                for j in (i + 1)..<n {
                    let p = aggregate.primaries[i], q = aggregate.primaries[j]
                    let d = ((p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y) + (p.z - q.z) * (p.z - q.z)).squareRoot()
                    worst = max(worst, 1 - d / 20)
                }
            }
            #expect(worst < 0.02)
            x.append(log(aggregate.radiusOfGyrationNm / 10))
            y.append(log(Double(n)))
        }
        // Least-squares line ln N = ln kf + Df ln(Rg / a).
        let mx = x.reduce(0, +) / 6, my = y.reduce(0, +) / 6
        let slope = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        let kf = exp(my - slope * mx)
        #expect(abs(slope - 1.78) < 0.15, "Df \(slope)")
        #expect(abs(kf - 1.3) < 0.5, "kf \(kf)")
    }

    @Test("16-bit images hold 16-bit levels")
    func sixteenBit() {
        var p = smallParameters()
        p.bitDepth = 16
        let s = synthesize(p, seed: 4)
        let fine = s.image.pixels.contains { ($0 * 255).rounded() != $0 * 255 }
        #expect(fine)
    }
}
