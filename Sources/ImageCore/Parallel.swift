import Dispatch
import Foundation

/// Number of worker threads used by ImageCore's parallel loops (the active processor count).
public let imageCoreThreadCount: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// Runs `body(range)` over contiguous chunks of `0..<count` on all cores.
///
/// Chunks are at least `minimumChunk` long so that small loops run inline without
/// dispatch overhead. `body` must only write to disjoint memory for different ranges.
@inlinable
public func parallelChunks(_ count: Int, minimumChunk: Int = 16, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let threads = imageCoreThreadCount
    let chunks = min(threads * 4, max(1, count / max(1, minimumChunk)))
    if chunks <= 1 || threads == 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = chunk * count / chunks
        let end = (chunk + 1) * count / chunks
        if start < end { body(start..<end) }
    }
}
