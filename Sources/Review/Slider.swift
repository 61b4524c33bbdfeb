import Foundation
import ImageCore

/// The paper's semi-manual slider method (atems `seg_slider`, METHODS.md 3.10) on one
/// rectangle of an image, without the lasso: the rectangle's background is fitted by a
/// quadratic surface over the pixels brighter than the rectangle's Otsu level and removed
/// (refined = mean background + crop - fit), the result is smoothed by a Gaussian of
/// `sigmaPx` (the paper's "Gaussian smoothing"; 0: none) and soot is every pixel darker than
/// `threshold`.
public struct SliderRequest: Codable, Sendable, Equatable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int
    /// Gaussian smoothing, pixels (0: none).
    public var sigmaPx: Double
    /// Intensity (0...1) below which a refined, smoothed pixel is soot; nil: the refined
    /// crop's Otsu level.
    public var threshold: Double?
    public var mode: Mode
    /// Compute and return without changing the working mask (the page's live preview).
    public var preview: Bool?

    public enum Mode: String, Codable, Sendable { case add, replace }

    enum CodingKeys: String, CodingKey {
        case x, y, width, height, sigmaPx = "sigma_px", threshold, mode, preview
    }

    public init(x: Int, y: Int, width: Int, height: Int, sigmaPx: Double = 2, threshold: Double? = nil, mode: Mode = .add,
                preview: Bool? = nil) {
        self.x = x; self.y = y; self.width = width; self.height = height
        self.sigmaPx = sigmaPx; self.threshold = threshold; self.mode = mode; self.preview = preview
    }
}

/// What the slider found in the rectangle.
public struct SliderResult: Sendable {
    /// The rectangle (clipped to the image).
    public var x: Int, y: Int, width: Int, height: Int
    /// Soot pixels of the rectangle, row-major, `width * height`.
    public var region: [UInt8]
    /// The threshold used and the refined crop's Otsu level (the slider's starting point).
    public var threshold: Double
    public var otsuLevel: Double
}

public enum SliderMethod {
    /// Runs the slider on `image` within the request's rectangle.
    /// - Throws: `ReviewError.badRequest` for an empty rectangle, a negative σ or a
    ///   threshold outside 0...1.
    public static func run(_ request: SliderRequest, on image: GrayImage) throws -> SliderResult {
        let x0 = max(request.x, 0), y0 = max(request.y, 0)
        let x1 = min(request.x + request.width, image.width), y1 = min(request.y + request.height, image.height)
        guard x1 - x0 >= 3, y1 - y0 >= 3 else { throw ReviewError.badRequest("the rectangle must cover at least 3 x 3 pixels of the image") }
        guard request.sigmaPx >= 0, request.sigmaPx <= 50 else { throw ReviewError.badRequest("sigma_px must be 0-50") }
        if let t = request.threshold, !(0...1).contains(t) { throw ReviewError.badRequest("threshold must be 0-1") }
        let crop = image.cropped(rows: y0..<y1, columns: x0..<x1)
        let w = crop.width, h = crop.height
        // Background: the pixels brighter than the crop's Otsu level.
        let level = Float(otsuThreshold(crop))
        var background = BinaryMask(width: w, height: h)
        var sum = 0.0, count = 0
        for i in 0..<crop.count where crop.pixels[i] > level {
            background.bits[i] = 1
            sum += Double(crop.pixels[i]); count += 1
        }
        var refined = crop
        if count >= 6, let surface = try? QuadraticSurface.fit(crop.pixels, width: w, height: h, mask: background) {
            let fit = surface.sampled(width: w, height: h)
            let mean = sum / Double(count)
            for i in 0..<crop.count { refined.pixels[i] = Float(min(max(mean + Double(crop.pixels[i]) - fit[i], 0), 1)) }
        }
        if request.sigmaPx > 0 { refined = gaussianFilter(refined, sigma: request.sigmaPx) }
        let otsu = otsuThreshold(refined)
        let threshold = request.threshold ?? otsu
        let region = refined.pixels.map { Double($0) < threshold ? UInt8(1) : 0 }
        return SliderResult(x: x0, y: y0, width: w, height: h, region: region, threshold: threshold, otsuLevel: otsu)
    }

    /// `mask` with the result put in: OR-ed (`add`) or replacing the rectangle (`replace`).
    public static func apply(_ result: SliderResult, to mask: BinaryMask, mode: SliderRequest.Mode) -> BinaryMask {
        var out = mask
        for r in 0..<result.height {
            for c in 0..<result.width {
                let i = (result.y + r) * mask.width + result.x + c, v = result.region[r * result.width + c]
                out.bits[i] = mode == .add ? (out.bits[i] | v) : v
            }
        }
        return out
    }
}
