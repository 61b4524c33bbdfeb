import Dispatch
import Foundation
import ImageCore
import Randomness
import Synthesis

/// `sootctl synth` as a library call: `count` synthetic images with their masks and truth,
/// `images/NAME.png`, `masks/NAME.png`, `truth/NAME.json` with NAME = synth_SEED_INDEX, made in
/// parallel (each image deterministic in its own seed) and written atomically.
/// - Parameter progress: called with (images done, name) as each finishes (from any thread, serialised).
/// - Returns: one message per image that could not be written.
public func writeSyntheticSet(_ p: SynthesisParameters, count: Int, seed: UInt64, to output: OutputFolder,
                              progress: (Int, String) -> Void = { _, _ in }) -> [String] {
    let lock = NSLock()
    var failures: [String] = []
    var done = 0
    withoutActuallyEscaping(progress) { progress in
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let name = String(format: "synth_%llu_%04d", seed, index)
            let result = synthesize(p, seed: synthesisSeed(seed, index: index))
            do {
                if p.bitDepth == 16 {
                    try ImageWriter.writePNG16(result.image, to: try output.path("images", name + ".png"))
                } else {
                    try ImageWriter.writePNG8(result.image, to: try output.path("images", name + ".png"))
                }
                try ImageWriter.writeMask(result.mask, to: try output.path("masks", name + ".png"))
                try output.write(try encodeJSON(result.truth), to: "truth/\(name).json")
            } catch {
                lock.lock()
                failures.append("\(name): \(describe(error))")
                lock.unlock()
            }
            lock.lock()
            progress(done, name)
            done += 1
            lock.unlock()
        }
    }
    return failures.sorted()
}

/// The seed of image `index` of a run with `seed` (decorrelated by SplitMix64's mixer).
public func synthesisSeed(_ seed: UInt64, index: Int) -> UInt64 {
    var rng = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(index + 1))
    return rng.next()
}
