import Classifiers
import Foundation
import ImageCore
import Testing
import TestSupport

/// The model the repository ships (models/default.safetensors, Docs/Training.md).
@Suite("Default CNN model")
struct DefaultModelTests {
    static let path = TestPaths.packageRoot.appendingPathComponent("models/default.safetensors").path

    @Test("ships as half-precision safetensors under 30 MB with its training metadata")
    func metadata() throws {
        let size = try #require(try FileManager.default.attributesOfItem(atPath: Self.path)[.size] as? Int)
        #expect(size < 30_000_000)
        let cnn = try CNNSegmenter(modelPath: Self.path)
        #expect(cnn.modelEncoder == "resnet18")
        #expect(cnn.modelPixelSizeNm == 0.8)
        #expect(cnn.inputScale(pixelSizeNm: 0.4) == 0.5)
        #expect(cnn.inputScale(pixelSizeNm: nil) == 0.5)
    }

    @Test("segments the README example (measured IoU 0.901 after post-processing)")
    func example() throws {
        let decoded = try ImageReader.read(TestPaths.packageRoot.appendingPathComponent("Examples/synthetic_soot.png").path)
        let truth = try ImageReader.readMask(TestPaths.packageRoot.appendingPathComponent("Examples/synthetic_soot_mask.png").path)
        let cnn = try CNNSegmenter(modelPath: Self.path)
        let raw = try cnn.segment(decoded.image, pixelSizeNm: 0.8)
        let mask = try cnn.defaultPostProcessing.apply(raw.mask, pixelSizeNm: 0.8)
        let iou = intersectionOverUnion(mask, truth)
        #expect(iou > 0.88, "IoU \(iou)")
        #expect(raw.diagnostics["input_scale"] == 1)
    }

    @Test("the held-out real image: IoU against the hand-made truth (measured 0.9365 raw, 0.9324 after rolling ball + 1,000 px)",
          .enabled(if: TestPaths.hasSharedData))
    func heldOutRealImage() throws {
        let stem = "20180529_A9_003"  // the validation image, never trained on
        let image = try ImageReader.read(TestPaths.sharedReal.appendingPathComponent("images/\(stem).png").path).image
        let truth = try ImageReader.readMask(TestPaths.sharedReal.appendingPathComponent("masks/\(stem).tif").path)
        let cnn = try CNNSegmenter(modelPath: Self.path)
        let raw = try cnn.segment(image, pixelSizeNm: 0.4)
        let post = try cnn.defaultPostProcessing.apply(raw.mask, pixelSizeNm: 0.4)
        let rawIoU = intersectionOverUnion(raw.mask, truth), postIoU = intersectionOverUnion(post, truth)
        #expect(rawIoU > 0.93, "raw IoU \(rawIoU)")
        #expect(postIoU > 0.925, "post-processed IoU \(postIoU)")
        #expect(raw.diagnostics["input_scale"] == 0.5)
    }
}

/// The TWS model the repository ships (models/tws_default.sootrf, Docs/Training.md).
@Suite("Default TWS model")
struct DefaultTWSModelTests {
    static let path = TestPaths.packageRoot.appendingPathComponent("models/tws_default.sootrf").path

    @Test("ships as a forest file of 100 trees over the 67 TWS features, with its training set in the metadata")
    func metadata() throws {
        let size = try #require(try FileManager.default.attributesOfItem(atPath: Self.path)[.size] as? Int)
        #expect(size < 4_000_000)
        let tws = try TWSSegmenter(modelPath: Self.path)
        #expect(tws.forest.trees.count == 100 && tws.forest.featureCount == 67)
        #expect(tws.workingPixelSizeNm == 1.6 && tws.flattening == TWSSegmenter.Flattening())
        #expect(tws.metadata["train_images"] == "20180529_A9_003,201805A_A6_004,Case1_E7_025,RU_FI_A10_004")
        #expect(tws.metadata["pixels_per_class"] == "20000" && tws.metadata["seed"] == "1")
        #expect(TWSSegmenter.defaultModelCandidates().contains { $0.hasSuffix("models/tws_default.sootrf") })
    }

    @Test("segments the README example, which it never saw (synthetic, 0.8 nm/px)")
    func example() throws {
        let decoded = try ImageReader.read(TestPaths.packageRoot.appendingPathComponent("Examples/synthetic_soot.png").path)
        let truth = try ImageReader.readMask(TestPaths.packageRoot.appendingPathComponent("Examples/synthetic_soot_mask.png").path)
        let tws = try TWSSegmenter(modelPath: Self.path)
        let raw = try tws.segment(decoded.image, pixelSizeNm: 0.8)
        let mask = try tws.defaultPostProcessing.apply(raw.mask, pixelSizeNm: 0.8)
        let iou = intersectionOverUnion(mask, truth)
        #expect(iou > TWSModelCard.exampleIoU - 0.01, "IoU \(iou)")
        #expect(raw.diagnostics["working_pixel_size_nm"] == 1.6)
    }

    @Test("on a shared real image it was trained on, the IoU of the model card", .enabled(if: TestPaths.hasSharedData))
    func realImage() throws {
        let stem = "20180529_A9_003"
        let image = try ImageReader.read(TestPaths.sharedReal.appendingPathComponent("images/\(stem).png").path).image
        let truth = try ImageReader.readMask(TestPaths.sharedReal.appendingPathComponent("masks/\(stem).tif").path)
        let tws = try TWSSegmenter(modelPath: Self.path)
        let mask = try tws.defaultPostProcessing.apply(try tws.segment(image, pixelSizeNm: 0.4).mask, pixelSizeNm: 0.4)
        let iou = intersectionOverUnion(mask, truth)
        #expect(abs(iou - TWSModelCard.realIoU[stem]!) < 0.002, "IoU \(iou)")
    }
}

/// The model card's figures (Docs/Training.md), measured with the shipped model.
enum TWSModelCard {
    static let exampleIoU = 0.741
    static let realIoU = ["20180529_A9_003": 0.9587, "201805A_A6_004": 0.9671, "Case1_E7_025": 0.9216, "RU_FI_A10_004": 0.9351]
}
