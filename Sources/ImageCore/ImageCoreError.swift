import Foundation

/// Errors raised by ImageCore: unreadable files, bad geometry, failed numerical solves.
///
/// Every message names the file (or the quantity) and says what to do about it.
public enum ImageCoreError: LocalizedError, Equatable, Sendable {
    /// The file does not exist or cannot be opened.
    case cannotOpen(path: String, reason: String)
    /// The file has zero bytes.
    case emptyFile(path: String)
    /// The file's leading bytes match no supported image format.
    case unrecognisedFormat(path: String)
    /// The file ends before the image data does.
    case truncated(path: String, detail: String)
    /// The decoder rejected the file.
    case decodeFailed(path: String, detail: String)
    /// The file is a valid image of a kind sootctl does not read (e.g. 32-bit float TIFF).
    case unsupported(path: String, detail: String)
    /// The file declares an image larger than `ImageLimits` allow.
    case tooLarge(path: String, detail: String)
    /// Writing an output file failed.
    case writeFailed(path: String, detail: String)
    /// Two images or masks that must share a geometry do not.
    case sizeMismatch(expected: String, actual: String)
    /// Pixel buffer length does not match width x height.
    case invalidGeometry(width: Int, height: Int, count: Int)
    /// A numerical solve (LAPACK) failed.
    case numericalFailure(String)

    public var errorDescription: String? {
        switch self {
        case let .cannotOpen(path, reason): return "\(path): cannot open (\(reason))"
        case let .emptyFile(path): return "\(path): empty file"
        case let .unrecognisedFormat(path):
            return "\(path): not an image sootctl reads (expected PNG, TIFF, JPEG or Gatan DM3/DM4)"
        case let .truncated(path, detail): return "\(path): truncated file (\(detail))"
        case let .decodeFailed(path, detail): return "\(path): cannot decode (\(detail))"
        case let .unsupported(path, detail): return "\(path): unsupported image (\(detail))"
        case let .tooLarge(path, detail): return "\(path): image too large (\(detail))"
        case let .writeFailed(path, detail): return "\(path): cannot write (\(detail))"
        case let .sizeMismatch(expected, actual):
            return "image sizes differ: expected \(expected), got \(actual)"
        case let .invalidGeometry(width, height, count):
            return "pixel buffer of \(count) values does not match \(width) x \(height)"
        case let .numericalFailure(message): return "numerical failure: \(message)"
        }
    }
}
