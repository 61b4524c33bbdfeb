import Foundation
import ImageCore
import Aggregates
import NeuralNet

/// How a centre heatmap becomes located primaries.
public struct PeakDecoding: Sendable, Equatable, Codable {
    /// Smallest centre probability kept (the model file's `peak_threshold` when it has one).
    public var threshold: Float = 0.3
    /// A peak is the largest value within this many pixels (a (2r+1)^2 window).
    public var windowRadiusPx = 2
    /// Of two located discs overlapping by more than this IoU, the weaker is dropped. Touching
    /// primaries with 30 % overlap meet at disc IoU 0.1, so 0.35 keeps them.
    public var suppressionIoU = 0.35
    /// The diameter channel predicts log(d / referenceDiameterNm).
    public var referenceDiameterNm = 20.0
    /// Diameters are multiplied by this (the model file's `diameter_scale`: the calibration
    /// that makes the median located / true diameter 1 on the validation images).
    public var diameterScale = 1.0
    public init() {}
}

/// Finds the primaries in a detector's output planes (working pixels): local maxima of the
/// centre probability above the threshold, each with the diameter predicted at its pixel, then
/// suppression of discs that overlap a stronger one.
/// - Returns: circles in working pixels (radius in px, `metric` the centre probability),
///   strongest first.
public func decodePrimaryPeaks(heatmapLogits: [Float], logDiameter: [Float], width w: Int, height h: Int,
                               pixelSizeNm: Double, decoding: PeakDecoding = PeakDecoding()) -> [Circle] {
    precondition(heatmapLogits.count == w * h && logDiameter.count == w * h, "planes must hold width x height values")
    let threshold = decoding.threshold
    let logitThreshold = log(threshold / max(1 - threshold, 1e-6))
    let r = max(decoding.windowRadiusPx, 0)
    var found: [Circle] = []
    for y in 0..<h {
        for x in 0..<w {
            let v = heatmapLogits[y * w + x]
            guard v >= logitThreshold else { continue }
            var isPeak = true
            search: for yy in max(y - r, 0)...min(y + r, h - 1) {
                for xx in max(x - r, 0)...min(x + r, w - 1) where yy != y || xx != x {
                    let u = heatmapLogits[yy * w + xx]
                    // Ties go to the first pixel in raster order, so a plateau gives one peak.
                    if u > v || (u == v && (yy < y || (yy == y && xx < x))) { isPeak = false; break search }
                }
            }
            guard isPeak else { continue }
            let dNm = decoding.referenceDiameterNm * exp(Double(logDiameter[y * w + x])) * decoding.diameterScale
            let p = 1 / (1 + exp(-Double(v)))
            found.append(Circle(centerX: Double(x), centerY: Double(y), radius: dNm / 2 / pixelSizeNm, metric: p))
        }
    }
    return suppressingOverlaps(found, iou: decoding.suppressionIoU)
}

/// Strongest first (`metric`), dropping every disc that overlaps a kept one by more than `iou`.
func suppressingOverlaps(_ circles: [Circle], iou: Double) -> [Circle] {
    var kept: [Circle] = []
    for c in circles.sorted(by: { $0.metric > $1.metric }) where !kept.contains(where: { discIoU($0, c) > iou }) { kept.append(c) }
    return kept
}

/// The learned primary-particle detector (`--sizing cnn-primaries`, Docs/Primaries.md): an
/// FPN-ResNet with two output channels, a centre heatmap and a log diameter, trained by
/// `sootctl train --task primaries` on synthetic images whose every primary is known. Images
/// are resampled to the model's working pixel size (`model_pixel_size_nm`, 1 nm/px for the
/// shipped model) so that it sees primaries at one scale at any magnification.
public final class PrimaryDetector: @unchecked Sendable {
    public let modelPath: String
    let predictor: SegmentationPredictor
    private let lock = NSLock()
    public var decoding: PeakDecoding
    /// The pixel size (nm) images are brought to before the network.
    public let workingPixelSizeNm: Double
    /// Average the outputs over the image and its mirror images (four network passes): the
    /// model file's `test_time_flips` metadata, or `$SOOTCTL_PRIMARY_FLIPS` (0 or 1).
    public var testTimeFlips = false

    /// Loads a detector model file (safetensors from `sootctl train --task primaries`).
    /// - Throws: `SizingError.detectorUnreadable` when the file is unreadable or not a
    ///   two-channel detector.
    public init(modelPath: String) throws {
        self.modelPath = modelPath
        let loaded: SegmentationPredictor
        do { loaded = try SegmentationPredictor(contentsOf: modelPath) } catch {
            let reason = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
            throw SizingError.detectorUnreadable(path: modelPath, reason: reason)
        }
        guard loaded.model.outputChannels == 2, loaded.metadata["task"] == "primaries" else {
            throw SizingError.detectorUnreadable(path: modelPath,
                                                 reason: "not a primary-particle detector (train one with `sootctl train --task primaries`)")
        }
        predictor = loaded
        // Boxes around single aggregates can be small: pad only to the network's stride.
        predictor.configuration.minimumHeight = 64
        predictor.configuration.minimumWidth = 64
        workingPixelSizeNm = loaded.metadata["model_pixel_size_nm"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? 1
        var d = PeakDecoding()
        if let t = loaded.metadata["peak_threshold"].flatMap(Float.init), t > 0, t < 1 { d.threshold = t }
        if let ref = loaded.metadata["reference_diameter_nm"].flatMap(Double.init), ref > 0 { d.referenceDiameterNm = ref }
        if let scale = loaded.metadata["diameter_scale"].flatMap(Double.init), scale > 0.2, scale < 5 { d.diameterScale = scale }
        decoding = d
        // The model file says whether it is run with flips; `SOOTCTL_PRIMARY_FLIPS=0/1`
        // overrides (to measure both, Benchmarks/primaries.sh).
        testTimeFlips = loaded.metadata["test_time_flips"] == "true"
        if let flips = ProcessInfo.processInfo.environment["SOOTCTL_PRIMARY_FLIPS"] { testTimeFlips = flips == "1" }
    }

    /// A detector around a network in memory (for training's validation and calibration).
    public init(model: FPN, workingPixelSizeNm: Double, decoding: PeakDecoding = PeakDecoding(), testTimeFlips: Bool = false) {
        modelPath = "(in memory)"
        predictor = SegmentationPredictor(model: model)
        predictor.configuration.minimumHeight = 64
        predictor.configuration.minimumWidth = 64
        self.workingPixelSizeNm = workingPixelSizeNm
        self.decoding = decoding
        self.testTimeFlips = testTimeFlips
    }

    /// Where the default detector is looked for: `$SOOTCTL_PRIMARY_MODEL`, then
    /// `models/primaries.safetensors` in the places `installedModelCandidates` lists.
    public static func defaultModelCandidates(executablePath: String = CommandLine.arguments.first ?? "") -> [String] {
        installedModelCandidates(fileName: "primaries.safetensors", environmentVariable: "SOOTCTL_PRIMARY_MODEL",
                                 executablePath: executablePath)
    }

    /// Loads the default detector.
    /// - Throws: `SizingError.noDetectorInstalled` naming the places searched.
    public static func defaultModel() throws -> PrimaryDetector {
        let candidates = defaultModelCandidates()
        for path in candidates where FileManager.default.fileExists(atPath: path) { return try PrimaryDetector(modelPath: path) }
        throw SizingError.noDetectorInstalled(searched: candidates)
    }

    /// The network's planes (heatmap logits, log diameters) at the working pixel size, and
    /// that plane's size.
    public func outputPlanes(_ image: GrayImage, pixelSizeNm ps: Double) -> (heatmap: [Float], logDiameter: [Float], width: Int, height: Int) {
        let factor = ps / workingPixelSizeNm
        let w = max(Int((Double(image.width) * factor).rounded()), 1), h = max(Int((Double(image.height) * factor).rounded()), 1)
        let working = (w == image.width && h == image.height) ? image : resize(image, width: w, height: h, method: factor < 1 ? .area : .bilinear)
        lock.lock()
        defer { lock.unlock() }
        guard testTimeFlips else {
            let planes = predictor.outputPlanes(plane: working.pixels, width: w, height: h)
            return (planes[0], planes[1], w, h)
        }
        // The mean of the outputs of the image and its three mirror images, mirrored back.
        func mirrored(_ p: [Float], _ fx: Bool, _ fy: Bool) -> [Float] {
            guard fx || fy else { return p }
            var out = [Float](repeating: 0, count: p.count)
            for y in 0..<h {
                let sy = fy ? h - 1 - y : y
                for x in 0..<w { out[y * w + x] = p[sy * w + (fx ? w - 1 - x : x)] }
            }
            return out
        }
        var heat = [Float](repeating: 0, count: w * h), logD = [Float](repeating: 0, count: w * h)
        for (fx, fy) in [(false, false), (true, false), (false, true), (true, true)] {
            let planes = predictor.outputPlanes(plane: mirrored(working.pixels, fx, fy), width: w, height: h)
            let a = mirrored(planes[0], fx, fy), b = mirrored(planes[1], fx, fy)
            for i in 0..<(w * h) { heat[i] += a[i] / 4; logD[i] += b[i] / 4 }
        }
        return (heat, logD, w, h)
    }

    /// The primaries of a whole image, in the image's pixels (radius in px, `metric` the centre
    /// probability), strongest first.
    public func primaries(in image: GrayImage, pixelSizeNm ps: Double) -> [Circle] {
        let out = outputPlanes(image, pixelSizeNm: ps)
        let sx = Double(image.width) / Double(out.width), sy = Double(image.height) / Double(out.height)
        return decodePrimaryPeaks(heatmapLogits: out.heatmap, logDiameter: out.logDiameter, width: out.width, height: out.height,
                                  pixelSizeNm: workingPixelSizeNm, decoding: decoding).map { c in
            Circle(centerX: (c.centerX + 0.5) * sx - 0.5, centerY: (c.centerY + 0.5) * sy - 0.5,
                   radius: c.radius * workingPixelSizeNm / ps, metric: c.metric)
        }
    }

    /// The primaries of the aggregates of an image. The detector runs on each aggregate's box
    /// with a margin of 48 working pixels for context (boxes that overlap are merged), not on
    /// empty film; a primary seen from two boxes is kept once (the stronger, by the same
    /// suppression as within a box).
    public func primaries(in image: GrayImage, pixelSizeNm ps: Double, within analysis: AggregateAnalysis) -> [Circle] {
        guard !analysis.aggregates.isEmpty else { return [] }
        let margin = Int((48 * workingPixelSizeNm / ps).rounded(.up))
        struct Box { var r0: Int, r1: Int, c0: Int, c1: Int }
        var boxes = analysis.aggregates.map {
            Box(r0: max($0.minRow - margin, 0), r1: min($0.maxRow + margin, image.height - 1),
                c0: max($0.minColumn - margin, 0), c1: min($0.maxColumn + margin, image.width - 1))
        }
        var merged = true
        while merged {
            merged = false
            search: for i in boxes.indices {
                for j in boxes.indices where j > i {
                    let a = boxes[i], b = boxes[j]
                    if a.r0 <= b.r1 && b.r0 <= a.r1 && a.c0 <= b.c1 && b.c0 <= a.c1 {
                        boxes[i] = Box(r0: min(a.r0, b.r0), r1: max(a.r1, b.r1), c0: min(a.c0, b.c0), c1: max(a.c1, b.c1))
                        boxes.remove(at: j)
                        merged = true
                        break search
                    }
                }
            }
        }
        var found: [Circle] = []
        for box in boxes {
            let part = image.cropped(rows: box.r0..<(box.r1 + 1), columns: box.c0..<(box.c1 + 1))
            found += primaries(in: part, pixelSizeNm: ps).map { c in
                Circle(centerX: c.centerX + Double(box.c0), centerY: c.centerY + Double(box.r0), radius: c.radius, metric: c.metric)
            }
        }
        return boxes.count > 1 ? suppressingOverlaps(found, iou: decoding.suppressionIoU) : found
    }
}
