import ArgumentParser
import Pipeline

@main
struct SootCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sootctl",
        abstract: "Characterise soot in TEM images: aggregate masks, aggregate sizes, primary-particle sizes.",
        version: sootctlVersion + (buildGitCommit.map { " (git \($0))" } ?? ""),
        subcommands: [Info.self, Segment.self, Analyze.self, Merge.self, Synth.self, Train.self, Compare.self, ReviewCommand.self])

    /// Parses the command line, with `train`'s bare `--init` given its value first.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        main(arguments.first == "train" ? Train.expandingBareInit(arguments) : arguments)
    }
}
