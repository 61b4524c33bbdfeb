import Foundation

/// The magnification the paper's pixel constants were made for, and how sootctl keeps its
/// results independent of magnification.
///
/// The paper (Sipkens et al. 2021) and its reference code give many constants in pixels: the
/// background closing disk of 80 px, the k-means bottom-hat disk of 20 px, 15 x 15 entropy
/// windows and σ = 15 px, area openings of 50 and 1,000 px, the 10 px speck limit, Hough radii
/// of 8-50 px, the watershed depth of 1 px, the matching radius of 250 px. They were applied to
/// UBC images of 0.4-0.8 nm/px. sootctl keeps every such constant as it is for images in that
/// range and, outside it, converts it to the same length in nm as at the nearest end of the
/// range: an image of 0.15 nm/px is treated as if it were at 0.4 nm/px (its pixel constants
/// are 0.4 / 0.15 = 2.67 times larger), one of 1.2 nm/px as if at 0.8 nm/px. For the
/// image-processing classifiers (k-means, Otsu) and Hough this is done by resampling the image
/// to the working pixel size and mapping the result back, which converts every constant of
/// the method at once, exactly as the reference code has it.
public enum PaperScale {
    /// The paper's pixel sizes, nm/px.
    public static let rangeNm: ClosedRange<Double> = 0.4...0.8

    /// The one pixel size the image-processing methods written in pixels (k-means, Otsu with
    /// its background subtraction, Hough, the mask sizing methods) run at, from any magnification: 0.8 nm/px, where
    /// atems' own conversions to nm (μ = 0.8 / ps in k-means and the rolling balls) equal its
    /// pixel constants, and the CNN's model pixel size.
    public static let imageMethodsPixelSizeNm = 0.8

    /// How far an image is enlarged or reduced for the image methods: at most 4 x larger
    /// (an image of more than 3.2 nm/px is processed at ps / 4, not at 0.8 nm/px) and at most
    /// 16 x smaller (below 0.05 nm/px likewise), so that a pixel size given in the wrong unit
    /// cannot make a working image of gigapixels.
    public static let resamplingRange: ClosedRange<Double> = (1.0 / 16)...4

    /// The pixel size the image methods run at for an image of `ps`: 0.8 nm/px within
    /// `resamplingRange` of the image's own pixel size.
    public static func imageMethodsWorkingPixelSizeNm(_ ps: Double, target: Double = imageMethodsPixelSizeNm) -> Double {
        let enlargement = min(max(ps / target, resamplingRange.lowerBound), resamplingRange.upperBound)
        return ps / enlargement
    }

    /// The pixel size at which the paper's pixel constants are applied for an image of `ps`:
    /// `ps` inside `rangeNm`, the nearest end outside.
    public static func workingPixelSizeNm(_ ps: Double) -> Double {
        min(max(ps, rangeNm.lowerBound), rangeNm.upperBound)
    }

    /// The factor pixel lengths of the paper are multiplied by at `ps` (1 in the paper's range).
    public static func lengthFactor(pixelSizeNm ps: Double?) -> Double {
        guard let ps, ps > 0, ps.isFinite else { return 1 }
        return workingPixelSizeNm(ps) / ps
    }

    /// A length the paper gives in pixels, in pixels of an image at `ps` (unknown: as given).
    public static func pixels(_ paperPixels: Double, pixelSizeNm ps: Double?) -> Double {
        paperPixels * lengthFactor(pixelSizeNm: ps)
    }

    /// An area the paper gives in pixels, in pixels of an image at `ps`, rounded.
    public static func area(_ paperPixels: Int, pixelSizeNm ps: Double?) -> Int {
        let f = lengthFactor(pixelSizeNm: ps)
        return Int((Double(paperPixels) * f * f).rounded())
    }
}
