#if os(Linux)
internal import COpenBLAS  // its shim also brings glibc's <malloc.h>
#endif

/// Process-wide settings that make NeuralNet faster; call once at program start.
public enum NeuralNetRuntime {
    /// Keeps large freed buffers in the heap instead of returning them to the system (glibc:
    /// mmap threshold 1 GiB, no trimming), so that each layer's activations reuse memory rather
    /// than fault in fresh zeroed pages. Measured on FPN-ResNet-18 inference of a 2240 x 1952
    /// image: about 20 % faster, at a somewhat higher peak memory. A no-op off glibc.
    public static func keepLargeAllocationsInHeap() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        #endif
    }
}
