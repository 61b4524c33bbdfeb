import Foundation

/// Errors of the pipeline's inputs and outputs. Each message names what the user must change.
public enum PipelineError: LocalizedError, Sendable {
    case noInputs
    case notFound(String)
    case wouldOverwriteInput(String)
    case duplicateStem(String, first: String)
    case maskNotFound(image: String, folder: String)
    case maskSizeMismatch(mask: String, maskSize: (Int, Int), image: String, imageSize: (Int, Int))
    case singleMaskForManyImages(String)
    case cannotCreateFolder(String, String)
    case notAFolder(String, option: String)
    /// An image has no pixel size and `neededBy` (a classifier, the sizing, the comparison) needs one.
    case missingPixelSize(image: String, neededBy: String)
    /// compare: the truth masks exist but the images carry no pixel size.
    case missingPixelSizeForComparison(image: String)
    /// No input could be analysed; nothing was written.
    case nothingAnalysed(failed: Int)
    /// compare: a classifier failed on an image (counted as a failed segmentation).
    case classifierFailed(classifier: String, message: String)
    /// Another run holds the output folder.
    case folderInUse(String)
    /// `--resume` into a folder that holds a run of another command, configuration or shard.
    case resumeMismatch(String)
    /// A run folder's state file cannot be read.
    case corruptRunFolder(String, String)
    /// `merge`: runs that do not belong together, or that do not cover every input.
    case cannotMerge(String)
    /// compare: a primary-truth file (synthetic truth JSON or one-primary mask) is unusable.
    case primaryTruthUnusable(String, String)

    public var errorDescription: String? {
        switch self {
        case .noInputs: return "no image files given (pass PNG, TIFF, JPEG or DM3/DM4 files or folders holding them)"
        case let .notFound(path): return "\(path): no such file or folder"
        case let .wouldOverwriteInput(path): return "\(path): refusing to overwrite an input file; choose another --out"
        case let .duplicateStem(path, first):
            return "\(path): another input (\(first)) has the same file stem; outputs would collide (rename one of them)"
        case let .maskNotFound(image, folder):
            return "\(image): no mask named like it (STEM or STEM_mask, PNG or TIFF, not the image itself) in \(folder)"
        case let .maskSizeMismatch(mask, ms, image, isz):
            return "\(mask): mask is \(ms.0) x \(ms.1) but image \(image) is \(isz.0) x \(isz.1)"
        case let .singleMaskForManyImages(path):
            return "\(path): one mask file given for several images; pass a folder of masks named like the images"
        case let .cannotCreateFolder(path, reason): return "\(path): cannot create output folder: \(reason)"
        case let .notAFolder(path, option): return "\(path): \(option) needs a folder (of masks named like the images)"
        case let .missingPixelSize(image, user):
            return "\(image): \(user) needs the pixel size and the file carries none: pass --pixel-size NM "
                + "(nm per pixel) or --pixel-sizes CSV (stem,pixel_size_nm)"
        case let .missingPixelSizeForComparison(image):
            return "\(image): its truth mask was found but the file carries no pixel size: pass --pixel-sizes CSV "
                + "(one stem,pixel_size_nm line per image) or --pixel-size NM"
        case let .nothingAnalysed(failed):
            return "none of the \(failed) input(s) could be analysed; no result files were written"
        case let .folderInUse(path):
            return "\(path): another sootctl run is writing into this folder; wait for it or choose another --out"
        case let .resumeMismatch(path):
            return "\(path): holds a run with another command, configuration or shard; --resume needs the same options "
                + "(run without --resume to start afresh)"
        case let .corruptRunFolder(path, reason):
            return "\(path): cannot read this run's state (\(reason)); run again without --resume"
        case let .cannotMerge(reason): return "cannot merge: \(reason)"
        case let .primaryTruthUnusable(path, reason): return "\(path): unusable primary-particle truth (\(reason))"
        case let .classifierFailed(classifier, message):
            return "the \(classifier) classifier failed (\(message)); counted as a failed segmentation"
        }
    }
}
