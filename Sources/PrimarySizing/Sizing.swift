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

    /// Column name in aggregate tables (`dp_pcm_nm`, ...).
    public var columnName: String {
        switch self {
        case .pcm: return "dp_pcm_nm"
        case .edmSBS: return "dp_edm_sbs_nm"
        case .hough: return "dp_hough_nm"
        case .edmWS: return "dp_edm_ws_nm"
        }
    }

    /// Parses a comma-separated list; "all" selects every method.
    public static func parseList(_ text: String) throws -> [SizingMethod] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if parts.contains("all") { return allCases }
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
    public var errorDescription: String? {
        switch self {
        case let .unknownMethod(name):
            return "unknown sizing method '\(name)' (choose from pcm, edm-sbs, hough, edm-ws, all)"
        }
    }
}

/// Primary-particle sizes of every aggregate of one image.
public struct ImageSizing: Sendable {
    /// Per aggregate (in `analysis.aggregates` order), per method.
    public var sizes: [[SizingMethod: PrimaryParticleSize]]
    /// Hough circles per aggregate (empty without Hough).
    public var circles: [[Circle]]
    /// EDM-SBS curves per aggregate on `EDMSBS.gridNm` (for the ensemble fit).
    public var edmCurves: [[Double]]

    public init(sizes: [[SizingMethod: PrimaryParticleSize]], circles: [[Circle]], edmCurves: [[Double]]) {
        self.sizes = sizes
        self.circles = circles
        self.edmCurves = edmCurves
    }
}

/// Runs the selected sizing methods on all aggregates of an image, aggregates in parallel.
public func sizePrimaryParticles(analysis: AggregateAnalysis, image: GrayImage, methods: [SizingMethod],
                                 pcm: PCM = PCM(), edmSBS: EDMSBS = EDMSBS(), hough: HoughKook = HoughKook(),
                                 edmWS: EDMWatershed = EDMWatershed()) -> ImageSizing {
    let n = analysis.aggregates.count
    let ps = analysis.pixelSizeNm
    var sizes = [[SizingMethod: PrimaryParticleSize]](repeating: [:], count: n)
    var curves = [[Double]](repeating: [], count: n)
    var circles = [[Circle]](repeating: [], count: n)
    let perAggregate = methods.filter { $0 != .hough }
    if !perAggregate.isEmpty && n > 0 {
        let lock = NSLock()
        // Largest first so the two cores finish together.
        let order = (0..<n).sorted { analysis.aggregates[$0].areaPx > analysis.aggregates[$1].areaPx }
        DispatchQueue.concurrentPerform(iterations: n) { k in
            let index = order[k]
            var aggregate = analysis.aggregates[index]
            var crop = analysis.croppedMask(of: aggregate).mask
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
            for method in perAggregate {
                switch method {
                case .pcm: result[.pcm] = pcm.size(mask: crop, aggregate: aggregate, pixelSizeNm: ps)
                case .edmSBS:
                    curve = EDMSBS.curve(mask: crop, pixelSizeNm: ps)
                    if let fit = edmSBS.fit(curve) { result[.edmSBS] = .checked(fit.dgNm) } else {
                        result[.edmSBS] = .notDetermined(.fitFailed)
                    }
                case .edmWS: result[.edmWS] = edmWS.size(mask: crop, pixelSizeNm: ps)
                case .hough: break
                }
            }
            lock.lock()
            sizes[index] = result
            curves[index] = curve
            lock.unlock()
        }
    }
    if methods.contains(.hough) && n > 0 {
        let found = hough.circles(in: image, pixelSizeNm: ps)
        for (k, (size, own)) in hough.size(circles: found, analysis: analysis).enumerated() {
            sizes[k][.hough] = size
            circles[k] = own
        }
    }
    return ImageSizing(sizes: sizes, circles: circles, edmCurves: curves)
}
