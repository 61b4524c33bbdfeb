import Foundation
import Statistics

/// Intersection over union of two discs (circle-circle lens area over the union).
public func discIoU(_ a: Circle, _ b: Circle) -> Double {
    let r1 = a.radius, r2 = b.radius
    guard r1 > 0, r2 > 0 else { return 0 }
    let d = ((a.centerX - b.centerX) * (a.centerX - b.centerX) + (a.centerY - b.centerY) * (a.centerY - b.centerY)).squareRoot()
    if d >= r1 + r2 { return 0 }
    let small = min(r1, r2), large = max(r1, r2)
    let intersection: Double
    if d <= large - small {
        intersection = Double.pi * small * small
    } else {
        let alpha = acos(min(max((d * d + r1 * r1 - r2 * r2) / (2 * d * r1), -1), 1))
        let beta = acos(min(max((d * d + r2 * r2 - r1 * r1) / (2 * d * r2), -1), 1))
        let kite = 0.5 * ((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2)).squareRoot()
        intersection = r1 * r1 * alpha + r2 * r2 * beta - kite
    }
    let union = Double.pi * (r1 * r1 + r2 * r2) - intersection
    return union > 0 ? intersection / union : 0
}

/// Which true primaries a located one is scored against.
public enum PrimaryVisibility {
    /// A true primary counts when at least this share of its projected disc is in front of
    /// every other primary (`visible_fraction` of the synthetic truth): what a person outlining
    /// primaries in an image would outline. Less visible ones are ignored, neither hit nor miss.
    public static let countedFraction = 0.5
}

/// A known primary particle for scoring located ones: its disc in image pixels, and whether it
/// counts (a primary mostly hidden behind others does not: finding it is neither a hit nor a
/// false alarm, as COCO treats its "ignore" regions).
public struct TruePrimary: Sendable, Equatable {
    public var disc: Circle
    public var counts: Bool
    public init(centerX: Double, centerY: Double, radius: Double, counts: Bool = true) {
        disc = Circle(centerX: centerX, centerY: centerY, radius: radius, metric: 0)
        self.counts = counts
    }
}

/// How well located primaries agree with known ones.
public struct PrimaryMatchScore: Sendable, Equatable, Codable {
    public var truePositives = 0
    public var falsePositives = 0
    public var falseNegatives = 0
    /// Located / true diameter - 1 for every matched pair.
    public var diameterErrors: [Double] = []

    public init() {}

    public var precision: Double { truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives) }
    public var recall: Double { truePositives + falseNegatives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives) }
    public var f1: Double { let p = precision, r = recall; return p + r == 0 ? 0 : 2 * p * r / (p + r) }
    /// Median of |located / true - 1| over matched pairs (nil with no match).
    public var medianAbsoluteDiameterError: Double? { percentile(diameterErrors.map(abs), 50) }

    /// Pools two scores (counts add, errors concatenate).
    public mutating func add(_ other: PrimaryMatchScore) {
        truePositives += other.truePositives
        falsePositives += other.falsePositives
        falseNegatives += other.falseNegatives
        diameterErrors += other.diameterErrors
    }
}

/// Matches located discs to true primaries one to one, greedily by decreasing disc IoU, a pair
/// only where IoU >= `minimumIoU` (0.5, the usual detection criterion). A located disc matched
/// to a true primary that does not count is left out of the score; unmatched located discs are
/// false positives, unmatched counted primaries false negatives.
public func matchPrimaries(located: [Circle], truth: [TruePrimary], minimumIoU: Double = 0.5) -> PrimaryMatchScore {
    // Candidate pairs through a grid of cells as wide as the largest diameter.
    let maxRadius = (located.map(\.radius) + truth.map(\.disc.radius)).max() ?? 0
    var score = PrimaryMatchScore()
    guard maxRadius > 0 else {
        score.falsePositives = located.count
        score.falseNegatives = truth.filter(\.counts).count
        return score
    }
    let cell = 2 * maxRadius
    struct Key: Hashable { var x: Int; var y: Int }
    var grid: [Key: [Int]] = [:]
    for (j, t) in truth.enumerated() {
        grid[Key(x: Int((t.disc.centerX / cell).rounded(.down)), y: Int((t.disc.centerY / cell).rounded(.down))), default: []].append(j)
    }
    var pairs: [(iou: Double, located: Int, truth: Int)] = []
    for (i, c) in located.enumerated() {
        let kx = Int((c.centerX / cell).rounded(.down)), ky = Int((c.centerY / cell).rounded(.down))
        for dy in -1...1 {
            for dx in -1...1 {
                for j in grid[Key(x: kx + dx, y: ky + dy)] ?? [] {
                    let iou = discIoU(c, truth[j].disc)
                    if iou >= minimumIoU { pairs.append((iou, i, j)) }
                }
            }
        }
    }
    pairs.sort { $0.iou != $1.iou ? $0.iou > $1.iou : ($0.located, $0.truth) < ($1.located, $1.truth) }
    var locatedUsed = [Bool](repeating: false, count: located.count), truthUsed = [Bool](repeating: false, count: truth.count)
    for p in pairs where !locatedUsed[p.located] && !truthUsed[p.truth] {
        locatedUsed[p.located] = true
        truthUsed[p.truth] = true
        if truth[p.truth].counts {
            score.truePositives += 1
            score.diameterErrors.append(located[p.located].radius / truth[p.truth].disc.radius - 1)
        }
    }
    score.falsePositives = locatedUsed.filter { !$0 }.count
    score.falseNegatives = zip(truth, truthUsed).filter { $0.0.counts && !$0.1 }.count
    return score
}
