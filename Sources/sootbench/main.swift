// sootbench: times sootctl's heavy primitives on a full-size (2240 x 1952) TEM image.
//
//   swift run -c release sootbench imagecore [--image PATH] [--repeat N] [--json FILE]
//
//   swift run -c release sootbench classical [--image PATH] [--mask PATH] [--pixel-size NM] [--repeat N] [--json FILE]
//
//   swift run -c release sootbench synth-validate [--count N] [--seed S] [--size WxH] [--pixel-size NM]
//
//   swift run -c release sootbench tws [--image PATH] [--pixel-size NM] [--data DIR] [--pixel-sizes CSV] [--trees N] [--repeat N] [--json FILE]
//
//   swift run -c release sootbench tws-loo [--data DIR] [--pixel-sizes CSV] [--trees N] [--pixels-per-class N]
//                                          [--flattening none|closing_nm=..,sigma_nm=..,level=..] [--probabilities DIR] [--json FILE]
//
//   swift run -c release sootbench scalebars [--count N] [--seed S] [--size WxH] [--out DIR]
//
//   swift run -c release sootbench nn [--repeat N] [--cases forward-resnet50,train-resnet18,...] [--json FILE]
//
//   swift run -c release sootbench nn-profile CASE... [--repeat N]   (time per layer type, NeuralNetProfile)
//
//   swift run -c release sootbench sgemm [--size N | --shape M,N,K[,t|n,t|n]] [--repeat N]   (NeuralNet's GEMM rate)
//
// Prints one line per primitive (median seconds over N runs and megapixels per second) and,
// with --json, writes the same figures for Benchmarks/compare.py to set beside the Python peers.
import Foundation
import ImageCore
import NeuralNet
import Synthesis
import Classifiers

struct Timing: Encodable {
    let name: String
    let seconds: Double
    let megapixelsPerSecond: Double
}

func measure(_ name: String, pixels: Int, repeat count: Int, _ body: () -> Void) -> Timing {
    var samples: [Double] = []
    for _ in 0..<count {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    samples.sort()
    let median = samples[samples.count / 2]
    let timing = Timing(name: name, seconds: median, megapixelsPerSecond: Double(pixels) / 1e6 / median)
    let padded = name.padding(toLength: 34, withPad: " ", startingAt: 0)
    print(padded + String(format: " %9.4f s %10.1f Mpx/s", median, timing.megapixelsPerSecond))
    return timing
}

@inline(never) func consume<T>(_ value: T) { withExtendedLifetime(value) {} }

func benchImageCore(imagePath: String?, repeatCount: Int, jsonPath: String?) throws {
    let image: GrayImage
    if let imagePath {
        image = try ImageReader.read(imagePath).image
        print("image: \(imagePath) (\(image.width) x \(image.height))")
    } else {
        let scene = DiskScene.chains(width: 2240, height: 1952, count: 12, spheresPerChain: 10...60,
                                     diameterPixels: 30...60, seed: 7)
        image = scene.render(seed: 7).image
        print("image: synthetic 2240 x 1952 (no --image given)")
    }
    print("threads: \(imageCoreThreadCount), repeats: \(repeatCount) (median reported)")
    let n = image.count
    let level = otsuThreshold(image)
    let mask = BinaryMask(image.quantized8(), above: Float(level)).inverted()
    let labels = label(mask)
    var timings: [Timing] = []
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("sootbench-\(getpid()).png").path
    try ImageWriter.writePNG8(image, to: tmp)
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    timings.append(measure("png read", pixels: n, repeat: repeatCount) { consume(try? ImageReader.read(tmp)) })
    timings.append(measure("png write", pixels: n, repeat: repeatCount) { try? ImageWriter.writePNG8(image, to: tmp) })
    timings.append(measure("otsu threshold", pixels: n, repeat: repeatCount) { consume(otsuThreshold(image)) })
    timings.append(measure("gaussian sigma 4", pixels: n, repeat: repeatCount) { consume(gaussianFilter(image, sigma: 4)) })
    timings.append(measure("bilateral 5x5", pixels: n, repeat: repeatCount) { consume(bilateralFilter(image)) })
    timings.append(measure("local entropy 15x15", pixels: n, repeat: repeatCount) { consume(localEntropy(image, windowSize: 15)) })
    timings.append(measure("resize area 1/2", pixels: n, repeat: repeatCount) {
        consume(resize(image, width: image.width / 2, height: image.height / 2, method: .area))
    })
    let disk80 = StructuringElement.disk(radius: 80)
    timings.append(measure("gray closing disk r80", pixels: n, repeat: repeatCount) { consume(close(image, disk80)) })
    let disk80m = StructuringElement.disk(radius: 80, shape: .matlab)
    timings.append(measure("gray closing MATLAB disk r80", pixels: n, repeat: repeatCount) { consume(close(image, disk80m)) })
    timings.append(measure("gray bottom-hat disk r20", pixels: n, repeat: repeatCount) {
        consume(bottomHat(image, .disk(radius: 20)))
    })
    timings.append(measure("binary closing disk r20", pixels: n, repeat: repeatCount) { consume(close(mask, .disk(radius: 20))) })
    timings.append(measure("euclidean distance transform", pixels: n, repeat: repeatCount) { consume(distanceTransform(mask)) })
    timings.append(measure("label 8-connected", pixels: n, repeat: repeatCount) { consume(label(mask)) })
    timings.append(measure("region properties", pixels: n, repeat: repeatCount) { consume(regionProperties(of: labels)) })
    timings.append(measure("thin to skeleton", pixels: n, repeat: repeatCount) { consume(thin(mask)) })
    let edm = distanceToBackground(mask)
    let negated = edm.map { -$0 }
    timings.append(measure("watershed of distance map", pixels: n, repeat: repeatCount) {
        consume(watershed(negated, width: image.width, height: image.height, mask: mask))
    })
    let closed = close(image, disk80)
    timings.append(measure("quadratic surface fit (LAPACK)", pixels: n, repeat: repeatCount) {
        consume(try? QuadraticSurface.fit(closed.pixels, width: image.width, height: image.height))
    })
    if let jsonPath {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(timings).write(to: URL(fileURLWithPath: jsonPath))
        print("wrote \(jsonPath)")
    }
}

/// Peak resident memory of this process, MiB.
func peakMemoryMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

struct NetworkTiming: Codable {
    let name: String
    let seconds: Double
    let gflop: Double?
    let peakMemoryMiB: Double
    /// Forward cases: seconds spent in the pass's GEMMs (NeuralNetProfile), whose FLOP rate is
    /// the sgemm rate of the same shapes.
    var gemmSeconds: Double? = nil
}

/// One network case's unit of work: a forward pass (forward-*: eval, 1 x 3 x 1952 x 2240;
/// gray-*: the same from a 1 x 1 gray plane, as `sootctl segment` runs it) or
/// a training step (train-*: batch 4 x 3 x 512 x 512; crops-*: the CPU training preset's batch,
/// 8 x 3 x 256 x 256; BCE on logits, backward, Adam with weight decay).
func networkCaseStep(_ name: String) throws -> (isForward: Bool, step: () -> Void) {
    let parts = name.split(separator: "-")  // e.g. forward-resnet50, train-resnet18, crops-resnet18
    guard parts.count == 2, let depth = ResNetDepth(rawValue: String(parts[1])),
          ["forward", "gray", "train", "crops"].contains(parts[0]) else {
        throw NeuralNetError.invalidInput("unknown case \(name)")
    }
    // --decoder PYRAMID/SEGMENTATION: the decoder's widths (default 256/128, smp's).
    let widths = try option("--decoder").map { text in
        guard let w = FPNDecoderWidths(text) else { throw NeuralNetError.invalidInput("--decoder takes PYRAMID/SEGMENTATION, e.g. 128/64") }
        return w
    } ?? .standard
    let model = FPN(encoder: depth, seed: 1, decoder: widths)
    var rng = SplitMix64(seed: 2)
    if parts[0] == "forward" {
        let input = Tensor(uniform: [1, 3, 1952, 2240], in: -2...2, using: &rng)
        _ = model.forward(Tensor(uniform: [1, 3, 64, 64], in: -1...1, using: &rng), training: false)  // fold weights
        return (true, { consume(model.forward(input, training: false)) })
    }
    if parts[0] == "gray" {
        // What sootctl segment runs: one gray plane, the replication to RGB folded into the stem.
        let input = Tensor(uniform: [1, 1, 1952, 2240], in: 0...1, using: &rng)
        let mean = InferenceConfiguration().mean, std = InferenceConfiguration().std
        _ = model.forward(gray: Tensor(uniform: [1, 1, 64, 64], in: 0...1, using: &rng), mean: mean, std: std)
        return (true, { consume(model.forward(gray: input, mean: mean, std: std)) })
    }
    let shape = parts[0] == "crops" ? [8, 3, 256, 256] : [4, 3, 512, 512]
    let input = Tensor(uniform: shape, in: -2...2, using: &rng)
    var target = Tensor(zeros: [shape[0], 1, shape[2], shape[3]])
    for i in 0..<target.count where i % 7 < 3 { target.data[i] = 1 }
    let optimizer = Adam(parameters: model.namedParameters(), learningRate: 1e-4, weightDecay: 1e-4)
    return (false, {
        model.zeroGradients()
        let logits = model.forward(input, training: true)
        let (_, gradient) = binaryCrossEntropyWithLogits(logits, targets: target)
        _ = model.backward(gradient)
        optimizer.update()
    })
}

/// One network case, run in its own process so that peak memory belongs to it alone: best of
/// `repeatCount` (training: after one warm-up step).
func networkCase(_ name: String, repeatCount: Int) throws -> NetworkTiming {
    let (isForward, step) = try networkCaseStep(name)
    var best = Double.infinity
    var flops = 0.0
    if !isForward { step() }  // the first step warms up
    for _ in 0..<repeatCount {
        ConvolutionCounter.forwardFLOPs = 0
        let start = DispatchTime.now().uptimeNanoseconds
        step()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        flops = ConvolutionCounter.forwardFLOPs
    }
    // Forward: one more pass, profiled, for the time its GEMMs take (the same shapes, in place).
    var gemmSeconds: Double?
    if isForward {
        NeuralNetProfile.reset()
        NeuralNetProfile.isEnabled = true
        step()
        NeuralNetProfile.isEnabled = false
        gemmSeconds = NeuralNetProfile.totals.first { $0.category == .forwardGEMM }?.seconds
    }
    return NetworkTiming(name: name, seconds: best, gflop: isForward ? flops / 1e9 : nil, peakMemoryMiB: peakMemoryMiB(),
                         gemmSeconds: gemmSeconds)
}

/// Where one case's time goes, by layer type (`NeuralNetProfile`), averaged over `repeatCount`
/// steps after one warm-up; prints a Markdown table and returns its rows.
@discardableResult
func profileNetworkCase(_ name: String, repeatCount: Int) throws -> [(String, Double)] {
    guard repeatCount >= 1 else { throw NeuralNetError.invalidInput("--repeat takes a whole number of at least 1") }
    let (_, step) = try networkCaseStep(name)
    step()
    NeuralNetProfile.reset()
    NeuralNetProfile.isEnabled = true
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<repeatCount { step() }
    let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeatCount)
    NeuralNetProfile.isEnabled = false
    var rows = NeuralNetProfile.totals.filter { $0.seconds > 0 }.map { ($0.category.label, $0.seconds / Double(repeatCount)) }
    rows.append(("other (layer glue, allocation)", max(0, wall - rows.reduce(0) { $0 + $1.1 })))
    print("profile of \(name), mean of \(repeatCount) step(s) after a warm-up; blas: \(NeuralNetRuntime.blasDescription)")
    print("| \(name): where the time goes | s per step | share |")
    print("|---|---|---|")
    for (label, seconds) in rows {
        print("| \(label) | " + String(format: "%.3f | %.1f %%", seconds, 100 * seconds / wall) + " |")
    }
    print("| **step** | " + String(format: "**%.3f** | 100 %%", wall) + " |")
    return rows
}

func benchNetwork(repeatCount: Int, jsonPath: String?, cases: [String]) throws {
    var timings: [NetworkTiming] = []
    print("threads: \(ProcessInfo.processInfo.activeProcessorCount), best of \(repeatCount)")
    print("blas: \(NeuralNetRuntime.blasDescription)")
    for name in cases {
        // Each case in a child process: its peak memory is its own.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["nn-case", name, "--repeat", String(repeatCount)]
            + ["--decoder", "--winograd", "--winograd-buffer", "--winograd-transforms"].flatMap { flag in option(flag).map { [flag, $0] } ?? [] }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let t = try? JSONDecoder().decode(NetworkTiming.self, from: data) else {
            print("\(name): failed"); continue
        }
        let padded = name.padding(toLength: 20, withPad: " ", startingAt: 0)
        let rate = t.gflop.map { String(format: " %8.1f GFLOP %7.1f GFLOP/s", $0, $0 / t.seconds) } ?? ""
        var gemm = ""
        if let g = t.gemmSeconds, let f = t.gflop {
            gemm = String(format: "   its GEMMs %.2f s (%.0f GFLOP/s), pass / GEMMs %.2fx", g, f / g, t.seconds / g)
        }
        print(padded + String(format: " %8.2f s", t.seconds) + rate + String(format: "   peak %7.0f MiB", t.peakMemoryMiB) + gemm)
        fflush(stdout)
        timings.append(t)
    }
    if let jsonPath {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(timings).write(to: URL(fileURLWithPath: jsonPath))
    }
}

NeuralNetRuntime.keepLargeAllocationsInHeap()
NeuralNetRuntime.selectBLASKernels()
var arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
let suite = arguments.first ?? "imagecore"
// nn, nn-case, nn-profile, cnn: --winograd f4 lets training's and inference's 3 x 3 convolutions
// use F(4x4, 3x3), --winograd f2 keeps both on F(2x2, 3x3) (Winograd.allowsF4 and
// inferenceAllowsF4; default: training F(2x2), inference F(4x4)).
// --winograd-buffer FLOATS: Winograd.bufferLimit (floats per chunk's transformed inputs).
if let limit = option("--winograd-buffer").flatMap(Int.init), limit >= 1024 { Winograd.bufferLimit = limit }
if let scheme = option("--winograd") {
    let parts = scheme.split(separator: ":", omittingEmptySubsequences: false)
    let side = parts.count == 2 ? Int(parts[1]) : 8
    guard scheme == "f2" || (parts[0] == "f4" && parts.count <= 2 && side.map({ (4...4096).contains($0) }) == true) else {
        FileHandle.standardError.write(Data("sootbench: --winograd takes f2, f4 or f4:SIDE (SIDE 4-4096)\n".utf8))
        exit(2)
    }
    Winograd.allowsF4 = parts[0] == "f4"
    Winograd.inferenceAllowsF4 = parts[0] == "f4"
    Winograd.f4MinimumSide = side ?? 8
}
// --winograd-transforms swift: F(4x4)'s input and output transforms in Swift even where the
// CPU runs the AVX2 + FMA C kernels (Winograd.vectorTransforms); c: the C kernels (AVX2 CPUs).
if let transforms = option("--winograd-transforms") {
    guard transforms == "swift" || (transforms == "c" && Winograd.vectorTransforms) else {
        FileHandle.standardError.write(Data("sootbench: --winograd-transforms takes swift, or c on a CPU with AVX2 and FMA\n".utf8))
        exit(2)
    }
    Winograd.vectorTransforms = transforms == "c"
}
do {
    switch suite {
    case "imagecore":
        try benchImageCore(imagePath: option("--image"), repeatCount: Int(option("--repeat") ?? "3") ?? 3,
                           jsonPath: option("--json"))
    case "classical":
        try benchClassical(imagePath: option("--image") ?? "../shared/data/real/images/Case1_E7_025.png",
                           maskPath: option("--mask"), pixelSizeNm: Double(option("--pixel-size") ?? "0.4") ?? 0.4,
                           repeatCount: Int(option("--repeat") ?? "1") ?? 1, jsonPath: option("--json"))
    case "synth-validate":
        let size = (option("--size") ?? "2240x1952").split(separator: "x").compactMap { Int($0) }
        try validateOnSynthetic(count: Int(option("--count") ?? "20") ?? 20, seed: UInt64(option("--seed") ?? "1000") ?? 1000,
                                width: size.first ?? 2240, height: size.last ?? 1952,
                                pixelSizeNm: Double(option("--pixel-size") ?? "0.4") ?? 0.4)
    case "nn":
        let cases = option("--cases")?.split(separator: ",").map(String.init)
            ?? ["forward-resnet18", "forward-resnet50", "train-resnet18", "train-resnet50", "crops-resnet18", "crops-resnet50"]
        try benchNetwork(repeatCount: Int(option("--repeat") ?? "2") ?? 2, jsonPath: option("--json"), cases: cases)
    case "nn-case":
        let timing = try networkCase(arguments.count > 1 ? arguments[1] : "", repeatCount: Int(option("--repeat") ?? "2") ?? 2)
        let encoder = JSONEncoder()
        FileHandle.standardOutput.write(try encoder.encode(timing))
    case "sgemm":
        // sgemm rate of NeuralNet's GEMM kernel (split over the cores, as the layers call it):
        // n x n x n, or --shape M,N,K[,TA,TB] (TA/TB: t for a transposed operand, n otherwise).
        print("blas: \(NeuralNetRuntime.blasDescription)")
        let repeats = Int(option("--repeat") ?? "5") ?? 0
        guard (1...1000).contains(repeats) else { throw NeuralNetError.invalidInput("sgemm --repeat takes 1 to 1000") }
        let shape: [String]
        if let text = option("--shape") {
            shape = text.split(separator: ",").map(String.init)
        } else {
            let size = option("--size") ?? "2048"
            shape = [size, size, size]
        }
        let dims = shape.prefix(3).compactMap { Int($0) }
        guard dims.count == 3, shape.count == 3 || shape.count == 5, dims.allSatisfy({ (1...16384).contains($0) }),
              shape.dropFirst(3).allSatisfy({ $0 == "t" || $0 == "n" }) else {
            throw NeuralNetError.invalidInput("sgemm --size takes a whole number from 1 to 16384; --shape M,N,K[,t|n,t|n]")
        }
        let (m, n, k) = (dims[0], dims[1], dims[2])
        let transA = shape.count == 5 && shape[3] == "t", transB = shape.count == 5 && shape[4] == "t"
        var rng = SplitMix64(seed: 3)
        let a = Tensor(uniform: [m * k], in: -1...1, using: &rng), b = Tensor(uniform: [k * n], in: -1...1, using: &rng)
        var c = Tensor(zeros: [m * n])
        let run = {
            a.data.withUnsafeBufferPointer { ap in
                b.data.withUnsafeBufferPointer { bp in
                    c.data.withUnsafeMutableBufferPointer { cp in
                        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!, lda: transA ? m : k,
                             b: bp.baseAddress!, ldb: transB ? k : n, beta: 0, c: cp.baseAddress!, ldc: n)
                    }
                }
            }
        }
        run()
        let label = "sgemm \(m) x \(n) x \(k)" + (transA ? " Aᵀ" : "") + (transB ? " Bᵀ" : "")
        let timing = measure(label, pixels: 0, repeat: repeats) { run() }
        consume(c)
        print(String(format: "%.0f GFLOP/s on %d cores", 2 * Double(m) * Double(n) * Double(k) / timing.seconds / 1e9,
                     ProcessInfo.processInfo.activeProcessorCount))
    case "nn-profile":
        for name in arguments.dropFirst().filter({ $0.contains("-") && !$0.hasPrefix("--") }) {
            try profileNetworkCase(name, repeatCount: Int(option("--repeat") ?? "2") ?? 2)
        }
    case "cnn":
        try benchCNN(imagePath: option("--image") ?? "../shared/data/real/images/20180529_A9_003.png",
                     modelPath: option("--model"), pixelSizeNm: Double(option("--pixel-size") ?? "0.4") ?? 0.4,
                     repeatCount: Int(option("--repeat") ?? "3") ?? 3)
    case "primaries":
        let sizes = (option("--pixel-sizes") ?? "0.4,0.8").split(separator: ",").compactMap { Double($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 && $0 <= 4 }) else {
            throw NeuralNetError.invalidInput("primaries --pixel-sizes takes comma-separated nm/px values in (0, 4]")
        }
        try benchPrimaryDetector(modelPath: option("--model"), pixelSizesNm: sizes, repeatCount: Int(option("--repeat") ?? "3") ?? 3)
    case "tws-loo":
        let flattening = option("--flattening").map { $0 == "none" ? nil : TWSSegmenter.Flattening(description: $0) }
            ?? TWSSegmenter.Flattening()
        try benchTWSLeaveOneOut(folder: option("--data") ?? "../shared/data/real",
                                pixelSizes: try PixelSize.readTable(option("--pixel-sizes") ?? "Benchmarks/real_pixel_sizes.csv"),
                                trees: Int(option("--trees") ?? "100") ?? 100,
                                pixelsPerClass: Int(option("--pixels-per-class") ?? "20000") ?? 20000,
                                flattening: flattening, probabilityFolder: option("--probabilities"), jsonPath: option("--json"))
    case "tws":
        try benchTWS(imagePath: option("--image") ?? "../shared/data/real/images/Case1_E7_025.png",
                     pixelSizeNm: Double(option("--pixel-size") ?? "0.4") ?? 0.4, folder: option("--data") ?? "../shared/data/real",
                     pixelSizes: try PixelSize.readTable(option("--pixel-sizes") ?? "Benchmarks/real_pixel_sizes.csv"),
                     trees: Int(option("--trees") ?? "100") ?? 100,
                     pixelsPerClass: Int(option("--pixels-per-class") ?? "20000") ?? 20000,
                     repeatCount: Int(option("--repeat") ?? "3") ?? 3, jsonPath: option("--json"))
    case "scalebars":
        let size = (option("--size") ?? "2048x2048").split(separator: "x").compactMap { Int($0) }
        try benchScaleBars(count: Int(option("--count") ?? "100") ?? 100, seed: UInt64(option("--seed") ?? "77") ?? 77,
                           width: size.first ?? 2048, height: size.last ?? 2048, outFolder: option("--out"))
    case "synth-montage":
        try writeSyntheticMontage(realFolder: option("--real") ?? "../shared/data/real/images",
                                  pixelSizes: option("--pixel-sizes") ?? "Benchmarks/real_pixel_sizes.csv",
                                  out: option("--out") ?? "Docs/images/synthetic_realism_vs_real.png",
                                  seed: UInt64(option("--seed") ?? "13") ?? 13)
    case "realism-set":
        try writeRealismSet(out: option("--out") ?? "bench-out/realism-set", count: Int(option("--count") ?? "8") ?? 8,
                            seed: UInt64(option("--seed") ?? "8801") ?? 8801, ingredients: option("--ingredients") ?? "all")
    case "write-example":
        // Regenerates the README example (Examples/synthetic_soot.png and its mask).
        let example = readmeExample()
        try ImageWriter.writePNG8(example.image, to: "Examples/synthetic_soot.png")
        try ImageWriter.writeMask(example.mask, to: "Examples/synthetic_soot_mask.png")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(example.truth).write(to: URL(fileURLWithPath: "Examples/synthetic_soot_truth.json"))
        print("wrote Examples/synthetic_soot.png, synthetic_soot_mask.png and synthetic_soot_truth.json")
    default:
        FileHandle.standardError.write(Data("sootbench: unknown suite \(suite); known: imagecore, classical, synth-validate, nn, nn-case, nn-profile, sgemm, cnn, primaries, tws, tws-loo, scalebars, write-example\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("sootbench: \(error.localizedDescription)\n".utf8))
    exit(1)
}
