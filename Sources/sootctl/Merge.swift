import ArgumentParser
import Pipeline

/// `sootctl merge RUN... --out DIR`: one result from the shards of a batch.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Combine the output folders of analyze --shard K/N runs into one result.",
        discussion: """
            The merged folder holds what one analyze run over all inputs writes (tables, summary, \
            masks, overlays, report; run.json names the runs merged). Every shard must be complete \
            and given once, all with the same options.
            """)

    @Argument(help: "Output folders of the shard runs.", completion: .directory)
    var runs: [String]

    @Option(help: "Output folder.", completion: .directory)
    var out: String

    func run() throws {
        try reportingErrors {
            let output = OutputFolder(out, inputs: [], inputFolders: runs)
            try output.check()
            let outcome = try MergeRun.run(runs, into: output, commandLine: typedCommandLine)
            print("\(outcome.records.count) aggregate(s) in \(outcome.analysed) image(s) from \(runs.count) run(s) -> \(out)")
            if outcome.failures > 0 {
                printError("\(outcome.failures) of \(outcome.summary.overall.images) input(s) failed")
                throw ExitCode.failure
            }
        }
    }
}
