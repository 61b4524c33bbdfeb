import Dispatch
import Foundation

/// Worker threads for NeuralNet's element-wise loops (OpenBLAS runs its own threads for GEMM).
let neuralNetThreadCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// Runs `body` over contiguous chunks of `0..<count` on all cores; chunks write disjoint memory.
@inline(__always)
func parallelFor(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    if runsSerially {
        body(0..<count)
        return
    }
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

/// Marks the current thread as a worker that must not fan out again (nested parallel loops
/// and GEMM splitting run inline on it).
private let serialKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Whether the current thread runs its loops and GEMMs serially.
var runsSerially: Bool { pthread_getspecific(serialKey) != nil }

/// Runs `body` with nested parallelism switched off on this thread.
func serially<T>(_ body: () -> T) -> T {
    pthread_setspecific(serialKey, UnsafeRawPointer(bitPattern: 1))
    defer { pthread_setspecific(serialKey, nil) }
    return body()
}
