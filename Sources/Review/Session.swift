import Foundation
import ImageCore
import Pipeline

/// Why a review request was refused: the server answers 400 or 404 with the reason.
public enum ReviewError: LocalizedError, Equatable, Sendable {
    case badRequest(String)
    case unknownImage(String)
    /// The server could not listen (the port is taken, ...).
    case cannotServe(port: Int, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .badRequest(why): return why
        case let .unknownImage(stem): return "no image \(stem) in this review"
        case let .cannotServe(port, reason): return "cannot serve on 127.0.0.1:\(port): \(reason)"
        }
    }
}

/// Where an image stands in a review.
public enum ReviewStatus: String, Codable, Sendable, CaseIterable {
    case unreviewed, edited, accepted
}

/// One image of a review, as `GET /api/images` lists it.
public struct ReviewImageInfo: Codable, Sendable, Equatable {
    public var stem: String
    public var width: Int
    public var height: Int
    public var pixelSizeNm: Double?
    public var hasMask: Bool
    public var status: ReviewStatus
    /// Where the mask shown first came from: `review` (an earlier save into OUT), `masks`
    /// (`--masks`), `classifier NAME`, or `none`.
    public var maskSource: String
    /// ISO 8601 time of the last save, nil before one.
    public var editedAt: String?

    enum CodingKeys: String, CodingKey {
        case stem, width, height, pixelSizeNm = "pixel_size_nm", hasMask = "has_mask", status, maskSource = "mask_source"
        case editedAt = "edited_at"
    }
}

/// `OUT/review.json`: every image's status and last edit.
public struct ReviewFile: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var status: ReviewStatus
        public var editedAt: String?
        enum CodingKeys: String, CodingKey { case status, editedAt = "edited_at" }
    }
    public var images: [String: Entry]
}

/// The state of `sootctl review`: the images, their working masks and the output folder.
/// Saved masks go to `OUT/masks/STEM.png` (0/255, the image's size, its pixel size in the
/// PNG), each written atomically, never over an input; `OUT/review.json` follows every save
/// and status change. Thread-safe: requests run concurrently.
public final class ReviewSession: @unchecked Sendable {
    struct Item {
        var path: String
        var stem: String
        var width: Int
        var height: Int
        var pixelSize: PixelSize?
        var mask: BinaryMask?
        var maskSource: String
        var entry: ReviewFile.Entry
    }

    let lock = NSLock()
    var items: [Item]
    var lastImage: (stem: String, image: GrayImage)?
    var index: [String: Int]
    let output: OutputFolder
    let maskFolder: String?
    let rule: PixelSizeRule
    /// Makes the first mask of an image without one (the default classifier); nil: empty.
    let classify: (@Sendable (LoadedImage) throws -> BinaryMask)?
    let classifierName: String?

    /// - Parameters:
    ///   - inputs: image files (PNG or TIFF), distinct stems.
    ///   - masks: a folder of masks named like the images, shown first when OUT has none.
    ///   - out: the output folder (masks/, review.json).
    ///   - classify: the mask of an image that has none yet (nil: start empty).
    public init(inputs: [String], masks: String?, out: String, pixelSizes rule: PixelSizeRule = PixelSizeRule(),
                classifierName: String? = nil, classify: (@Sendable (LoadedImage) throws -> BinaryMask)? = nil) throws {
        var seen: [String: String] = [:]
        var items: [Item] = []
        let earlier = (try? JSONDecoder().decode(ReviewFile.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/review.json"))))?.images ?? [:]
        for path in inputs {
            let name = stem(of: path)
            if let first = seen[name] { throw ReviewError.badRequest("\(path) and \(first) have the same name \(name); review one of them") }
            seen[name] = path
            let decoded = try ImageReader.read(path)
            items.append(Item(path: path, stem: name, width: decoded.image.width, height: decoded.image.height,
                              pixelSize: rule.resolve(stem: name, metadata: decoded.info.pixelSize), mask: nil, maskSource: "none",
                              entry: earlier[name] ?? ReviewFile.Entry(status: .unreviewed, editedAt: nil)))
        }
        guard !items.isEmpty else { throw ReviewError.badRequest("no images to review") }
        self.items = items
        index = Dictionary(uniqueKeysWithValues: items.enumerated().map { ($1.stem, $0) })
        output = OutputFolder(out, inputs: inputs, inputFolders: masks.map { [$0] } ?? [])
        try output.check()
        maskFolder = masks
        self.rule = rule
        self.classify = classify
        self.classifierName = classifierName
    }

    func item(_ stem: String) throws -> Int {
        guard let k = index[stem] else { throw ReviewError.unknownImage(stem) }
        return k
    }

    /// Every image, in input order.
    public var images: [ReviewImageInfo] {
        lock.lock()
        defer { lock.unlock() }
        return items.map { item in
            ReviewImageInfo(stem: item.stem, width: item.width, height: item.height, pixelSizeNm: item.pixelSize?.nanometersPerPixel,
                            hasMask: item.mask != nil || FileManager.default.fileExists(atPath: output.root + "/masks/\(item.stem).png"),
                            status: item.entry.status, maskSource: item.maskSource, editedAt: item.entry.editedAt)
        }
    }

    /// The image (as read) with its pixel size. The last one read is kept: the page asks for
    /// it on every slider preview.
    public func image(_ stem: String) throws -> GrayImage {
        let item = try snapshot(stem)
        lock.lock()
        if let cached = lastImage, cached.stem == stem { lock.unlock(); return cached.image }
        lock.unlock()
        var image = try ImageReader.read(item.path).image
        image.pixelSize = item.pixelSize
        lock.lock()
        lastImage = (stem, image)
        lock.unlock()
        return image
    }

    /// A copy of an image's entry, taken under the lock.
    func snapshot(_ stem: String) throws -> Item {
        lock.lock()
        defer { lock.unlock() }
        return items[try item(stem)]
    }

    func lockedIndex(_ stem: String) throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        return try item(stem)
    }

    /// The working mask: the last one saved or computed, else OUT's, `--masks`', the
    /// classifier's, or an empty one.
    public func mask(_ stem: String) throws -> BinaryMask {
        let k = try lockedIndex(stem)
        lock.lock()
        if let mask = items[k].mask { lock.unlock(); return mask }
        let item = items[k]
        lock.unlock()
        var mask: BinaryMask
        var source: String
        let saved = output.root + "/masks/\(stem).png"
        if FileManager.default.fileExists(atPath: saved) {
            mask = try ImageReader.readMask(saved)
            source = "review"
        } else if let folder = maskFolder, let path = try? MaskSource.folder(folder).mask(for: item.path) {
            mask = try ImageReader.readMask(path)
            source = "masks"
        } else if let classify {
            let loaded = try LoadedImage(path: item.path, pixelSizes: rule)
            mask = loaded.fullSize(try classify(loaded))
            source = "classifier \(classifierName ?? "")"
        } else {
            mask = BinaryMask(width: item.width, height: item.height)
            source = "none"
        }
        guard mask.width == item.width, mask.height == item.height else {
            throw ReviewError.badRequest("the mask of \(stem) is \(mask.width) x \(mask.height), the image \(item.width) x \(item.height)")
        }
        mask.pixelSize = item.pixelSize
        lock.lock()
        defer { lock.unlock() }
        if let other = items[k].mask { return other }  // a concurrent request got there first
        items[k].mask = mask
        items[k].maskSource = source
        return mask
    }

    /// Replaces the working mask with an uploaded PNG (0/255, the image's size) and saves it.
    /// - Throws: `ReviewError.badRequest` naming what is wrong with the upload.
    public func saveMask(_ stem: String, png: [UInt8]) throws -> BinaryMask {
        let k = try lockedIndex(stem)
        let item = try snapshot(stem)
        let decoded: DecodedImage
        do { decoded = try ImageReader.decodePNG(png, name: "the uploaded mask") } catch {
            throw ReviewError.badRequest("not a PNG mask: \((error as? LocalizedError)?.errorDescription ?? "\(error)")")
        }
        let (w, h) = (item.width, item.height)
        guard decoded.image.width == w, decoded.image.height == h else {
            throw ReviewError.badRequest("the mask is \(decoded.image.width) x \(decoded.image.height); \(stem) is \(w) x \(h)")
        }
        guard decoded.image.pixels.allSatisfy({ $0 == 0 || $0 == 1 }) else {
            throw ReviewError.badRequest("the mask holds values other than 0 and 255")
        }
        var mask = BinaryMask(decoded.image, above: 0.5)
        mask.pixelSize = item.pixelSize
        try store(k, mask)
        return mask
    }

    /// Runs the slider method on the image and puts its result into the working mask (not
    /// with `preview`); returns the new mask and the result. Not saved: `saveMask` saves.
    public func slider(_ stem: String, _ request: SliderRequest) throws -> (mask: BinaryMask, result: SliderResult) {
        let image = try image(stem)
        let result = try SliderMethod.run(request, on: image)
        let current = try mask(stem)
        let updated = SliderMethod.apply(result, to: current, mode: request.mode)
        if request.preview != true {
            let k = try lockedIndex(stem)
            lock.lock()
            items[k].mask = updated
            lock.unlock()
        }
        return (updated, result)
    }

    /// Sets an image's status and writes review.json.
    public func setStatus(_ stem: String, _ status: ReviewStatus) throws {
        let k = try lockedIndex(stem)
        lock.lock()
        defer { lock.unlock() }
        items[k].entry.status = status
        try writeReviewFile()
    }

    /// Saves `mask` as OUT/masks/STEM.png (atomically) and records the edit.
    func store(_ k: Int, _ mask: BinaryMask) throws {
        lock.lock()
        defer { lock.unlock() }
        try output.write(ImageWriter.encodeMask(mask), to: "masks", "\(items[k].stem).png")
        items[k].mask = mask
        if items[k].entry.status == .unreviewed { items[k].entry.status = .edited }
        items[k].entry.editedAt = RunProvenance.now()
        try writeReviewFile()
    }

    /// review.json from the current entries (the lock is held).
    func writeReviewFile() throws {
        let file = ReviewFile(images: Dictionary(uniqueKeysWithValues: items.map { ($0.stem, $0.entry) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try output.write(Array(try encoder.encode(file)), to: "review.json")
    }
}
