import ImageCore

/// The simplest aggregate classifier: a global Otsu threshold on the raw image, dark pixels
/// being soot (the first step of atems' `seg_otsu_orig`, METHODS.md section 3.3, without its
/// border clearing and rolling ball).
///
/// It is the baseline the other classifiers are measured against.
public struct ThresholdSegmenter: Sendable {
    /// Fixed level in 0...1; nil uses Otsu's level of the image's 8-bit histogram.
    public var level: Double?

    public init(level: Double? = nil) { self.level = level }

    /// Segments `image`: true where the 8-bit value is at or below 255 x level.
    /// - Returns: the mask and the level used.
    public func segment(_ image: GrayImage) -> (mask: BinaryMask, level: Double) {
        let used = level ?? otsuThreshold(image)
        let limit = 255 * used
        var mask = BinaryMask(width: image.width, height: image.height, pixelSize: image.pixelSize)
        for i in 0..<image.count where Double(image.value8(atIndex: i)) <= limit { mask.bits[i] = 1 }
        return (mask, used)
    }
}
