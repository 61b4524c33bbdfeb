import Foundation
#if os(Linux)
internal import COpenBLAS  // its shim also brings glibc's <malloc.h>
#endif
internal import CSGEMM

/// Process-wide settings that make NeuralNet faster; call once at program start.
public enum NeuralNetRuntime {
    /// Keeps large freed buffers in the heap instead of returning them to the system (glibc:
    /// mmap threshold 1 GiB, no trimming, no mmap for single blocks), so that each layer's
    /// activations reuse memory rather than fault in fresh zeroed pages. Measured on
    /// FPN-ResNet-18 inference of a 2240 x 1952 image: about 20 % faster, at a somewhat higher
    /// peak memory. A no-op off glibc.
    ///
    /// The threshold alone does not cover blocks allocated on other threads: a thread's own
    /// arena holds at most 64 MiB, and glibc maps a larger block there with mmap whatever the
    /// threshold (and unmaps it on free, so the next one faults in fresh pages again).
    /// `M_MMAP_MAX` 0 sends such a block to the main heap instead (2026-12-03, `perf`: the
    /// kernel's page clearing was 20 % of a 2240 x 1952 forward pass before).
    public static func keepLargeAllocationsInHeap() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        _ = mallopt(M_MMAP_MAX, 0)
        #endif
    }

    /// Whether inference's 3 x 3 stride-1 convolutions take the Winograd path (`Winograd`), as
    /// training's do: about 2.25x fewer multiply-adds than im2col, outputs equal to about 1e-6
    /// relative. On by default; `SOOTCTL_WINOGRAD=0` (or `off`) in the environment switches it
    /// off, `SOOTCTL_WINOGRAD=f2` keeps it on F(2 x 2, 3 x 3) tiles (`Winograd.inferenceAllowsF4`),
    /// and tests and benchmarks set `forcedInferenceWinograd`.
    public static var inferenceUsesWinograd: Bool { forcedInferenceWinograd ?? defaultInferenceWinograd }

    /// Tests and benchmarks switch inference's Winograd path here (nil: the default).
    nonisolated(unsafe) package static var forcedInferenceWinograd: Bool?

    /// `SOOTCTL_WINOGRAD` from the environment, read once per process (lowercased; nil unset).
    static let winogradEnvironment: String? = ProcessInfo.processInfo.environment["SOOTCTL_WINOGRAD"]?.lowercased()

    /// Inference's Winograd path from the environment, once per process.
    public static let defaultInferenceWinograd: Bool = {
        let value = winogradEnvironment
        return !(value == "0" || value == "off" || value == "false")
    }()

    /// Who multiplies NeuralNet's matrices (convolutions, Winograd points, linear layers).
    public enum GEMMKernel: String, Sendable, CaseIterable {
        /// NeuralNet's own AVX-512F kernel (C, `Sources/CSGEMM`): BLIS-style packing and a
        /// 12 x 32 register tile. It does not depend on `OPENBLAS_CORETYPE`, which pins
        /// OpenBLAS 0.3.21 to its AVX2 kernels on these machines (sgemm at about 40 % of the
        /// AVX-512 rate; Docs/Benchmarks.md).
        case avx512 = "NeuralNet AVX-512"
        /// OpenBLAS `cblas_sgemm` with the kernels it chose (`blasCoreName`).
        case openBLAS = "OpenBLAS"
    }

    /// The GEMM kernel in use: `.avx512` where the CPU and OS run AVX-512F, `.openBLAS`
    /// otherwise or when the environment sets `SOOTCTL_GEMM=openblas` (benchmarks compare both).
    public static var gemmKernel: GEMMKernel { forcedGEMMKernel ?? defaultGEMMKernel }

    /// Tests and benchmarks switch the kernel here (nil: `defaultGEMMKernel`). Set it only while
    /// no GEMM runs; `.avx512` is ignored where the CPU lacks it.
    nonisolated(unsafe) package static var forcedGEMMKernel: GEMMKernel?

    /// The kernel chosen from the CPU and `SOOTCTL_GEMM`, once per process.
    public static let defaultGEMMKernel: GEMMKernel = {
        if ProcessInfo.processInfo.environment["SOOTCTL_GEMM"]?.lowercased() == "openblas" { return .openBLAS }
        return ownGEMMAvailable ? .avx512 : .openBLAS
    }()

    /// Whether this CPU runs NeuralNet's AVX-512 kernel.
    public static let ownGEMMAvailable: Bool = csgemm_available()

    static var usesOwnGEMM: Bool { gemmKernel == .avx512 && ownGEMMAvailable }

    /// The BLAS the process runs with: OpenBLAS's core name (the kernels it chose, e.g.
    /// `Haswell` when `OPENBLAS_CORETYPE=Haswell` pins AVX2 on an AVX-512 machine), its build
    /// configuration and thread count, the environment variables that steer it, and whether
    /// NeuralNet replaced a generic fallback (see `selectBLASKernels()`).
    public static var blasDescription: String {
        _ = blasKernelSelection
        let environment = ProcessInfo.processInfo.environment
        let variables = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"]
            .map { "\($0)=\(environment[$0] ?? "(unset)")" }.joined(separator: " ")
        #if os(Linux)
        let core = openblas_get_corename().map { String(cString: $0) } ?? "?"
        let config = openblas_get_config().map { String(cString: $0) } ?? "?"
        var text = "OpenBLAS core \(core), \(openblas_get_num_threads()) thread(s), config \(config); \(variables)"
        if let replaced = blasKernelSelection.replaced {
            text += "; NeuralNet chose \(core) in place of OpenBLAS's fallback \(replaced) (CPU flags: \(blasKernelSelection.evidence))"
        }
        return "GEMM kernel: \(usesOwnGEMM ? GEMMKernel.avx512.rawValue : GEMMKernel.openBLAS.rawValue); " + text
        #else
        return "system BLAS; \(variables)"
        #endif
    }

    /// OpenBLAS's core name after `selectBLASKernels()` (e.g. `Haswell`, `Cooperlake`).
    public static var blasCoreName: String {
        _ = blasKernelSelection
        #if os(Linux)
        return openblas_get_corename().map { String(cString: $0) } ?? "?"
        #else
        return "system BLAS"
        #endif
    }

    /// What `selectBLASKernels()` did: the core OpenBLAS had picked when NeuralNet replaced it
    /// (nil when it kept OpenBLAS's choice), and the CPU flags that justified the choice.
    public struct BLASKernelSelection: Sendable {
        public let replaced: String?
        public let evidence: String
    }

    /// Makes sure OpenBLAS runs kernels the CPU can really use. OpenBLAS 0.3.21 (Debian 12)
    /// picks its kernels from the CPU model number; a CPU newer than its table (Sapphire and
    /// Emerald Rapids among them: family 6, model 143 / 207) gets the generic SSE3 `Prescott`
    /// kernels, 3-5x slower than the AVX-512 ones it supports (measured on an Emerald Rapids
    /// machine: sgemm 28 GFLOP/s a core with Prescott, 70-80 with Haswell, 140 with Cooperlake).
    /// When `OPENBLAS_CORETYPE` is unset and the chosen core lacks what the CPU offers (by
    /// `/proc/cpuinfo` flags: AVX-512 F/BW/DQ/VL, BF16, AVX2 + FMA), this re-runs OpenBLAS's own
    /// kernel selection (`gotoblas_dynamic_init`, a DYNAMIC_ARCH build's exported entry) with
    /// the best matching core: `Cooperlake`, `SkylakeX` or `Haswell`. A core the user set with
    /// `OPENBLAS_CORETYPE` is always kept. Runs once, before NeuralNet's first GEMM; call it at
    /// program start when other code may use BLAS on other threads meanwhile.
    @discardableResult
    public static func selectBLASKernels() -> BLASKernelSelection { blasKernelSelection }

    nonisolated(unsafe) static let blasKernelSelection: BLASKernelSelection = chooseKernels()

    static func chooseKernels() -> BLASKernelSelection {
        #if os(Linux)
        openblas_set_num_threads(1)
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let configPointer = openblas_get_config(), String(cString: configPointer).contains("DYNAMIC_ARCH"),
              let corePointer = openblas_get_corename(),
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return BLASKernelSelection(replaced: nil, evidence: "") }
        let current = String(cString: corePointer)
        let flags = Set(flagsLine.split(separator: ":").last?.split(separator: " ").map(String.init) ?? [])
        let avx512 = ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].allSatisfy(flags.contains)
        let wanted: (core: String, rank: Int, evidence: String)
        if avx512 && flags.contains("avx512_bf16") {
            wanted = ("Cooperlake", 4, "avx512f/bw/dq/vl/cd, avx512_bf16")
        } else if avx512 {
            wanted = ("SkylakeX", 3, "avx512f/bw/dq/vl/cd")
        } else if flags.contains("avx2") && flags.contains("fma") {
            wanted = ("Haswell", 2, "avx2, fma")
        } else {
            return BLASKernelSelection(replaced: nil, evidence: "")
        }
        guard let rank = coreRank(current), rank < wanted.rank,
              let initSymbol = dlsym(nil, "gotoblas_dynamic_init"),  // nil: RTLD_DEFAULT
              let quitSymbol = dlsym(nil, "gotoblas_dynamic_quit")
        else { return BLASKernelSelection(replaced: nil, evidence: "") }
        typealias Hook = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", wanted.core, 1)
        unsafeBitCast(quitSymbol, to: Hook.self)()
        unsafeBitCast(initSymbol, to: Hook.self)()
        unsetenv("OPENBLAS_CORETYPE")
        return BLASKernelSelection(replaced: current, evidence: wanted.evidence)
        #else
        return BLASKernelSelection(replaced: nil, evidence: "")
        #endif
    }

    /// Kernel generations of OpenBLAS's x86-64 cores (higher uses wider vectors); nil for a
    /// name this table does not know, which is then left alone.
    static func coreRank(_ name: String) -> Int? {
        switch name.lowercased() {
        case "katmai", "coppermine", "northwood", "prescott", "banias", "core2", "penryn", "dunnington",
             "nehalem", "atom", "athlon", "opteron", "opteron_sse3", "barcelona", "bobcat", "nano": return 0
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": return 1
        case "haswell", "zen": return 2
        case "skylakex": return 3
        case "cooperlake", "sapphirerapids": return 4
        default: return nil
        }
    }
}
