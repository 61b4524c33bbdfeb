import Classifiers
import Foundation
import ImageCore
import NeuralNet
import Aggregates
import Statistics
import Synthesis
import Testing
import TestSupport

func intersectionOverUnion(_ a: BinaryMask, _ b: BinaryMask) -> Double {
    var intersection = 0, union = 0
    for i in 0..<a.count {
        let x = a.bits[i] != 0, y = b.bits[i] != 0
        if x && y { intersection += 1 }
        if x || y { union += 1 }
    }
    return union == 0 ? 1 : Double(intersection) / Double(union)
}

/// A 960 x 720 scene of sphere chains at 0.5 nm/px (spheres 16-28 nm).
func syntheticScene() -> (image: GrayImage, mask: BinaryMask) {
    let scene = DiskScene.chains(width: 960, height: 720, count: 5, spheresPerChain: 8...20, diameterPixels: 32...56,
                                 seed: 11, pixelSize: PixelSize(nanometersPerPixel: 0.5, source: .user))
    return scene.render(seed: 11)
}

@Suite("Classifiers")
struct ClassifierTests {
    @Test("k-means and Otsu + rolling ball find the spheres of a synthetic scene")
    func synthetic() throws {
        let (image, truth) = syntheticScene()
        let kmeans = try KMeansSegmenter().segment(image, pixelSizeNm: 0.5)
        let otsu = try OtsuSegmenter().segment(image, pixelSizeNm: 0.5)
        let iouK = intersectionOverUnion(kmeans.mask, truth), iouO = intersectionOverUnion(otsu.mask, truth)
        print("synthetic IoU: k-means \(iouK), otsu \(iouO)")
        #expect(iouK > 0.85)
        #expect(iouO > 0.80)
        #expect(kmeans.diagnostics["distinct_feature_vectors"]! > 10)
    }

    @Test("k-means is deterministic for a seed")
    func deterministic() throws {
        let (image, _) = syntheticScene()
        let a = try KMeansSegmenter().segment(image, pixelSizeNm: 0.5).mask
        let b = try KMeansSegmenter().segment(image, pixelSizeNm: 0.5).mask
        #expect(a == b)
    }

    @Test("k-means on real images against the hand-made truth (measured 0.936 and 0.894)",
          .enabled(if: TestPaths.hasSharedData), arguments: [("Case1_E7_025", 0.4, 0.92), ("RU_FI_A10_004", 0.8, 0.88)])
    func realImage(stem: String, pixelSizeNm: Double, minimumIoU: Double) throws {
        let image = try ImageReader.read(TestPaths.sharedReal.appendingPathComponent("images/\(stem).png").path).image
        let truth = try ImageReader.readMask(TestPaths.sharedReal.appendingPathComponent("masks/\(stem).tif").path)
        let mask = try KMeansSegmenter().segment(image, pixelSizeNm: pixelSizeNm).mask
        let iou = intersectionOverUnion(mask, truth)
        #expect(iou > minimumIoU, "\(stem): IoU \(iou)")
    }

    @Test("classifiers that need the pixel size say so")
    func missingPixelSize() {
        let image = GrayImage(width: 64, height: 64, value: 0.5)
        #expect(throws: ClassifierError.missingPixelSize(neededBy: "kmeans")) {
            try KMeansSegmenter().segment(image, pixelSizeNm: nil)
        }
        #expect(throws: ClassifierError.missingPixelSize(neededBy: "otsu")) {
            try OtsuSegmenter().segment(image, pixelSizeNm: .nan)
        }
        #expect(throws: ClassifierError.missingPixelSize(neededBy: "rolling-ball post-processing")) {
            try PostProcessing.cnnDefault.apply(BinaryMask(width: 8, height: 8), pixelSizeNm: nil)
        }
    }

    @Test("a flat image gives an empty or failed mask, not a crash")
    func flatImage() throws {
        let image = GrayImage(width: 200, height: 150, value: 0.7)
        let k = try KMeansSegmenter().classify(image, pixelSizeNm: 0.5)
        let o = try OtsuSegmenter().classify(image, pixelSizeNm: 0.5)
        for result in [k, o] { #expect(result.mask.trueCount == 0 || result.failure != nil) }
    }

    @Test("post-processing: rolling ball closes gaps and opens spurs; the area floor drops small blobs")
    func postProcessing() throws {
        var mask = BinaryMask(width: 200, height: 100)
        for r in 30..<70 { for c in 20..<80 where c != 50 { mask.bits[r * 200 + c] = 1 } }  // a 1-px slit
        for r in 40..<50 { for c in 150..<160 { mask.bits[r * 200 + c] = 1 } }              // 100 px blob
        let rolled = cnnRollingBall(mask, pixelSizeNm: 0.8)  // ds = 4: close r4, open r3
        #expect(rolled.bits[50 * 200 + 50] == 1)
        let floor = try PostProcessing(minimumAggregatePixels: 1000).apply(mask, pixelSizeNm: nil)
        #expect(floor.bits[45 * 200 + 155] == 0)
        #expect(floor.bits[50 * 200 + 30] == 1)
        let border = try PostProcessing(removeBorderAggregates: true).apply(mask, pixelSizeNm: nil)
        #expect(border.trueCount == mask.trueCount)
        #expect(PostProcessing.cnnDefault.summary == "rolling ball + 1000 px")
    }

    @Test("Dastanpour rolling-ball coefficients follow the pixel size bands")
    func rollingBallCoefficients() {
        #expect(DastanpourRollingBall.coefficients(pixelSizeNm: 0.1) == (0.2, 0.8, 0.4, 1.1, 0.4))
        #expect(DastanpourRollingBall.coefficients(pixelSizeNm: 0.3) == (0.2, 0.3, 0.7, 1.1, 1.8))
        #expect(DastanpourRollingBall.coefficients(pixelSizeNm: 0.4) == (0.3, 0.8, 0.5, 2.2, 3.5))
    }

    @Test("background subtraction flattens a linear illumination gradient")
    func backgroundSubtraction() throws {
        // Gradient 0.5 -> 0.8 across the image (76 grey levels) and a dark disc.
        var image = GrayImage(width: 300, height: 200)
        for r in 0..<200 {
            for c in 0..<300 {
                let inDisc = (r - 100) * (r - 100) + (c - 150) * (c - 150) <= 400
                image.pixels[r * 300 + c] = Float(inDisc ? 0.2 : 0.5 + 0.3 * Double(c) / 299)
            }
        }
        let flat = try subtractBackground(image, closingRadius: 30).bytes8()
        var background: [Int] = [], disc: [Int] = []
        for r in 0..<200 {
            for c in 0..<300 {
                let d = (r - 100) * (r - 100) + (c - 150) * (c - 150)
                if d <= 300 { disc.append(Int(flat[r * 300 + c])) } else if d > 600 { background.append(Int(flat[r * 300 + c])) }
            }
        }
        let spread = background.max()! - background.min()!
        let contrast = background.reduce(0, +) / background.count - disc.reduce(0, +) / disc.count
        #expect(spread <= 10, "background spread \(spread)")  // 76 levels before
        #expect(contrast > 150)
    }

    @Test("cnn without a model names where it looked; with a model file it runs and thresholds p > 0.5")
    func cnn() throws {
        setenv("SOOTCTL_MODEL", "/nonexistent/model.safetensors", 1)
        defer { unsetenv("SOOTCTL_MODEL") }
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let candidates = CNNSegmenter.defaultModelCandidates()
        #expect(candidates.first == "/nonexistent/model.safetensors")
        if !candidates.contains(where: { FileManager.default.fileExists(atPath: $0) }) {
            #expect(throws: ClassifierError.noModelInstalled(searched: candidates)) { try CNNSegmenter.defaultModel() }
        }
        let path = folder.appendingPathComponent("tiny.safetensors").path
        try SafeTensors.write(FPN(encoder: .resnet18, seed: 4).stateDict(), to: path)
        let cnn = try CNNSegmenter(modelPath: path)
        let (image, _) = syntheticScene()
        let small = image.cropped(rows: 0..<200, columns: 0..<240)
        let result = try cnn.segment(small, pixelSizeNm: 0.5)
        let p = try #require(result.probability)
        #expect(p.width == 240 && p.height == 200)
        for i in stride(from: 0, to: p.count, by: 97) { #expect((result.mask.bits[i] != 0) == (p.pixels[i] > 0.5)) }
        #expect(throws: ClassifierError.self) { try CNNSegmenter(modelPath: folder.appendingPathComponent("none.pt").path) }
    }
}
