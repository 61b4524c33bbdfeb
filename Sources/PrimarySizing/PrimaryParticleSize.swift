/// Why a primary-particle sizing method produced no diameter for an aggregate.
public enum SizingFailure: String, Sendable, Equatable, Codable {
    /// The aggregate is too small for the method (e.g. a single PCM bin).
    case aggregateTooSmall = "aggregate too small"
    /// The method's curve never crosses its threshold (e.g. PCM's 0.913).
    case thresholdNotCrossed = "threshold not crossed"
    /// A curve fit did not converge or gave non-physical parameters.
    case fitFailed = "fit failed"
    /// No primary particle (e.g. no Hough circle) was found in the aggregate.
    case noParticlesFound = "no particles found"
    /// The pixel size needed to report nanometres is unknown.
    case missingPixelSize = "missing pixel size"
}

/// The outcome of one primary-particle sizing method on one aggregate: a diameter in
/// nanometres, or the reason there is none. Reports write the reason instead of a number.
public enum PrimaryParticleSize: Sendable, Equatable, Codable {
    case diameter(nanometers: Double, particleCount: Int?)
    case notDetermined(SizingFailure)

    /// The diameter in nm, or nil.
    public var diameterNm: Double? {
        if case let .diameter(nm, _) = self { return nm }
        return nil
    }

    /// Wraps a computed diameter: non-finite or non-positive values become `.fitFailed`.
    public static func checked(_ nanometers: Double, particleCount: Int? = nil) -> PrimaryParticleSize {
        nanometers.isFinite && nanometers > 0
            ? .diameter(nanometers: nanometers, particleCount: particleCount) : .notDetermined(.fitFailed)
    }
}
