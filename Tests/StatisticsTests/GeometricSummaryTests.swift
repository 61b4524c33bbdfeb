import Foundation
import Aggregates
import Statistics
import Testing

@Suite("Geometric statistics")
struct GeometricSummaryTests {
    @Test("geometric mean, GSD (N - 1) and median against hand-computed values")
    func knownValues() throws {
        let s = GeometricSummary([10, 20, 40])
        #expect(abs(try #require(s.geometricMean) - 20) < 1e-12)
        // ln values: ln10, ln20, ln40 -> sample sd = ln 2.
        #expect(abs(try #require(s.geometricStandardDeviation) - 2) < 1e-12)
        #expect(s.median == 20)
        #expect(GeometricSummary([1, 2, 3, 4]).median == 2.5)
    }

    @Test("NaNs are ignored, non-positive values excluded and counted")
    func exclusions() {
        let s = GeometricSummary([5, .nan, 0, -3, 5])
        #expect(s.count == 2 && s.excludedCount == 2)
        #expect(abs((s.geometricMean ?? 0) - 5) < 1e-12 && s.geometricStandardDeviation == 1)
        let empty = GeometricSummary([Double]())
        #expect(empty.geometricMean == nil && empty.median == nil)
        #expect(GeometricSummary([7]).geometricStandardDeviation == nil)
    }
}
