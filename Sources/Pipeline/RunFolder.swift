import Foundation
import ImageCore

/// One image's finished part of a run, kept in the run's state folder (`OUT/.sootctl/images/`)
/// as soon as its mask and overlay are written: what `--resume` skips, what `merge` combines,
/// and what the final tables are made from (so a single run, a resumed run and merged shards
/// write the same bytes).
public struct StoredImage: Codable, Sendable {
    /// Position in the whole input list (before sharding): the order of every table.
    public var index: Int
    public var file: String
    /// SHA-256 of the image file and of its mask file, when one was given.
    public var fingerprint: String
    public var image: ImageRecord
    public var records: [AggregateRecord]
    /// The located primaries (empty in results stored before they were recorded).
    public var primaries: [PrimaryRecord] = []
    public var edmCurves: [[Double]]
    /// Files of the run folder written for this image (relative paths).
    public var outputs: [String]

    enum CodingKeys: String, CodingKey {
        case index, file, fingerprint, image, records, primaries, edmCurves = "edm_curves", outputs
    }

    public init(index: Int, file: String, fingerprint: String, image: ImageRecord, records: [AggregateRecord],
                primaries: [PrimaryRecord] = [], edmCurves: [[Double]], outputs: [String]) {
        self.index = index; self.file = file; self.fingerprint = fingerprint; self.image = image
        self.records = records; self.primaries = primaries; self.edmCurves = edmCurves; self.outputs = outputs
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try c.decode(Int.self, forKey: .index)
        file = try c.decode(String.self, forKey: .file)
        fingerprint = try c.decode(String.self, forKey: .fingerprint)
        image = try c.decode(ImageRecord.self, forKey: .image)
        records = try c.decode([AggregateRecord].self, forKey: .records)
        primaries = try c.decodeIfPresent([PrimaryRecord].self, forKey: .primaries) ?? []
        edmCurves = try c.decode([[Double]].self, forKey: .edmCurves)
        outputs = try c.decode([String].self, forKey: .outputs)
    }
}

/// What a run folder holds: which command, with which configuration, over how many inputs.
struct RunState: Codable, Equatable {
    var command: String
    /// The configuration as JSON text (compared byte for byte on `--resume` and `merge`).
    var configuration: String
    /// Inputs of the whole (unsharded) list.
    var total: Int
    /// Arguments that named no file (reported by shard 1 only).
    var missing: [String]
    /// `K/N` for a shard.
    var shard: String?
    /// `analyze --mask`: the masks analysed.
    var masks: String?
}

/// Which part of the input list a run takes: every `count`-th input from `index` (1-based).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    /// Parses `K/N` with 1 <= K <= N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (1...parts[1]).contains(parts[0]) else { return nil }
        index = parts[0]
        count = parts[1]
    }

    public func contains(_ position: Int) -> Bool { position % count == index - 1 }
    public var description: String { "\(index)/\(count)" }
}

/// The bookkeeping of an output folder while a run writes into it: an exclusive lock (a
/// second run into the same folder is refused, not interleaved; the kernel releases it when
/// a run dies), removal of temporary files a killed run left, the per-image results, and
/// `run.json`, written first with `"status": "incomplete"` and last with `"complete"`, so an
/// interrupted run is visible as such.
public final class RunFolder: @unchecked Sendable {
    public let output: OutputFolder
    let stateFolder: String
    private var lockDescriptor: Int32 = -1
    private(set) var state: RunState?

    /// Takes the folder: creates it, locks it, removes stale temporary files.
    /// - Throws: `PipelineError.folderInUse` when another run holds it.
    public init(_ output: OutputFolder) throws {
        self.output = output
        stateFolder = (output.root as NSString).appendingPathComponent(".sootctl")
        try output.makeFolder(stateFolder)
        let lockPath = (stateFolder as NSString).appendingPathComponent("lock")
        lockDescriptor = open(lockPath, O_CREAT | O_RDWR, 0o644)
        guard lockDescriptor >= 0 else {
            throw PipelineError.cannotCreateFolder(output.root, String(cString: strerror(errno)))
        }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            lockDescriptor = -1
            throw PipelineError.folderInUse(output.root)
        }
        removeTemporaryFiles()
        state = try? JSONDecoder().decode(RunState.self, from: Data(contentsOf: URL(fileURLWithPath: statePath)))
    }

    deinit { release() }

    /// Gives the lock back.
    public func release() {
        guard lockDescriptor >= 0 else { return }
        flock(lockDescriptor, LOCK_UN)
        close(lockDescriptor)
        lockDescriptor = -1
    }

    var statePath: String { (stateFolder as NSString).appendingPathComponent("state.json") }
    var imagesFolder: String { (stateFolder as NSString).appendingPathComponent("images") }

    /// Removes `*.sootctl-tmp-*` files anywhere in the folder: no run is writing them (this
    /// one holds the lock and has not started), so they are what a killed run left.
    func removeTemporaryFiles() {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: output.root) else { return }
        var stale: [String] = []
        while let relative = walker.nextObject() as? String {
            if (relative as NSString).lastPathComponent.contains(ImageWriter.temporaryMarker) { stale.append(relative) }
        }
        for relative in stale { try? fm.removeItem(atPath: (output.root as NSString).appendingPathComponent(relative)) }
    }

    /// Starts a run: with `resume`, checks that the folder holds the same command and
    /// configuration and keeps its finished images; otherwise removes everything an earlier
    /// run wrote here (the files it listed, never anything else) and starts afresh.
    func begin(_ new: RunState, resume: Bool) throws {
        if resume, let old = state {
            guard old.command == new.command, old.configuration == new.configuration, old.total == new.total,
                  old.shard == new.shard, old.masks == new.masks else {
                throw PipelineError.resumeMismatch(output.root)
            }
        } else {
            try reset()
        }
        try writeJSON(new, to: statePath)
        state = new
    }

    /// Removes the outputs of the run this folder holds.
    func reset() throws {
        let fm = FileManager.default
        var listed = ((try? storedImages()) ?? []).flatMap(\.outputs) + Self.tableNames
        // compare's figures.
        let figures = (output.root as NSString).appendingPathComponent("figures")
        for name in (try? fm.contentsOfDirectory(atPath: figures)) ?? []
        where ["density.", "truth_ratio.", "edm_ratio.", "powerlaw_"].contains(where: name.hasPrefix) {
            listed.append("figures/" + name)
        }
        // Never an input: a folder given as --mask may hold the masks an earlier run wrote.
        removeWritten(listed, in: output)
        try? fm.removeItem(atPath: imagesFolder)
        try? fm.removeItem(atPath: statePath)
        state = nil
    }

    /// The files a run writes besides each image's.
    static let tableNames = ["aggregates.csv", "aggregates.json", "primaries.csv", "primaries.json", "images.csv", "summary.json", "report.html", "run.json",
                             "segmentation.csv", "sizing.csv", "powerlaw.csv", "matches.csv"]

    /// The finished image with this stem, if its inputs still have `fingerprint` and its
    /// files are all there.
    func finished(stem: String, fingerprint: String) -> StoredImage? {
        let path = (imagesFolder as NSString).appendingPathComponent(stem + ".json")
        guard let data = FileManager.default.contents(atPath: path),
              let stored = try? JSONDecoder().decode(StoredImage.self, from: data),
              stored.fingerprint == fingerprint, stored.image.status != .error else { return nil }
        let present = stored.outputs.allSatisfy {
            FileManager.default.fileExists(atPath: (output.root as NSString).appendingPathComponent($0))
        }
        return present ? stored : nil
    }

    /// Keeps one image's result (atomically), under its stem; an input whose stem an earlier
    /// input has is kept under its position, beside it.
    func store(_ image: StoredImage, duplicate: Bool = false) throws {
        try output.makeFolder(imagesFolder)
        let name = stem(of: image.file) + (duplicate ? ".duplicate-\(image.index)" : "")
        try writeJSON(image, to: (imagesFolder as NSString).appendingPathComponent(name + ".json"))
    }

    /// Every stored image, in input order.
    func storedImages() throws -> [StoredImage] {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: imagesFolder)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        var out: [StoredImage] = []
        for name in names {
            let path = (imagesFolder as NSString).appendingPathComponent(name)
            guard let data = fm.contents(atPath: path) else { continue }
            do {
                out.append(try JSONDecoder().decode(StoredImage.self, from: data))
            } catch {
                throw PipelineError.corruptRunFolder(path, describe(error))
            }
        }
        return out.sorted { $0.index < $1.index }
    }

    /// A run that produced nothing: removes what it made, and the folder when it is empty.
    func abandon() {
        let fm = FileManager.default
        try? reset()
        release()
        try? fm.removeItem(atPath: stateFolder)
        if ((try? fm.contentsOfDirectory(atPath: output.root)) ?? ["?"]).isEmpty { try? fm.removeItem(atPath: output.root) }
    }

    func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        try ImageWriter.writeAtomically(Array(try encodeJSON(value).utf8), to: path)
    }
}

/// SHA-256 of an image file and, when given, its mask file: what `--resume` compares.
func inputFingerprint(_ path: String, mask: String?) throws -> String {
    try ([path] + (mask.map { [$0] } ?? [])).map { try sha256Hex(ofFile: $0) }.joined(separator: "+")
}
