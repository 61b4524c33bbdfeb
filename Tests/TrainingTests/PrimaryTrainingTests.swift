import Foundation
import NeuralNet
import Randomness
import Synthesis
import Testing
import Training
import ImageCore
import PrimarySizing
import TestSupport

@Suite("Primary-particle detector training: targets, crops, loss")
struct PrimaryTrainingTests {
    @Test("targets: 1 exactly at a visible centre, at most 0.95 around a hidden one, diameters where the Gaussian is >= 0.3")
    func targets() {
        let s = 64
        let t = renderPrimaryTargets([PrimaryTarget(x: 20.2, y: 30.4, diameterPx: 20, visible: true),
                                      PrimaryTarget(x: 48, y: 10, diameterPx: 20, visible: false)],
                                     size: s, pixelSizeNm: 0.5, referenceDiameterNm: 20)
        #expect(t.heatmap[30 * s + 20] == 1)
        #expect(t.heatmap.filter { $0 >= 1 }.count == 1)
        #expect(abs(t.heatmap[10 * s + 48] - 0.95) < 1e-6)
        // 20 px at 0.5 nm/px is 10 nm: log(10 / 20).
        #expect(abs(t.logDiameter[30 * s + 20] - Float(log(0.5))) < 1e-6)
        #expect(t.weight[30 * s + 20] == 1)
        #expect(t.weight[10 * s + 48] == 0)
        // sigma = 0.15 x 20 = 3 px: 5 px away the Gaussian is exp(-25 / 18) = 0.25 < 0.3.
        #expect(t.weight[30 * s + 25] == 0 && t.weight[30 * s + 23] > 0)
    }

    @Test("distance targets: 1 at a visible centre, 0.5 halfway to its rim, 0 outside; ignored where a hidden primary rises above")
    func distanceTargets() {
        let s = 64
        let t = renderPrimaryDistanceTargets([PrimaryTarget(x: 20, y: 30, diameterPx: 20, visible: true),
                                              PrimaryTarget(x: 48, y: 10, diameterPx: 20, visible: false)],
                                             size: s, pixelSizeNm: 0.5, referenceDiameterNm: 20)
        #expect(t.distance[30 * s + 20] == 1)
        #expect(abs(t.distance[30 * s + 25] - 0.5) < 1e-6)
        #expect(t.distance[30 * s + 31] == 0 && t.distanceWeight[30 * s + 31] == 1)
        // The hidden primary is neither a target nor background.
        #expect(t.distance[10 * s + 48] == 0 && t.distanceWeight[10 * s + 48] == 0)
        #expect(t.distanceWeight[30 * s + 20] == 1)
        // The diameters are the heatmap variant's.
        let heat = renderPrimaryTargets([PrimaryTarget(x: 20, y: 30, diameterPx: 20, visible: true),
                                         PrimaryTarget(x: 48, y: 10, diameterPx: 20, visible: false)],
                                        size: s, pixelSizeNm: 0.5, referenceDiameterNm: 20)
        #expect(t.logDiameter == heat.logDiameter && t.weight == heat.weight)
    }

    @Test("the distance-map loss: zero at a perfect map, the gradient matches finite differences")
    func distanceLoss() throws {
        var rng = SplitMix64(seed: 5)
        let shape = [2, 1, 4, 5]
        func tensor(_ f: (Int) -> Float) -> Tensor { try! Tensor(shape: shape, data: (0..<40).map(f)) }
        let distance = tensor { i -> Float in i % 4 == 0 ? 0 : Float(i % 5) / 5 + 0.1 }
        let distanceWeight = tensor { i -> Float in i % 9 == 0 ? 0 : 1 }
        let logD = tensor { _ in Float(rng.nextGaussian()) }
        let weight = tensor { i -> Float in i % 3 == 0 ? 0.5 : 0 }
        var values: [Float] = []
        for _ in 0..<80 { values.append(Float(rng.nextGaussian())) }
        var logits = try Tensor(shape: [2, 2, 4, 5], data: values)
        let (loss, distanceLoss, sizeLoss, gradient) = distanceMapLoss(logits, distance: distance, distanceWeight: distanceWeight,
                                                                       logDiameter: logD, sizeWeight: weight)
        #expect(abs(loss - distanceLoss - sizeLoss) < 1e-5 && distanceLoss > 0 && sizeLoss > 0)
        let eps: Float = 1e-2
        for i in stride(from: 0, to: 80, by: 3) {
            let x = logits.data[i]
            logits.data[i] = x + eps
            let up = distanceMapLoss(logits, distance: distance, distanceWeight: distanceWeight, logDiameter: logD, sizeWeight: weight).loss
            logits.data[i] = x - eps
            let down = distanceMapLoss(logits, distance: distance, distanceWeight: distanceWeight, logDiameter: logD, sizeWeight: weight).loss
            logits.data[i] = x
            let numeric: Float = (up - down) / (2 * eps)
            #expect(abs(numeric - gradient.data[i]) < 2e-3, "logit \(i)")
        }
        // A map the sigmoid reproduces (targets strictly inside 0...1) and exact diameters: no loss.
        let inside = tensor { i -> Float in Float(i % 5) / 5 + 0.1 }
        var perfect = logits
        for k in 0..<2 {
            for i in 0..<20 {
                let y = inside.data[k * 20 + i]
                perfect.data[k * 40 + i] = log(y / (1 - y))
                perfect.data[k * 40 + 20 + i] = logD.data[k * 20 + i]
            }
        }
        #expect(distanceMapLoss(perfect, distance: inside, distanceWeight: distanceWeight, logDiameter: logD, sizeWeight: weight).loss < 1e-6)
    }

    @Test("crops: a primary's target lands on its own pixel under every turn and flip")
    func crops() {
        let w = 300, h = 200
        var image = [Float](repeating: 0, count: w * h)
        image[120 * w + 170] = 1
        let sample = PrimaryTrainingImage(width: w, height: h, image: image,
                                          primaries: [PrimaryTarget(x: 170, y: 120, diameterPx: 12, visible: true)])
        var rng = SplitMix64(seed: 7)
        var seen = 0
        for _ in 0..<40 {
            let crop = primaryCrop(sample, size: 96, rng: &rng)
            guard let t = crop.primaries.first, t.x >= 0, t.y >= 0, t.x < 96, t.y < 96 else { continue }
            let brightest = crop.image.indices.max { crop.image[$0] < crop.image[$1] }!
            #expect(brightest == Int(t.y) * 96 + Int(t.x))
            seen += 1
        }
        #expect(seen > 20)
    }

    @Test("the detector loss: centres count once, the gradient matches finite differences")
    func loss() throws {
        var rng = SplitMix64(seed: 3)
        let shape = [2, 1, 4, 5]
        func tensor(_ f: (Int) -> Float) -> Tensor { try! Tensor(shape: shape, data: (0..<40).map(f)) }
        let heat = tensor { i -> Float in i % 7 == 0 ? 1 : Float(i % 5) / 6 }
        let logD = tensor { _ in Float(rng.nextGaussian()) }
        let weight = tensor { i -> Float in i % 3 == 0 ? 0.5 : 0 }
        var values: [Float] = []
        for _ in 0..<80 { values.append(Float(rng.nextGaussian())) }
        var logits = try Tensor(shape: [2, 2, 4, 5], data: values)
        let (loss, heatLoss, sizeLoss, gradient) = centerHeatmapLoss(logits, heatmap: heat, logDiameter: logD, sizeWeight: weight)
        #expect(abs(loss - heatLoss - sizeLoss) < 1e-5 && heatLoss > 0 && sizeLoss > 0)
        let eps: Float = 1e-2
        for i in stride(from: 0, to: 80, by: 3) {
            let x = logits.data[i]
            logits.data[i] = x + eps
            let up = centerHeatmapLoss(logits, heatmap: heat, logDiameter: logD, sizeWeight: weight).loss
            logits.data[i] = x - eps
            let down = centerHeatmapLoss(logits, heatmap: heat, logDiameter: logD, sizeWeight: weight).loss
            logits.data[i] = x
            let numeric: Float = (up - down) / (2 * eps)
            #expect(abs(numeric - gradient.data[i]) < 2e-3, "logit \(i)")
        }
    }

    @Test("synthetic truth: every primary's visible share is in 0...1, a lone primary is wholly visible")
    func visibility() {
        var p = SynthesisParameters()
        p.width = 256; p.height = 256; p.pixelSizeNm = 1
        p.aggregateCount = 1...1
        p.primaryCount = 1...1
        let lone = synthesize(p, seed: 5)
        let only = lone.truth.aggregates.first?.primaries.first
        #expect(only?.visibleFraction == 1)
        p.primaryCount = 80...80
        p.overlap = 0.3...0.3
        let crowded = synthesize(p, seed: 5).truth.aggregates.flatMap(\.primaries).compactMap(\.visibleFraction)
        #expect(!crowded.isEmpty && crowded.allSatisfy { (0...1).contains($0) })
        #expect(crowded.contains { $0 < 0.5 } && crowded.contains { $0 > 0.9 })
    }
}

@Suite("Primary-particle detector training run")
struct PrimaryTrainingRunTests {
    @Test("a short run on synthetic images exports a detector that PrimaryDetector loads, with its threshold and pixel size")
    func run() throws {
        try run(target: nil)
        try run(target: "distance")
    }

    func run(target: String?) throws {
        var c = TrainingConfiguration.primariesPreset
        c.primaryTarget = target
        c.iterations = 3
        c.batchSize = 2
        c.cropSize = 64
        c.syntheticPerEpoch = 2
        c.warmupIterations = 1
        c.validateEvery = 3
        c.checkpointEvery = 3
        let out = TestPaths.temporaryFolder().appendingPathComponent("run").path
        let trainer = try Trainer(configuration: c, dataset: .syntheticOnly, outputFolder: out)
        let score = try trainer.run()
        #expect(score.f1 != nil && score.peakThreshold != nil && score.iou == 0)
        let (_, metadata) = try SafeTensors.read(out + "/model.safetensors")
        #expect(metadata["task"] == "primaries" && metadata["model_pixel_size_nm"] == "1.0")
        #expect(metadata["peak_threshold"] != nil && metadata["reference_diameter_nm"] == "20.0")
        #expect(metadata["primary_target"] == (target ?? "heatmap"))
        // Calibrated on the validation images: mirror averaging chosen, diameters rescaled.
        #expect(["true", "false"].contains(metadata["test_time_flips"] ?? "") && Double(metadata["diameter_scale"] ?? "") != nil)
        let detector = try PrimaryDetector(modelPath: out + "/model.safetensors")
        #expect(detector.workingPixelSizeNm == 1)
        let log = try String(contentsOfFile: out + "/log.csv", encoding: .utf8)
        #expect(log.hasPrefix("iteration,learning_rate,train_loss,val_precision,val_recall,val_f1"))
        // A segmentation model is not a detector.
        #expect(throws: (any Error).self) {
            try PrimaryDetector(modelPath: TestPaths.packageRoot.appendingPathComponent("models/default.safetensors").path)
        }
    }

    @Test("the primaries task needs synthetic images and a working pixel size")
    func validation() {
        var c = TrainingConfiguration.primariesPreset
        c.syntheticPerEpoch = 0
        #expect(throws: TrainingError.self) { try c.validate() }
        c = .primariesPreset
        c.modelPixelSizeNm = nil
        #expect(throws: TrainingError.self) { try c.validate() }
        c = .primariesPreset
        c.task = "boxes"
        #expect(throws: TrainingError.self) { try c.validate() }
        c = .primariesPreset
        c.primaryTarget = "boxes"
        #expect(throws: TrainingError.self) { try c.validate() }
        c.primaryTarget = "distance"
        #expect(throws: Never.self) { try c.validate() }
    }
}

@Suite("Primary-particle detector inference")
struct PrimaryDetectorInferenceTests {
    @Test("with mirror averaging the outputs of a mirrored image are the mirrored outputs")
    func flips() throws {
        let model = FPN(encoder: .resnet18, classes: 2, dropout: 0, seed: 5)
        let detector = PrimaryDetector(model: model, workingPixelSizeNm: 1, testTimeFlips: true)
        let w = 64, h = 32
        var rng = SplitMix64(seed: 9)
        var pixels: [Float] = []
        for _ in 0..<(w * h) { pixels.append(Float.random(in: 0...1, using: &rng)) }
        var mirrored = pixels
        for y in 0..<h { for x in 0..<w { mirrored[y * w + x] = pixels[y * w + (w - 1 - x)] } }
        let a = detector.outputPlanes(GrayImage(width: w, height: h, value: 0).with(pixels: pixels), pixelSizeNm: 1)
        let b = detector.outputPlanes(GrayImage(width: w, height: h, value: 0).with(pixels: mirrored), pixelSizeNm: 1)
        var worst: Float = 0
        for y in 0..<h {
            for x in 0..<w {
                worst = max(worst, abs(a.heatmap[y * w + x] - b.heatmap[y * w + (w - 1 - x)]),
                            abs(a.logDiameter[y * w + x] - b.logDiameter[y * w + (w - 1 - x)]))
            }
        }
        #expect(worst < 1e-3, "largest difference \(worst)")
        // Without it, a random network is not mirror-symmetric.
        let plain = PrimaryDetector(model: model, workingPixelSizeNm: 1)
        let c = plain.outputPlanes(GrayImage(width: w, height: h, value: 0).with(pixels: pixels), pixelSizeNm: 1)
        let d = plain.outputPlanes(GrayImage(width: w, height: h, value: 0).with(pixels: mirrored), pixelSizeNm: 1)
        #expect((0..<(w * h)).contains { abs(c.heatmap[$0] - d.heatmap[($0 / w) * w + (w - 1 - $0 % w)]) > 1e-3 })
    }
}
