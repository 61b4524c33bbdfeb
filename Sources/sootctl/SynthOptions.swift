import ArgumentParser
import ImageCore
import Synthesis

/// The scene options of `sootctl synth` and their checks.
struct SynthesisOptions: ParsableArguments {
    @Option(help: "Image size WIDTHxHEIGHT in pixels.")
    var size: String = "2240x1952"

    @Option(name: .customLong("pixel-size"), help: "Pixel size in nm per pixel.")
    var pixelSizeNm: Double = 0.4

    @Option(name: .customLong("dp-nm"),
            help: "Geometric mean primary diameter (nm) of every aggregate (default: the universal relation dp = 17.8 nm (da/100 nm)^0.35).")
    var dpNm: Double?

    @Option(name: .customLong("dp-spread"), help: "Geometric standard deviation of aggregate mean dp around --dp-nm.")
    var dpSpread: Double = 1.2

    @Option(name: .customLong("dp-std"), help: "Geometric standard deviation of primary diameters within an aggregate.")
    var dpStd: Double = 1.15

    @Option(help: "Aggregates per image, MIN-MAX.")
    var aggregates: String = "2-6"

    @Option(help: "Primaries per aggregate, MIN-MAX (log-uniform).")
    var primaries: String = "5-300"

    @Option(help: "Fractal dimension Df.")
    var df: Double = 1.78

    @Option(help: "Fractal prefactor kf.")
    var kf: Double = 1.3

    @Option(help: "Overlap between neighbouring primaries, MIN-MAX (fraction of the sum of radii).")
    var overlap: String = "0.1-0.3"

    @Option(help: "Aggregation algorithm: particle-cluster or cluster-cluster.")
    var algorithm: String = "cluster-cluster"

    @Option(help: "Bit depth of the images: 8 or 16.")
    var bitDepth: Int = 8

    func parameters() throws -> SynthesisParameters {
        var p = SynthesisParameters()
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 32, parts[1] >= 32, parts[0] * parts[1] <= 100_000_000 else {
            throw ValidationError("--size must be WIDTHxHEIGHT with both at least 32 (e.g. 2240x1952)")
        }
        p.width = parts[0]
        p.height = parts[1]
        guard pixelSizeNm.isFinite, PixelSize.plausibleRangeNm.contains(pixelSizeNm) else {
            throw ValidationError("--pixel-size must be between 0.001 and 1000 nm per pixel")
        }
        p.pixelSizeNm = pixelSizeNm
        if let dpNm {
            guard dpNm > 0, dpNm.isFinite, dpSpread >= 1 else {
                throw ValidationError("--dp-nm must be positive and --dp-spread at least 1")
            }
            p.primarySize = .fixed(meanNm: dpNm, spread: dpSpread)
        }
        guard dpStd >= 1, dpStd < 3 else { throw ValidationError("--dp-std must be in [1, 3)") }
        p.withinAggregateStd = dpStd
        p.aggregateCount = try intRange(aggregates, name: "--aggregates", minimum: 0)
        p.primaryCount = try intRange(primaries, name: "--primaries", minimum: 1)
        guard (1.0...3.0).contains(df), kf > 0 else { throw ValidationError("--df must be in 1...3 and --kf positive") }
        p.fractalDimension = df
        p.fractalPrefactor = kf
        let ov = overlap.split(separator: "-").compactMap { Double($0) }
        guard ov.count == 2, ov[0] >= 0, ov[0] <= ov[1], ov[1] < 0.5 else {
            throw ValidationError("--overlap must be MIN-MAX with 0 <= MIN <= MAX < 0.5")
        }
        p.overlap = ov[0]...ov[1]
        guard let a = AggregationAlgorithm(rawValue: algorithm) else {
            throw ValidationError("--algorithm must be particle-cluster or cluster-cluster")
        }
        p.algorithm = a
        guard bitDepth == 8 || bitDepth == 16 else { throw ValidationError("--bit-depth must be 8 or 16") }
        p.bitDepth = bitDepth
        return p
    }

    func intRange(_ text: String, name: String, minimum: Int) throws -> ClosedRange<Int> {
        let v = text.split(separator: "-").compactMap { Int($0) }
        if v.count == 1, v[0] >= minimum { return v[0]...v[0] }
        guard v.count == 2, v[0] >= minimum, v[0] <= v[1] else {
            throw ValidationError("\(name) must be MIN-MAX (or one number) with MIN >= \(minimum)")
        }
        return v[0]...v[1]
    }

}
