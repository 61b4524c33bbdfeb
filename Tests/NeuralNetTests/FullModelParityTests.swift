import Foundation
import NeuralNet
import Testing

/// Folder written by tools/pytorch_parity.py; the suite runs only where it is set (torch and
/// smp installed), and Docs/NeuralNet.md records its figures.
private let parityFolder = ProcessInfo.processInfo.environment["SOOTCTL_PARITY_DIR"]

@Suite("Full-model parity with segmentation_models_pytorch", .enabled(if: parityFolder != nil))
struct FullModelParityTests {
    @Test("eval-mode sigmoid output on 256 x 256 within 1e-4; torch.save weights give the same output; train-mode gradients",
          arguments: ["resnet18", "resnet50"])
    func parity(encoder: String) throws {
        let folder = parityFolder!
        guard FileManager.default.fileExists(atPath: "\(folder)/\(encoder)_io.safetensors") else { return }
        let predictor = try SegmentationPredictor(contentsOf: "\(folder)/\(encoder)_weights.safetensors")
        let io = try SafeTensors.read("\(folder)/\(encoder)_io.safetensors").state
        let output = sigmoid(predictor.model.forward(io["input"]!, training: false))
        let difference = output.maxAbsDifference(io["output"]!)
        print("parity \(encoder): max |sigmoid difference| = \(difference)")
        #expect(difference <= 1e-4)

        let fromTorch = try SegmentationPredictor(contentsOf: "\(folder)/\(encoder)_state.pt")
        let outputTorch = sigmoid(fromTorch.model.forward(io["input"]!, training: false))
        #expect(outputTorch.maxAbsDifference(output) == 0)

        let grads = try SafeTensors.read("\(folder)/\(encoder)_grads.safetensors").state
        let model = FPN(encoder: ResNetDepth(rawValue: encoder)!, dropout: 0)
        try model.load(try SafeTensors.read("\(folder)/\(encoder)_weights.safetensors").state)
        model.zeroGradients()
        let logits = model.forward(grads["input"]!, training: true)
        let (loss, dLogits) = binaryCrossEntropyWithLogits(logits, targets: grads["target"]!)
        _ = model.backward(dLogits)
        print("parity \(encoder): loss \(loss) vs \(grads["loss"]!.data[0])")
        #expect(abs(loss - grads["loss"]!.data[0]) < 1e-4)
        // The reference gradients are float64. Train-mode batch norm makes single gradient
        // entries ill-conditioned (PyTorch's own float32 gradients differ from float64 by over
        // 10 % in some tensors), so the check is on the whole gradient vector: our relative L2
        // error must be of the order of PyTorch's float32 error.
        var squaredError = 0.0, squaredNorm = 0.0
        for (name, p) in model.namedParameters() {
            let reference = grads["grad." + name]!
            for i in 0..<reference.count {
                let d = Double(p.gradient.data[i]) - Double(reference.data[i])
                squaredError += d * d
                squaredNorm += Double(reference.data[i]) * Double(reference.data[i])
            }
        }
        let error = (squaredError / squaredNorm).squareRoot()
        let torchError = Double(grads["torch32_global_error"]!.data[0])
        print("parity \(encoder): gradient relative L2 error vs float64 \(error) (PyTorch float32: \(torchError))")
        #expect(error <= max(1e-4, 3 * torchError))
    }
}
