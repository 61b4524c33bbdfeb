import Foundation

/// Geometric statistics of a positive, lognormally distributed quantity such as an aggregate's
/// area-equivalent diameter or a primary-particle diameter.
///
/// Follows atems `+tools/aggs2dps.m` (METHODS.md section 6.3): geometric mean exp(mean ln x),
/// geometric standard deviation exp(std ln x) with the N - 1 normalisation. NaN values are
/// ignored; zero and negative values are excluded and counted in `excludedCount` (atems lets
/// ln 0 = -infinity turn the mean into 0).
public struct GeometricSummary: Sendable, Equatable, Codable {
    /// Number of values used.
    public let count: Int
    /// Number of non-positive or infinite values left out (NaNs are not counted).
    public let excludedCount: Int
    /// exp(mean ln x); nil when no value was usable.
    public let geometricMean: Double?
    /// exp(sample standard deviation of ln x); nil with fewer than two values.
    public let geometricStandardDeviation: Double?
    /// Median of the usable values; nil when none.
    public let median: Double?

    /// Summarises `values`.
    public init<S: Sequence>(_ values: S) where S.Element == Double {
        var logs: [Double] = []
        var usable: [Double] = []
        var excluded = 0
        for v in values where !v.isNaN {
            if v > 0 && v.isFinite {
                logs.append(Foundation.log(v))
                usable.append(v)
            } else {
                excluded += 1
            }
        }
        count = usable.count
        excludedCount = excluded
        guard !usable.isEmpty else {
            geometricMean = nil
            geometricStandardDeviation = nil
            median = nil
            return
        }
        let meanLog = logs.reduce(0, +) / Double(logs.count)
        geometricMean = exp(meanLog)
        if logs.count >= 2 {
            let variance = logs.reduce(0) { $0 + ($1 - meanLog) * ($1 - meanLog) } / Double(logs.count - 1)
            geometricStandardDeviation = exp(variance.squareRoot())
        } else {
            geometricStandardDeviation = nil
        }
        let sorted = usable.sorted()
        let mid = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
