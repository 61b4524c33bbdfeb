import Foundation
import NeuralNet
import Testing
import TestSupport

@Suite("FPN model structure")
struct ModelStructureTests {
    @Test("state-dict keys, order and shapes equal smp's FPN", arguments: ResNetDepth.allCases)
    func keysMatchSMP(depth: ResNetDepth) throws {
        let text = try String(contentsOfFile: TestPaths.fixture("smp_fpn_\(depth.rawValue)_keys.txt", target: "NeuralNetTests"),
                              encoding: .utf8)
        let expected = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line -> (String, [Int]) in
            let parts = line.split(separator: " ")
            let shape = parts.count > 1 ? parts[1].split(separator: ",").map { Int($0)! } : []
            return (String(parts[0]), shape)
        }
        let model = FPN(encoder: depth)
        let state = model.stateDict()
        #expect(state.order.count == expected.count)
        #expect(Set(state.order) == Set(expected.map { $0.0 }))
        for (key, shape) in expected {
            #expect(state[key]?.shape == shape, "\(key)")
        }
    }

    @Test("parameter counts (METHODS.md section 7.1)")
    func parameterCounts() {
        #expect(FPN(encoder: .resnet18).parameterCount == 13_047_233)
        #expect(FPN(encoder: .resnet34).parameterCount == 23_155_393)
        let r50 = FPN(encoder: .resnet50)
        #expect(r50.parameterCount == 26_116_033)
        #expect(r50.encoder.parameterCount == 23_508_032)
    }

    @Test("safetensors round trip (F32, F16, I64) and strict loading errors")
    func safetensorsRoundTrip() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = FPN(encoder: .resnet18, seed: 3)
        let path = folder.appendingPathComponent("m.safetensors").path
        try SafeTensors.write(model.stateDict(), to: path, metadata: ["note": "test"])
        let (state, metadata) = try SafeTensors.read(path)
        #expect(metadata["note"] == "test")
        let other = FPN(encoder: .resnet18, seed: 99)
        try other.load(state)
        #expect(other.stateDict()["decoder.p5.weight"] == model.stateDict()["decoder.p5.weight"])
        #expect(state.entries["encoder.bn1.num_batches_tracked"]?.isInteger == true)

        let half = folder.appendingPathComponent("h.safetensors").path
        try SafeTensors.write(model.stateDict(), to: half, format: .float16)
        let halfState = try SafeTensors.read(half).state
        let a = halfState["encoder.conv1.weight"]!, b = model.stateDict()["encoder.conv1.weight"]!
        #expect(a.maxAbsDifference(b) < 1e-3)

        // A ResNet-34 file does not fit a ResNet-18 model: the error lists the keys.
        do {
            try other.load(FPN(encoder: .resnet34).stateDict())
            Issue.record("loading mismatched weights succeeded")
        } catch let error as NeuralNetError {
            #expect(error.description.contains("unexpected keys"))
            #expect(error.description.contains("encoder.layer1.2"))
        }
        // Truncated and garbage files.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = folder.appendingPathComponent("cut.safetensors").path
        _ = FileManager.default.createFile(atPath: cut, contents: bytes.prefix(bytes.count / 2))
        #expect(throws: NeuralNetError.self) { try SafeTensors.read(cut) }
        let junk = folder.appendingPathComponent("junk.safetensors").path
        _ = FileManager.default.createFile(atPath: junk, contents: Data("hello world, not weights".utf8))
        #expect(throws: NeuralNetError.self) { try SafeTensors.read(junk) }
    }

    @Test("the paper's warm-up and step schedule at its boundaries")
    func schedule() {
        let lr = warmupMultiStepSchedule(peak: 1e-4, warmupSteps: 1000, warmupFactor: 0.001,
                                         milestones: [2000, 8000], decay: 0.1)
        func close(_ a: Float, _ b: Float) -> Bool { abs(a - b) <= 1e-6 * b }
        // Steps counted from 1; METHODS.md's table uses k = step - 1.
        #expect(close(lr(1), 1e-7))
        #expect(close(lr(1000), 1e-4))
        #expect(close(lr(1001), 1e-4))
        #expect(close(lr(1999), 1e-4))
        #expect(close(lr(2000), 1e-5))
        #expect(close(lr(7999), 1e-5))
        #expect(close(lr(8000), 1e-6))
        #expect(close(lr(500), 1e-7 + 499 * (1e-4 - 1e-7) / 999))
    }
}

@Suite("PyTorch checkpoints")
struct TorchCheckpointTests {
    @Test("torch.save state dicts and ignite-style checkpoints load without Python",
          arguments: ["torch_state.pt", "torch_ignite.pt"])
    func reads(name: String) throws {
        let state = try TorchCheckpoint.read(TestPaths.fixture(name, target: "NeuralNetTests"))
        let expected = try SafeTensors.read(TestPaths.fixture("torch_expected.safetensors", target: "NeuralNetTests")).state
        #expect(Set(state.entries.keys) == Set(expected.entries.keys))
        for (key, entry) in expected.entries {
            #expect(state[key]?.shape == entry.tensor.shape, "\(key)")
            #expect(state[key].map { $0.maxAbsDifference(entry.tensor) } == 0, "\(key)")
        }
        #expect(state.entries["bn.num_batches_tracked"]?.isInteger == true)
        #expect(state["bn.num_batches_tracked"]?.data == [17])
    }

    @Test("files that are not torch checkpoints are rejected with a reason")
    func rejects() {
        #expect(throws: NeuralNetError.self) {
            try TorchCheckpoint.read(TestPaths.fixture("torch_expected.safetensors", target: "NeuralNetTests"))
        }
        #expect(throws: NeuralNetError.self) { try TorchCheckpoint.read("/nonexistent/model.pt") }
    }
}
