import Foundation
import Randomness
import Testing
import RandomForest

@Suite("Random forest")
struct RandomForestTests {
    @Test("weighted Gini impurity: n x (1 - q² - (1 - q)²)")
    func gini() {
        #expect(weightedGiniImpurity(rows: 4, positives: 2) == 2)
        #expect(weightedGiniImpurity(rows: 10, positives: 0) == 0 && weightedGiniImpurity(rows: 10, positives: 10) == 0)
        #expect(abs(weightedGiniImpurity(rows: 3, positives: 1) - 3 * (1 - 1.0 / 9 - 4.0 / 9)) < 1e-12)
        #expect(weightedGiniImpurity(rows: 0, positives: 0) == 0)
    }

    @Test("a step in one feature: every root splits between the classes, at a midpoint; leaves are pure")
    func step() {
        let x: [Float] = (0..<10).map(Float.init)
        let y: [UInt8] = (0..<10).map { $0 >= 5 ? 1 : 0 }
        var p = RandomForest.Parameters()
        p.trees = 50
        let forest = RandomForest(training: x, labels: y, featureCount: 1, parameters: p)
        for tree in forest.trees where tree.feature[0] == 0 {
            // Between the largest class-0 and the smallest class-1 value the bootstrap drew.
            let t = tree.threshold[0]
            #expect(t >= 2.5 && t <= 6.5 && (2 * t).truncatingRemainder(dividingBy: 1) == 0, "threshold \(t)")
            #expect(tree.depth == 1)
        }
        #expect(forest.probabilities([0, 1, 2, 3, 8, 9]) == [0, 0, 0, 0, 1, 1])
    }

    @Test("with every feature tried, the root splits on the only informative one")
    func informativeFeature() {
        var rng = SplitMix64(seed: 5)
        var rows: [Float] = [], labels: [UInt8] = []
        for _ in 0..<200 {
            let label = UInt8(rng.next() % 2)
            rows += [Float(rng.next() % 1000) / 1000, Float(label) + Float(rng.next() % 100) / 1000, Float(rng.next() % 1000) / 1000]
            labels.append(label)
        }
        var p = RandomForest.Parameters()
        p.trees = 10
        p.featuresPerSplit = 3
        let forest = RandomForest(training: rows, labels: labels, featureCount: 3, parameters: p)
        #expect(forest.trees.allSatisfy { $0.feature[0] == 1 && $0.depth == 1 })
        #expect(forest.probabilities([0.5, 0.05, 0.5, 0.5, 1.05, 0.5]) == [0, 1])
    }

    @Test("XOR needs two levels; the forest learns it; √F features per split by default")
    func xor() {
        var rows: [Float] = [], labels: [UInt8] = []
        var rng = SplitMix64(seed: 9)
        for _ in 0..<400 {
            let a = rng.next() % 2, b = rng.next() % 2
            rows += [Float(a) + Float(rng.next() % 100) / 500, Float(b) + Float(rng.next() % 100) / 500]
            labels.append(UInt8(a ^ b))
        }
        let forest = RandomForest(training: rows, labels: labels, featureCount: 2)
        #expect(forest.trees.count == 200)
        let p = forest.probabilities([0.1, 0.1, 0.1, 1.1, 1.1, 0.1, 1.1, 1.1])
        #expect(p[0] < 0.25 && p[1] > 0.75 && p[2] > 0.75 && p[3] < 0.25, "\(p)")
        #expect(forest.trees.allSatisfy { $0.depth >= 2 })
    }

    @Test("the same seed gives the same forest; another seed another")
    func determinism() {
        var rng = SplitMix64(seed: 3)
        let rows = (0..<600).map { _ in Float(rng.next() % 1000) / 1000 }
        let labels = (0..<200).map { k in UInt8(rows[3 * k] + rows[3 * k + 1] > 1 ? 1 : 0) }
        var p = RandomForest.Parameters()
        p.trees = 16
        let a = RandomForest(training: rows, labels: labels, featureCount: 3, parameters: p)
        let b = RandomForest(training: rows, labels: labels, featureCount: 3, parameters: p)
        p.seed = 4
        let c = RandomForest(training: rows, labels: labels, featureCount: 3, parameters: p)
        #expect(a == b && a != c)
    }

    @Test("the forest file round-trips; damaged files are errors, never a crash")
    func file() throws {
        let forest = RandomForest(training: [0, 1, 2, 3], labels: [0, 0, 1, 1], featureCount: 1)
        let bytes = ForestFile.encode(forest, metadata: ["features": "original"])
        let (back, metadata) = try ForestFile.decode(bytes, path: "f")
        #expect(back == forest && metadata["features"] == "original")
        #expect(throws: ForestFileError.self) { try ForestFile.decode(Array(bytes.prefix(bytes.count - 3)), path: "f") }
        #expect(throws: ForestFileError.notAForest("f")) { try ForestFile.decode(Array(repeating: 0, count: 64), path: "f") }
        var versioned = bytes
        versioned[8] = 2
        #expect(throws: ForestFileError.unsupportedVersion("f", 2)) { try ForestFile.decode(versioned, path: "f") }
        // Every single-byte change reads as a forest or an error.
        for i in stride(from: 0, to: bytes.count, by: 3) {
            var damaged = bytes
            damaged[i] ^= 0xFF
            if let (f, _) = try? ForestFile.decode(damaged, path: "f") { _ = f.probabilities([1.5]) }
        }
    }
}
