/// The largest inputs sootctl decodes, so that memory stays bounded by what a file really
/// holds: a header that declares more than the data can fill, or more than these limits, is
/// refused with `ImageCoreError.tooLarge` before anything of that size is allocated.
///
/// 128 megapixels is 11,585 x 11,585 px, twice the largest TEM cameras (8k x 8k, 67 Mpx);
/// decoding such an image needs about 1.2 GB (the 32-bit float image plus the decoder's
/// buffer of at most 8 bytes a pixel).
public enum ImageLimits {
    /// Width x height of any decoded image.
    public static let maximumPixels = 1 << 27
    /// Size of any input file (2 GiB).
    public static let maximumFileBytes = 1 << 31
    /// The most raw bytes one compressed byte can stand for in a general-purpose codec
    /// (Deflate's limit is 1,032:1; LZW's 12-bit codes reach about 2,730:1).
    public static let maximumCompressionRatio = 4096

    /// Checks a declared geometry against `maximumPixels`.
    public static func checkPixels(width: Int, height: Int, path: String) throws {
        guard width > 0, height > 0 else {
            throw ImageCoreError.decodeFailed(path: path, detail: "image size \(width) x \(height)")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maximumPixels else {
            throw ImageCoreError.tooLarge(path: path, detail: "\(width) x \(height) px is over the limit of \(maximumPixels) px")
        }
    }

    /// Checks that `compressedBytes` of stored data can hold `rawBytes` of decoded data.
    /// - Parameter ratio: the codec's largest expansion.
    public static func checkData(rawBytes: Int, compressedBytes: Int, ratio: Int, path: String) throws {
        let (limit, overflow) = max(compressedBytes, 0).multipliedReportingOverflow(by: ratio)
        guard overflow || rawBytes <= limit + 4096 else {
            throw ImageCoreError.truncated(
                path: path, detail: "the header declares \(rawBytes) bytes of pixels but the file holds \(compressedBytes) bytes of image data")
        }
    }
}
