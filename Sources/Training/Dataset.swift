import Foundation
import ImageCore

/// One training or validation image at the model's scale: gray values 0...1 and its mask.
public struct TrainingSample: Sendable {
    public var name: String
    public var width: Int
    public var height: Int
    public var image: [Float]
    public var mask: [UInt8]
    /// Indices of soot pixels (for soot-centred crops).
    public var foreground: [Int32]
}

/// A data folder in CarbonBlackSegmentation's layout: `train/input`, `train/ground_truth`,
/// `val/input`, `val/ground_truth`, images and masks paired by file stem (PNG or TIFF).
/// An optional `pixel_sizes.csv` (`stem,pixel_size_nm`) supplies pixel sizes the files lack.
/// An image and its ground-truth mask, by stem.
public struct LabelledImage: Sendable {
    public var name: String
    public var path: String
    /// The image, with its pixel size when known.
    public var image: GrayImage
    public var mask: BinaryMask
}

public struct SegmentationDataset: Sendable {
    public var train: [TrainingSample]
    public var validation: [TrainingSample]

    static let extensions: Set<String> = ["png", "tif", "tiff"]

    /// No images: for runs that train on synthetic images alone (the primary-particle detector).
    public static var syntheticOnly: SegmentationDataset { SegmentationDataset(train: [], validation: []) }

    /// Loads and checks the folder, resampling images to the configuration's scale.
    /// - Throws: `TrainingError.invalidData` naming the files at fault.
    /// - Parameter pixelSizes: a table (`--pixel-sizes`, by stem) whose entries win over the
    ///   folder's `pixel_sizes.csv`; both win over the files' metadata (the precedence of every
    ///   sootctl command: command line, table, file).
    public static func load(_ root: String, configuration: TrainingConfiguration,
                            pixelSizes extra: [String: Double] = [:]) throws -> SegmentationDataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError.invalidData("\(root): no such folder")
        }
        let pixelSizes = try readPixelSizes((root as NSString).appendingPathComponent("pixel_sizes.csv"))
            .merging(extra) { $1 }
        let train = try split(root, "train", pixelSizes: pixelSizes, configuration: configuration)
        let validation = try split(root, "val", pixelSizes: pixelSizes, configuration: configuration)
        guard !train.isEmpty else { throw TrainingError.invalidData("\(root)/train/input holds no images") }
        guard !validation.isEmpty else { throw TrainingError.invalidData("\(root)/val/input holds no images") }
        return SegmentationDataset(train: train, validation: validation)
    }

    /// The data folder's optional `pixel_sizes.csv` (`PixelSize.readTable`); none when absent.
    static func readPixelSizes(_ path: String) throws -> [String: Double] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        do { return try PixelSize.readTable(path) } catch {
            throw TrainingError.invalidData((error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
    }

    static func files(_ folder: String) -> [String: String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var out: [String: String] = [:]
        for e in entries.sorted() where extensions.contains((e as NSString).pathExtension.lowercased()) && !e.hasPrefix(".") {
            out[(e as NSString).deletingPathExtension] = (folder as NSString).appendingPathComponent(e)
        }
        return out
    }

    static func split(_ root: String, _ name: String, pixelSizes: [String: Double],
                      configuration: TrainingConfiguration) throws -> [TrainingSample] {
        try labelledImages(root, name, pixelSizes: pixelSizes).map { pair in
            let ps = pair.image.pixelSize?.nanometersPerPixel
            let scale = configuration.modelPixelSizeNm.flatMap { target in ps.map { $0 / target } } ?? configuration.defaultScale
            return makeSample(name: pair.name, image: pair.image, mask: pair.mask, scale: scale)
        }
    }

    /// The image/mask pairs of one split (`train`, `val`) of a data folder, by stem, each image
    /// carrying its pixel size when the table or the file gives one (the table wins).
    /// - Parameter required: throw when the split folder is absent (else: no pairs).
    /// - Throws: `TrainingError.invalidData` for unpaired files, unreadable files, size
    ///   mismatches and masks that are not binary.
    public static func labelledImages(_ root: String, _ name: String, pixelSizes: [String: Double],
                                      required: Bool = true) throws -> [LabelledImage] {
        let inputFolder = "\(root)/\(name)/input", truthFolder = "\(root)/\(name)/ground_truth"
        if !required && !FileManager.default.fileExists(atPath: inputFolder) { return [] }
        let images = files(inputFolder), masks = files(truthFolder)
        let unpairedImages = images.keys.filter { masks[$0] == nil }.sorted()
        let unpairedMasks = masks.keys.filter { images[$0] == nil }.sorted()
        if !unpairedImages.isEmpty {
            throw TrainingError.invalidData("no mask in \(truthFolder) for: " + unpairedImages.map { images[$0]! }.joined(separator: ", "))
        }
        if !unpairedMasks.isEmpty {
            throw TrainingError.invalidData("no image in \(inputFolder) for: " + unpairedMasks.map { masks[$0]! }.joined(separator: ", "))
        }
        var pairs: [LabelledImage] = []
        for stem in images.keys.sorted() {
            let imagePath = images[stem]!, maskPath = masks[stem]!
            let decoded: DecodedImage, maskImage: DecodedImage
            do {
                decoded = try ImageReader.read(imagePath)
                maskImage = try ImageReader.read(maskPath)
            } catch {
                throw TrainingError.invalidData((error as? LocalizedError)?.errorDescription ?? "\(error)")
            }
            guard decoded.image.width == maskImage.image.width, decoded.image.height == maskImage.image.height else {
                throw TrainingError.invalidData("\(maskPath) is \(maskImage.image.width) x \(maskImage.image.height) but "
                    + "\(imagePath) is \(decoded.image.width) x \(decoded.image.height)")
            }
            guard maskImage.image.pixels.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                throw TrainingError.invalidData("\(maskPath) is not a binary mask (values other than 0 and the maximum)")
            }
            var image = decoded.image
            image.pixelSize = PixelSizeRule(table: pixelSizes).resolve(stem: stem, metadata: decoded.info.pixelSize)
            var mask = BinaryMask(maskImage.image, above: 0.5)
            mask.pixelSize = image.pixelSize
            pairs.append(LabelledImage(name: stem, path: imagePath, image: image, mask: mask))
        }
        return pairs
    }

    /// Resamples an image (area average when shrinking) and its mask (area average, > 0.5).
    public static func makeSample(name: String, image: GrayImage, mask: BinaryMask, scale: Double) -> TrainingSample {
        var img = image, m = mask.asImage()
        if abs(scale - 1) > 1e-6 {
            let w = max(Int((Double(image.width) * scale).rounded()), 1), h = max(Int((Double(image.height) * scale).rounded()), 1)
            img = resize(image, width: w, height: h, method: .area)
            m = resize(m, width: w, height: h, method: .area)
        }
        let bits = m.pixels.map { $0 > 0.5 ? UInt8(1) : 0 }
        var fg: [Int32] = []
        for i in 0..<bits.count where bits[i] != 0 { fg.append(Int32(i)) }
        return TrainingSample(name: name, width: img.width, height: img.height, image: img.pixels, mask: bits, foreground: fg)
    }
}
