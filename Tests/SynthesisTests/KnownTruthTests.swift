import Classifiers
import Foundation
import ImageCore
import PrimarySizing
import Aggregates
import Statistics
import Synthesis
import Testing

/// Known-truth validation on a fixed set of small synthetic images (the full-size table is in
/// Docs/Synthesis.md, from `sootbench synth-validate`). Bounds are the measured values with a
/// margin; they pin the direction and size of each method's bias.
@Suite("Known-truth validation on synthetic images")
struct KnownTruthTests {
    @Test("classifier IoU and sizing errors against the truth")
    func validation() throws {
        var p = SynthesisParameters()
        p.width = 1024
        p.height = 1024
        p.pixelSizeNm = 0.8
        p.aggregateCount = 4...6
        p.primaryCount = 10...80
        var intersection = [0, 0], union = [0, 0]
        var estimates: [SizingMethod: [Double]] = [:]
        var truths: [SizingMethod: [Double]] = [:]
        for seed in UInt64(40)..<44 {
            let s = synthesize(p, seed: seed)
            for (k, segmenter) in [KMeansSegmenter() as any Segmenter, OtsuSegmenter()].enumerated() {
                let mask = try segmenter.segment(s.image, pixelSizeNm: p.pixelSizeNm).mask
                for j in 0..<mask.count {
                    if mask.bits[j] & s.mask.bits[j] != 0 { intersection[k] += 1 }
                    if mask.bits[j] | s.mask.bits[j] != 0 { union[k] += 1 }
                }
            }
            let analysis = extractAggregates(mask: s.mask, image: s.image, pixelSizeNm: p.pixelSizeNm)
            let sizing = sizePrimaryParticles(analysis: analysis, image: s.image, methods: SizingMethod.allCases)
            for (index, aggregate) in analysis.aggregates.enumerated() {
                guard let truth = s.truth.aggregates.first(where: {
                    abs($0.centroidXPx - aggregate.centroidXPx) < 1 && abs($0.centroidYPx - aggregate.centroidYPx) < 1
                }) else { continue }
                for method in SizingMethod.allCases {
                    if let dp = sizing.sizes[index][method]?.diameterNm {
                        estimates[method, default: []].append(dp)
                        truths[method, default: []].append(truth.dpGeometricMeanNm)
                    }
                }
            }
        }
        let iouKMeans = Double(intersection[0]) / Double(union[0]), iouOtsu = Double(intersection[1]) / Double(union[1])
        func error(_ m: SizingMethod) -> Double {
            let e = GeometricSummary(estimates[m] ?? []).geometricMean ?? .nan
            let t = GeometricSummary(truths[m] ?? []).geometricMean ?? .nan
            return e / t - 1
        }
        print(String(format: "IoU k-means %.3f, Otsu %.3f; GM dp error PCM %+.2f, EDM-SBS %+.2f, Hough %+.2f, EDM-WS %+.2f (%d aggregates)",
                     iouKMeans, iouOtsu, error(.pcm), error(.edmSBS), error(.hough), error(.edmWS), estimates[.pcm]?.count ?? 0))
        #expect((estimates[.pcm]?.count ?? 0) >= 8)
        #expect(iouKMeans > 0.85)
        #expect(iouOtsu > 0.75)
        #expect((-0.25...0.10).contains(error(.pcm)))
        #expect((-0.55...(-0.15)).contains(error(.edmSBS)))
        // Hough's radius range is fixed in pixels (8-50): at 0.8 nm/px the smallest primaries
        // (radius < 8 px) are missed and the rest come out 1-3 px large (+16 % measured); at
        // 0.4 nm/px the soft sphere edge makes it 15 % low (Docs/Synthesis.md).
        #expect((-0.30...0.30).contains(error(.hough)))
        #expect((-0.05...0.30).contains(error(.edmWS)))
    }
}
