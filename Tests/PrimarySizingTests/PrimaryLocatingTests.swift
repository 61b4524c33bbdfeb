import Foundation
import Testing
import PrimarySizing

@Suite("Located primaries: disc IoU, matching, peak decoding")
struct PrimaryLocatingTests {
    @Test("disc IoU: identical 1, apart 0, contained = area ratio, symmetric, and a known lens")
    func iou() {
        let a = Circle(centerX: 10, centerY: 10, radius: 5)
        #expect(abs(discIoU(a, a) - 1) < 1e-12)
        #expect(discIoU(a, Circle(centerX: 30, centerY: 10, radius: 5)) == 0)
        let inner = Circle(centerX: 11, centerY: 10, radius: 2.5)
        #expect(abs(discIoU(a, inner) - 0.25) < 1e-12)
        let b = Circle(centerX: 15, centerY: 10, radius: 5)
        #expect(abs(discIoU(a, b) - discIoU(b, a)) < 1e-12)
        // Two unit discs one radius apart: lens 2 acos(1/2) - sqrt(3)/2 = 1.2284; union 2 pi - lens.
        let lens = 2 * acos(0.5) - 3.0.squareRoot() / 2
        #expect(abs(discIoU(Circle(centerX: 0, centerY: 0, radius: 1), Circle(centerX: 1, centerY: 0, radius: 1))
                    - lens / (2 * Double.pi - lens)) < 1e-9)
    }

    @Test("matching: one to one by IoU >= 0.5, ignored truth neither hit nor miss, diameter errors of pairs")
    func matching() {
        let truth = [
            TruePrimary(centerX: 10, centerY: 10, radius: 5),
            TruePrimary(centerX: 30, centerY: 10, radius: 5),
            TruePrimary(centerX: 50, centerY: 10, radius: 5, counts: false),
            TruePrimary(centerX: 70, centerY: 10, radius: 5),
        ]
        let located = [
            Circle(centerX: 10.5, centerY: 10, radius: 5.5),  // hit, +10 %
            Circle(centerX: 10, centerY: 10, radius: 5),      // duplicate of the first: a false positive
            Circle(centerX: 30, centerY: 10, radius: 4),      // hit, -20 %
            Circle(centerX: 50, centerY: 10, radius: 5),      // on an ignored primary: left out
            Circle(centerX: 90, centerY: 40, radius: 5),      // nothing there
        ]
        let s = matchPrimaries(located: located, truth: truth)
        #expect(s.truePositives == 2)
        #expect(s.falsePositives == 2)
        #expect(s.falseNegatives == 1)
        #expect(abs(s.precision - 0.5) < 1e-12 && abs(s.recall - 2.0 / 3) < 1e-12)
        #expect(abs(s.f1 - 2 * 0.5 * (2.0 / 3) / (0.5 + 2.0 / 3)) < 1e-12)
        // The exact duplicate (IoU 1) wins the first primary, so the pairs are 0 % and -20 %.
        #expect(s.diameterErrors.sorted().map { ($0 * 1e6).rounded() / 1e6 } == [-0.2, 0])
        #expect(abs((s.medianAbsoluteDiameterError ?? 0) - 0.1) < 1e-12)
        // Too far off: IoU below 0.5 is no match.
        let off = matchPrimaries(located: [Circle(centerX: 14, centerY: 10, radius: 5)], truth: [truth[0]])
        #expect(off.truePositives == 0 && off.falsePositives == 1 && off.falseNegatives == 1)
    }

    @Test("peak decoding: local maxima above the threshold, diameter from the log channel, weaker overlapping discs dropped")
    func decoding() {
        let w = 64, h = 48
        var heat = [Float](repeating: -6, count: w * h), logD = [Float](repeating: 0, count: w * h)
        func bump(_ x: Int, _ y: Int, _ peak: Float, _ dNm: Double) {
            for yy in 0..<h {
                for xx in 0..<w {
                    let r2 = Float((xx - x) * (xx - x) + (yy - y) * (yy - y))
                    let v = peak - r2 / 4
                    if v > heat[yy * w + xx] { heat[yy * w + xx] = v; logD[yy * w + xx] = Float(log(dNm / 20)) }
                }
            }
        }
        bump(10, 10, 3, 16)    // p = 0.95, 16 nm
        bump(40, 20, 1, 30)    // p = 0.73, 30 nm
        bump(42, 21, 0.5, 30)  // a shoulder of the second: no peak of its own, or suppressed
        bump(55, 40, -2, 20)   // p = 0.12: below the threshold
        let found = decodePrimaryPeaks(heatmapLogits: heat, logDiameter: logD, width: w, height: h, pixelSizeNm: 0.5)
        #expect(found.count == 2)
        #expect(found[0].centerX == 10 && found[0].centerY == 10)
        #expect(abs(found[0].radius - 16) < 1e-4)  // 16 nm at 0.5 nm/px: radius 16 px
        #expect(abs(found[0].metric - 1 / (1 + exp(-3))) < 1e-6)
        #expect(found[1].centerX == 40 && abs(found[1].radius - 30) < 1e-4)
    }
}
