import ArgumentParser
import Dispatch
import Foundation
import Pipeline
import ImageCore
import Randomness
import Synthesis

/// `sootctl synth --out DIR --count N`: synthetic TEM images with known truth.
struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate synthetic TEM images of soot aggregates with known truth.",
        discussion: """
            Writes DIR/images/NAME.png (pixel size in the PNG text chunk), DIR/masks/NAME.png \
            (the projected aggregates, 0/255) and DIR/truth/NAME.json (per aggregate: primaries' \
            projected centres and diameters, dp geometric mean and spread, primary count, da, Rg \
            in 3-D and projected, border flag; the parameters and seed). NAME is synth_SEED_INDEX. \
            The same seed gives the same bytes. Aggregates are 3-D fractal aggregates (tunable \
            particle-cluster or cluster-cluster aggregation) rendered with mass-thickness contrast, \
            carbon-film texture, a Fresnel fringe, defocus blur, uneven illumination and shot noise.
            """)

    @Option(help: "Output folder.", completion: .directory)
    var out: String

    @Option(help: "Number of images.")
    var count: Int = 1

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

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

    func validate() throws {
        guard count >= 1, count <= 100_000 else { throw ValidationError("--count must be between 1 and 100000") }
        _ = try parameters()
    }

    func run() throws {
        let p = try parameters()
        let output = OutputFolder(out, inputs: [])
        let progress = Progress(total: count)
        let lock = NSLock()
        var failures: [String] = []
        var done = 0
        // Images in parallel (each is deterministic in its own seed); writes are atomic.
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let imageSeed = synthesisSeed(seed, index: index)
            let name = String(format: "synth_%llu_%04d", seed, index)
            let result = synthesize(p, seed: imageSeed)
            do {
                if p.bitDepth == 16 {
                    try ImageWriter.writePNG16(result.image, to: try output.path("images", name + ".png"))
                } else {
                    try ImageWriter.writePNG8(result.image, to: try output.path("images", name + ".png"))
                }
                try ImageWriter.writeMask(result.mask, to: try output.path("masks", name + ".png"))
                try output.write(try encodeJSON(result.truth), to: "truth/\(name).json")
            } catch {
                lock.lock()
                failures.append("\(name): \((error as? LocalizedError)?.errorDescription ?? String(describing: error))")
                lock.unlock()
            }
            lock.lock()
            progress.update(done, name)
            done += 1
            lock.unlock()
        }
        progress.finish()
        for f in failures { printError("error: " + f) }
        print("\(count - failures.count) synthetic image(s) -> \(out)")
        if !failures.isEmpty { throw ExitCode.failure }
    }
}

/// The seed of image `index` of a run with `seed` (decorrelated by SplitMix64's mixer).
func synthesisSeed(_ seed: UInt64, index: Int) -> UInt64 {
    var rng = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(index + 1))
    return rng.next()
}
