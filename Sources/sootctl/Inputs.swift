import ArgumentParser
import Classifiers
import Foundation
import ImageCore

/// Image file extensions sootctl reads.
let imageExtensions: Set<String> = ["png", "tif", "tiff"]

/// Expands files and folders (their image files, sorted, not recursive) into a list of files.
/// - Returns: the files and the arguments that named nothing readable.
func expandInputs(_ arguments: [String]) -> (files: [String], missing: [String]) {
    var files: [String] = []
    var missing: [String] = []
    let fm = FileManager.default
    for argument in arguments {
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: argument, isDirectory: &isDirectory) else { missing.append(argument); continue }
        if isDirectory.boolValue {
            let entries = (try? fm.contentsOfDirectory(atPath: argument)) ?? []
            let images = entries.filter { imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .filter { !$0.hasPrefix(".") }.sorted()
            files += images.map { (argument as NSString).appendingPathComponent($0) }
        } else {
            files.append(argument)
        }
    }
    return (files, missing)
}

/// The file name without folder and extension.
func stem(of path: String) -> String {
    ((path as NSString).lastPathComponent as NSString).deletingPathExtension
}

/// An input image ready for the methods: footer cropped, pixel size resolved.
struct LoadedImage {
    var path: String
    var stem: String
    /// The full image as read.
    var original: GrayImage
    /// The part above the footer (the whole image when there is none).
    var image: GrayImage
    var footer: Footer?
    var pixelSize: PixelSize?

    /// - Parameter fallbackNm: the pixel size to use when neither the override nor the file gives one.
    init(path: String, pixelSizeOverride: Double?, fallbackNm: Double? = nil) throws {
        let decoded = try ImageReader.read(path)
        self.path = path
        stem = sootctl.stem(of: path)
        original = decoded.image
        if let override = pixelSizeOverride {
            pixelSize = PixelSize(nanometersPerPixel: override, source: .user)
        } else {
            pixelSize = decoded.info.pixelSize ?? fallbackNm.flatMap { PixelSize(nanometersPerPixel: $0, source: .sidecar) }
        }
        original.pixelSize = pixelSize
        footer = detectFooter(original)
        if let footer, footer.startRow > 0 {
            image = original.cropped(rows: 0..<footer.startRow)
        } else {
            footer = nil
            image = original
        }
        image.pixelSize = pixelSize
    }

    /// A mask of the cropped image grown back to the full image (footer rows false).
    func fullSize(_ mask: BinaryMask) -> BinaryMask {
        guard mask.height != original.height else { return mask }
        var out = BinaryMask(width: original.width, height: original.height, pixelSize: pixelSize)
        for i in 0..<mask.count { out.bits[i] = mask.bits[i] }
        return out
    }

    /// Fits a user-given mask to the analysed region: same size as the file or as the
    /// footer-cropped image.
    func fitted(_ mask: BinaryMask, maskPath: String) throws -> BinaryMask {
        if mask.width == image.width && mask.height == image.height { return mask }
        if mask.width == original.width && mask.height == original.height {
            var out = BinaryMask(width: image.width, height: image.height, pixelSize: pixelSize)
            for i in 0..<out.count { out.bits[i] = mask.bits[i] }
            return out
        }
        throw CommandError.maskSizeMismatch(mask: maskPath, maskSize: (mask.width, mask.height),
                                            image: path, imageSize: (original.width, original.height))
    }
}

/// Errors of the command layer (inputs, outputs).
enum CommandError: LocalizedError {
    case noInputs
    case notFound(String)
    case wouldOverwriteInput(String)
    case duplicateStem(String, first: String)
    case maskNotFound(image: String, folder: String)
    case maskSizeMismatch(mask: String, maskSize: (Int, Int), image: String, imageSize: (Int, Int))
    case singleMaskForManyImages(String)
    case cannotCreateFolder(String, String)
    case notAFolder(String, option: String)

    var errorDescription: String? {
        switch self {
        case .noInputs: return "no image files given (pass PNG or TIFF files or folders holding them)"
        case let .notFound(path): return "\(path): no such file or folder"
        case let .wouldOverwriteInput(path): return "\(path): refusing to overwrite an input file; choose another --out"
        case let .duplicateStem(path, first):
            return "\(path): another input (\(first)) has the same file stem; outputs would collide"
        case let .maskNotFound(image, folder):
            return "\(image): no mask with the same stem (PNG or TIFF) in \(folder)"
        case let .maskSizeMismatch(mask, ms, image, isz):
            return "\(mask): mask is \(ms.0) x \(ms.1) but image \(image) is \(isz.0) x \(isz.1)"
        case let .singleMaskForManyImages(path):
            return "\(path): one mask file given for several images; pass a folder of masks named like the images"
        case let .cannotCreateFolder(path, reason): return "\(path): cannot create output folder: \(reason)"
        case let .notAFolder(path, option): return "\(path): \(option) needs a folder (of masks named like the images)"
        }
    }
}

/// Output folder handling: creates sub-folders, refuses to overwrite inputs.
struct OutputFolder {
    let root: String
    let protectedPaths: Set<String>

    init(_ root: String, inputs: [String]) throws {
        self.root = root
        protectedPaths = Set(inputs.map { URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path })
        try makeFolder(root)
    }

    func makeFolder(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CommandError.cannotCreateFolder(path, error.localizedDescription)
        }
    }

    /// A path inside the folder, checked against the inputs; sub-folders are created.
    func path(_ components: String...) throws -> String {
        var url = URL(fileURLWithPath: root)
        for c in components { url.appendPathComponent(c) }
        try makeFolder(url.deletingLastPathComponent().path)
        let resolved = url.standardizedFileURL.resolvingSymlinksInPath().path
        if protectedPaths.contains(resolved) { throw CommandError.wouldOverwriteInput(url.path) }
        return url.path
    }

    /// Writes text atomically.
    func write(_ text: String, to name: String) throws {
        try ImageWriter.writeAtomically(Array(text.utf8), to: try path(name))
    }
}

/// A progress line on standard error when it is a terminal; silent otherwise.
final class Progress {
    let total: Int
    let enabled: Bool
    let start = Date()

    init(total: Int) {
        self.total = total
        enabled = isatty(2) != 0 && total > 0
    }

    func update(_ done: Int, _ label: String) {
        guard enabled else { return }
        let elapsed = Date().timeIntervalSince(start)
        var line = "[\(done + 1)/\(total)] \(label)"
        if done > 0 {
            let left = elapsed / Double(done) * Double(total - done)
            line += String(format: "  (%.0f s elapsed, ~%.0f s left)", elapsed, left)
        }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
