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
