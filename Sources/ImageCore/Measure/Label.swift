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
/// them (METHODS.md section 1.1), so aggregate ids match atems. Two-pass union-find.
public func label(_ mask: BinaryMask, connectivity: Connectivity = .eight) -> LabelImage {
    let w = mask.width, h = mask.height
    var provisional = [Int32](repeating: 0, count: w * h)
    var parent: [Int32] = [0]
    func find(_ x: Int32) -> Int32 {
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
    func union(_ a: Int32, _ b: Int32) -> Int32 {
        let ra = find(a), rb = find(b)
        if ra == rb { return ra }
        if ra < rb { parent[Int(rb)] = ra; return ra }
        parent[Int(ra)] = rb
        return rb
    }
    mask.bits.withUnsafeBufferPointer { bits in
        for r in 0..<h {
            for c in 0..<w where bits[r * w + c] != 0 {
                var current: Int32 = 0
                @inline(__always) func visit(_ rr: Int, _ cc: Int) {
                    let l = provisional[rr * w + cc]
                    if l != 0 { current = current == 0 ? find(l) : union(current, l) }
                }
                if c > 0 { visit(r, c - 1) }
                if r > 0 {
                    visit(r - 1, c)
                    if connectivity == .eight {
                        if c > 0 { visit(r - 1, c - 1) }
                        if c + 1 < w { visit(r - 1, c + 1) }
                    }
                }
                if current == 0 {
                    current = Int32(parent.count)
                    parent.append(current)
                }
                provisional[r * w + c] = current
            }
        }
    }
    // Final numbering: first appearance in column-major order.
    var final = [Int32](repeating: 0, count: parent.count)
    var next: Int32 = 0
    var labels = [Int32](repeating: 0, count: w * h)
    for c in 0..<w {
        for r in 0..<h {
            let l = provisional[r * w + c]
            if l == 0 { continue }
            let root = Int(find(l))
            if final[root] == 0 { next += 1; final[root] = next }
            labels[r * w + c] = final[root]
        }
    }
    return LabelImage(width: w, height: h, labels: labels, count: Int(next))
}
