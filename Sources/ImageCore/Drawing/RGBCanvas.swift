import Foundation

/// An RGB colour.
public struct RGB: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public static let aggregateTint = RGB(0, 170, 255)
    public static let outline = RGB(255, 60, 40)
    public static let gyration = RGB(255, 220, 0)
    public static let particle = RGB(255, 0, 255)
    public static let circle = RGB(60, 230, 60)
    /// EDM-WS particles.
    public static let watershedCircle = RGB(0, 255, 255)
    /// Primaries of the learned detector.
    public static let detectorCircle = RGB(255, 140, 0)
    public static let label = RGB(255, 255, 255)
    /// Aggregates left out of the results (touching the border, or too small).
    public static let excluded = RGB(150, 150, 150)
    /// What is not specimen: scale bars, text boxes, saturated regions.
    public static let annotation = RGB(120, 60, 220)
}

/// An 8-bit RGB picture for overlays: a grey image with masks tinted and outlined, circles
/// and short labels drawn on it.
public struct RGBCanvas: Sendable {
    public let width: Int
    public let height: Int
    /// Interleaved R, G, B.
    public var bytes: [UInt8]

    /// A canvas showing a grey image.
    public init(image: GrayImage) {
        width = image.width
        height = image.height
        bytes = [UInt8](repeating: 0, count: image.count * 3)
        for i in 0..<image.count {
            let v = image.value8(atIndex: i)
            bytes[3 * i] = v
            bytes[3 * i + 1] = v
            bytes[3 * i + 2] = v
        }
    }

    /// A blank canvas of one colour.
    public init(width: Int, height: Int, color: RGB = RGB(255, 255, 255)) {
        self.width = width
        self.height = height
        bytes = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { bytes[3 * i] = color.r; bytes[3 * i + 1] = color.g; bytes[3 * i + 2] = color.b }
    }

    /// The canvas shrunk by area averaging to at most `maximumWidth` pixels wide (itself when
    /// already that small), for thumbnails.
    public func thumbnail(maximumWidth: Int) -> RGBCanvas {
        guard width > maximumWidth, maximumWidth > 0 else { return self }
        let factor = Int((Double(width) / Double(maximumWidth)).rounded(.up))
        let w = width / factor, h = max(height / factor, 1)
        var out = RGBCanvas(width: w, height: h)
        for r in 0..<h {
            // A strip lower than `factor` rows averages the rows it has.
            let rows = min(factor, height - r * factor)
            let n = factor * rows
            for c in 0..<w {
                var sum = (0, 0, 0)
                for dr in 0..<rows {
                    let base = 3 * ((r * factor + dr) * width + c * factor)
                    for dc in 0..<factor {
                        sum.0 += Int(bytes[base + 3 * dc]); sum.1 += Int(bytes[base + 3 * dc + 1]); sum.2 += Int(bytes[base + 3 * dc + 2])
                    }
                }
                let o = 3 * (r * w + c)
                out.bytes[o] = UInt8(sum.0 / n); out.bytes[o + 1] = UInt8(sum.1 / n); out.bytes[o + 2] = UInt8(sum.2 / n)
            }
        }
        return out
    }

    @inline(__always) public mutating func set(_ r: Int, _ c: Int, _ color: RGB) {
        guard r >= 0, r < height, c >= 0, c < width else { return }
        let i = 3 * (r * width + c)
        bytes[i] = color.r
        bytes[i + 1] = color.g
        bytes[i + 2] = color.b
    }

    /// Blends `color` into the pixels of `mask` with the given opacity.
    public mutating func tint(_ mask: BinaryMask, color: RGB, opacity: Double = 0.35) {
        let a = min(max(opacity, 0), 1)
        for i in 0..<min(mask.count, width * height) where mask.bits[i] != 0 {
            bytes[3 * i] = UInt8((Double(bytes[3 * i]) * (1 - a) + Double(color.r) * a).rounded())
            bytes[3 * i + 1] = UInt8((Double(bytes[3 * i + 1]) * (1 - a) + Double(color.g) * a).rounded())
            bytes[3 * i + 2] = UInt8((Double(bytes[3 * i + 2]) * (1 - a) + Double(color.b) * a).rounded())
        }
    }

    /// Colours the mask's boundary pixels (those with a 4-neighbour outside), `thickness` deep.
    public mutating func outline(_ mask: BinaryMask, color: RGB, thickness: Int = 1) {
        let w = mask.width, h = mask.height
        var edge = mask
        for _ in 0..<max(thickness, 1) {
            var next = edge
            for r in 0..<h {
                for c in 0..<w where edge.bits[r * w + c] != 0 {
                    let boundary = r == 0 || c == 0 || r == h - 1 || c == w - 1
                        || edge.bits[(r - 1) * w + c] == 0 || edge.bits[(r + 1) * w + c] == 0
                        || edge.bits[r * w + c - 1] == 0 || edge.bits[r * w + c + 1] == 0
                    if boundary { set(r, c, color); next.bits[r * w + c] = 0 }
                }
            }
            edge = next
        }
    }

    /// Draws a circle outline (centre and radius in pixels).
    public mutating func circle(centerX: Double, centerY: Double, radius: Double, color: RGB, thickness: Int = 1) {
        // A circle far larger than the canvas shows nothing of itself; drawing it would take
        // time proportional to its radius.
        guard radius > 0, radius.isFinite, radius <= 2 * Double(width + height) else { return }
        let steps = max(Int(2 * Double.pi * radius * 1.5), 16)
        for t in 0..<max(thickness, 1) {
            let rr = radius + Double(t)
            for k in 0..<steps {
                let angle = 2 * Double.pi * Double(k) / Double(steps)
                set(Int((centerY + rr * sin(angle)).rounded()), Int((centerX + rr * cos(angle)).rounded()), color)
            }
        }
    }

    /// Fills a rectangle (clipped to the canvas).
    public mutating func fill(row: Int, column: Int, width w: Int, height h: Int, color: RGB) {
        let r0 = max(row, 0), r1 = min(row + h, height), c0 = max(column, 0), c1 = min(column + w, width)
        guard r0 < r1, c0 < c1 else { return }
        for r in r0..<r1 {
            for c in c0..<c1 { set(r, c, color) }
        }
    }

    /// Writes `text` with a 5 x 7 pixel font scaled by `scale`, top-left at (row, column),
    /// on a dark box for legibility (unless `box` is false). Unknown characters are drawn as
    /// spaces; lowercase letters without a glyph of their own use the capital's.
    public mutating func text(_ text: String, row: Int, column: Int, scale: Int = 2, color: RGB = .label, box: Bool = true) {
        let s = max(scale, 1)
        let glyphs = Array(text)
        let boxW = glyphs.count * 6 * s + s, boxH = 9 * s
        for r in (row - s)..<(row - s + boxH) where box {
            for c in (column - s)..<(column - s + boxW) {
                guard r >= 0, r < height, c >= 0, c < width else { continue }
                let i = 3 * (r * width + c)
                bytes[i] /= 3; bytes[i + 1] /= 3; bytes[i + 2] /= 3
            }
        }
        for (k, ch) in glyphs.enumerated() {
            guard let rows = bitmapFont[ch] ?? bitmapFont[Character(ch.uppercased())] else { continue }
            for (gr, bits) in rows.enumerated() {
                for gc in 0..<5 where bits & (1 << (4 - gc)) != 0 {
                    for dy in 0..<s {
                        for dx in 0..<s { set(row + gr * s + dy, column + (k * 6 + gc) * s + dx, color) }
                    }
                }
            }
        }
    }
}

/// 5 x 7 glyphs (one byte per row, bit 4 = leftmost column) for the characters overlays need.
let bitmapFont: [Character: [UInt8]] = [
    "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
    "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
    "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
    "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
    "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
    ".": [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C], "#": [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A],
    "=": [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00], "-": [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
    "d": [0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F], "p": [0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10],
    "n": [0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11], "m": [0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11],
    "a": [0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F], "R": [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
    "g": [0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E], "F": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
    "A": [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11], "I": [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
    "L": [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F], "E": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
    "D": [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C], " ": [0, 0, 0, 0, 0, 0, 0],
    "B": [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E], "C": [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
    "G": [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F], "H": [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
    "J": [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C], "K": [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
    "M": [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11], "N": [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
    "O": [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], "P": [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
    "Q": [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D], "S": [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
    "T": [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04], "U": [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
    "V": [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04], "W": [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
    "X": [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11], "Y": [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
    "Z": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F], "(": [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
    ")": [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08], "/": [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
    ",": [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08], ":": [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
    "%": [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03], "^": [0x04, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x00],
    "+": [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00], "_": [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F],
    "'": [0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00], "<": [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02],
    ">": [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08], "*": [0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00],
]
