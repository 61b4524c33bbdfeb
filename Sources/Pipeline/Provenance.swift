import Crypto
import Foundation

/// sootctl's version.
public let sootctlVersion = "0.2.0"

/// How a result was made: `run.json`, and the same block in each report.
public struct RunProvenance: Codable, Sendable {
    public var tool = "sootctl"
    public var version = sootctlVersion
    /// The git commit the binary was built from (nil outside a git checkout).
    public var gitCommit: String? = buildGitCommit
    /// The command: `sootctl analyze ...` as typed (arguments as given).
    public var commandLine: [String]
    /// The configuration the command ran with, defaults filled in.
    public var configuration: AnalysisConfiguration
    /// compare: every classifier it ran (the configuration's `classifier` is then the first).
    public var classifiers: [String]?
    /// The CNN model file and its SHA-256, when a CNN ran.
    /// The classifier's model file (segment, analyze); compare's CNN model.
    public var model: ModelFile?
    /// compare's TWS model.
    public var twsModel: ModelFile?
    /// The primary-particle detector's model (`--sizing cnn-primaries`).
    public var primaryModel: ModelFile?
    /// `--pixel-size` and `--pixel-sizes` as given.
    public var pixelSizeNm: Double?
    public var pixelSizeTable: String?
    /// ISO 8601, UTC: now, or `SOURCE_DATE_EPOCH` when set (reproducible outputs).
    public var date: String
    /// `incomplete` while the run writes, `complete` once every output is in place.
    public var status = "incomplete"
    /// `analyze --mask`: the masks analysed instead of segmenting.
    public var masks: String?
    /// `K/N` for one shard of a batch (`--shard`).
    public var shard: String?
    /// `merge`: the run folders combined.
    public var mergedFrom: [String]?
    /// Per image: the pixel size, where it came from (file metadata, table, flag, scale bar:
    /// with the bar's length and the label read) and what was excluded as not soot.
    public var images: [ImageCalibration]?

    public struct ModelFile: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
    }

    enum CodingKeys: String, CodingKey {
        case tool, version, gitCommit = "git_commit", commandLine = "command_line", configuration, classifiers, model, twsModel = "tws_model", primaryModel = "primary_model"
        case pixelSizeNm = "pixel_size_nm", pixelSizeTable = "pixel_size_table", date, status, shard
        case masks, mergedFrom = "merged_from", images
    }

    public init(commandLine: [String], configuration: AnalysisConfiguration, classifiers: [String]? = nil,
                modelPath: String?, pixelSizeNm: Double? = nil, pixelSizeTable: String? = nil, date: Date = Date()) throws {
        self.commandLine = commandLine
        self.configuration = configuration
        self.classifiers = classifiers
        self.pixelSizeNm = pixelSizeNm
        self.pixelSizeTable = pixelSizeTable
        if let modelPath { model = ModelFile(path: modelPath, sha256: try sha256Hex(ofFile: modelPath)) }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(TimeInterval.init)
        self.date = formatter.string(from: epoch.map(Date.init(timeIntervalSince1970:)) ?? date)
    }

    /// The date now, or `SOURCE_DATE_EPOCH` when set.
    public static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(TimeInterval.init)
        return formatter.string(from: epoch.map(Date.init(timeIntervalSince1970:)) ?? Date())
    }

    /// Whether masks were given instead of a classifier.
    public var usesMasks: Bool { masks != nil }

    /// Records the model file and its SHA-256.
    public mutating func recordModel(_ path: String) throws {
        model = ModelFile(path: path, sha256: try sha256Hex(ofFile: path))
    }

    /// Records the primary-particle detector's model file and its SHA-256.
    public mutating func recordPrimaryModel(_ path: String) throws {
        primaryModel = ModelFile(path: path, sha256: try sha256Hex(ofFile: path))
    }

    /// Records compare's TWS model file and its SHA-256.
    public mutating func recordTWSModel(_ path: String) throws {
        twsModel = ModelFile(path: path, sha256: try sha256Hex(ofFile: path))
    }

    /// Rows for a report's "How this was made" table.
    public var reportRows: [[String]] {
        var rows: [[String]] = [
            ["sootctl", version + (gitCommit.map { " (git \($0))" } ?? "")],
            ["command", commandLine.map(shellQuoted).joined(separator: " ")],
        ]
        if let classifiers { rows.append(["classifiers", classifiers.joined(separator: ", ")]) }
        else if let masks { rows.append(["masks", masks]) }
        else { rows.append(["classifier", configuration.classifier.rawValue]) }
        if let shard { rows.append(["shard", shard]) }
        if let mergedFrom { rows.append(["merged from", mergedFrom.joined(separator: ", ")]) }
        if let model { rows.append([twsModel == nil ? "model" : "cnn model", "\(model.path) (sha256 \(model.sha256))"]) }
        if let twsModel { rows.append(["tws model", "\(twsModel.path) (sha256 \(twsModel.sha256))"]) }
        if let primaryModel { rows.append(["primary detector", "\(primaryModel.path) (sha256 \(primaryModel.sha256))"]) }
        let rb = configuration.rollingBall.map { $0 ? "on" : "off" }
            ?? (classifiers == nil ? (configuration.rollingBall(for: configuration.classifier) ? "on" : "off")
                : "on for cnn, off for kmeans, otsu and tws")
        rows += [
            ["post-processing", "rolling ball \(rb), minimum \(configuration.minimumPixels) px, border \(configuration.border.rawValue)"],
            ["sizing", configuration.sizing.isEmpty ? "none" : configuration.sizing.map(\.rawValue).joined(separator: ", ")],
            ["pixel size", pixelSizeNm.map { "\(formatNumberPlain($0)) nm/px (command line)" }
                ?? pixelSizeTable.map { "table \($0), else file metadata" } ?? "file metadata"],
            ["date", date],
        ]
        return rows
    }
}

func formatNumberPlain(_ v: Double) -> String { String(format: "%g", v) }

/// A command-line argument quoted for a POSIX shell when it needs it.
func shellQuoted(_ s: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
    if !s.isEmpty && s.allSatisfy({ safe.contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// The SHA-256 of a file, lower-case hex, read in 1 MiB blocks.
public func sha256Hex(ofFile path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw PipelineError.notFound(path) }
    defer { try? handle.close() }
    var hasher = SHA256()
    while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty { hasher.update(data: block) }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
}
