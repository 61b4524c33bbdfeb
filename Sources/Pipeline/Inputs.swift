import Annotations
import Foundation
import ImageCore

/// Image file extensions sootctl reads.
public let imageExtensions: Set<String> = ["png", "tif", "tiff", "jpg", "jpeg", "dm3", "dm4"]

/// The file name without folder and extension (the key that matches images, masks and table rows).
public func stem(of path: String) -> String {
    ((path as NSString).lastPathComponent as NSString).deletingPathExtension
}

/// The image files named by command-line style arguments.
public struct InputList: Sendable, Equatable {
    /// Image files, in argument order; each folder's files sorted by name.
    public var files: [String]
    /// Arguments that named no file or folder.
    public var missing: [String]

    /// Expands files and folders into image files.
    /// - Parameters:
    ///   - arguments: files (taken as they are) and folders (their PNG, TIFF, JPEG and DM3/DM4 files, hidden
    ///     files skipped).
    ///   - recursive: also take the image files of sub-folders, depth first, sorted.
    public init(_ arguments: [String], recursive: Bool = false) {
        files = []
        missing = []
        let fm = FileManager.default
        func expand(_ folder: String) {
            let entries = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            for entry in entries {
                let path = (folder as NSString).appendingPathComponent(entry)
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    if recursive { expand(path) }
                } else if imageExtensions.contains((entry as NSString).pathExtension.lowercased()) {
                    files.append(path)
                }
            }
        }
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: argument, isDirectory: &isDirectory) else { missing.append(argument); continue }
            if isDirectory.boolValue { expand(argument) } else { files.append(argument) }
        }
    }

    /// Files whose stem an earlier file already has (their outputs would collide), with that earlier file.
    public var duplicateStems: [(file: String, first: String)] {
        var seen: [String: String] = [:]
        var out: [(String, String)] = []
        for f in files {
            let s = stem(of: f)
            if let first = seen[s] { out.append((f, first)) } else { seen[s] = f }
        }
        return out
    }

    /// The inputs without the files that are another input's mask in `source`: where masks sit
    /// beside their images (`STEM_mask.png`) and the images' folder is also the mask or truth
    /// folder, the masks are not images to analyse. A file mask or no source changes nothing.
    public func excludingMasks(in source: MaskSource?) -> InputList {
        guard let source, case .folder = source else { return self }
        func canonical(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
        let masks = Set(files.compactMap { try? source.mask(for: $0) }.map(canonical))
        var out = self
        out.files = files.filter { !masks.contains(canonical($0)) }
        return out
    }
}

/// An input image ready for the methods: footer cropped, pixel size resolved. The pixel
/// size travels with `original`, `image` and every mask made from them.
public struct LoadedImage: Sendable {
    public var path: String
    public var stem: String
    /// The full image as read.
    public var original: GrayImage
    /// The part above the footer (the whole image when there is none).
    public var image: GrayImage
    public var footer: Footer?
    /// Why a bar that looked like a footer was not cropped.
    public var footerNote: String?
    public var pixelSize: PixelSize? { original.pixelSize }
    /// Scale bar, text boxes and saturated regions of `image` (what is not soot).
    public var annotations: ImageAnnotations
    /// Why the file's calibration was not used (from the reader), for reports.
    public var fileCalibrationNote: String?
    /// A disagreement between the pixel size used and the scale bar's reading.
    public var scaleBarWarning: String?
    /// The calibration read from the footer's text, when that gave the pixel size.
    public var footerCalibration: FooterCalibration?

    /// Reads an image, finds what is not soot and resolves its pixel size with `rule`; the
    /// scale bar's reading is used when neither the rule nor the file gives one.
    /// - Parameter annotations: look for scale bars, text boxes and saturated regions (off:
    ///   the whole image is specimen, as in atems).
    public init(path: String, pixelSizes rule: PixelSizeRule = PixelSizeRule(), annotations find: Bool = true) throws {
        let decoded = try ImageReader.read(path)
        self.path = path
        stem = Pipeline.stem(of: path)
        original = decoded.image
        fileCalibrationNote = decoded.info.pixelSizeNote
        let resolved = rule.resolve(stem: stem, metadata: decoded.info.pixelSize)
        let detected = detectInstrumentFooter(original, metadataStartRow: decoded.info.metadataFooterStartRow)
        footer = detected.footer
        footerNote = detected.ignored
        if let footer, footer.startRow > 0 {
            image = original.cropped(rows: 0..<footer.startRow)
        } else {
            footer = nil
            image = original
        }
        if find {
            // Footers (UBC's) print their bar too: search the whole file, keep what lies above the footer.
            let all = AnnotationFinder.shared.find(in: original, pixelSizeNm: resolved?.nanometersPerPixel)
            annotations = all.cropped(toRows: image.height)
        } else {
            annotations = ImageAnnotations(scaleBar: nil, scaleBarNote: "not searched", regions: [],
                                           excluded: BinaryMask(width: image.width, height: image.height))
        }
        var pixelSize = resolved
        if pixelSize == nil, find, let footer, let printed = FooterText.calibration(in: original, footerStartRow: footer.startRow) {
            // The footer's printed calibration (UBC: "Cal: 0.421 nm/pix") before a bar's reading.
            pixelSize = PixelSize(nanometersPerPixel: printed.pixelSizeNm, source: .footerText)
            footerCalibration = printed
        }
        if pixelSize == nil, let bar = annotations.scaleBar {
            pixelSize = PixelSize(nanometersPerPixel: bar.pixelSizeNm, source: .scaleBar)
        } else if let ps = resolved, let bar = annotations.scaleBar,
                  abs(bar.pixelSizeNm - ps.nanometersPerPixel) > 0.05 * ps.nanometersPerPixel {
            scaleBarWarning = String(format: "the scale bar (%@ over %d px) gives %.4g nm/px, the %@ pixel size %.4g nm/px differs by %.0f %%",
                                     bar.label, bar.barLengthPx, bar.pixelSizeNm, ps.source.rawValue, ps.nanometersPerPixel,
                                     100 * abs(bar.pixelSizeNm / ps.nanometersPerPixel - 1))
        }
        original.pixelSize = pixelSize
        image.pixelSize = pixelSize
        annotations.excluded.pixelSize = pixelSize
    }

    /// The image the classifiers see: excluded pixels set to the background level.
    public var classifiedImage: GrayImage { annotations.neutralised(image) }

    /// `mask` without the excluded pixels.
    public func withoutAnnotations(_ mask: BinaryMask) -> BinaryMask {
        guard annotations.excludedCount > 0, mask.width == image.width, mask.height == image.height else { return mask }
        var out = mask
        for i in 0..<out.bits.count where annotations.excluded.bits[i] != 0 { out.bits[i] = 0 }
        return out
    }

    /// A warning when the file's own calibration lies outside `PixelSizeRule.typicalRangeNm`
    /// (values from the command line or a table are warned about where they are read).
    public var pixelSizeWarning: String? {
        guard let ps = pixelSize, ps.source != .user, ps.source != .table else { return nil }
        return PixelSizeRule.unitWarning(ps.nanometersPerPixel).map { "\(ps.source.rawValue) " + $0 }
    }

    /// What is worth telling about the input itself (pixel size, footer, scale bar).
    public var warnings: [String] { [pixelSizeWarning, footerNote, scaleBarWarning].compactMap { $0 } }

    /// Rows of the footer (0 without one).
    public var footerRows: Int { footer.map { original.height - $0.startRow } ?? 0 }

    /// The pixel size, or `PipelineError.missingPixelSize` naming what needs it.
    public func requirePixelSize(for user: String) throws -> PixelSize {
        guard let pixelSize else { throw PipelineError.missingPixelSize(image: path, neededBy: user) }
        return pixelSize
    }

    /// A mask of the cropped image grown back to the full image (footer rows false).
    public func fullSize(_ mask: BinaryMask) -> BinaryMask {
        guard mask.height != original.height else { return mask }
        var out = BinaryMask(width: original.width, height: original.height, pixelSize: pixelSize)
        for i in 0..<mask.count { out.bits[i] = mask.bits[i] }
        return out
    }

    /// Fits a user-given mask to the analysed region: same size as the file or as the
    /// footer-cropped image. The mask takes the image's pixel size.
    public func fitted(_ mask: BinaryMask, maskPath: String) throws -> BinaryMask {
        var out: BinaryMask
        if mask.width == image.width && mask.height == image.height {
            out = mask
        } else if mask.width == original.width && mask.height == original.height {
            out = BinaryMask(width: image.width, height: image.height)
            for i in 0..<out.count { out.bits[i] = mask.bits[i] }
        } else {
            throw PipelineError.maskSizeMismatch(mask: maskPath, maskSize: (mask.width, mask.height),
                                                 image: path, imageSize: (original.width, original.height))
        }
        out.pixelSize = pixelSize
        return out
    }

    /// Reads the mask at `path` fitted to this image.
    public func readMask(_ path: String) throws -> BinaryMask {
        try fitted(ImageReader.readMask(path), maskPath: path)
    }
}

/// Where the masks of `--mask` / `--truth` come from.
public enum MaskSource: Sendable, Equatable {
    /// One mask file (for a single image).
    case file(String)
    /// A folder of masks named like the images (`STEM` or `STEM_mask`, PNG or TIFF).
    case folder(String)

    /// Checks the path: a folder, or a file when `allowFile`.
    public init(_ path: String, option: String, allowFile: Bool) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PipelineError.notFound(path)
        }
        if isDirectory.boolValue { self = .folder(path); return }
        guard allowFile else { throw PipelineError.notAFolder(path, option: option) }
        self = .file(path)
    }

    public var path: String {
        switch self {
        case let .file(p), let .folder(p): return p
        }
    }

    /// The mask of the image at `imagePath`: in a folder, the PNG or TIFF file with the image's
    /// stem, else the one named `STEM_mask` (as `Examples/` and many annotation tools name them,
    /// so that masks can sit beside their images). The image file itself is never its own mask:
    /// with the images' folder given as the truth folder it would score the image against itself.
    public func mask(for imagePath: String) throws -> String {
        switch self {
        case let .file(p): return p
        case let .folder(folder):
            let name = stem(of: imagePath)
            func canonical(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
            let image = canonical(imagePath)
            // Only the entries named like the image are resolved (a folder may hold thousands).
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().filter {
                let s = Pipeline.stem(of: $0)
                guard s == name || s == name + "_mask",
                      imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) else { return false }
                return canonical((folder as NSString).appendingPathComponent($0)) != image
            }
            let match = entries.first { Pipeline.stem(of: $0) == name } ?? entries.first
            guard let match else { throw PipelineError.maskNotFound(image: imagePath, folder: folder) }
            return (folder as NSString).appendingPathComponent(match)
        }
    }
}
