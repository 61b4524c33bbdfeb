import ArgumentParser
import Foundation
import Pipeline
import ImageCore
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

    @OptionGroup var scene: SynthesisOptions

    func validate() throws {
        guard count >= 1, count <= 100_000 else { throw ValidationError("--count must be between 1 and 100000") }
        _ = try scene.parameters()
    }

    func run() throws {
        let progress = Progress(total: count)
        let failures = writeSyntheticSet(try scene.parameters(), count: count, seed: seed, to: OutputFolder(out, inputs: [])) {
            progress.update($0, $1)
        }
        progress.finish()
        for f in failures { printError("error: " + f) }
        print("\(count - failures.count) synthetic image(s) -> \(out)")
        if !failures.isEmpty { throw ExitCode.failure }
    }
}
