import Foundation
import ImageCore
internal import CFreeType

/// Renders text into gray images with FreeType and the system's TrueType fonts, to burn
/// labels into synthetic micrographs (scale-bar tests and benchmarks, synthetic training
/// images). Not used to read images: nothing in the analysis needs a font.
public final class TextRenderer: @unchecked Sendable {
    /// Why a font could not be used.
    public enum Failure: Error, CustomStringConvertible {
        case noFreeType
        case cannotOpen(String)
        public var description: String {
            switch self {
            case .noFreeType: return "FreeType could not start"
            case let .cannotOpen(path): return "cannot open the font \(path)"
            }
        }
    }

    private var library: FT_Library?
    private var face: FT_Face?
    private let lock = NSLock()
    public let fontPath: String

    /// Opens a TrueType/OpenType font file.
    public init(fontPath: String) throws {
        self.fontPath = fontPath
        guard FT_Init_FreeType(&library) == 0, let library else { throw Failure.noFreeType }
        guard FT_New_Face(library, fontPath, 0, &face) == 0, face != nil else {
            FT_Done_FreeType(library)
            throw Failure.cannotOpen(fontPath)
        }
    }

    deinit {
        if let face { FT_Done_Face(face) }
        if let library { FT_Done_FreeType(library) }
    }

    /// Fonts commonly installed on Debian/Ubuntu (fonts-dejavu-core, fonts-liberation) and macOS
    /// that exist here, sans and serif, regular and bold, proportional and monospaced.
    public static func installedFonts() -> [String] {
        let candidates = [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
            "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
            "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
            "/System/Library/Fonts/Supplemental/Arial.ttf",
            "/System/Library/Fonts/Supplemental/Times New Roman.ttf",
        ]
        return candidates.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The coverage (0...1) of `text` at a pixel height `sizePx` (the em size), tightly cropped
    /// to the inked pixels' rows of the line box: width x height, row-major.
    public func render(_ text: String, sizePx: Int) -> (width: Int, height: Int, coverage: [Float]) {
        lock.lock()
        defer { lock.unlock() }
        guard let face else { return (0, 0, []) }
        FT_Set_Pixel_Sizes(face, 0, FT_UInt(max(sizePx, 4)))
        let ascender = Int(face.pointee.size.pointee.metrics.ascender >> 6)
        let descender = Int(face.pointee.size.pointee.metrics.descender >> 6)
        let height = max(ascender - descender, 1)
        // First pass: advances; second: draw.
        var glyphs: [(x: Int, top: Int, w: Int, h: Int, pitch: Int, bits: [UInt8])] = []
        var pen = 0
        for scalar in text.unicodeScalars {
            let index = FT_Get_Char_Index(face, FT_ULong(scalar.value))
            guard FT_Load_Glyph(face, index, Int32(FT_LOAD_RENDER)) == 0, let slot = face.pointee.glyph else { continue }
            let bitmap = slot.pointee.bitmap
            let w = Int(bitmap.width), h = Int(bitmap.rows), pitch = Int(bitmap.pitch)
            var bits = [UInt8](repeating: 0, count: max(w * h, 0))
            if let buffer = bitmap.buffer, w > 0, h > 0 {
                for r in 0..<h { for c in 0..<w { bits[r * w + c] = buffer[r * abs(pitch) + c] } }
            }
            glyphs.append((pen + Int(slot.pointee.bitmap_left), ascender - Int(slot.pointee.bitmap_top), w, h, pitch, bits))
            pen += Int(slot.pointee.advance.x >> 6)
        }
        let minX = min(0, glyphs.map(\.x).min() ?? 0)
        let width = max(pen, (glyphs.map { $0.x + $0.w }.max() ?? 0)) - minX
        var coverage = [Float](repeating: 0, count: max(width, 1) * height)
        for g in glyphs {
            for r in 0..<g.h {
                let y = g.top + r
                guard y >= 0, y < height else { continue }
                for c in 0..<g.w {
                    let x = g.x - minX + c
                    guard x >= 0, x < width else { continue }
                    coverage[y * width + x] = max(coverage[y * width + x], Float(g.bits[r * g.w + c]) / 255)
                }
            }
        }
        // Crop to inked rows.
        let rows = (0..<height).filter { r in (0..<width).contains { coverage[r * width + $0] > 0 } }
        guard let first = rows.first, let last = rows.last else { return (width, 0, []) }
        return (width, last - first + 1, Array(coverage[(first * width)..<((last + 1) * width)]))
    }

    /// Draws `text` with its top-left inked corner at (x, y), blending toward `value`.
    /// - Returns: the box the text covers, clipped to the image.
    @discardableResult
    public func draw(_ text: String, sizePx: Int, into image: inout GrayImage, x: Int, y: Int, value: Float) -> (x: Int, y: Int, width: Int, height: Int) {
        let glyphs = render(text, sizePx: sizePx)
        for r in 0..<glyphs.height {
            let yy = y + r
            guard yy >= 0, yy < image.height else { continue }
            for c in 0..<glyphs.width {
                let xx = x + c
                guard xx >= 0, xx < image.width else { continue }
                let a = glyphs.coverage[r * glyphs.width + c]
                if a > 0 { image[yy, xx] = image[yy, xx] * (1 - a) + value * a }
            }
        }
        return (x, y, glyphs.width, glyphs.height)
    }
}
