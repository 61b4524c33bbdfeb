import Foundation

/// Errors reading a forest file.
public enum ForestFileError: LocalizedError, Equatable, Sendable {
    case notAForest(String)
    case unsupportedVersion(String, UInt32)
    case corrupt(String, String)

    public var errorDescription: String? {
        switch self {
        case let .notAForest(path): return "\(path): not a sootctl random-forest file"
        case let .unsupportedVersion(path, v): return "\(path): random-forest file version \(v); this sootctl reads version 1"
        case let .corrupt(path, why): return "\(path): damaged random-forest file (\(why))"
        }
    }
}

/// The random-forest file, version 1 (little-endian):
///
/// | bytes | content |
/// |---|---|
/// | 8 | magic `SOOTRF\0\0` |
/// | 4 | version (1) |
/// | 4 | length M of the metadata |
/// | M | metadata: a UTF-8 JSON object of strings (feature set, working pixel size, training) |
/// | 4, 4 | feature count F, tree count T |
/// | per tree: 4, then 12 x N | node count N, then N x Int32 feature (-1: leaf), N x Float32 threshold (leaf: class-1 fraction), N x Int32 left child |
///
/// Readers check every count against the bytes present, every feature index against F and
/// every child index against N, so a damaged file is an error, never a crash.
public enum ForestFile {
    static let magic: [UInt8] = Array("SOOTRF".utf8) + [0, 0]
    public static let version: UInt32 = 1

    public static func encode(_ forest: RandomForest, metadata: [String: String]) -> [UInt8] {
        var out = magic
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        u32(version)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(metadata)) ?? Data("{}".utf8)
        u32(UInt32(json.count))
        out += json
        u32(UInt32(forest.featureCount))
        u32(UInt32(forest.trees.count))
        for tree in forest.trees {
            u32(UInt32(tree.nodeCount))
            for f in tree.feature { u32(UInt32(bitPattern: f)) }
            for t in tree.threshold { u32(t.bitPattern) }
            for l in tree.left { u32(UInt32(bitPattern: l)) }
        }
        return out
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> (forest: RandomForest, metadata: [String: String]) {
        guard bytes.count >= 16, Array(bytes[0..<8]) == magic else { throw ForestFileError.notAForest(path) }
        var offset = 8
        func u32() throws -> UInt32 {
            guard offset + 4 <= bytes.count else { throw ForestFileError.corrupt(path, "ends at byte \(bytes.count)") }
            let v = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
            offset += 4
            return v
        }
        let v = try u32()
        guard v == version else { throw ForestFileError.unsupportedVersion(path, v) }
        let metadataLength = Int(try u32())
        guard metadataLength <= bytes.count - offset else { throw ForestFileError.corrupt(path, "metadata runs past the end") }
        let metadata = (try? JSONDecoder().decode([String: String].self, from: Data(bytes[offset..<(offset + metadataLength)]))) ?? [:]
        offset += metadataLength
        let featureCount = Int(try u32())
        let treeCount = Int(try u32())
        guard featureCount > 0, featureCount <= 1 << 16 else { throw ForestFileError.corrupt(path, "\(featureCount) features") }
        // Each tree needs at least 16 bytes: the count is bounded by the file.
        guard treeCount > 0, treeCount <= (bytes.count - offset) / 16 else { throw ForestFileError.corrupt(path, "\(treeCount) trees") }
        var trees: [RandomForest.Tree] = []
        trees.reserveCapacity(treeCount)
        for t in 0..<treeCount {
            let n = Int(try u32())
            guard n >= 1, n <= (bytes.count - offset) / 12 else { throw ForestFileError.corrupt(path, "tree \(t) of \(n) nodes") }
            var tree = RandomForest.Tree()
            tree.feature = try (0..<n).map { _ in Int32(bitPattern: try u32()) }
            tree.threshold = try (0..<n).map { _ in Float(bitPattern: try u32()) }
            tree.left = try (0..<n).map { _ in Int32(bitPattern: try u32()) }
            for k in 0..<n where tree.feature[k] >= 0 {
                guard Int(tree.feature[k]) < featureCount, tree.left[k] > Int32(k), Int(tree.left[k]) + 1 < n else {
                    throw ForestFileError.corrupt(path, "tree \(t) node \(k) points outside the tree")
                }
            }
            trees.append(tree)
        }
        return (RandomForest(featureCount: featureCount, trees: trees), metadata)
    }

    public static func write(_ forest: RandomForest, metadata: [String: String], to path: String) throws {
        try Data(encode(forest, metadata: metadata)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public static func read(_ path: String) throws -> (forest: RandomForest, metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw ForestFileError.notAForest(path) }
        return try decode([UInt8](data), path: path)
    }
}
