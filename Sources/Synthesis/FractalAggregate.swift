import Foundation
import Randomness

/// A primary particle of a 3-D aggregate: centre and diameter in nm.
public struct Primary: Sendable, Equatable, Codable {
    public var x: Double
    public var y: Double
    public var z: Double
    public var diameterNm: Double
    public init(x: Double, y: Double, z: Double, diameterNm: Double) {
        self.x = x; self.y = y; self.z = z; self.diameterNm = diameterNm
    }
}

/// How primaries are brought together.
public enum AggregationAlgorithm: String, Sendable, Codable, CaseIterable {
    /// One primary at a time (particle-cluster, PC).
    case particleCluster = "particle-cluster"
    /// Small PC clusters merged pairwise (cluster-cluster, CC), as in flames.
    case clusterCluster = "cluster-cluster"
}

/// Parameters of one aggregate.
public struct AggregateRecipe: Sendable, Equatable, Codable {
    public var primaryCount: Int
    /// Geometric mean primary diameter, nm.
    public var dpGeometricMeanNm: Double
    /// Geometric standard deviation of the primary diameters (1 = monodisperse).
    public var dpGeometricStd: Double
    public var fractalDimension: Double = 1.78
    public var fractalPrefactor: Double = 1.3
    /// Overlap between touching neighbours: centre distance = (r_i + r_j)(1 - overlap).
    public var overlap: Double = 0.1
    public var algorithm: AggregationAlgorithm = .clusterCluster

    public init(primaryCount: Int, dpGeometricMeanNm: Double, dpGeometricStd: Double = 1.15) {
        self.primaryCount = primaryCount
        self.dpGeometricMeanNm = dpGeometricMeanNm
        self.dpGeometricStd = dpGeometricStd
    }
}

/// A 3-D fractal aggregate of spherical primaries obeying N = kf (Rg / a)^Df.
///
/// Tunable aggregation after Filippov, Zurita & Rosner (J. Colloid Interface Sci. 2000): each
/// step places the newcomer (a primary, or a whole cluster) at the distance from the centre of
/// mass that makes the merged cluster's radius of gyration satisfy the fractal law exactly, in a
/// random direction where it touches and does not overlap (beyond `overlap`) what is there.
/// Polydisperse primaries are weighted by volume; a is the mean primary radius.
public struct FractalAggregate: Sendable, Equatable, Codable {
    public var primaries: [Primary]
    public var recipe: AggregateRecipe

    /// Builds an aggregate; deterministic for a given generator state.
    public static func build(_ recipe: AggregateRecipe, using rng: inout SplitMix64) -> FractalAggregate {
        let n = max(recipe.primaryCount, 1)
        let lnSigma = log(max(recipe.dpGeometricStd, 1))
        var diameters = (0..<n).map { _ in recipe.dpGeometricMeanNm * exp(lnSigma * rng.nextGaussian()) }
        // Keep the sample's geometric mean exactly on the recipe (the truth is then the recipe).
        let gm = exp(diameters.reduce(0) { $0 + log($1) } / Double(n))
        diameters = diameters.map { $0 * recipe.dpGeometricMeanNm / gm }
        let builder = Builder(recipe: recipe, meanRadius: diameters.reduce(0, +) / Double(2 * n))
        var primaries: [Primary]
        switch recipe.algorithm {
        case .particleCluster:
            primaries = builder.particleCluster(diameters, rng: &rng)
        case .clusterCluster:
            // Seed clusters of 4-8 primaries by PC, then merge pairwise (smallest first).
            var clusters: [[Primary]] = []
            var start = 0
            while start < n {
                let size = min(Int.random(in: 4...8, using: &rng), n - start)
                clusters.append(builder.particleCluster(Array(diameters[start..<(start + size)]), rng: &rng))
                start += size
            }
            while clusters.count > 1 {
                clusters.sort { $0.count < $1.count }
                let a = clusters.removeFirst(), b = clusters.removeFirst()
                clusters.append(builder.merge(a, b, rng: &rng))
            }
            primaries = clusters[0]
        }
        // Centre on the centre of mass.
        let c = Builder.centreOfMass(primaries)
        primaries = primaries.map { Primary(x: $0.x - c.0, y: $0.y - c.1, z: $0.z - c.2, diameterNm: $0.diameterNm) }
        return FractalAggregate(primaries: primaries, recipe: recipe)
    }

    /// Volume-weighted radius of gyration of the primary centres, nm (the quantity the fractal
    /// law constrains).
    public var radiusOfGyrationNm: Double { Builder.radiusOfGyration(primaries) }

    /// Geometric mean and standard deviation of the primary diameters.
    public var dpGeometricMeanNm: Double { exp(primaries.reduce(0) { $0 + log($1.diameterNm) } / Double(primaries.count)) }
    public var dpGeometricStd: Double {
        let logs = primaries.map { log($0.diameterNm) }
        guard logs.count > 1 else { return 1 }
        let m = logs.reduce(0, +) / Double(logs.count)
        return exp((logs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(logs.count - 1)).squareRoot())
    }

    /// The aggregate turned by a uniformly random rotation.
    public func rotated(using rng: inout SplitMix64) -> [Primary] {
        let r = randomRotation(using: &rng)
        return primaries.map { p in
            Primary(x: r[0] * p.x + r[1] * p.y + r[2] * p.z, y: r[3] * p.x + r[4] * p.y + r[5] * p.z,
                    z: r[6] * p.x + r[7] * p.y + r[8] * p.z, diameterNm: p.diameterNm)
        }
    }
}

/// A uniformly distributed rotation matrix (row-major) from a random unit quaternion.
func randomRotation(using rng: inout SplitMix64) -> [Double] {
    var q = (0..<4).map { _ in rng.nextGaussian() }
    let norm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
    q = q.map { $0 / max(norm, 1e-12) }
    let (w, x, y, z) = (q[0], q[1], q[2], q[3])
    return [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]
}

func randomUnitVector(using rng: inout SplitMix64) -> (Double, Double, Double) {
    while true {
        let v = (rng.nextGaussian(), rng.nextGaussian(), rng.nextGaussian())
        let n = (v.0 * v.0 + v.1 * v.1 + v.2 * v.2).squareRoot()
        if n > 1e-9 { return (v.0 / n, v.1 / n, v.2 / n) }
    }
}

private struct Builder {
    let recipe: AggregateRecipe
    let meanRadius: Double

    static func mass(_ p: Primary) -> Double { p.diameterNm * p.diameterNm * p.diameterNm }

    static func centreOfMass(_ ps: [Primary]) -> (Double, Double, Double) {
        var m = 0.0, x = 0.0, y = 0.0, z = 0.0
        for p in ps { let w = mass(p); m += w; x += w * p.x; y += w * p.y; z += w * p.z }
        return (x / m, y / m, z / m)
    }

    static func radiusOfGyration(_ ps: [Primary]) -> Double {
        let c = centreOfMass(ps)
        var m = 0.0, s = 0.0
        for p in ps {
            let w = mass(p)
            m += w
            s += w * ((p.x - c.0) * (p.x - c.0) + (p.y - c.1) * (p.y - c.1) + (p.z - c.2) * (p.z - c.2))
        }
        return (s / m).squareRoot()
    }

    /// Rg the fractal law asks of an n-primary cluster.
    func targetRg(_ n: Int) -> Double {
        meanRadius * pow(Double(n) / recipe.fractalPrefactor, 1 / recipe.fractalDimension)
    }

    func contact(_ a: Primary, _ b: Primary) -> Double { (a.diameterNm + b.diameterNm) / 2 * (1 - recipe.overlap) }

    /// True when `p` overlaps none of `others` beyond the allowed overlap (1 % slack).
    func fits(_ p: Primary, among others: [Primary], except skip: Int = -1) -> Bool {
        for (k, q) in others.enumerated() where k != skip {
            let d2 = (p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y) + (p.z - q.z) * (p.z - q.z)
            let c = contact(p, q) * 0.99
            if d2 < c * c { return false }
        }
        return true
    }

    /// Particle-cluster growth of the given primaries.
    func particleCluster(_ diameters: [Double], rng: inout SplitMix64) -> [Primary] {
        var cluster = [Primary(x: 0, y: 0, z: 0, diameterNm: diameters[0])]
        for k in 1..<max(diameters.count, 1) where k < diameters.count {
            let d = diameters[k]
            let n = cluster.count
            let mC = cluster.reduce(0) { $0 + Builder.mass($1) }, mP = d * d * d
            let rgC = Builder.radiusOfGyration(cluster)
            let rgNew = targetRg(n + 1)
            // Distance of the newcomer from the cluster's centre of mass for the target Rg.
            let mT = mC + mP
            var gamma2 = (mT * mT * rgNew * rgNew - mT * mC * rgC * rgC) / (mC * mP)
            let c = Builder.centreOfMass(cluster)
            var placed: Primary?
            for attempt in 0..<400 {
                if attempt == 200 { gamma2 *= 1.1 }  // relax the law slightly if geometry forbids it
                let gamma = max(gamma2, 0).squareRoot()
                // Candidate partners: primaries whose contact shell meets the sphere of radius gamma.
                let j = Int.random(in: 0..<n, using: &rng)
                let q = cluster[j]
                let contactDistance = (d + q.diameterNm) / 2 * (1 - recipe.overlap)
                let dq = ((q.x - c.0) * (q.x - c.0) + (q.y - c.1) * (q.y - c.1) + (q.z - c.2) * (q.z - c.2)).squareRoot()
                guard abs(gamma - dq) <= contactDistance, dq > 1e-9 || n == 1 else { continue }
                // A random point on the circle where the two spheres meet.
                let point: (Double, Double, Double)
                if dq <= 1e-9 {
                    let u = randomUnitVector(using: &rng)
                    point = (c.0 + contactDistance * u.0, c.1 + contactDistance * u.1, c.2 + contactDistance * u.2)
                } else {
                    let axis = ((q.x - c.0) / dq, (q.y - c.1) / dq, (q.z - c.2) / dq)
                    // Distance along the axis from c to the circle plane.
                    let along = (gamma * gamma - contactDistance * contactDistance + dq * dq) / (2 * dq)
                    let radius = max(gamma * gamma - along * along, 0).squareRoot()
                    var u = randomUnitVector(using: &rng)
                    let dot = u.0 * axis.0 + u.1 * axis.1 + u.2 * axis.2
                    u = (u.0 - dot * axis.0, u.1 - dot * axis.1, u.2 - dot * axis.2)
                    let un = (u.0 * u.0 + u.1 * u.1 + u.2 * u.2).squareRoot()
                    guard un > 1e-9 else { continue }
                    point = (c.0 + along * axis.0 + radius * u.0 / un, c.1 + along * axis.1 + radius * u.1 / un,
                             c.2 + along * axis.2 + radius * u.2 / un)
                }
                let candidate = Primary(x: point.0, y: point.1, z: point.2, diameterNm: d)
                if fits(candidate, among: cluster, except: j) { placed = candidate; break }
            }
            if placed == nil {
                // Fall back to sticking to a random primary in a random free direction.
                for _ in 0..<2000 {
                    let q = cluster[Int.random(in: 0..<n, using: &rng)]
                    let u = randomUnitVector(using: &rng)
                    let cd = (d + q.diameterNm) / 2 * (1 - recipe.overlap)
                    let candidate = Primary(x: q.x + cd * u.0, y: q.y + cd * u.1, z: q.z + cd * u.2, diameterNm: d)
                    if fits(candidate, among: cluster) { placed = candidate; break }
                }
            }
            if let placed { cluster.append(placed) }
        }
        return cluster
    }

    /// Cluster-cluster merge: `b`, turned at random, slides toward `a` along a random direction
    /// until first contact (so it touches and overlaps nothing); of 40 such trials the one whose
    /// centre distance is closest to the distance the fractal law asks for is kept.
    func merge(_ a: [Primary], _ b: [Primary], rng: inout SplitMix64) -> [Primary] {
        let mA = a.reduce(0) { $0 + Builder.mass($1) }, mB = b.reduce(0) { $0 + Builder.mass($1) }
        let rgA = Builder.radiusOfGyration(a), rgB = Builder.radiusOfGyration(b)
        let rg = targetRg(a.count + b.count)
        let m = mA + mB
        let gamma = max((m * m * rg * rg - m * mA * rgA * rgA - m * mB * rgB * rgB) / (mA * mB), 0).squareRoot()
        let ca = Builder.centreOfMass(a), cb = Builder.centreOfMass(b)
        var best: (error: Double, placed: [Primary])?
        for _ in 0..<40 {
            let r = randomRotation(using: &rng)
            let turned = b.map { p -> Primary in
                let x = p.x - cb.0, y = p.y - cb.1, z = p.z - cb.2
                return Primary(x: r[0] * x + r[1] * y + r[2] * z, y: r[3] * x + r[4] * y + r[5] * z,
                               z: r[6] * x + r[7] * y + r[8] * z, diameterNm: p.diameterNm)
            }
            let u = randomUnitVector(using: &rng)
            // b's centre at ca + s u; first contact = the largest s at which some pair touches.
            var first = -Double.infinity
            for p in turned {
                for q in a {
                    let w = (ca.0 + p.x - q.x, ca.1 + p.y - q.y, ca.2 + p.z - q.z)
                    let wu = w.0 * u.0 + w.1 * u.1 + w.2 * u.2
                    let c = contact(p, q)
                    let disc = wu * wu - (w.0 * w.0 + w.1 * w.1 + w.2 * w.2) + c * c
                    if disc >= 0 { first = max(first, -wu + disc.squareRoot()) }
                }
            }
            guard first.isFinite else { continue }
            let error = abs(first - gamma)
            if best == nil || error < best!.error {
                let shift = (ca.0 + first * u.0, ca.1 + first * u.1, ca.2 + first * u.2)
                best = (error, turned.map { Primary(x: $0.x + shift.0, y: $0.y + shift.1, z: $0.z + shift.2,
                                                    diameterNm: $0.diameterNm) })
            }
        }
        return a + (best?.placed ?? b)
    }
}
