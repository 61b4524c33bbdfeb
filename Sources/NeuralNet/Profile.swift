import Dispatch

/// Where NeuralNet spends its time, by layer type and by phase of the convolutions, for
/// benchmarks (`sootbench nn-profile`). Off by default; while off, each instrumented kernel
/// pays one branch. Not synchronised: switch it and read it between passes, from one thread.
///
/// Times are wall-clock seconds of the calling thread. Where a convolution splits a batch over
/// the cores (each core runs whole images), the region's wall time is shared out over its phases
/// (im2col, GEMM, col2im, ...) in proportion to the time the workers spent in each, so the
/// categories add up to the step's wall time.
public enum NeuralNetProfile {
    public enum Category: Int, CaseIterable, Sendable {
        case forwardIm2col, forwardGEMM, forwardEpilogue, forwardWinogradTransforms, forwardWinogradGEMM
        case inputGradientGEMM, inputGradientCol2im, inputGradientWinogradTransforms, inputGradientWinogradGEMM
        case weightGradientIm2col, weightGradientGEMM, weightGradientReduce
        case weightGradientWinogradTransforms, weightGradientWinogradGEMM, biasGradient
        case normalizationForward, normalizationBackward
        case elementwise, resampling, pooling, loss, optimizer, zeroGradients

        /// The row label of the profile table.
        public var label: String {
            switch self {
            case .forwardIm2col: return "forward (im2col path): im2col"
            case .forwardGEMM: return "forward (im2col path): GEMM"
            case .forwardEpilogue: return "forward (im2col path): bias/ReLU epilogue"
            case .forwardWinogradTransforms: return "forward, Winograd 3 x 3: kernel, input and output transforms"
            case .forwardWinogradGEMM: return "forward, Winograd 3 x 3: 16 GEMMs"
            case .inputGradientGEMM: return "input gradient (im2col path): GEMM"
            case .inputGradientCol2im: return "input gradient (im2col path): col2im"
            case .inputGradientWinogradTransforms: return "input gradient, Winograd 3 x 3: transforms"
            case .inputGradientWinogradGEMM: return "input gradient, Winograd 3 x 3: 16 GEMMs"
            case .weightGradientIm2col: return "weight gradient (im2col path): im2col"
            case .weightGradientGEMM: return "weight gradient (im2col path): GEMM"
            case .weightGradientReduce: return "weight gradient (im2col path): per-core sum"
            case .weightGradientWinogradTransforms: return "weight gradient, Winograd 3 x 3: transforms"
            case .weightGradientWinogradGEMM: return "weight gradient, Winograd 3 x 3: 16 GEMMs"
            case .biasGradient: return "bias gradient"
            case .normalizationForward: return "normalisation forward (batch, group)"
            case .normalizationBackward: return "normalisation backward"
            case .elementwise: return "element-wise (ReLU, add, dropout)"
            case .resampling: return "up-sampling forward/backward"
            case .pooling: return "max-pool forward/backward"
            case .loss: return "loss"
            case .optimizer: return "optimiser (Adam)"
            case .zeroGradients: return "zero gradients"
            }
        }
    }

    /// Whether kernels record their time.
    nonisolated(unsafe) public static var isEnabled = false
    nonisolated(unsafe) static var seconds = [Double](repeating: 0, count: Category.allCases.count)

    /// Clears the recorded times.
    public static func reset() { seconds = [Double](repeating: 0, count: Category.allCases.count) }

    /// Recorded seconds per category, in table order.
    public static var totals: [(category: Category, seconds: Double)] {
        Category.allCases.map { ($0, seconds[$0.rawValue]) }
    }

    /// Adds `value` seconds to `category`.
    public static func add(_ category: Category, _ value: Double) { seconds[category.rawValue] += value }

    /// Runs `body`, charging its wall time to `category` when profiling is on.
    @inline(__always)
    public static func measure<T>(_ category: Category, _ body: () throws -> T) rethrows -> T {
        guard isEnabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { seconds[category.rawValue] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }
}

/// Phase times of one worker inside a parallel region (see `NeuralNetProfile`).
struct PhaseClock {
    /// Empty while profiling is off, so that convolutions pay no allocation for it.
    private(set) var seconds: [Double] = []
    private var last: UInt64 = 0
    let isEnabled = NeuralNetProfile.isEnabled

    init() {
        guard isEnabled else { return }
        seconds = [Double](repeating: 0, count: NeuralNetProfile.Category.allCases.count)
        last = DispatchTime.now().uptimeNanoseconds
    }

    mutating func add(_ other: PhaseClock) {
        guard isEnabled, other.isEnabled else { return }
        for i in seconds.indices { seconds[i] += other.seconds[i] }
    }

    /// Charges the time since the previous lap (or the start) to `category`.
    @inline(__always)
    mutating func lap(_ category: NeuralNetProfile.Category) {
        guard isEnabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        seconds[category.rawValue] += Double(now - last) / 1e9
        last = now
    }
}

/// Collects the workers' phase clocks of one parallel region and shares its wall time out.
final class PhaseRegion: @unchecked Sendable {
    /// workers x categories seconds; each worker adds into its own row only.
    private let slots: UnsafeMutablePointer<Double>?
    private let workers: Int
    private let start: UInt64
    private static var categoryCount: Int { NeuralNetProfile.Category.allCases.count }

    init(workers: Int) {
        self.workers = workers
        if NeuralNetProfile.isEnabled {
            let count = workers * Self.categoryCount
            slots = .allocate(capacity: count)
            slots!.initialize(repeating: 0, count: count)
            start = DispatchTime.now().uptimeNanoseconds
        } else {
            slots = nil
            start = 0
        }
    }

    deinit { slots?.deallocate() }

    /// Adds a clock's phases to worker `t`'s row.
    func store(_ clock: PhaseClock, worker t: Int) {
        guard let slots, clock.isEnabled else { return }
        let row = slots + t * Self.categoryCount
        for i in 0..<Self.categoryCount { row[i] += clock.seconds[i] }
    }

    /// Adds the region's wall time to the profile, split like the workers' summed phases.
    func finish() {
        guard let slots else { return }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var sums = [Double](repeating: 0, count: Self.categoryCount)
        for t in 0..<workers { for i in sums.indices { sums[i] += slots[t * Self.categoryCount + i] } }
        let total = sums.reduce(0, +)
        guard total > 0 else { return }
        for i in sums.indices where sums[i] > 0 { NeuralNetProfile.seconds[i] += wall * sums[i] / total }
    }
}
