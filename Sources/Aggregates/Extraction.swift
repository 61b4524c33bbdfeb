import Foundation
import ImageCore

/// Why an image yields no aggregates (atems `+agg/analyze_binary.m`, METHODS.md section 3.8).
public enum SegmentationFailure: String, Sendable, Equatable, Codable {
    /// More than a quarter of the image belongs to aggregates touching the border: the
    /// classifier most likely took background for soot.
    case borderCoverage = "border aggregates cover more than 25 % of the image"
    /// More than 50 aggregates remain: the mask is mostly speckle.
    case tooManyAggregates = "more than 50 aggregates (speckle)"
    /// Nothing remains after border clearing and small-blob removal.
    case noAggregates = "no aggregates"
}

/// Options of the mask-to-aggregates step (atems defaults).
public struct AggregateOptions: Sendable, Equatable, Codable {
    /// Remove aggregates touching the image border (atems default: on).
    public var removeBorderAggregates = true
    /// The 2023 edge rule ("edge rescue") for masks with soot along an image edge (METHODS.md
    /// 3.8, step 2; see `rescueEdge`); applies only when border aggregates are removed.
    public var edgeRescue = true
    /// Components below this many pixels are dropped (atems: 10).
    public var minimumPixels = 10
    /// More components than this fail the image (atems: 50).
    public var maximumAggregates = 50
    /// Border-touching area above this fraction of the image fails it (atems: 0.25).
    public var maximumBorderFraction = 0.25
    /// Detect failed segmentations at all (off: every component is reported).
    public var detectFailures = true

    public init() {}
}

/// One aggregate's properties (METHODS.md section 4). Lengths in nm unless the name says px.
public struct Aggregate: Sendable, Equatable, Codable {
    /// Running id (1-based) in column-major order of the aggregate's first pixel.
    public var id: Int
    /// Label of the aggregate in `AggregateAnalysis.labels`.
    public var label: Int32
    public var areaPx: Int
    public var areaNm2: Double
    /// Projected-area-equivalent diameter.
    public var daNm: Double
    /// Radius of gyration of the projected pixels.
    public var rgNm: Double
    /// max(P2, P3) x pixel size (METHODS.md 4).
    public var perimeterNm: Double
    public var lengthNm: Double
    public var widthNm: Double
    /// length / width; infinite when the aggregate is one pixel wide or tall.
    public var aspectRatio: Double
    public var circularity: Double
    public var centroidXPx: Double
    public var centroidYPx: Double
    /// Bounding box, inclusive, in pixels.
    public var minRow: Int, minColumn: Int, maxRow: Int, maxColumn: Int
    public var touchesBorder: Bool
    /// (background level - mean grey level of the aggregate) / background level; nil without image.
    public var relativeOpticalDepth: Double?
}

/// The aggregates of one mask.
public struct AggregateAnalysis: Sendable {
    /// The mask after failure checks, edge rescue, border clearing and small-blob removal.
    public var mask: BinaryMask
    /// Its 8-connected labels (label of `aggregates[k]` is `aggregates[k].label`).
    public var labels: LabelImage
    public var aggregates: [Aggregate]
    /// Set when the image failed; `aggregates` is then empty.
    public var failure: SegmentationFailure?
    /// Mean grey level (0...1) of the background, when an image was given.
    public var backgroundLevel: Double?
    public var pixelSizeNm: Double

    /// The aggregate's own mask cropped to its bounding box grown by `margin` pixels (clipped),
    /// and the position of the crop's top-left pixel in the image.
    public func croppedMask(of aggregate: Aggregate, margin: Int = 3) -> (mask: BinaryMask, row: Int, column: Int) {
        let r0 = max(aggregate.minRow - margin, 0), r1 = min(aggregate.maxRow + margin, labels.height - 1)
        let c0 = max(aggregate.minColumn - margin, 0), c1 = min(aggregate.maxColumn + margin, labels.width - 1)
        let w = c1 - c0 + 1, h = r1 - r0 + 1
        var out = BinaryMask(width: w, height: h, pixelSize: mask.pixelSize)
        for r in 0..<h {
            let src = (r + r0) * labels.width + c0
            for c in 0..<w where labels.labels[src + c] == aggregate.label { out.bits[r * w + c] = 1 }
        }
        return (out, r0, c0)
    }
}

/// Checks a mask for a failed segmentation with atems' rules (METHODS.md 3.8, failures A
/// and B) without extracting aggregates. Returns nil when the mask looks usable.
public func detectSegmentationFailure(_ mask: BinaryMask, options: AggregateOptions = AggregateOptions())
    -> SegmentationFailure?
{
    let cleared = clearBorder(mask)
    let borderPixels = mask.trueCount - cleared.trueCount
    if Double(borderPixels) > options.maximumBorderFraction * Double(mask.count) { return .borderCoverage }
    let kept = removeSmallComponents(options.removeBorderAggregates ? cleared : mask,
                                     minimumPixels: PaperScale.area(options.minimumPixels, pixelSizeNm: mask.pixelSize?.nanometersPerPixel))
    let n = label(kept).count
    if n > options.maximumAggregates { return .tooManyAggregates }
    if n == 0 { return .noAggregates }
    return nil
}

/// Splits a mask into aggregates and measures them (atems `analyze_binary`, METHODS.md 3.8 and 4).
/// - Parameters:
///   - mask: true = aggregate, before border removal.
///   - image: the grey image (for the relative optical depth), optional.
///   - pixelSizeNm: nanometres per pixel.
public func extractAggregates(mask input: BinaryMask, image: GrayImage? = nil, pixelSizeNm ps: Double,
                              options: AggregateOptions = AggregateOptions()) -> AggregateAnalysis {
    let w = input.width, h = input.height
    var mask = input
    func failed(_ reason: SegmentationFailure) -> AggregateAnalysis {
        AggregateAnalysis(mask: BinaryMask(width: w, height: h, pixelSize: input.pixelSize),
                          labels: LabelImage(width: w, height: h, labels: [Int32](repeating: 0, count: w * h), count: 0),
                          aggregates: [], failure: reason, backgroundLevel: nil, pixelSizeNm: ps)
    }
    // Failure A: too much soot on the border.
    if options.detectFailures {
        let borderPixels = mask.trueCount - clearBorder(mask).trueCount
        if Double(borderPixels) > options.maximumBorderFraction * Double(w * h) { return failed(.borderCoverage) }
    }
    if options.removeBorderAggregates {
        if options.edgeRescue { mask = rescueEdge(mask) }
        mask = clearBorder(mask)
    }
    // The 10 px speck limit at the paper's 0.4-0.8 nm/px, the same area in nm² outside (PaperScale).
    mask = removeSmallComponents(mask, minimumPixels: PaperScale.area(options.minimumPixels, pixelSizeNm: ps))
    let labels = label(mask, connectivity: .eight)
    if options.detectFailures && labels.count > options.maximumAggregates { return failed(.tooManyAggregates) }
    let regions = regionProperties(of: labels)
    var backgroundLevel: Double?
    var meanInside = [Double](repeating: 0, count: labels.count + 1)
    if let image {
        var sum = 0.0, n = 0
        for i in 0..<mask.count {
            let l = Int(labels.labels[i])
            let v = Double(image.pixels[i])
            if l == 0 { sum += v; n += 1 } else { meanInside[l] += v }
        }
        backgroundLevel = n > 0 ? sum / Double(n) : nil
    }
    var aggregates: [Aggregate] = []
    aggregates.reserveCapacity(regions.count)
    for region in regions where region.areaPixels > 0 {
        let n = Double(region.areaPixels)
        let p2 = Double(region.perimeterPixels)
        let p3 = midpointPerimeter(labels: labels, region: region)
        let perimeterNm = ps * max(p2, p3)
        let dr = Double(region.rowExtentPixels), dc = Double(region.columnExtentPixels)
        let length = max(dr, dc), width = min(dr, dc)
        let area = n * ps * ps
        var depth: Double?
        if let bg = backgroundLevel, bg > 0 { depth = (bg - meanInside[region.label] / n) / bg }
        aggregates.append(Aggregate(
            id: aggregates.count + 1, label: Int32(region.label), areaPx: region.areaPixels, areaNm2: area,
            daNm: 2 * ps * (n / Double.pi).squareRoot(), rgNm: ps * region.radiusOfGyrationPixels,
            perimeterNm: perimeterNm, lengthNm: ps * length, widthNm: ps * width,
            aspectRatio: width > 0 ? length / width : .infinity,
            circularity: perimeterNm > 0 ? 4 * Double.pi * area / (perimeterNm * perimeterNm) : 0,
            centroidXPx: region.centroidColumn, centroidYPx: region.centroidRow,
            minRow: region.minRow, minColumn: region.minColumn, maxRow: region.maxRow, maxColumn: region.maxColumn,
            touchesBorder: region.touchesBorder, relativeOpticalDepth: depth))
    }
    let failure: SegmentationFailure? = options.detectFailures && aggregates.isEmpty ? .noAggregates : nil
    return AggregateAnalysis(mask: mask, labels: labels, aggregates: aggregates, failure: failure,
                             backgroundLevel: backgroundLevel, pixelSizeNm: ps)
}

/// The 2023 edge rule of atems (METHODS.md 3.8 step 2, with the single-argmax fix): when more
/// than 20 % of an edge line is soot, everything farther than (max distance - 100) px from the
/// point farthest from that border-touching soot is made soot, so that border clearing removes
/// it. Aggregates near a soot-covered edge (often film edges or grid bars mistaken for soot)
/// are dropped with it; the image keeps a disc of trusted area. Applied only when border
/// aggregates are removed. Despite its name in atems it never restores an aggregate.
func rescueEdge(_ mask: BinaryMask) -> BinaryMask {
    let w = mask.width, h = mask.height
    var left = 0, right = 0, top = 0, bottom = 0
    for r in 0..<h { left += Int(mask.bits[r * w]); right += Int(mask.bits[r * w + w - 1]) }
    for c in 0..<w { top += Int(mask.bits[c]); bottom += Int(mask.bits[(h - 1) * w + c]) }
    let offending = [Double(left) / Double(h) > 0.2, Double(right) / Double(h) > 0.2,
                     Double(top) / Double(w) > 0.2, Double(bottom) / Double(w) > 0.2]
    guard offending.contains(true) else { return mask }
    var edgeOnly = mask
    if !offending[0] { for r in 0..<h { edgeOnly.bits[r * w] = 0 } }
    if !offending[1] { for r in 0..<h { edgeOnly.bits[r * w + w - 1] = 0 } }
    if !offending[2] { for c in 0..<w { edgeOnly.bits[c] = 0 } }
    if !offending[3] { for c in 0..<w { edgeOnly.bits[(h - 1) * w + c] = 0 } }
    let cleared = clearBorder(edgeOnly)
    var touching = edgeOnly
    for i in 0..<touching.count { touching.bits[i] = edgeOnly.bits[i] & (1 - cleared.bits[i]) }
    guard touching.trueCount > 0 else { return mask }
    let distance = distanceTransform(touching)
    var best = 0
    for i in 1..<distance.count where distance[i] > distance[best] { best = i }
    let rho = Double(distance[best]) - 100
    let br = Double(best / w), bc = Double(best % w)
    var out = mask
    for r in 0..<h {
        for c in 0..<w {
            let d = ((Double(r) - br) * (Double(r) - br) + (Double(c) - bc) * (Double(c) - bc)).squareRoot()
            if d > rho { out.bits[r * w + c] = 1 }
        }
    }
    return out
}

/// Midpoint perimeter P3 in pixels (METHODS.md 4): the outer boundary of the one-pixel ring
/// around the region, traced clockwise, split into straight runs at diagonal steps, measured
/// as the closed polygon through the runs' midpoints.
func midpointPerimeter(labels: LabelImage, region: RegionProperties) -> Double {
    // Local frame: bounding box grown by 2 (ring + background margin).
    let r0 = region.minRow - 2, c0 = region.minColumn - 2
    let h = region.maxRow - region.minRow + 5, w = region.maxColumn - region.minColumn + 5
    let target = Int32(region.label)
    func inRegion(_ r: Int, _ c: Int) -> Bool {
        let gr = r + r0, gc = c + c0
        guard gr >= 0, gc >= 0, gr < labels.height, gc < labels.width else { return false }
        return labels.labels[gr * labels.width + gc] == target
    }
    // Ring = 4-dilation minus region, restricted to the image.
    var ring = [UInt8](repeating: 0, count: w * h)
    for r in 0..<h {
        for c in 0..<w where !inRegion(r, c) {
            let gr = r + r0, gc = c + c0
            guard gr >= 0, gc >= 0, gr < labels.height, gc < labels.width else { continue }
            if inRegion(r - 1, c) || inRegion(r + 1, c) || inRegion(r, c - 1) || inRegion(r, c + 1) {
                ring[r * w + c] = 1
            }
        }
    }
    func isRing(_ r: Int, _ c: Int) -> Bool { r >= 0 && c >= 0 && r < h && c < w && ring[r * w + c] != 0 }
    // First ring pixel in column-major order.
    var start: (Int, Int)?
    outer: for c in 0..<w { for r in 0..<h where ring[r * w + c] != 0 { start = (r, c); break outer } }
    guard let s = start else { return 0 }
    let points = traceBoundary(start: s, isInside: isRing)
    guard points.count > 2 else { return 0 }
    // Runs split at diagonal steps; the last run joins the first.
    var runs: [[(Int, Int)]] = [[points[0]]]
    for k in 1..<points.count {
        let p = points[k], q = points[k - 1]
        if p.0 != q.0 && p.1 != q.1 { runs.append([p]) } else { runs[runs.count - 1].append(p) }
    }
    if runs.count > 1 {
        let last = runs.removeLast()
        runs[0] = last + runs[0]
    }
    guard runs.count > 1 else { return 0 }
    let mids = runs.map { run -> (Double, Double) in
        let n = Double(run.count)
        return (run.reduce(0.0) { $0 + Double($1.0) } / n, run.reduce(0.0) { $0 + Double($1.1) } / n)
    }
    var length = 0.0
    for k in 0..<mids.count {
        let a = mids[k], b = mids[(k + 1) % mids.count]
        length += ((a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1)).squareRoot()
    }
    return length
}

/// Moore-neighbour tracing, 8-connected, clockwise on screen (rows down), from a start pixel
/// whose west neighbour is outside (the first pixel in column-major order). Stops on returning
/// to the start by the first move (Jacob's criterion); the start point is repeated at the end.
public func traceBoundary(start: (Int, Int), isInside: (Int, Int) -> Bool) -> [(Int, Int)] {
    // Clockwise neighbour order starting at west: W, NW, N, NE, E, SE, S, SW.
    let dr = [0, -1, -1, -1, 0, 1, 1, 1]
    let dc = [-1, -1, 0, 1, 1, 1, 0, -1]
    var points = [start]
    var current = start
    var back = 0  // direction index (from current) of the last outside neighbour examined
    var firstMove: Int?
    let limit = 4 * 1_000_000
    for _ in 0..<limit {
        var moved = false
        for k in 1...8 {
            let d = (back + k) % 8
            let next = (current.0 + dr[d], current.1 + dc[d])
            if isInside(next.0, next.1) {
                // New backtrack: the neighbour examined just before `next`, seen from `next`.
                let prev = (back + k - 1) % 8
                let pr = current.0 + dr[prev], pc = current.1 + dc[prev]
                back = directionIndex(pr - next.0, pc - next.1)
                if current == start, let f = firstMove, f == d, points.count > 1 { return points }
                if firstMove == nil { firstMove = d }
                current = next
                points.append(next)
                moved = true
                break
            }
        }
        if !moved { return points }  // isolated pixel
    }
    return points
}

private func directionIndex(_ r: Int, _ c: Int) -> Int {
    switch (r, c) {
    case (0, -1): return 0
    case (-1, -1): return 1
    case (-1, 0): return 2
    case (-1, 1): return 3
    case (0, 1): return 4
    case (1, 1): return 5
    case (1, 0): return 6
    default: return 7
    }
}
