import Foundation
import NeuralNet
import Randomness
import Testing
import TestSupport
import Training

@Suite("FPN decoder widths")
struct DecoderWidthTests {
    @Test("a 128/64 decoder keeps smp's names, shrinks the shapes, and a model file brings its widths back")
    func narrowDecoderRoundTrip() throws {
        let widths = FPNDecoderWidths(pyramidChannels: 128, segmentationChannels: 64)
        let narrow = FPN(encoder: .resnet18, seed: 3, decoder: widths)
        let standard = FPN(encoder: .resnet18, seed: 3)
        #expect(narrow.stateDict().order == standard.stateDict().order)
        #expect(narrow.stateDict()["decoder.p5.weight"]?.shape == [128, 512, 1, 1])
        #expect(narrow.stateDict()["decoder.seg_blocks.0.block.0.block.0.weight"]?.shape == [64, 128, 3, 3])
        #expect(narrow.stateDict()["segmentation_head.0.weight"]?.shape == [1, 64, 1, 1])
        // 11,176,512 encoder parameters + 529,857 in the narrower decoder (1,870,721 at 256/128).
        #expect(narrow.parameterCount == 11_706_369, "\(narrow.parameterCount)")
        #expect(standard.parameterCount == 13_047_233)

        let path = TestPaths.temporaryFolder().appendingPathComponent("narrow.safetensors").path
        try SafeTensors.write(narrow.stateDict(), to: path, metadata: ["encoder": "resnet18"])
        let predictor = try SegmentationPredictor(contentsOf: path)
        #expect(predictor.model.widths == widths)
        // The loaded network computes what the original does.
        var rng = SplitMix64(seed: 9)
        let input = Tensor(uniform: [1, 3, 64, 64], in: -1...1, using: &rng)
        let a = narrow.forward(input, training: false), b = predictor.model.forward(input, training: false)
        #expect(a.maxAbsDifference(b) < 1e-5)

        // --init takes the widths from the file; a standard file leaves the fields unset.
        var c = TrainingConfiguration.cpuPreset
        try c.initialise(fromModel: path)
        #expect(c.decoderWidths == widths && c.decoderPyramidChannels == 128 && c.decoderSegmentationChannels == 64)
        let standardPath = TestPaths.temporaryFolder().appendingPathComponent("standard.safetensors").path
        try SafeTensors.write(standard.stateDict(), to: standardPath, metadata: ["encoder": "resnet18"])
        var s = c
        try s.initialise(fromModel: standardPath)
        #expect(s.decoderPyramidChannels == nil && s.decoderSegmentationChannels == nil && s.decoderWidths == .standard)
    }

    @Test("widths parse as PYRAMID/SEGMENTATION, and a configuration refuses widths GroupNorm cannot take")
    func validation() throws {
        #expect(FPNDecoderWidths("128/64") == FPNDecoderWidths(pyramidChannels: 128, segmentationChannels: 64))
        #expect(FPNDecoderWidths("128/60") == nil)  // not a multiple of GroupNorm's 32 groups
        #expect(FPNDecoderWidths("128") == nil)
        #expect(FPNDecoderWidths.standard.description == "256/128")
        var c = TrainingConfiguration.cpuPreset
        c.decoderSegmentationChannels = 48
        #expect(throws: TrainingError.self) { try c.validate() }
        c.decoderSegmentationChannels = 64
        c.decoderPyramidChannels = 128
        try c.validate()

        let file = TestPaths.temporaryFolder().appendingPathComponent("light.json")
        try Data(#"{"preset": "cpu", "decoderPyramidChannels": 128, "decoderSegmentationChannels": 64}"#.utf8).write(to: file)
        let loaded = try TrainingConfiguration.load(file.path)
        #expect(loaded.decoderWidths == FPNDecoderWidths(pyramidChannels: 128, segmentationChannels: 64))
        // The default configuration's JSON (a shipped model's metadata) does not name the widths.
        let json = String(decoding: try JSONEncoder().encode(TrainingConfiguration.cpuPreset), as: UTF8.self)
        #expect(!json.contains("decoderPyramidChannels"))
    }

    @Test("a narrow-decoder run trains and exports a model of its widths")
    func trainsNarrow() throws {
        let root = try makeDataFolder()
        var c = tinyConfiguration(iterations: 2)
        c.decoderPyramidChannels = 64
        c.decoderSegmentationChannels = 32
        let d = try SegmentationDataset.load(root.path, configuration: c)
        let out = TestPaths.temporaryFolder().path
        let trainer = try Trainer(configuration: c, dataset: d, outputFolder: out)
        try trainer.run()
        let predictor = try SegmentationPredictor(contentsOf: out + "/model.safetensors")
        #expect(predictor.model.widths == FPNDecoderWidths(pyramidChannels: 64, segmentationChannels: 32))
    }
}
