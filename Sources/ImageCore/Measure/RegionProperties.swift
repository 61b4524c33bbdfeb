import Foundation

/// Geometric properties of one labelled region, in pixels. Convert to nanometres with the
/// image's pixel size (aggregate-level quantities with units live in the Statistics target).
public struct RegionProperties: Sendable, Equatable, Codable {
    /// The region's label.
    public let label: Int
    /// Number of pixels.
    public let areaPixels: Int
    /// Mean row and mean column (0-based).
    public let centroidRow: Double
    public let centroidColumn: Double
    /// Inclusive bounding box.
    public let minRow: Int, minColumn: Int, maxRow: Int, maxColumn: Int
    /// Pixels of the region with a 4-neighbour outside it (outside the image counts as outside):
    /// MATLAB `bwperim` with 4-connectivity, summed.
    public let perimeterPixels: Int
    /// Central second moments: mean (r - r̄)^2, mean (c - c̄)^2 and mean (r - r̄)(c - c̄), px^2.
    public let rowVariance: Double
    public let columnVariance: Double
    public let rowColumnCovariance: Double
    /// Whether any pixel lies in the first or last row or column.
    public let touchesBorder: Bool

    /// sqrt(mean[(r - r̄)^2 + (c - c̄)^2]), px.
    public var radiusOfGyrationPixels: Double { (rowVariance + columnVariance).squareRoot() }
    /// Diameter of the disk of equal area, 2 sqrt(area / pi), px.
    public var equivalentDiameterPixels: Double { 2 * (Double(areaPixels) / Double.pi).squareRoot() }
    /// Bounding-box extents without the +1 (atems' length/width convention), px.
    public var rowExtentPixels: Int { maxRow - minRow }
    public var columnExtentPixels: Int { maxColumn - minColumn }
    /// Major and minor axis lengths of the ellipse with the same second moments, px
    /// (scikit-image convention: 4 sqrt(eigenvalue)).
    public var majorAxisPixels: Double { 4 * eigenvalues.major.squareRoot() }
    public var minorAxisPixels: Double { 4 * max(eigenvalues.minor, 0).squareRoot() }

    private var eigenvalues: (major: Double, minor: Double) {
        let mean = (rowVariance + columnVariance) / 2
        let d = (((rowVariance - columnVariance) / 2) * ((rowVariance - columnVariance) / 2)
            + rowColumnCovariance * rowColumnCovariance).squareRoot()
        return (mean + d, mean - d)
    }
}

/// Properties of every region of a label image, in label order (index i is label i + 1).
public func regionProperties(of labels: LabelImage) -> [RegionProperties] {
    let n = labels.count
    guard n > 0 else { return [] }
    let w = labels.width, h = labels.height
    var area = [Int](repeating: 0, count: n + 1)
    var sumR = [Double](repeating: 0, count: n + 1), sumC = sumR, sumRR = sumR, sumCC = sumR, sumRC = sumR
    var minR = [Int](repeating: .max, count: n + 1), minC = minR
    var maxR = [Int](repeating: .min, count: n + 1), maxC = maxR
    var perimeter = [Int](repeating: 0, count: n + 1)
    labels.labels.withUnsafeBufferPointer { lab in
        for r in 0..<h {
            for c in 0..<w {
                let l = Int(lab[r * w + c])
                if l == 0 { continue }
                area[l] += 1
                let rd = Double(r), cd = Double(c)
                sumR[l] += rd; sumC[l] += cd
                sumRR[l] += rd * rd; sumCC[l] += cd * cd; sumRC[l] += rd * cd
                minR[l] = min(minR[l], r); maxR[l] = max(maxR[l], r)
                minC[l] = min(minC[l], c); maxC[l] = max(maxC[l], c)
                let i = r * w + c
                let boundary = r == 0 || r == h - 1 || c == 0 || c == w - 1
                    || Int(lab[i - 1]) != l || Int(lab[i + 1]) != l
                    || Int(lab[i - w]) != l || Int(lab[i + w]) != l
                if boundary { perimeter[l] += 1 }
            }
        }
    }
    return (1...n).map { l in
        let a = Double(area[l])
        let mr = sumR[l] / a, mc = sumC[l] / a
        return RegionProperties(
            label: l, areaPixels: area[l], centroidRow: mr, centroidColumn: mc,
            minRow: minR[l], minColumn: minC[l], maxRow: maxR[l], maxColumn: maxC[l],
            perimeterPixels: perimeter[l],
            rowVariance: max(0, sumRR[l] / a - mr * mr), columnVariance: max(0, sumCC[l] / a - mc * mc),
            rowColumnCovariance: sumRC[l] / a - mr * mc,
            touchesBorder: minR[l] == 0 || minC[l] == 0 || maxR[l] == h - 1 || maxC[l] == w - 1)
    }
}
