/// Pixel adjacency for connected components.
public enum Connectivity: Int, Sendable, CaseIterable, Codable {
    /// Edge neighbours only (N, S, E, W).
    case four = 4
    /// Edge and corner neighbours.
    case eight = 8
}

/// Labels the connected components of `mask` (MATLAB `bwlabel`).
///
/// Components are numbered 1...n in column-major order of their first pixel, as MATLAB numbers
/// them (METHODS.md section 1.1), so aggregate ids match atems. Two-pass union-find over
/// provisional labels; the column-major numbering comes from each component's smallest
/// column-major index, found during the row-major passes (no strided scan).
public func label(_ mask: BinaryMask, connectivity: Connectivity = .eight) -> LabelImage {
    let w = mask.width, h = mask.height
    var provisional = [Int32](repeating: 0, count: w * h)
    // parent[0] is unused; provisional labels start at 1. A new label starts only at a pixel
    // whose left neighbour is background, so there are at most (w + 1) / 2 per row.
    var parentStorage = [Int32](repeating: 0, count: ((w + 1) / 2) * h + 2)
    var labelCount = 1
    let eight = connectivity == .eight
    parentStorage.withUnsafeMutableBufferPointer { parentBuffer in
    let parent = parentBuffer.baseAddress!
    mask.bits.withUnsafeBufferPointer { bits in
        provisional.withUnsafeMutableBufferPointer { prov in
            @inline(__always) func find(_ x: Int32) -> Int32 {
                var root = x
                while parent[Int(root)] != root { root = parent[Int(root)] }
                var node = x
                while parent[Int(node)] != root {
                    let next = parent[Int(node)]
                    parent[Int(node)] = root
                    node = next
                }
                return root
            }
            @inline(__always) func merge(_ current: Int32, _ other: Int32) -> Int32 {
                if other == 0 { return current }
                let ro = find(other)
                if current == 0 { return ro }
                if current == ro { return current }
                let rc = find(current)
                if rc == ro { return rc }
                if rc < ro { parent[Int(ro)] = rc; return rc }
                parent[Int(rc)] = ro
                return ro
            }
            for r in 0..<h {
                let base = r * w
                for c in 0..<w where bits[base + c] != 0 {
                    var current: Int32 = 0
                    if c > 0 { current = merge(current, prov[base + c - 1]) }
                    if r > 0 {
                        let up = base - w + c
                        current = merge(current, prov[up])
                        if eight {
                            if c > 0 { current = merge(current, prov[up - 1]) }
                            if c + 1 < w { current = merge(current, prov[up + 1]) }
                        }
                    }
                    if current == 0 {
                        current = Int32(labelCount)
                        parent[labelCount] = current
                        labelCount += 1
                    }
                    prov[base + c] = current
                }
            }
        }
    }
    }
    var parent = Array(parentStorage.prefix(labelCount))
    // Flatten every provisional label to its root.
    // Parents always have smaller labels than their children, so one ascending pass suffices.
    for i in 1..<max(parent.count, 1) { parent[i] = parent[Int(parent[i])] }
    // Smallest column-major index (c * h + r) per root.
    var firstIndex = [Int](repeating: .max, count: parent.count)
    provisional.withUnsafeBufferPointer { prov in
        for r in 0..<h {
            for c in 0..<w {
                let l = prov[r * w + c]
                if l == 0 { continue }
                let root = Int(parent[Int(l)])
                let key = c * h + r
                if key < firstIndex[root] { firstIndex[root] = key }
            }
        }
    }
    let roots = (1..<max(parent.count, 1)).filter { parent[$0] == Int32($0) }
        .sorted { firstIndex[$0] < firstIndex[$1] }
    var final = [Int32](repeating: 0, count: parent.count)
    for (k, root) in roots.enumerated() { final[root] = Int32(k + 1) }
    var labels = [Int32](repeating: 0, count: w * h)
    provisional.withUnsafeBufferPointer { prov in
        labels.withUnsafeMutableBufferPointer { out in
            for i in 0..<(w * h) {
                let l = prov[i]
                if l != 0 { out[i] = final[Int(parent[Int(l)])] }
            }
        }
    }
    return LabelImage(width: w, height: h, labels: labels, count: roots.count)
}
