import Foundation
import ImageCore
import Testing
import TestSupport

@Suite("Measurement primitives")
struct MeasureTests {
    @Test("squared distance transform equals brute force", arguments: [0.01, 0.1, 0.5])
    func distanceTransformBruteForce(fraction: Double) {
        let mask = randomMask(width: 41, height: 29, fraction: fraction, seed: UInt64(fraction * 1000))
        let d2 = squaredDistanceTransform(mask)
        var trues: [(Int, Int)] = []
        for r in 0..<29 { for c in 0..<41 where mask[r, c] { trues.append((r, c)) } }
        for r in 0..<29 {
            for c in 0..<41 {
                let best = trues.map { ($0.0 - r) * ($0.0 - r) + ($0.1 - c) * ($0.1 - c) }.min() ?? Int.max
                #expect(d2[r * 41 + c] == (best == Int.max ? Float.infinity : Float(best)))
            }
        }
    }

    @Test("distance transform of an empty mask is infinite; distance to background of a disk")
    func distanceEdgeCases() {
        #expect(squaredDistanceTransform(BinaryMask(width: 5, height: 4)).allSatisfy { $0 == .infinity })
        let disk = BinaryMask(width: 41, height: 41) { r, c in (r - 20) * (r - 20) + (c - 20) * (c - 20) <= 15 * 15 }
        let edm = distanceToBackground(disk)
        // The nearest background pixels lie at squared distance 226 (the first lattice norm above 15^2).
        #expect(edm[20 * 41 + 20] == Float(226).squareRoot())
        #expect(edm[0] == 0)
    }

    @Test("labelling: counts for 4- and 8-connectivity, column-major numbering")
    func labelling() {
        var mask = BinaryMask(width: 6, height: 5)
        mask[0, 5] = true  // first in row-major order, last in column-major order
        mask[2, 0] = true; mask[3, 1] = true  // diagonal pair
        mask[4, 3] = true; mask[4, 4] = true
        let eight = label(mask, connectivity: .eight)
        #expect(eight.count == 3)
        #expect(eight[2, 0] == 1 && eight[3, 1] == 1 && eight[4, 3] == 2 && eight[0, 5] == 3)
        #expect(label(mask, connectivity: .four).count == 4)
    }

    @Test("labelling agrees with a flood fill on random masks", arguments: [Connectivity.four, .eight])
    func labellingRandom(connectivity: Connectivity) {
        let mask = randomMask(width: 60, height: 45, fraction: 0.45, seed: 21)
        let labels = label(mask, connectivity: connectivity)
        // Flood-fill reference count.
        var seen = [Bool](repeating: false, count: mask.count)
        var components = 0
        let steps = connectivity == .four ? [(0, 1), (1, 0), (0, -1), (-1, 0)]
            : [(0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1)]
        for start in 0..<mask.count where mask.bits[start] != 0 && !seen[start] {
            components += 1
            var stack = [start]
            seen[start] = true
            while let i = stack.popLast() {
                #expect(labels.labels[i] == labels.labels[start])
                for (dr, dc) in steps {
                    let r = i / 60 + dr, c = i % 60 + dc
                    guard r >= 0, r < 45, c >= 0, c < 60 else { continue }
                    let j = r * 60 + c
                    if mask.bits[j] != 0 && !seen[j] { seen[j] = true; stack.append(j) }
                }
            }
        }
        #expect(labels.count == components)
        #expect(Set(labels.labels.filter { $0 != 0 }).count == components)
    }

    @Test("region properties of a rectangle and a disk")
    func regionProps() {
        let rect = BinaryMask(width: 30, height: 20) { r, c in r >= 3 && r < 10 && c >= 5 && c < 17 }
        let p = regionProperties(of: label(rect))[0]
        #expect(p.areaPixels == 7 * 12)
        #expect(p.centroidRow == 6 && p.centroidColumn == 10.5)
        #expect(p.perimeterPixels == 2 * (7 + 12) - 4)
        #expect((p.minRow, p.maxRow, p.minColumn, p.maxColumn) == (3, 9, 5, 16))
        #expect(abs(p.radiusOfGyrationPixels - ((49.0 - 1) / 12 + (144.0 - 1) / 12).squareRoot()) < 1e-9)
        #expect(!p.touchesBorder)

        let radius = 40.0
        let disk = BinaryMask(width: 101, height: 101) { r, c in
            Double((r - 50) * (r - 50) + (c - 50) * (c - 50)) <= radius * radius
        }
        let d = regionProperties(of: label(disk))[0]
        #expect(abs(Double(d.areaPixels) - Double.pi * radius * radius) / (Double.pi * radius * radius) < 0.01)
        #expect(abs(d.radiusOfGyrationPixels - radius / 2.0.squareRoot()) < 0.3)
        #expect(abs(d.equivalentDiameterPixels - 2 * radius) < 0.5)
        #expect(abs(d.majorAxisPixels - d.minorAxisPixels) < 1e-9)
    }

    @Test("Otsu on known histograms")
    func otsu() {
        // Two spikes: every k between them attains the maximum; MATLAB takes their mean.
        var bins = [Int](repeating: 0, count: 256)
        bins[50] = 100; bins[200] = 100
        #expect(otsuLevel(histogram: bins) == 124.5 / 255)
        // A constant image has no finite between-class variance: level 0.
        var constant = [Int](repeating: 0, count: 256)
        constant[77] = 10
        #expect(otsuLevel(histogram: constant) == 0)
        // Unequal classes: mass 3 at 10, 1 at 30 -> the maximum is attained for k in 10...29.
        var uneven = [Int](repeating: 0, count: 256)
        uneven[10] = 3; uneven[30] = 1
        #expect(otsuLevel(histogram: uneven) == 19.5 / 255)
        let image = try! GrayImage(width: 4, height: 1, bytes: [10, 10, 10, 30])
        #expect(otsuThreshold(image) == 19.5 / 255)
    }

    @Test("histogram with edges: half-open bins, closed last bin")
    func edgesHistogram() {
        #expect(histogram([0, 0.5, 1, 1.5, 2, 2, 3, -1, .nan], edges: [0, 1, 2]) == [2, 4])
    }

    @Test("thinning leaves a one-pixel-wide, connected skeleton")
    func thinning() {
        let bar = BinaryMask(width: 30, height: 11) { r, c in r >= 3 && r <= 7 && c >= 2 && c <= 27 }
        let skeleton = thin(bar)
        for c in 6...23 {
            let column = (0..<11).filter { skeleton[$0, c] }
            #expect(column.count == 1, "column \(c)")
        }
        #expect(label(skeleton).count == 1)
        #expect(thin(skeleton) == skeleton)
        let blobs = randomBlobs(width: 64, height: 48, count: 6, radius: 4...10, seed: 5)
        let thinned = thin(blobs)
        #expect(label(thinned).count == label(blobs).count)
        // No 2 x 2 block survives thinning.
        for r in 0..<47 {
            for c in 0..<63 {
                #expect(!(thinned[r, c] && thinned[r + 1, c] && thinned[r, c + 1] && thinned[r + 1, c + 1]))
            }
        }
    }

    @Test("watershed splits two overlapping disks along a ridge")
    func watershedTwoDisks() {
        let mask = BinaryMask(width: 70, height: 40) { r, c in
            (r - 20) * (r - 20) + (c - 22) * (c - 22) <= 15 * 15 || (r - 20) * (r - 20) + (c - 48) * (c - 48) <= 15 * 15
        }
        let edm = distanceToBackground(mask)
        let labels = watershed(edm.map { -$0 }, width: 70, height: 40, mask: mask)
        #expect(labels.count == 2)
        #expect(labels[20, 22] != labels[20, 48])
        #expect(labels[20, 22] != 0 && labels[20, 48] != 0)
        #expect(labels[20, 35] == 0)  // the ridge runs through the neck
        for i in 0..<mask.count where mask.bits[i] == 0 { #expect(labels.labels[i] == 0) }
    }

    @Test("regional minima are plateaus without a lower neighbour")
    func minima() {
        let values: [Float] = [
            3, 3, 3, 3, 3,
            3, 1, 1, 3, 3,
            3, 3, 3, 2, 3,
            0, 3, 3, 3, 3,
        ]
        let minima = regionalMinima(values, width: 5, height: 4)
        #expect(minima.count == 2)  // the plateau of 1s and the corner 0; the 2 has the 1s as lower neighbour
        #expect(minima[3, 0] == 1 && minima[1, 1] == 2 && minima[1, 2] == 2 && minima[2, 3] == 0)
    }

    @Test("quadratic surface fit recovers an exact surface, with and without a mask")
    func surfaceFit() throws {
        let w = 40, h = 30
        func truth(_ r: Double, _ c: Double) -> Double { 3 + 0.2 * c - 0.1 * r + 0.01 * c * c - 0.02 * c * r + 0.005 * r * r }
        var values = [Float](repeating: 0, count: w * h)
        for r in 0..<h { for c in 0..<w { values[r * w + c] = Float(truth(Double(r), Double(c))) } }
        let fit = try QuadraticSurface.fit(values, width: w, height: h)
        #expect(abs(fit.value(row: 12, column: 33) - truth(12, 33)) < 1e-4)
        // Corrupt the pixels outside a mask; the masked fit ignores them.
        let mask = BinaryMask(width: w, height: h) { r, c in (r + c) % 3 != 0 }
        for i in 0..<values.count where mask.bits[i] == 0 { values[i] = 1000 }
        let masked = try QuadraticSurface.fit(values, width: w, height: h, mask: mask)
        #expect(abs(masked.value(row: 3, column: 3) - truth(3, 3)) < 1e-4)
        #expect(throws: ImageCoreError.self) {
            try QuadraticSurface.fit(values, width: w, height: h, mask: BinaryMask(width: w, height: h))
        }
    }
}

@Suite("Thinning against scikit-image")
struct ThinningReferenceTests {
    @Test("skeletons equal scikit-image's thin on random blobs", arguments: 0..<3)
    func matchesScikitImage(k: Int) throws {
        let input = try ImageReader.readMask(TestPaths.fixture("thin_input_\(k).png"))
        let expected = try ImageReader.readMask(TestPaths.fixture("thin_expected_\(k).png"))
        #expect(thin(input) == expected)
    }
}
