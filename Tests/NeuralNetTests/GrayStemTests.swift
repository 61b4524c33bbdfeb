import NeuralNet
import Testing
import TestSupport

/// The gray stem (`Conv2d.forwardFoldedGray`, used by `SegmentationPredictor.outputPlanes`)
/// against the three-channel input it replaces: same logits up to rounding, on a plane whose
/// padding reaches every border case of the 7 x 7 stride-2 stem (odd sizes, reflect padding to
/// the configuration's minimum), with batch-norm statistics away from their initial values.
@Suite("Gray stem: folded single-channel stem equals the replicated three-channel input", .serialized)
struct GrayStemTests {
    @Test("outputPlanes with and without the folded gray stem", arguments: [(71, 93), (400, 517)])
    func foldedEqualsReplicated(width: Int, height: Int) {
        let model = FPN(encoder: .resnet18, dropout: 0, seed: 5)
        var rng = TestRandom(seed: 9)
        // One training pass moves every batch norm's running statistics off (0, 1).
        _ = model.forward(Tensor(uniform: [2, 3, 64, 64], in: -2...2, using: &rng), training: true)
        let predictor = SegmentationPredictor(model: model)
        let plane = (0..<(width * height)).map { _ in Float.random(in: 0...1, using: &rng) }
        let saved = SegmentationPredictor.foldsGrayStem
        defer { SegmentationPredictor.foldsGrayStem = saved }
        SegmentationPredictor.foldsGrayStem = false
        let replicated = predictor.outputPlanes(plane: plane, width: width, height: height)
        SegmentationPredictor.foldsGrayStem = true
        let folded = predictor.outputPlanes(plane: plane, width: width, height: height)
        #expect(folded.count == replicated.count)
        let scale = replicated.flatMap { $0 }.map { abs($0) }.max() ?? 0
        #expect(scale > 0)
        var worst: Float = 0
        for (a, b) in zip(folded, replicated) {
            #expect(a.count == width * height)
            for i in a.indices { worst = max(worst, abs(a[i] - b[i])) }
        }
        #expect(worst <= 1e-4 * max(scale, 1), "worst |difference| \(worst) of logits up to \(scale)")
    }
}
