import Foundation
import NeuralNet
import Testing

@Suite("OpenBLAS kernels")
struct BLASKernelTests {
    /// On Linux with OpenBLAS: a core named by OPENBLAS_CORETYPE stays; without the variable the
    /// core is at least what /proc/cpuinfo's flags allow (OpenBLAS 0.3.21 alone gives Prescott on
    /// CPUs newer than its table). The other NeuralNet tests then check the chosen kernels' results
    /// against PyTorch in the same process.
    @Test("a core set by OPENBLAS_CORETYPE is kept; otherwise the kernels match the CPU's vector units")
    func selection() throws {
        #if os(Linux)
        let selection = NeuralNetRuntime.selectBLASKernels()
        let core = NeuralNetRuntime.blasCoreName.lowercased()
        if let pinned = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] {
            #expect(core == pinned.lowercased())
            #expect(selection.replaced == nil)
            return
        }
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
            .split(separator: ":").last?.split(separator: " ").map(String.init) ?? [])
        guard NeuralNetRuntime.blasDescription.contains("DYNAMIC_ARCH") else { return }
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].allSatisfy(flags.contains) {
            #expect(["skylakex", "cooperlake", "sapphirerapids"].contains(core), "core \(core) on an AVX-512 CPU")
        } else if flags.contains("avx2") && flags.contains("fma") {
            #expect(["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"].contains(core), "core \(core) on an AVX2 CPU")
        }
        #endif
    }
}
