import Foundation
import ImageCore
import Testing
import TestSupport

@Suite("Filters")
struct FilterTests {
    @Test("Gaussian kernel: 2 ceil(2 sigma) + 1 taps summing to 1")
    func kernel() {
        for sigma in [0.5, 1.0, 1.5, 3.75, 15.0] {
            let k = gaussianKernel(sigma: sigma)
            #expect(k.count == 2 * Int((2 * sigma).rounded(.up)) + 1)
            #expect(abs(k.reduce(0, +) - 1) < 1e-6)
            #expect(k.first == k.last)
        }
    }

    @Test("Gaussian filter equals a direct 2-D correlation with replicate padding")
    func gaussianMatchesDirect() {
        let image = randomImage(width: 23, height: 17, seed: 5)
        let sigma = 1.3
        let out = gaussianFilter(image, sigma: sigma)
        let k = gaussianKernel(sigma: sigma).map(Double.init)
        let h = k.count / 2
        for r in 0..<17 {
            for c in 0..<23 {
                var acc = 0.0
                for i in -h...h {
                    for j in -h...h {
                        let rr = min(max(r + i, 0), 16), cc = min(max(c + j, 0), 22)
                        acc += k[i + h] * k[j + h] * Double(image[rr, cc])
                    }
                }
                #expect(abs(Double(out[r, c]) - acc) < 1e-5)
            }
        }
    }

    @Test("bilateral filter equals the direct formula and leaves a constant image alone")
    func bilateral() {
        let image = randomImage(width: 12, height: 9, seed: 6)
        let out = bilateralFilter(image)
        for r in 0..<9 {
            for c in 0..<12 {
                var sum = 0.0, weights = 0.0
                let center = Double(image[r, c]) * 255
                for i in -2...2 {
                    for j in -2...2 {
                        let v = Double(image[min(max(r + i, 0), 8), min(max(c + j, 0), 11)]) * 255
                        let w = exp(-Double(i * i + j * j) / 2) * exp(-(v - center) * (v - center) / (2 * 650.25))
                        sum += w * v; weights += w
                    }
                }
                #expect(abs(Double(out[r, c]) * 255 - sum / weights) < 1e-3)
            }
        }
        let flat = GrayImage(width: 10, height: 10, value: 0.3)
        #expect(bilateralFilter(flat).pixels.allSatisfy { abs($0 - 0.3) < 1e-6 })
    }

    @Test("local entropy equals a per-pixel histogram with symmetric padding")
    func entropy() {
        // Few distinct values so that windows have repeated bins.
        var image = randomImage(width: 19, height: 13, seed: 7)
        image.pixels = image.pixels.map { (($0 * 255).rounded() / 64).rounded(.down) * 64 / 255 }
        let size = 5
        let out = localEntropy(image, windowSize: size)
        func mirror(_ i: Int, _ n: Int) -> Int { i < 0 ? -i - 1 : (i >= n ? 2 * n - 1 - i : i) }
        for r in 0..<13 {
            for c in 0..<19 {
                var counts = [Int](repeating: 0, count: 256)
                for i in -2...2 { for j in -2...2 { counts[Int(image.value8(atIndex: mirror(r + i, 13) * 19 + mirror(c + j, 19)))] += 1 } }
                let n = Double(size * size)
                let e = counts.filter { $0 > 0 }.reduce(0.0) { $0 - Double($1) / n * log2(Double($1) / n) }
                #expect(abs(Double(out[r, c]) - e) < 1e-5)
            }
        }
    }

    @Test("area resize averages blocks; bilinear at the same size is the identity")
    func resizing() {
        let image = randomImage(width: 8, height: 6, seed: 8)
        let half = resize(image, width: 4, height: 3, method: .area)
        for r in 0..<3 {
            for c in 0..<4 {
                let mean = (image[2 * r, 2 * c] + image[2 * r + 1, 2 * c] + image[2 * r, 2 * c + 1] + image[2 * r + 1, 2 * c + 1]) / 4
                #expect(abs(half[r, c] - mean) < 1e-6)
            }
        }
        #expect(resize(image, width: 8, height: 6).pixels == image.pixels)
        var withSize = image
        withSize.pixelSize = PixelSize(nanometersPerPixel: 0.4, source: .user)
        #expect(resize(withSize, width: 4, height: 3).pixelSize?.nanometersPerPixel == 0.8)
    }
}

@Suite("CLAHE")
struct CLAHETests {
    @Test("one tile without clipping is global histogram equalisation")
    func globalEqualisation() {
        var rng = TestRandom(seed: 5)
        let w = 40, h = 30
        let values = (0..<(w * h)).map { _ in UInt8(Int.random(in: 60...120, using: &rng)) }
        let out = clahe(values, width: w, height: h, clipLimit: 0, tilesX: 1, tilesY: 1)
        var histogram = [Int](repeating: 0, count: 256)
        for v in values { histogram[Int(v)] += 1 }
        var cdf = [Int](repeating: 0, count: 256), sum = 0
        for i in 0..<256 { sum += histogram[i]; cdf[i] = sum }
        for i in 0..<values.count {
            let expected = UInt8((Double(cdf[Int(values[i])]) * 255 / Double(w * h)).rounded())
            #expect(out[i] == expected)
        }
        #expect(out.max() == 255)
    }

    @Test("equals OpenCV's createCLAHE pixel for pixel (clip limits 1, 2, 4; 8 x 8 tiles; size not a multiple of the grid)",
          arguments: [1, 2, 4])
    func openCV(clip: Int) throws {
        let input = try ImageReader.read(TestPaths.fixture("clahe_input.png")).image
        let expected = try ImageReader.read(TestPaths.fixture("clahe_expected_\(clip).png")).image.bytes8()
        let out = clahe(input.bytes8(), width: input.width, height: input.height, clipLimit: Double(clip))
        var largest = 0, differing = 0
        for i in 0..<out.count {
            let d = abs(Int(out[i]) - Int(expected[i]))
            largest = max(largest, d)
            if d > 0 { differing += 1 }
        }
        // Pixel for pixel (single precision, round half to even, OpenCV's padding rule).
        #expect(largest == 0, "largest difference \(largest)")
        #expect(differing == 0, "\(differing) pixels differ")
    }
}
