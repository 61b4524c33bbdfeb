import Foundation
import NeuralNet
import Testing
import TestSupport

/// A batch of 64 x 64 images with 1-3 dark disks on a noisy bright background, and their masks.
func diskBatch(count: Int, seed: UInt64) -> (images: Tensor, masks: Tensor) {
    var rng = TestRandom(seed: seed)
    let size = 64
    var images = Tensor(zeros: [count, 3, size, size])
    var masks = Tensor(zeros: [count, 1, size, size])
    for n in 0..<count {
        var disks: [(Float, Float, Float)] = []
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            disks.append((Float.random(in: 12...52, using: &rng), Float.random(in: 12...52, using: &rng),
                          Float.random(in: 5...11, using: &rng)))
        }
        for r in 0..<size {
            for c in 0..<size {
                let inside = disks.contains { (Float(r) - $0.0) * (Float(r) - $0.0) + (Float(c) - $0.1) * (Float(c) - $0.1) <= $0.2 * $0.2 }
                let v = (inside ? -0.8 : 0.8) + Float.random(in: -0.4...0.4, using: &rng)
                for ch in 0..<3 { images.data[((n * 3 + ch) * size + r) * size + c] = v }
                masks.data[(n * size + r) * size + c] = inside ? 1 : 0
            }
        }
    }
    return (images, masks)
}

@Suite("End-to-end training")
struct TrainingSmokeTests {
    @Test("a small FPN-ResNet-18 learns disks vs background: loss falls 4x, IoU > 0.8 on unseen images")
    func learnsDisks() {
        let model = FPN(encoder: .resnet18, seed: 42)
        let optimizer = Adam(parameters: model.namedParameters(), learningRate: 1e-3, weightDecay: 1e-4)
        var firstLoss: Float = 0, lastLosses: [Float] = []
        for step in 0..<40 {
            let (x, y) = diskBatch(count: 4, seed: UInt64(step))
            model.zeroGradients()
            let logits = model.forward(x, training: true)
            let (loss, grad) = binaryCrossEntropyWithLogits(logits, targets: y)
            _ = model.backward(grad)
            optimizer.update()
            if step == 0 { firstLoss = loss }
            if step >= 35 { lastLosses.append(loss) }
        }
        let finalLoss = lastLosses.reduce(0, +) / Float(lastLosses.count)
        #expect(finalLoss < firstLoss / 4, "loss \(firstLoss) -> \(finalLoss)")
        let (x, y) = diskBatch(count: 4, seed: 1000)
        let p = sigmoid(model.forward(x, training: false))
        var inter = 0, union = 0
        for i in 0..<p.count {
            let a = p.data[i] > 0.5, b = y.data[i] > 0.5
            if a && b { inter += 1 }
            if a || b { union += 1 }
        }
        let iou = Double(inter) / Double(max(union, 1))
        #expect(iou > 0.8, "IoU \(iou)")
    }
}
