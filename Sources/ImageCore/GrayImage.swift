/// A single-channel image: row-major `Float` intensities, nominally in 0...1 (0 black, 1 white).
///
/// Soot is dark and the carbon film bright. An 8-bit value `v` is stored as `v / 255`, a 16-bit
/// value as `v / 65535`; `value8(atIndex:)` gives the MATLAB-style 8-bit value back
/// (round half away from zero, clamp to 0...255) for methods specified on 8-bit images.
public struct GrayImage: Sendable, Equatable {
    /// Number of columns.
    public let width: Int
    /// Number of rows.
    public let height: Int
    /// Intensities, `pixels[row * width + column]`.
    public var pixels: [Float]
    /// Physical pixel size, when known.
    public var pixelSize: PixelSize?

    /// Creates an image from a row-major buffer.
    /// - Throws: `ImageCoreError.invalidGeometry` when `pixels.count != width * height` or a
    ///   dimension is not positive.
    public init(width: Int, height: Int, pixels: [Float], pixelSize: PixelSize? = nil) throws {
        guard width > 0, height > 0, pixels.count == width * height else {
            throw ImageCoreError.invalidGeometry(width: width, height: height, count: pixels.count)
        }
        self.width = width
        self.height = height
        self.pixels = pixels
        self.pixelSize = pixelSize
    }

    /// Creates a constant image.
    public init(width: Int, height: Int, value: Float = 0, pixelSize: PixelSize? = nil) {
        precondition(width > 0 && height > 0, "image dimensions must be positive")
        self.width = width
        self.height = height
        self.pixels = [Float](repeating: value, count: width * height)
        self.pixelSize = pixelSize
    }

    /// Creates an image from 8-bit values (0...255).
    public init(width: Int, height: Int, bytes: [UInt8], pixelSize: PixelSize? = nil) throws {
        try self.init(width: width, height: height, pixels: bytes.map { Float($0) / 255 },
                      pixelSize: pixelSize)
    }

    /// Number of pixels.
    @inlinable public var count: Int { width * height }

    /// Intensity at (row, column).
    @inlinable public subscript(row: Int, column: Int) -> Float {
        get { pixels[row * width + column] }
        set { pixels[row * width + column] = newValue }
    }

    /// The 8-bit value of a pixel: round half away from zero of 255 v, clamped to 0...255.
    @inlinable public func value8(atIndex index: Int) -> UInt8 {
        quantize8(pixels[index])
    }

    /// The image as 8-bit values (see `value8(atIndex:)`).
    public func bytes8() -> [UInt8] { pixels.map(quantize8) }

    /// The image cast to 8 bits and back: every value becomes a multiple of 1/255.
    public func quantized8() -> GrayImage {
        var out = self
        out.pixels = pixels.map { Float(quantize8($0)) / 255 }
        return out
    }

    /// Smallest and largest intensity.
    public var valueRange: ClosedRange<Float> {
        var lo = Float.infinity, hi = -Float.infinity
        for v in pixels { lo = min(lo, v); hi = max(hi, v) }
        return lo...hi
    }

    /// Same geometry and pixel size, new pixels (which must have `count` values).
    public func with(pixels newPixels: [Float]) -> GrayImage {
        precondition(newPixels.count == count, "pixel count must match geometry")
        var out = self
        out.pixels = newPixels
        return out
    }

    /// Rows `rows` of the image (the pixel size is kept).
    public func cropped(rows: Range<Int>) -> GrayImage {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= height && !rows.isEmpty)
        var out = GrayImage(width: width, height: rows.count, pixelSize: pixelSize)
        out.pixels = Array(pixels[(rows.lowerBound * width)..<(rows.upperBound * width)])
        return out
    }

    /// A rectangular region (the pixel size is kept).
    public func cropped(rows: Range<Int>, columns: Range<Int>) -> GrayImage {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= height && !rows.isEmpty)
        precondition(columns.lowerBound >= 0 && columns.upperBound <= width && !columns.isEmpty)
        var out = GrayImage(width: columns.count, height: rows.count, pixelSize: pixelSize)
        var k = 0
        for r in rows {
            for c in columns {
                out.pixels[k] = pixels[r * width + c]
                k += 1
            }
        }
        return out
    }
}

/// MATLAB `uint8` cast of `255 v`: round half away from zero, then saturate (NaN -> 0).
///
/// Computed in `Double` with a truncating conversion, which is exact for the non-negative
/// range that survives the clamp and avoids a libm `round` call on baseline x86-64.
@inlinable public func quantize8(_ value: Float) -> UInt8 {
    let scaled = Double(value) * 255
    if !(scaled > 0) { return 0 }
    if scaled >= 254.5 { return 255 }
    return UInt8(truncatingIfNeeded: Int(scaled + 0.5))
}

/// A binary image: `true` marks aggregate (foreground) pixels. Stored as one byte per pixel.
public struct BinaryMask: Sendable, Equatable {
    /// Number of columns.
    public let width: Int
    /// Number of rows.
    public let height: Int
    /// 0 or 1 per pixel, row-major.
    public var bits: [UInt8]
    /// Physical pixel size, when known.
    public var pixelSize: PixelSize?

    /// An all-false (or all-`value`) mask.
    public init(width: Int, height: Int, value: Bool = false, pixelSize: PixelSize? = nil) {
        precondition(width > 0 && height > 0, "mask dimensions must be positive")
        self.width = width
        self.height = height
        self.bits = [UInt8](repeating: value ? 1 : 0, count: width * height)
        self.pixelSize = pixelSize
    }

    /// A mask from a row-major buffer; any nonzero byte is `true`.
    /// - Throws: `ImageCoreError.invalidGeometry` when the count does not match.
    public init(width: Int, height: Int, bits: [UInt8], pixelSize: PixelSize? = nil) throws {
        guard width > 0, height > 0, bits.count == width * height else {
            throw ImageCoreError.invalidGeometry(width: width, height: height, count: bits.count)
        }
        self.width = width
        self.height = height
        self.bits = bits.map { $0 != 0 ? 1 : 0 }
        self.pixelSize = pixelSize
    }

    /// A mask from a predicate evaluated at every (row, column).
    public init(width: Int, height: Int, pixelSize: PixelSize? = nil,
                _ predicate: (_ row: Int, _ column: Int) -> Bool) {
        self.init(width: width, height: height, pixelSize: pixelSize)
        for r in 0..<height {
            for c in 0..<width where predicate(r, c) { bits[r * width + c] = 1 }
        }
    }

    /// Pixels above `threshold` (intensity in 0...1) are true. The pixel size is kept.
    public init(_ image: GrayImage, above threshold: Float) {
        self.width = image.width
        self.height = image.height
        self.bits = image.pixels.map { $0 > threshold ? 1 : 0 }
        self.pixelSize = image.pixelSize
    }

    /// Number of pixels.
    @inlinable public var count: Int { width * height }

    /// Whether (row, column) is foreground.
    @inlinable public subscript(row: Int, column: Int) -> Bool {
        get { bits[row * width + column] != 0 }
        set { bits[row * width + column] = newValue ? 1 : 0 }
    }

    /// Number of true pixels.
    public var trueCount: Int { bits.reduce(0) { $0 + Int($1) } }

    /// Fraction of true pixels.
    public var trueFraction: Double { Double(trueCount) / Double(count) }

    /// The complement.
    public func inverted() -> BinaryMask {
        var out = self
        for i in 0..<out.bits.count { out.bits[i] ^= 1 }
        return out
    }

    /// As an image: true = 1 (white), false = 0.
    public func asImage() -> GrayImage {
        var img = GrayImage(width: width, height: height, pixelSize: pixelSize)
        img.pixels = bits.map { Float($0) }
        return img
    }
}

/// Connected-component labels: 0 = background, 1...count = components.
public struct LabelImage: Sendable, Equatable {
    /// Number of columns.
    public let width: Int
    /// Number of rows.
    public let height: Int
    /// Label per pixel, row-major.
    public var labels: [Int32]
    /// Number of components (largest label).
    public var count: Int

    /// Creates a label image; `count` must be the largest label present.
    public init(width: Int, height: Int, labels: [Int32], count: Int) {
        precondition(labels.count == width * height, "label count must match geometry")
        self.width = width
        self.height = height
        self.labels = labels
        self.count = count
    }

    /// Label at (row, column).
    @inlinable public subscript(row: Int, column: Int) -> Int32 {
        labels[row * width + column]
    }

    /// The mask of one component.
    public func mask(of label: Int32) -> BinaryMask {
        var m = BinaryMask(width: width, height: height)
        for i in 0..<labels.count where labels[i] == label { m.bits[i] = 1 }
        return m
    }

    /// The mask of all labelled pixels.
    public var foreground: BinaryMask {
        var m = BinaryMask(width: width, height: height)
        for i in 0..<labels.count where labels[i] != 0 { m.bits[i] = 1 }
        return m
    }
}
