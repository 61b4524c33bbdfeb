import Foundation
import Statistics
import Testing

@Suite("Fractal fit N = kf (Rg / a)^Df")
struct FractalFitTests {
    @Test("exact data give Df and kf back with R² 1; scatter gives intervals that hold them")
    func fit() throws {
        let rg = [20.0, 35, 50, 80, 120, 200], a = [8.0, 9, 10, 10, 11, 12]
        let counts = zip(rg, a).map { Int((1.3 * pow($0 / $1, 1.8)).rounded()) }
        let f = try #require(FractalFit(primaryCounts: counts, rgNm: rg, primaryRadiusNm: a))
        #expect(f.count == 6)
        #expect(abs(f.fractalDimension - 1.8) < 0.02 && abs(f.prefactor - 1.3) < 0.05)
        #expect(f.rSquared > 0.999)
        let df = try #require(f.fractalDimensionInterval), kf = try #require(f.prefactorInterval)
        #expect(df.contains(f.fractalDimension) && kf.contains(f.prefactor))
        #expect(df.contains(1.8) && kf.contains(1.3))
        // Fewer than two usable aggregates, or all Rg / a equal: no fit.
        #expect(FractalFit(primaryCounts: [5], rgNm: [30], primaryRadiusNm: [10]) == nil)
        #expect(FractalFit(primaryCounts: [5, 6], rgNm: [30, 60], primaryRadiusNm: [10, 20]) == nil)
        #expect(FractalFit(primaryCounts: [5, 0, 9], rgNm: [30, 40, 60], primaryRadiusNm: [10, 10, 10])?.count == 2)
    }
}
