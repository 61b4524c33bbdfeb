import Dispatch
import Foundation

/// Worker threads for NeuralNet's element-wise loops (OpenBLAS runs its own threads for GEMM).
let neuralNetThreadCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// Runs `body` over contiguous chunks of `0..<count` on all cores; chunks write disjoint memory.
@inline(__always)
func parallelFor(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let chunks = min(neuralNetThreadCount * 2, max(1, count / max(1, minimumChunk)))
    if chunks <= 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = chunk * count / chunks, end = (chunk + 1) * count / chunks
        if start < end { body(start..<end) }
    }
}
