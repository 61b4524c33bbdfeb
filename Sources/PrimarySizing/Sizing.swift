import Dispatch
import Foundation
import ImageCore
import Aggregates
import Statistics

/// The primary-particle sizing methods sootctl offers.
public enum SizingMethod: String, Sendable, CaseIterable, Codable {
    case pcm
    case edmSBS = "edm-sbs"
    case hough
    case edmWS = "edm-ws"
    /// The learned primary-particle detector (`PrimaryDetector`), beyond the paper.
    case cnnPrimaries = "cnn-primaries"

    /// The paper's four methods: what `analyze` runs unless told otherwise.
    public static let paperMethods: [SizingMethod] = [.pcm, .edmSBS, .hough, .edmWS]

    /// Column name in aggregate tables (`dp_pcm_nm`, ...).
    public var columnName: String {
        switch self {
        case .pcm: return "dp_pcm_nm"
        case .edmSBS: return "dp_edm_sbs_nm"
        case .hough: return "dp_hough_nm"
        case .edmWS: return "dp_edm_ws_nm"
        case .cnnPrimaries: return "dp_cnn_primaries_nm"
        }
    }

    /// Methods that locate primaries one by one (rows of `primaries.csv`); the others give
    /// one diameter per aggregate.
    public var locatesPrimaries: Bool { self == .hough || self == .edmWS || self == .cnnPrimaries }

    /// Parses a comma-separated list; "paper" selects the paper's four, "all" every method, the
    /// learned detector included.
    public static func parseList(_ text: String) throws -> [SizingMethod] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if parts.contains("all") { return allCases }
        if parts == ["paper"] { return paperMethods }
        if parts == ["none"] || parts.isEmpty { return [] }
        var out: [SizingMethod] = []
        for p in parts {
            guard let m = SizingMethod(rawValue: p) else { throw SizingError.unknownMethod(p) }
            if !out.contains(m) { out.append(m) }
        }
        return out
    }
}

public enum SizingError: LocalizedError, Equatable {
    case unknownMethod(String)
    /// The primary-particle detector's model file cannot be used.
    case detectorUnreadable(path: String, reason: String)
    /// `cnn-primaries` without `--primary-model` and no default detector installed.
    case noDetectorInstalled(searched: [String])
    public var errorDescription: String? {
        switch self {
        case let .detectorUnreadable(path, reason):
            return "\(path): cannot use this primary-particle detector model (\(reason))"
        case let .noDetectorInstalled(searched):
            return "no primary-particle detector is installed (looked in: \(searched.joined(separator: ", "))); "
                + "pass --primary-model FILE (a model from `sootctl train --task primaries`)"
        case let .unknownMethod(name):
            return "unknown sizing method '\(name)' (choose from pcm, edm-sbs, hough, edm-ws, cnn-primaries, paper, all)"
        }
    }
}

/// Primary-particle sizes of every aggregate of one image.
public struct ImageSizing: Sendable {
    /// Per aggregate (in `analysis.aggregates` order), per method.
    public var sizes: [[SizingMethod: PrimaryParticleSize]]
    /// Per aggregate, the primaries each locating method found, in the image's pixels (radius
    /// in px; `metric` the method's score: Hough's vote, the detector's probability, 0 for EDM-WS).
    public var located: [[SizingMethod: [Circle]]]
    /// EDM-SBS curves per aggregate on `EDMSBS.gridNm` (for the ensemble fit).
    public var edmCurves: [[Double]]

    public init(sizes: [[SizingMethod: PrimaryParticleSize]], located: [[SizingMethod: [Circle]]], edmCurves: [[Double]]) {
        self.sizes = sizes
        self.located = located
        self.edmCurves = edmCurves
    }

    /// No aggregate sized (for `count` aggregates).
    public static func empty(count: Int) -> ImageSizing {
        ImageSizing(sizes: Array(repeating: [:], count: count), located: Array(repeating: [:], count: count),
                    edmCurves: Array(repeating: [], count: count))
    }

    /// Hough circles per aggregate (empty without Hough).
    public var circles: [[Circle]] { located.map { $0[.hough] ?? [] } }
}

/// The per-aggregate size of a locating method: the geometric mean of its primaries'
/// diameters, with their count.
public func sizeFromLocated(_ circles: [Circle], pixelSizeNm ps: Double) -> PrimaryParticleSize {
    guard !circles.isEmpty else { return .notDetermined(.noParticlesFound) }
    let gm = exp(circles.reduce(0) { $0 + log(2 * $1.radius * ps) } / Double(circles.count))
    return .checked(gm, particleCount: circles.count)
}

/// Assigns located primaries to the aggregates their centres fall in (image pixels).
public func assignToAggregates(_ circles: [Circle], analysis: AggregateAnalysis) -> [[Circle]] {
    var byLabel: [Int32: [Circle]] = [:]
    let w = analysis.labels.width, h = analysis.labels.height
    for circle in circles {
        let r = Int(circle.centerY.rounded()), c = Int(circle.centerX.rounded())
        guard r >= 0, r < h, c >= 0, c < w else { continue }
        let l = analysis.labels.labels[r * w + c]
        if l != 0 { byLabel[l, default: []].append(circle) }
    }
    return analysis.aggregates.map { byLabel[$0.label] ?? [] }
}

/// Runs the selected sizing methods on all aggregates of an image, aggregates in parallel.
///
/// `.cnnPrimaries` needs `detector`; without one its aggregates are left unsized.
public func sizePrimaryParticles(analysis: AggregateAnalysis, image: GrayImage, methods: [SizingMethod],
                                 pcm: PCM = PCM(), edmSBS: EDMSBS = EDMSBS(), hough: HoughKook = HoughKook(),
                                 edmWS: EDMWatershed = EDMWatershed(), detector: PrimaryDetector? = nil) -> ImageSizing {
    let n = analysis.aggregates.count
    let ps = analysis.pixelSizeNm
    var sizes = [[SizingMethod: PrimaryParticleSize]](repeating: [:], count: n)
    var curves = [[Double]](repeating: [], count: n)
    var located = [[SizingMethod: [Circle]]](repeating: [:], count: n)
    let perAggregate = methods.filter { $0 != .hough && $0 != .cnnPrimaries }
    if !perAggregate.isEmpty && n > 0 {
        let lock = NSLock()
        // Largest first so the two cores finish together.
        let order = (0..<n).sorted { analysis.aggregates[$0].areaPx > analysis.aggregates[$1].areaPx }
        DispatchQueue.concurrentPerform(iterations: n) { k in
            let index = order[k]
            var aggregate = analysis.aggregates[index]
            let cropped = analysis.croppedMask(of: aggregate)
            var crop = cropped.mask
            let cropWidth = crop.width, cropHeight = crop.height
            // The mask methods work at one pixel size (PaperScale.imageMethodsPixelSizeNm), so
            // that their pixel steps (PCM's bins of the mask, the EDM's integer erosions, the
            // watershed's depth) mean the same in nm at every magnification.
            var ps = ps
            let factor = ps / PaperScale.imageMethodsWorkingPixelSizeNm(ps)
            if abs(factor - 1) > 1e-6 {
                let w = max(Int((Double(crop.width) * factor).rounded()), 1), h = max(Int((Double(crop.height) * factor).rounded()), 1)
                let resampled = resize(crop.asImage(), width: w, height: h, method: factor < 1 ? .area : .bilinear)
                ps *= Double(crop.width) / Double(w)
                crop = BinaryMask(resampled, above: 0.5 - 1e-6)
                crop.pixelSize = PixelSize(nanometersPerPixel: ps, source: .user)
                aggregate.areaPx = crop.trueCount
            }
            var result: [SizingMethod: PrimaryParticleSize] = [:]
            var curve: [Double] = []
            var particles: [Circle] = []
            for method in perAggregate {
                switch method {
                case .pcm: result[.pcm] = pcm.size(mask: crop, aggregate: aggregate, pixelSizeNm: ps)
                case .edmSBS:
                    curve = EDMSBS.curve(mask: crop, pixelSizeNm: ps)
                    if let fit = edmSBS.fit(curve) { result[.edmSBS] = .checked(fit.dgNm) } else {
                        result[.edmSBS] = .notDetermined(.fitFailed)
                    }
                case .edmWS:
                    // Back from the working crop to the image's pixels.
                    let sx = Double(cropWidth) / Double(crop.width), sy = Double(cropHeight) / Double(crop.height)
                    let working = edmWS.particles(mask: crop, pixelSizeNm: ps)
                    result[.edmWS] = sizeFromLocated(working, pixelSizeNm: ps)
                    particles = working.map { c in
                        Circle(centerX: Double(cropped.column) + (c.centerX + 0.5) * sx - 0.5,
                               centerY: Double(cropped.row) + (c.centerY + 0.5) * sy - 0.5, radius: c.radius * (sx + sy) / 2)
                    }
                case .hough, .cnnPrimaries: break
                }
            }
            lock.lock()
            sizes[index] = result
            curves[index] = curve
            if methods.contains(.edmWS) { located[index][.edmWS] = particles }
            lock.unlock()
        }
    }
    if methods.contains(.hough) && n > 0 {
        let found = hough.circles(in: image, pixelSizeNm: ps)
        for (k, (size, own)) in hough.size(circles: found, analysis: analysis).enumerated() {
            sizes[k][.hough] = size
            located[k][.hough] = own
        }
    }
    if methods.contains(.cnnPrimaries) && n > 0, let detector {
        let found = detector.primaries(in: image, pixelSizeNm: ps, within: analysis)
        for (k, own) in assignToAggregates(found, analysis: analysis).enumerated() {
            sizes[k][.cnnPrimaries] = sizeFromLocated(own, pixelSizeNm: ps)
            located[k][.cnnPrimaries] = own
        }
    }
    return ImageSizing(sizes: sizes, located: located, edmCurves: curves)
}
