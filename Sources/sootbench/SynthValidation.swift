import Classifiers
import Foundation
import ImageCore
import PrimarySizing
import Aggregates
import Statistics
import Synthesis

/// Known-truth validation on synthetic images: each classifier's IoU against the true mask,
/// each sizing method's error in the ensemble geometric mean dp (on the true mask and on the
/// k-means mask), and the power-law fit against the relation the images were generated with.
func validateOnSynthetic(count: Int, seed: UInt64, width: Int, height: Int, pixelSizeNm: Double) throws {
    var p = SynthesisParameters()
    p.width = width
    p.height = height
    p.pixelSizeNm = pixelSizeNm
    print("synthetic validation: \(count) images \(width) x \(height) at \(pixelSizeNm) nm/px, seeds \(seed)...\(seed + UInt64(count) - 1)")
    var iou: [String: (Int, Int)] = ["kmeans": (0, 0), "otsu": (0, 0)]
    // (mask source, method) -> per-aggregate (estimate, truth, da)
    var pairs: [String: [(Double, Double, Double)]] = [:]
    var truthPoints: [(Double, Double)] = []
    var synthSeconds = 0.0
    for k in 0..<count {
        let start = Date()
        let s = synthesize(p, seed: seed + UInt64(k))
        synthSeconds += Date().timeIntervalSince(start)
        let image = s.image
        var masks: [String: BinaryMask] = ["truth": s.mask]
        for (name, segmenter) in [("kmeans", KMeansSegmenter() as any Segmenter), ("otsu", OtsuSegmenter())] {
            let mask = try segmenter.segment(image, pixelSizeNm: pixelSizeNm).mask
            var (i, u) = iou[name]!
            for j in 0..<mask.count {
                if mask.bits[j] & s.mask.bits[j] != 0 { i += 1 }
                if mask.bits[j] | s.mask.bits[j] != 0 { u += 1 }
            }
            iou[name] = (i, u)
            masks[name] = mask
        }
        for source in ["truth", "kmeans"] {
            let analysis = extractAggregates(mask: masks[source]!, image: image, pixelSizeNm: pixelSizeNm)
            let sizing = sizePrimaryParticles(analysis: analysis, image: image, methods: SizingMethod.allCases)
            for (index, aggregate) in analysis.aggregates.enumerated() {
                // The truth aggregate whose projection holds most of this aggregate's centroid area.
                guard let truth = s.truth.aggregates.min(by: {
                    hypot($0.centroidXPx - aggregate.centroidXPx, $0.centroidYPx - aggregate.centroidYPx)
                        < hypot($1.centroidXPx - aggregate.centroidXPx, $1.centroidYPx - aggregate.centroidYPx)
                }), hypot(truth.centroidXPx - aggregate.centroidXPx, truth.centroidYPx - aggregate.centroidYPx) < 25,
                      !truth.touchesBorder else { continue }
                if source == "truth" { truthPoints.append((aggregate.daNm, truth.dpGeometricMeanNm)) }
                for method in SizingMethod.allCases {
                    if let dp = sizing.sizes[index][method]?.diameterNm {
                        pairs["\(source) \(method.rawValue)", default: []].append((dp, truth.dpGeometricMeanNm, aggregate.daNm))
                    }
                }
            }
        }
        FileHandle.standardError.write(Data("image \(k + 1)/\(count) done\n".utf8))
    }
    print(String(format: "synthesis: %.2f s per image", synthSeconds / Double(count)))
    print("\n| classifier | pixel IoU against the true mask |\n|---|---|")
    for name in ["kmeans", "otsu"] {
        let (i, u) = iou[name]!
        print(String(format: "| %@ | %.3f |", name, Double(i) / Double(max(u, 1))))
    }
    func fit(_ points: [(Double, Double)]) -> (Double, Double) {
        let xs = points.map { log10($0.0) }, ys = points.map { log10($0.1) }
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        let slope = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        let intercept = my - slope * mx
        return (pow(10, intercept) * pow(100, slope), slope)
    }
    let truthFit = fit(truthPoints)
    print(String(format: "\ntruth: %d aggregates; power law of the true dp: dp,100 = %.1f nm, D_TEM = %.2f (generated: 17.8, 0.35)",
                 truthPoints.count, truthFit.0, truthFit.1))
    print("\n| mask | method | aggregates | GM dp / true GM dp - 1 | median per-aggregate ratio | dp,100 nm | D_TEM |\n|---|---|---|---|---|---|---|")
    for source in ["truth", "kmeans"] {
        for method in SizingMethod.allCases {
            guard let list = pairs["\(source) \(method.rawValue)"], list.count >= 2 else { continue }
            let gmEstimate = exp(list.reduce(0) { $0 + log($1.0) } / Double(list.count))
            let gmTruth = exp(list.reduce(0) { $0 + log($1.1) } / Double(list.count))
            let ratios = list.map { $0.0 / $0.1 }.sorted()
            let median = ratios.count % 2 == 1 ? ratios[ratios.count / 2] : (ratios[ratios.count / 2 - 1] + ratios[ratios.count / 2]) / 2
            let f = fit(list.map { ($0.2, $0.0) })
            print(String(format: "| %@ | %@ | %d | %+.0f %% | %.2f | %.1f | %.2f |", source, method.rawValue, list.count,
                         (gmEstimate / gmTruth - 1) * 100, median, f.0, f.1))
        }
    }
}
