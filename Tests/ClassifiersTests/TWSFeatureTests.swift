import Classifiers
import Foundation
import ImageCore
import Testing
import TestSupport

@Suite("Trainable Weka Segmentation features")
struct TWSFeatureTests {
    @Test("67 features: original, 5 Gaussians, 5 Sobel, 40 Hessian, 10 DoG, 6 membrane projections")
    func names() {
        #expect(TWSFeatures.count == 67)
        #expect(TWSFeatures.names.first == "original" && TWSFeatures.names.last == "membrane_min")
        #expect(Set(TWSFeatures.names).count == 67)
    }

    @Test("a flat image: blurs equal it, derivatives and differences vanish, projections are the value")
    func flat() {
        let image = GrayImage(width: 24, height: 20, value: 0.6)
        let f = TWSFeatures.compute(image)
        #expect(f.count == 24 * 20 * 67)
        let names = TWSFeatures.names
        let pixel = Array(f[(10 * 24 + 12) * 67..<(10 * 24 + 13) * 67])
        for (k, name) in names.enumerated() {
            let v = pixel[k]
            if name == "original" || name.hasPrefix("gaussian") || ["membrane_mean", "membrane_median", "membrane_max", "membrane_min"].contains(name) {
                #expect(abs(v - 0.6) < 1e-5, "\(name) = \(v)")
            } else if name == "membrane_sum" {
                #expect(abs(v - 0.6 * 30) < 1e-3)
            } else {
                #expect(abs(v) < 1e-5, "\(name) = \(v)")
            }
        }
    }

    @Test("a vertical ramp: Sobel magnitude 8 x slope; the Hessian of a parabola has trace 2 x curvature")
    func derivatives() {
        var ramp = GrayImage(width: 40, height: 40, value: 0)
        for r in 0..<40 { for c in 0..<40 { ramp[r, c] = Float(r) * 0.01 } }
        let f = TWSFeatures.compute(ramp)
        let names = TWSFeatures.names
        let centre = (20 * 40 + 20) * 67
        #expect(abs(f[centre + names.firstIndex(of: "sobel_1")!] - 0.08) < 1e-4)
        var parabola = GrayImage(width: 40, height: 40, value: 0)
        for r in 0..<40 { for c in 0..<40 { parabola[r, c] = Float((c - 20) * (c - 20)) * 0.0005 } }
        let g = TWSFeatures.compute(parabola)
        // ∂²/∂x² = 0.001 everywhere (blurring a parabola adds a constant only).
        #expect(abs(g[centre + names.firstIndex(of: "hessian_trace_1")!] - 0.001) < 1e-5)
        #expect(abs(g[centre + names.firstIndex(of: "hessian_eigenvalue_1_2")!] - 0.001) < 1e-5)
        #expect(abs(g[centre + names.firstIndex(of: "hessian_determinant_1")!]) < 1e-8)
    }

    @Test("a dark vertical line: the membrane projection's maximum finds it, the minimum does not")
    func membrane() {
        var image = GrayImage(width: 41, height: 41, value: 0)
        for r in 0..<41 { image[r, 20] = 1 }
        let f = TWSFeatures.compute(image)
        let names = TWSFeatures.names
        let at = (20 * 41 + 20) * 67
        #expect(f[at + names.firstIndex(of: "membrane_max")!] > 0.99)
        #expect(f[at + names.firstIndex(of: "membrane_min")!] < 0.2)
        #expect(f[(20 * 41 + 5) * 67 + names.firstIndex(of: "membrane_max")!] < 0.2)
    }

    struct Reference: Decodable {
        let generator: String
        let width: Int
        let height: Int
        let image: [Float]
        let features: [String: [Double]]
    }

    @Test("all 67 features of a 20 x 16 image match scikit-image and SciPy (Fixtures/make_tws_features.py)")
    func scikitImage() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("tws_features.json", target: "ClassifiersTests")))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        let image = try GrayImage(width: reference.width, height: reference.height, pixels: reference.image)
        let f = TWSFeatures.compute(image)
        let n = image.count
        #expect(Set(reference.features.keys) == Set(TWSFeatures.names))
        for (k, name) in TWSFeatures.names.enumerated() {
            guard let expected = reference.features[name] else { continue }
            let scale = max(expected.map(abs).max() ?? 0, 1e-6)
            var worst = 0.0
            for i in 0..<n {
                var difference = abs(Double(f[i * TWSFeatures.count + k]) - expected[i])
                if name.contains("orientation") {
                    // ±π/2 are the same orientation. Its float32 error is the Hessian's
                    // (~2e-7 for the widest blurs) over the eigenvalue gap: compare within that.
                    difference = min(difference, abs(difference - Double.pi))
                    let sigma = name.split(separator: "_").last!
                    let e1 = reference.features["hessian_eigenvalue_1_\(sigma)"]![i], e2 = reference.features["hessian_eigenvalue_2_\(sigma)"]![i]
                    #expect(difference < 3e-4 + 5e-7 / abs(e1 - e2), "\(name) at pixel \(i): \(difference) (eigenvalue gap \(abs(e1 - e2)))")
                    continue
                }
                worst = max(worst, difference)
            }
            // Float32 against float64: relative to the feature's range, or 1e-6 absolute for
            // the second differences of the widest blurs (values ~1e-4 from values ~0.6).
            #expect(worst / scale < 2e-4 || worst < 1e-6, "\(name): worst difference \(worst) (range \(scale))")
        }
    }
}
