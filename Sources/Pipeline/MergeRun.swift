import Foundation
import ImageCore

/// `sootctl merge RUN... --out DIR`: combines the folders of `analyze --shard K/N` runs into
/// one result. The tables, summary, masks, overlays and report are those a single run over
/// all inputs writes (they are made from the same stored per-image results, in input order);
/// `run.json` names the merge and the runs merged.
public enum MergeRun {
    /// - Throws: `PipelineError.cannotMerge` naming what does not fit: a run that is not a
    ///   sootctl analyze run or is incomplete, runs with other configurations or input counts,
    ///   a shard missing or given twice.
    public static func run(_ runs: [String], into output: OutputFolder, commandLine: [String]) throws -> AnalysisOutcome {
        guard !runs.isEmpty else { throw PipelineError.cannotMerge("no run folders given") }
        // The merged folder is written afresh: it must be none of the runs, and in none of them.
        let target = OutputFolder.resolved(output.root) + "/"
        for run in runs {
            let source = OutputFolder.resolved(run) + "/"
            guard !target.hasPrefix(source), !source.hasPrefix(target) else {
                throw PipelineError.cannotMerge("--out \(output.root) overlaps the run folder \(run); choose another --out")
            }
        }
        var states: [(path: String, state: RunState, provenance: RunProvenance, images: [StoredImage])] = []
        for path in runs {
            let statePath = (path as NSString).appendingPathComponent(".sootctl/state.json")
            guard let data = FileManager.default.contents(atPath: statePath),
                  let state = try? JSONDecoder().decode(RunState.self, from: data), state.command == "analyze" else {
                throw PipelineError.cannotMerge("\(path) is not the output folder of a sootctl analyze run")
            }
            guard let runData = FileManager.default.contents(atPath: (path as NSString).appendingPathComponent("run.json")),
                  let provenance = try? JSONDecoder().decode(RunProvenance.self, from: runData), provenance.status == "complete" else {
                throw PipelineError.cannotMerge("\(path): the run is incomplete (run it again with --resume first)")
            }
            let folder = try RunFolder(OutputFolder(path, inputs: []))
            let images = try folder.storedImages()
            folder.release()
            states.append((path, state, provenance, images))
        }
        let first = states[0]
        for s in states.dropFirst() {
            guard s.state.configuration == first.state.configuration, s.state.masks == first.state.masks else {
                throw PipelineError.cannotMerge("\(s.path) was run with other options than \(first.path)")
            }
            guard s.state.total == first.state.total else {
                throw PipelineError.cannotMerge("\(s.path) had \(s.state.total) inputs, \(first.path) \(first.state.total)")
            }
        }
        // Every shard once.
        let shards = states.compactMap { $0.state.shard.flatMap(Shard.init) }
        if let n = shards.first?.count {
            guard shards.count == states.count, shards.allSatisfy({ $0.count == n }) else {
                throw PipelineError.cannotMerge("the runs are not shards K/\(n) of one batch")
            }
            let given = shards.map(\.index)
            if let twice = given.first(where: { k in given.filter { $0 == k }.count > 1 }) {
                throw PipelineError.cannotMerge("shard \(twice)/\(n) is given twice")
            }
            let absent = (1...n).filter { !given.contains($0) }
            guard absent.isEmpty else {
                throw PipelineError.cannotMerge("shard(s) \(absent.map { "\($0)/\(n)" }.joined(separator: ", ")) missing")
            }
        }
        var byIndex: [Int: (String, StoredImage)] = [:]
        for s in states {
            for image in s.images {
                if byIndex[image.index] != nil { throw PipelineError.cannotMerge("input \(image.file) is in two runs") }
                byIndex[image.index] = (s.path, image)
            }
        }

        let folder = try RunFolder(output)
        defer { folder.release() }
        var state = first.state
        state.shard = nil
        state.missing = states.flatMap(\.state.missing)
        try folder.begin(state, resume: false)
        var provenance = first.provenance
        provenance.commandLine = commandLine
        provenance.shard = nil
        provenance.mergedFrom = runs
        provenance.date = RunProvenance.now()
        provenance.status = "incomplete"
        try output.write(encodeJSON(provenance), to: "run.json")
        var stored: [StoredImage] = []
        for index in byIndex.keys.sorted() {
            let (source, image) = byIndex[index]!
            for relative in image.outputs {
                let from = (source as NSString).appendingPathComponent(relative)
                guard let bytes = FileManager.default.contents(atPath: from) else {
                    throw PipelineError.cannotMerge("\(from) is missing")
                }
                try output.write([UInt8](bytes), to: relative)
            }
            try folder.store(image)
            stored.append(image)
        }
        let configuration = try JSONDecoder().decode(AnalysisConfiguration.self, from: Data(first.state.configuration.utf8))
        return try AnalysisRun.finish(stored, missing: state.missing, configuration: configuration, provenance: provenance,
                                      reportPictures: 24, to: output)
    }
}
