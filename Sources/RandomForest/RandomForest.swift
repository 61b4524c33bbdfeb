import Dispatch
import Foundation
import Randomness

/// A random forest of binary classification trees (Breiman 2001), as Trainable Weka
/// Segmentation uses one: each tree grows on a bootstrap sample of the training rows, each
/// split considers `featuresPerSplit` features drawn at random (default √F, rounded) and
/// takes the threshold of lowest weighted Gini impurity; trees grow until a node is pure or
/// holds fewer than `minimumSplitRows` rows (or reaches `maximumDepth`). A row's
/// probability is the mean over trees of its leaf's class-1 fraction. Trees grow in
/// parallel; the same seed gives the same forest on any number of cores.
public struct RandomForest: Sendable, Equatable {
    /// One tree as flat arrays: node k splits on `feature[k]` at `threshold[k]` (go `left[k]`
    /// when value <= threshold, else `left[k] + 1`); a leaf has `feature[k] == -1` and its
    /// class-1 fraction in `threshold[k]`.
    public struct Tree: Sendable, Equatable {
        public var feature: [Int32] = []
        public var threshold: [Float] = []
        public var left: [Int32] = []

        /// The class-1 fraction of the leaf `row` falls into.
        @inlinable public func probability(_ row: UnsafePointer<Float>) -> Float {
            var k = 0
            while feature[k] >= 0 {
                k = Int(left[k]) + (row[Int(feature[k])] <= threshold[k] ? 0 : 1)
            }
            return threshold[k]
        }

        public var nodeCount: Int { feature.count }

        /// Whether every split node names a feature below `featureCount` and children after
        /// itself inside the tree (what `ForestFile` checks on reading): walks then end.
        public func isWellFormed(featureCount: Int) -> Bool {
            guard !feature.isEmpty, threshold.count == feature.count, left.count == feature.count else { return false }
            for k in feature.indices where feature[k] >= 0 {
                guard Int(feature[k]) < featureCount, left[k] > Int32(k), Int(left[k]) + 1 < feature.count else { return false }
            }
            return true
        }
        public var depth: Int {
            func walk(_ k: Int) -> Int { feature[k] < 0 ? 0 : 1 + max(walk(Int(left[k])), walk(Int(left[k]) + 1)) }
            return feature.isEmpty ? 0 : walk(0)
        }
    }

    public struct Parameters: Sendable, Equatable, Codable {
        public var trees = 200
        /// Features tried per split; nil: √(feature count), rounded, at least 1.
        public var featuresPerSplit: Int?
        public var minimumSplitRows = 2
        public var maximumDepth = 64
        public var seed: UInt64 = 1
        public init() {}
    }

    public var featureCount: Int
    public var trees: [Tree]

    public init(featureCount: Int, trees: [Tree]) {
        self.featureCount = featureCount
        self.trees = trees
    }

    /// Trains a forest.
    /// - Parameters:
    ///   - rows: `labels.count` rows of `featureCount` values, row-major.
    ///   - labels: 0 or 1 per row.
    public init(training rows: [Float], labels: [UInt8], featureCount: Int, parameters: Parameters = Parameters()) {
        precondition(featureCount > 0 && rows.count == labels.count * featureCount, "rows do not match labels x features")
        self.featureCount = featureCount
        let n = labels.count
        let tries = min(featureCount, max(1, parameters.featuresPerSplit ?? Int(Double(featureCount).squareRoot().rounded())))
        var grown = [Tree](repeating: Tree(), count: parameters.trees)
        let lock = NSLock()
        // Column-major copy: a split scans one feature over a node's rows.
        var columns = [Float](repeating: 0, count: rows.count)
        for r in 0..<n { for f in 0..<featureCount { columns[f * n + r] = rows[r * featureCount + f] } }
        let frozen = columns
        DispatchQueue.concurrentPerform(iterations: parameters.trees) { t in
            var rng = SplitMix64(seed: parameters.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(t + 1))
            let sample = (0..<n).map { _ in Int32(truncatingIfNeeded: rng.next() % UInt64(n)) }
            let tree = frozen.withUnsafeBufferPointer { cols in
                labels.withUnsafeBufferPointer { y in
                    TreeBuilder(columns: cols, labels: y, rowCount: n, featureCount: featureCount, tries: tries,
                                minimumSplitRows: parameters.minimumSplitRows, maximumDepth: parameters.maximumDepth)
                        .build(sample, rng: &rng)
                }
            }
            lock.lock()
            grown[t] = tree
            lock.unlock()
        }
        trees = grown
    }

    /// Class-1 probability of each row (row-major, `featureCount` values each), rows in parallel.
    public func probabilities(_ rows: [Float]) -> [Float] {
        precondition(trees.allSatisfy { $0.isWellFormed(featureCount: featureCount) }, "a tree points outside itself")
        let n = rows.count / featureCount
        var out = [Float](repeating: 0, count: n)
        let chunk = max(1, (n + 63) / 64)
        out.withUnsafeMutableBufferPointer { o in
            let optr = o.baseAddress!
            rows.withUnsafeBufferPointer { x in
                let xptr = x.baseAddress!
                DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { c in
                    // Tree by tree over blocks of rows: a tree's nodes stay in cache.
                    var start = c * chunk
                    let end = min(n, (c + 1) * chunk)
                    while start < end {
                        let stop = min(end, start + 256)
                        for r in start..<stop { optr[r] = 0 }
                        for tree in trees {
                            // Children and features were checked when the tree was built or read.
                            tree.feature.withUnsafeBufferPointer { f in
                                tree.left.withUnsafeBufferPointer { l in
                                    tree.threshold.withUnsafeBufferPointer { t in
                                        for r in start..<stop {
                                            let row = xptr + r * featureCount
                                            var k = 0
                                            while f[k] >= 0 { k = Int(l[k]) + (row[Int(f[k])] <= t[k] ? 0 : 1) }
                                            optr[r] += t[k]
                                        }
                                    }
                                }
                            }
                        }
                        for r in start..<stop { optr[r] /= Float(max(trees.count, 1)) }
                        start = stop
                    }
                }
            }
        }
        return out
    }
}

/// Grows one tree on a bootstrap sample.
struct TreeBuilder {
    let columns: UnsafeBufferPointer<Float>
    let labels: UnsafeBufferPointer<UInt8>
    let rowCount: Int
    let featureCount: Int
    let tries: Int
    let minimumSplitRows: Int
    let maximumDepth: Int

    func build(_ sample: [Int32], rng: inout SplitMix64) -> RandomForest.Tree {
        var tree = RandomForest.Tree()
        var rows = sample
        // Nodes to grow: (node index, range in `rows`, depth).
        tree.feature.append(-1); tree.threshold.append(0); tree.left.append(-1)
        var stack: [(node: Int, lower: Int, upper: Int, depth: Int)] = [(0, 0, rows.count, 0)]
        var order = [Int](repeating: 0, count: 0)
        // A node's values of one feature with their labels, packed so that a plain integer
        // sort orders them by value: order-preserving bits of the float, then the label.
        var scratch = [UInt64]()
        var radixBuffer = [UInt64]()
        while let (node, lower, upper, depth) = stack.popLast() {
            let count = upper - lower
            var positives = 0
            for i in lower..<upper { positives += Int(labels[Int(rows[i])]) }
            let fraction = Float(positives) / Float(max(count, 1))
            tree.threshold[node] = fraction
            guard positives > 0, positives < count, count >= minimumSplitRows, depth < maximumDepth else { continue }
            // The features to try: a partial Fisher-Yates shuffle.
            order = Array(0..<featureCount)
            for k in 0..<tries {
                let j = k + Int(rng.next() % UInt64(featureCount - k))
                order.swapAt(k, j)
            }
            var best: (gini: Double, feature: Int, threshold: Float)?
            // As scikit-learn: `tries` features, and more while none of them can split the node.
            var k = 0
            while k < featureCount && (k < tries || best == nil) {
                if k >= tries {
                    let j = k + Int(rng.next() % UInt64(featureCount - k))
                    order.swapAt(k, j)
                }
                let f = order[k]
                k += 1
                scratch.removeAll(keepingCapacity: true)
                let base = f * rowCount
                for i in lower..<upper {
                    let r = Int(rows[i])
                    scratch.append(Self.pack(columns[base + r], labels[r]))
                }
                Self.sortKeys(&scratch, buffer: &radixBuffer)
                guard Self.value(scratch[0]) < Self.value(scratch[count - 1]) else { continue }
                var leftCount = 0, leftPositives = 0
                var current = Self.value(scratch[0])
                for i in 0..<(count - 1) {
                    leftCount += 1
                    leftPositives += Int(scratch[i] & 1)
                    let next = Self.value(scratch[i + 1])
                    defer { current = next }
                    guard current < next else { continue }
                    let rightCount = count - leftCount, rightPositives = positives - leftPositives
                    let gini = Self.weightedGini(leftCount, leftPositives) + Self.weightedGini(rightCount, rightPositives)
                    if best == nil || gini < best!.gini - 1e-12 {
                        // The midpoint, as scikit-learn and Weka place it.
                        best = (gini, f, current + (next - current) / 2)
                    }
                }
            }
            guard let split = best else { continue }
            // Partition the node's rows.
            var i = lower, j = upper - 1
            let base = split.feature * rowCount
            while i <= j {
                if columns[base + Int(rows[i])] <= split.threshold { i += 1 } else { rows.swapAt(i, j); j -= 1 }
            }
            guard i > lower, i < upper else { continue }
            let leftNode = tree.feature.count
            for _ in 0..<2 { tree.feature.append(-1); tree.threshold.append(0); tree.left.append(-1) }
            tree.feature[node] = Int32(split.feature)
            tree.threshold[node] = split.threshold
            tree.left[node] = Int32(leftNode)
            stack.append((leftNode + 1, i, upper, depth + 1))
            stack.append((leftNode, lower, i, depth + 1))
        }
        return tree
    }

    /// A value and its label as one integer whose order is the value's (negative floats
    /// bit-flipped, positive ones with the sign bit set), the label in the lowest bit.
    @inline(__always) static func pack(_ value: Float, _ label: UInt8) -> UInt64 {
        let bits = value.bitPattern
        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(ordered) << 1 | UInt64(label & 1)
    }

    /// Sorts `pack`ed keys (33 significant bits): three 11-bit radix passes for large nodes,
    /// the standard sort for small ones.
    static func sortKeys(_ keys: inout [UInt64], buffer: inout [UInt64]) {
        let n = keys.count
        guard n > 256 else { keys.sort(); return }
        if buffer.count < n { buffer = [UInt64](repeating: 0, count: n) }
        var counts = [Int](repeating: 0, count: 2048)
        keys.withUnsafeMutableBufferPointer { a in
            buffer.withUnsafeMutableBufferPointer { b in
                var source = a.baseAddress!, target = b.baseAddress!
                for shift in [UInt64(0), 11, 22] {
                    for d in 0..<2048 { counts[d] = 0 }
                    for i in 0..<n { counts[Int((source[i] >> shift) & 2047)] += 1 }
                    var total = 0
                    for d in 0..<2048 { let c = counts[d]; counts[d] = total; total += c }
                    for i in 0..<n {
                        let key = source[i], d = Int((key >> shift) & 2047)
                        target[counts[d]] = key
                        counts[d] += 1
                    }
                    swap(&source, &target)
                }
                // Three passes leave the result in the buffer.
                if source != a.baseAddress! { a.baseAddress!.update(from: source, count: n) }
            }
        }
    }

    /// The value of a `pack`ed key.
    @inline(__always) static func value(_ key: UInt64) -> Float {
        let ordered = UInt32(truncatingIfNeeded: key >> 1)
        return Float(bitPattern: ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered)
    }

    @inline(__always) static func weightedGini(_ n: Int, _ p: Int) -> Double { weightedGiniImpurity(rows: n, positives: p) }
}

/// n x Gini impurity of a node with n rows, p of them positive: n (1 - q² - (1 - q)²), q = p / n
/// (a split minimises the sum over its two children).
@inline(__always) public func weightedGiniImpurity(rows n: Int, positives p: Int) -> Double {
    guard n > 0 else { return 0 }
    let q = Double(p) / Double(n)
    return Double(n) * 2 * q * (1 - q)
}
