import HeapModule

/// Labels the regional minima of `values`: 8-connected (or 4-connected) plateaus of equal
/// value with no strictly lower neighbour. Pixels outside `mask` (when given) are ignored.
public func regionalMinima(_ values: [Float], width w: Int, height h: Int, mask: BinaryMask? = nil,
                           connectivity: Connectivity = .eight) -> LabelImage {
    precondition(values.count == w * h, "values must have width x height entries")
    func inside(_ i: Int) -> Bool { mask.map { $0.bits[i] != 0 } ?? true }
    let neighbours = neighbourOffsets(connectivity)
    var plateau = [Int32](repeating: 0, count: w * h)
    var isMinimum: [Bool] = [false]
    var stack: [Int] = []
    var next: Int32 = 0
    for start in 0..<(w * h) where plateau[start] == 0 && inside(start) {
        next += 1
        var minimum = true
        plateau[start] = next
        stack.append(start)
        let v = values[start]
        while let i = stack.popLast() {
            let r = i / w, c = i % w
            for (dr, dc) in neighbours {
                let rr = r + dr, cc = c + dc
                guard rr >= 0, rr < h, cc >= 0, cc < w else { continue }
                let j = rr * w + cc
                guard inside(j) else { continue }
                if values[j] < v { minimum = false }
                else if values[j] == v && plateau[j] == 0 {
                    plateau[j] = next
                    stack.append(j)
                }
            }
        }
        isMinimum.append(minimum)
    }
    // Keep minima only, renumbered in column-major order of first pixel.
    var final = [Int32](repeating: 0, count: Int(next) + 1)
    var count: Int32 = 0
    var labels = [Int32](repeating: 0, count: w * h)
    for c in 0..<w {
        for r in 0..<h {
            let p = Int(plateau[r * w + c])
            guard p != 0, isMinimum[p] else { continue }
            if final[p] == 0 { count += 1; final[p] = count }
            labels[r * w + c] = final[p]
        }
    }
    return LabelImage(width: w, height: h, labels: labels, count: Int(count))
}

/// Watershed by flooding (Meyer's algorithm with watershed lines, as MATLAB `watershed`).
///
/// Seeds are `markers` (default: the regional minima). Pixels are flooded in increasing value,
/// first-in first-out among equal values. A pixel whose already-labelled neighbours carry one
/// label takes it; one that touches two or more labels becomes a ridge (0) and does not spread.
/// Pixels outside `mask` stay 0.
/// - Returns: labels 1...n for the catchment basins, 0 for ridges and masked-out pixels.
public func watershed(_ values: [Float], width w: Int, height h: Int, mask: BinaryMask? = nil,
                      markers: LabelImage? = nil, connectivity: Connectivity = .eight) -> LabelImage {
    precondition(values.count == w * h, "values must have width x height entries")
    let seeds = markers ?? regionalMinima(values, width: w, height: h, mask: mask, connectivity: connectivity)
    var labels = seeds.labels
    if let mask { for i in 0..<labels.count where mask.bits[i] == 0 { labels[i] = 0 } }
    let neighbours = neighbourOffsets(connectivity)
    // 0 = not seen, 1 = queued, 2 = finished (labelled, ridge or outside the mask).
    var state = [UInt8](repeating: 0, count: w * h)
    for i in 0..<(w * h) {
        if labels[i] != 0 || (mask.map { $0.bits[i] == 0 } ?? false) { state[i] = 2 }
    }
    struct Entry: Comparable {
        let value: Float
        let order: Int
        let index: Int
        static func < (a: Entry, b: Entry) -> Bool {
            a.value < b.value || (a.value == b.value && a.order < b.order)
        }
    }
    var heap = Heap<Entry>()
    var order = 0
    func pushNeighbours(of i: Int) {
        let r = i / w, c = i % w
        for (dr, dc) in neighbours {
            let rr = r + dr, cc = c + dc
            guard rr >= 0, rr < h, cc >= 0, cc < w else { continue }
            let j = rr * w + cc
            if state[j] == 0 {
                state[j] = 1
                heap.insert(Entry(value: values[j], order: order, index: j))
                order += 1
            }
        }
    }
    for i in 0..<(w * h) where labels[i] != 0 { pushNeighbours(of: i) }
    while let entry = heap.popMin() {
        let i = entry.index
        let r = i / w, c = i % w
        var found: Int32 = 0
        var ridge = false
        for (dr, dc) in neighbours {
            let rr = r + dr, cc = c + dc
            guard rr >= 0, rr < h, cc >= 0, cc < w else { continue }
            let l = labels[rr * w + cc]
            if l == 0 { continue }
            if found == 0 { found = l } else if found != l { ridge = true; break }
        }
        state[i] = 2
        if ridge || found == 0 { continue }
        labels[i] = found
        pushNeighbours(of: i)
    }
    return LabelImage(width: w, height: h, labels: labels, count: seeds.count)
}

func neighbourOffsets(_ connectivity: Connectivity) -> [(Int, Int)] {
    connectivity == .four
        ? [(-1, 0), (0, -1), (0, 1), (1, 0)]
        : [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
}
