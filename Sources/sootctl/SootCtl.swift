import ArgumentParser

@main
struct SootCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sootctl",
        abstract: "Characterise soot in TEM images: aggregate masks, aggregate sizes, primary-particle sizes.",
        version: "0.1.0",
        subcommands: [Info.self, Segment.self, Analyze.self, Synth.self, Train.self, Compare.self])
}
