import Foundation

/// Which pixel set a "disk" of radius r means (METHODS.md section 1.3).
public enum DiskShape: String, Sendable, CaseIterable, Codable {
    /// All offsets with dr^2 + dc^2 <= r^2 (the default).
    case euclidean
    /// MATLAB `strel('disk', r)` with its default 4-line decomposition: exact for r <= 2, an
    /// octagon one pixel short of r on the axes for r >= 3 (for parity with atems).
    case matlab
}

/// A flat structuring element that is symmetric about its centre and convex along rows:
/// row offset `dr` (in `-radius...radius`) covers columns `-halfWidths[dr + radius]...+halfWidths[dr + radius]`;
/// a negative half-width means the row is empty.
public struct StructuringElement: Sendable, Equatable {
    /// Largest row offset.
    public let radius: Int
    /// Half-width of each row, indexed by `dr + radius`; -1 for an empty row.
    public let halfWidths: [Int]

    /// Creates an element from per-row half-widths (`2 radius + 1` of them).
    public init(halfWidths: [Int]) {
        precondition(halfWidths.count % 2 == 1, "need an odd number of rows")
        self.radius = halfWidths.count / 2
        self.halfWidths = halfWidths
    }

    /// A disk of radius `radius` pixels; radius 0 is the single pixel.
    public static func disk(radius: Int, shape: DiskShape = .euclidean) -> StructuringElement {
        precondition(radius >= 0, "radius must be non-negative")
        if radius == 0 { return StructuringElement(halfWidths: [0]) }
        switch shape {
        case .euclidean:
            return StructuringElement(halfWidths: (-radius...radius).map { dr in
                Int(Double(radius * radius - dr * dr).squareRoot().rounded(.down))
            })
        case .matlab:
            if radius <= 2 { return disk(radius: radius, shape: .euclidean) }
            // Closed form of MATLAB's periodic-line decomposition (METHODS.md section 1.3).
            let k = 2 * Double(radius) / (1 / tan(Double.pi / 8) + 1 / sin(Double.pi / 8))
            let p0 = Int(k.rounded(.down))
            let p1 = Int((k / 2.0.squareRoot()).rounded(.down))
            let m = p0 + 2 * p1
            let l = max(0, radius - m - 1)
            let a = m + l
            let d = 2 * (p0 + p1 + l)
            return StructuringElement(halfWidths: (-a...a).map { dr in min(a, d - abs(dr)) })
        }
    }

    /// A `side x side` square (side must be odd).
    public static func square(side: Int) -> StructuringElement {
        precondition(side > 0 && side % 2 == 1, "square side must be odd")
        return StructuringElement(halfWidths: [Int](repeating: side / 2, count: side))
    }

    /// The 4-neighbour cross (the radius-1 disk).
    public static let cross = disk(radius: 1)

    /// Number of pixels in the element.
    public var pixelCount: Int { halfWidths.reduce(0) { $0 + ($1 >= 0 ? 2 * $1 + 1 : 0) } }

    /// Whether offset (dr, dc) belongs to the element.
    public func contains(rowOffset dr: Int, columnOffset dc: Int) -> Bool {
        guard abs(dr) <= radius else { return false }
        return abs(dc) <= halfWidths[dr + radius]
    }

    /// True when the element is a Euclidean disk, so binary morphology can use the distance transform.
    var euclideanRadius: Int? {
        self == .disk(radius: radius, shape: .euclidean) ? radius : nil
    }
}
