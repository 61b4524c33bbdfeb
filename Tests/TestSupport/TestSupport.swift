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
