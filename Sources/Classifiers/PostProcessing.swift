import Foundation
import ImageCore
import Aggregates

/// Post-processing shared by all classifiers (METHODS.md sections 3.6 and 3.8).
///
/// Steps, in order: the CNN rolling ball (close with a disk of round(3.2/ps) px, then open with
/// one pixel less), removal of aggregates below `minimumAggregatePixels`, removal of aggregates
/// touching the image border. The paper's variants of Table 3 are `none`, `rollingBall`,
/// `areaOpening` and `cnnDefault` (both).
public struct PostProcessing: Sendable, Equatable, Codable {
    public var rollingBall = false
    /// 0 keeps every aggregate.
    public var minimumAggregatePixels = 0
    public var removeBorderAggregates = false
    public var diskShape: DiskShape = .euclidean

    public init(rollingBall: Bool = false, minimumAggregatePixels: Int = 0, removeBorderAggregates: Bool = false,
                diskShape: DiskShape = .euclidean) {
        self.rollingBall = rollingBall
        self.minimumAggregatePixels = minimumAggregatePixels
        self.removeBorderAggregates = removeBorderAggregates
        self.diskShape = diskShape
    }

    /// Nothing ("original" in Table 3).
    public static let none = PostProcessing()
    /// The CNN's default in the paper: rolling ball and the 1,000 px floor.
    public static let cnnDefault = PostProcessing(rollingBall: true, minimumAggregatePixels: 1000)

    /// A short description for reports ("rolling ball + 1000 px").
    public var summary: String {
        var parts: [String] = []
        if rollingBall { parts.append("rolling ball") }
        if minimumAggregatePixels > 0 { parts.append("\(minimumAggregatePixels) px") }
        if removeBorderAggregates { parts.append("border removed") }
        return parts.isEmpty ? "none" : parts.joined(separator: " + ")
    }

    /// Applies the steps to a mask at its own pixel size; the result keeps it.
    public func apply(_ mask: BinaryMask) throws -> BinaryMask {
        var out = try apply(mask, pixelSizeNm: mask.pixelSize?.nanometersPerPixel)
        out.pixelSize = mask.pixelSize
        return out
    }

    /// Applies the steps to a mask.
    /// - Throws: `ClassifierError.missingPixelSize` when the rolling ball is on and the pixel
    ///   size is unknown.
    public func apply(_ mask: BinaryMask, pixelSizeNm: Double?) throws -> BinaryMask {
        var out = mask
        if rollingBall {
            let ps = try requirePixelSize(pixelSizeNm, neededBy: "rolling-ball post-processing")
            out = cnnRollingBall(out, pixelSizeNm: ps, diskShape: diskShape)
        }
        // The floor is the paper's 1,000 px at 0.4-0.8 nm/px, the same area in nm² outside (PaperScale).
        let floor = PaperScale.area(minimumAggregatePixels, pixelSizeNm: pixelSizeNm)
        if floor > 1 { out = removeSmallComponents(out, minimumPixels: floor) }
        if removeBorderAggregates { out = clearBorder(out) }
        return out
    }
}

/// The rolling ball of atems' CNN post-processing and k-means (METHODS.md 3.4 step 6, 3.6):
/// ds = round(3.2 / ps); closing with disk(max(ds, 1)), then opening with disk(max(ds - 1, 0)).
public func cnnRollingBall(_ mask: BinaryMask, pixelSizeNm ps: Double, diskShape: DiskShape = .euclidean) -> BinaryMask {
    let ds = Int((3.2 / ps).rounded())
    let closed = close(mask, .disk(radius: max(ds, 1), shape: diskShape))
    let r = max(ds - 1, 0)
    return r > 0 ? open(closed, .disk(radius: r, shape: diskShape)) : closed
}

/// The outcome of a classifier plus post-processing on one image.
public struct ClassifiedImage: Sendable {
    public var segmentation: Segmentation
    /// The post-processed mask.
    public var mask: BinaryMask
    /// Set when the mask looks like a failed segmentation (atems' checks, METHODS.md 3.8).
    public var failure: SegmentationFailure?
}

extension Segmenter {
    /// Segments, post-processes and checks one image.
    public func classify(_ image: GrayImage, pixelSizeNm: Double?, postProcessing: PostProcessing? = nil)
        throws -> ClassifiedImage
    {
        let result = try segment(image, pixelSizeNm: pixelSizeNm)
        let mask = try (postProcessing ?? defaultPostProcessing).apply(result.mask, pixelSizeNm: pixelSizeNm)
        return ClassifiedImage(segmentation: result, mask: mask, failure: detectSegmentationFailure(mask))
    }
}
