import Foundation
import ImageCore
import Randomness

/// Shared helpers for the test targets: paths to fixtures and shared data, seeded random
/// images and masks.
public enum TestPaths {
    /// The package root (the folder holding Package.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/<target>/Fixtures/<name>`.
    public static func fixture(_ name: String, target: String = "ImageCoreTests") -> String {
        packageRoot.appendingPathComponent("Tests/\(target)/Fixtures/\(name)").path
    }

    /// The shared real data (`../shared/data/real` beside the repository), when present.
    public static let sharedReal: URL = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/data/real")

    /// Whether the shared real images are available (they are in CI and on developer machines).
    public static var hasSharedData: Bool {
        FileManager.default.fileExists(atPath: sharedReal.appendingPathComponent("images").path)
    }

    /// The shared real images' pixel sizes in nm (their files carry none), from
    /// `Benchmarks/real_pixel_sizes.csv`, the table the benchmarks pass as `--pixel-sizes`.
    public static let sharedRealPixelSizesNm: [String: Double] = {
        let path = packageRoot.appendingPathComponent("Benchmarks/real_pixel_sizes.csv").path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var table: [String: Double] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if fields.count == 2, let value = Double(fields[1]) { table[fields[0]] = value }
        }
        return table
    }()

    /// A fresh temporary folder.
    public static func temporaryFolder() -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sootctl-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Runs a program this package builds (next to the test bundle, else in `.build/release`)
/// from the package root and captures its output.
public func runBuiltProgram(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var binary = folder.appendingPathComponent(name)
    if !FileManager.default.fileExists(atPath: binary.path) {
        // Swift Testing may run from a helper; fall back to the package's build folder.
        binary = TestPaths.packageRoot.appendingPathComponent(".build/release/" + name)
    }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.currentDirectoryURL = TestPaths.packageRoot
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes at once so a chatty program cannot block on a full one.
    final class Box: @unchecked Sendable { var data = Data() }
    let stderrBox = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        stderrBox.data = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let stderr = stderrBox.data
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// The deterministic generator for test data.
public typealias TestRandom = SplitMix64

/// A random 8-bit-valued image.
public func randomImage(width: Int, height: Int, seed: UInt64) -> GrayImage {
    var rng = TestRandom(seed: seed)
    let bytes = (0..<(width * height)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    return try! GrayImage(width: width, height: height, bytes: bytes)
}

/// A random mask with the given fraction of true pixels, optionally smoothed into blobs.
public func randomMask(width: Int, height: Int, fraction: Double, seed: UInt64) -> BinaryMask {
    var rng = TestRandom(seed: seed)
    var mask = BinaryMask(width: width, height: height)
    for i in 0..<mask.count where Double.random(in: 0..<1, using: &rng) < fraction { mask.bits[i] = 1 }
    return mask
}

/// A mask of random overlapping disks (blob-like shapes for thinning and watershed tests).
public func randomBlobs(width: Int, height: Int, count: Int, radius: ClosedRange<Int>, seed: UInt64) -> BinaryMask {
    var rng = TestRandom(seed: seed)
    var mask = BinaryMask(width: width, height: height)
    for _ in 0..<count {
        let cr = Int.random(in: 0..<height, using: &rng), cc = Int.random(in: 0..<width, using: &rng)
        let rad = Int.random(in: radius, using: &rng)
        for r in max(0, cr - rad)...min(height - 1, cr + rad) {
            for c in max(0, cc - rad)...min(width - 1, cc + rad)
            where (r - cr) * (r - cr) + (c - cc) * (c - cc) <= rad * rad {
                mask.bits[r * width + c] = 1
            }
        }
    }
    return mask
}

/// A minimal little-endian TIFF writer for tests: one uncompressed strip of 8-bit gray (or
/// 32-bit float) samples and any extra ASCII or number tags, so that the calibration readers
/// can be tested on the tags each vendor writes.
public enum TestTIFF {
    public enum Value {
        case ascii(String)
        case short(UInt16)
        case long(UInt32)
        case rational(UInt32, UInt32)
        case double(Double)
    }

    /// The file's bytes. `samples` are 0...255 for 8-bit, any value for float.
    public static func make(width: Int, height: Int, samples: [Double], float: Bool = false, tags: [Int: Value] = [:]) -> [UInt8] {
        var out: [UInt8] = [0x49, 0x49, 42, 0, 0, 0, 0, 0]
        func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * $0) & 0xFF) } }
        let data: [UInt8] = float
            ? samples.flatMap { v -> [UInt8] in let b = Float(v).bitPattern; return (0..<4).map { UInt8(b >> (8 * $0) & 0xFF) } }
            : samples.map { UInt8(max(0, min(255, $0.rounded()))) }
        let dataOffset = out.count
        out += data
        var all: [Int: Value] = [256: .long(UInt32(width)), 257: .long(UInt32(height)), 258: .short(float ? 32 : 8),
                                 259: .short(1), 262: .short(1), 273: .long(UInt32(dataOffset)), 277: .short(1),
                                 278: .long(UInt32(height)), 279: .long(UInt32(data.count))]
        if float { all[339] = .short(3) }
        for (k, v) in tags { all[k] = v }
        // Out-of-line values first, then the directory.
        var entries: [(Int, Int, Int, [UInt8])] = []  // tag, type, count, value bytes (inline or offset)
        for (tag, value) in all.sorted(by: { $0.key < $1.key }) {
            var bytes: [UInt8], type: Int, count: Int
            switch value {
            case let .ascii(s): bytes = Array(s.utf8) + [0]; type = 2; count = bytes.count
            case let .short(v): bytes = u16(Int(v)); type = 3; count = 1
            case let .long(v): bytes = u32(Int(v)); type = 4; count = 1
            case let .rational(n, d): bytes = u32(Int(n)) + u32(Int(d)); type = 5; count = 1
            case let .double(v): bytes = (0..<8).map { UInt8(v.bitPattern >> (8 * UInt64($0)) & 0xFF) }; type = 12; count = 1
            }
            if bytes.count > 4 {
                if out.count % 2 == 1 { out.append(0) }
                let at = out.count
                out += bytes
                entries.append((tag, type, count, u32(at)))
            } else {
                entries.append((tag, type, count, bytes + [UInt8](repeating: 0, count: 4 - bytes.count)))
            }
        }
        if out.count % 2 == 1 { out.append(0) }
        let ifd = out.count
        out.replaceSubrange(4..<8, with: u32(ifd))
        out += u16(entries.count)
        for (tag, type, count, value) in entries { out += u16(tag) + u16(type) + u32(count) + value }
        out += u32(0)
        return out
    }
}
