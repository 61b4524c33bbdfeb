import Foundation

/// Greyscale morphological reconstruction by dilation (MATLAB `imreconstruct`): the largest
/// image below `mask` reachable from `marker` by geodesic dilation. `marker` is clipped to
/// `mask` first. Vincent's hybrid algorithm: a raster and an anti-raster sweep, then a FIFO
/// queue for what is left to propagate.
public func reconstructByDilation(marker: [Float], mask: [Float], width w: Int, height h: Int,
                                  connectivity: Connectivity = .eight) -> [Float] {
    precondition(marker.count == w * h && mask.count == w * h, "marker and mask must have width x height entries")
    var out = [Float](repeating: 0, count: w * h)
    for i in 0..<out.count { out[i] = min(marker[i], mask[i]) }
    let eight = connectivity == .eight
    // Forward sweep: neighbours above and to the left.
    for r in 0..<h {
        for c in 0..<w {
            let i = r * w + c
            var v = out[i]
            if c > 0 { v = max(v, out[i - 1]) }
            if r > 0 {
                v = max(v, out[i - w])
                if eight {
                    if c > 0 { v = max(v, out[i - w - 1]) }
                    if c < w - 1 { v = max(v, out[i - w + 1]) }
                }
            }
            out[i] = min(v, mask[i])
        }
    }
    // Backward sweep, queueing pixels that can still raise a neighbour.
    var queue: [Int] = []
    func backwardNeighbours(_ r: Int, _ c: Int) -> [Int] {
        var n: [Int] = []
        if c < w - 1 { n.append(r * w + c + 1) }
        if r < h - 1 {
            n.append((r + 1) * w + c)
            if eight {
                if c < w - 1 { n.append((r + 1) * w + c + 1) }
                if c > 0 { n.append((r + 1) * w + c - 1) }
            }
        }
        return n
    }
    for r in stride(from: h - 1, through: 0, by: -1) {
        for c in stride(from: w - 1, through: 0, by: -1) {
            let i = r * w + c
            var v = out[i]
            if c < w - 1 { v = max(v, out[i + 1]) }
            if r < h - 1 {
                v = max(v, out[i + w])
                if eight {
                    if c < w - 1 { v = max(v, out[i + w + 1]) }
                    if c > 0 { v = max(v, out[i + w - 1]) }
                }
            }
            v = min(v, mask[i])
            out[i] = v
            for q in backwardNeighbours(r, c) where out[q] < v && out[q] < mask[q] {
                queue.append(i)
                break
            }
        }
    }
    let offsets: [(Int, Int)] = eight
        ? [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
        : [(-1, 0), (0, -1), (0, 1), (1, 0)]
    var head = 0
    while head < queue.count {
        let p = queue[head]
        head += 1
        let pr = p / w, pc = p % w
        let v = out[p]
        for (dr, dc) in offsets {
            let r = pr + dr, c = pc + dc
            guard r >= 0, r < h, c >= 0, c < w else { continue }
            let q = r * w + c
            if out[q] < v && out[q] != mask[q] {
                out[q] = min(v, mask[q])
                queue.append(q)
            }
        }
        if head > 1 << 20 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }
    return out
}

/// Greyscale reconstruction by erosion: the smallest image above `mask` reachable from
/// `marker` by geodesic erosion (used for the h-minima transform).
public func reconstructByErosion(marker: [Float], mask: [Float], width w: Int, height h: Int,
                                 connectivity: Connectivity = .eight) -> [Float] {
    reconstructByDilation(marker: marker.map { -$0 }, mask: mask.map { -$0 }, width: w, height: h,
                          connectivity: connectivity).map { -$0 }
}

/// Labels the regional maxima of `values` (8- or 4-connected plateaus with no strictly higher
/// neighbour), as MATLAB `imregionalmax`.
public func regionalMaxima(_ values: [Float], width w: Int, height h: Int, mask: BinaryMask? = nil,
                           connectivity: Connectivity = .eight) -> LabelImage {
    regionalMinima(values.map { -$0 }, width: w, height: h, mask: mask, connectivity: connectivity)
}

/// 5 x 5 (or any odd square) median filter with zero padding (MATLAB `medfilt2` default) for
/// non-negative data: where fewer than half the window is non-zero the median is 0, so only
/// windows with enough non-zero samples are sorted. Fast on sparse data such as Hough
/// accumulators.
public func medianFilterNonNegative(_ values: [Float], width w: Int, height h: Int, size: Int = 5) -> [Float] {
    precondition(size % 2 == 1, "median window must be odd")
    let half = size / 2
    let needed = size * size / 2 + 1
    // Integral image of the non-zero indicator.
    var integral = [Int32](repeating: 0, count: (w + 1) * (h + 1))
    for r in 0..<h {
        var row: Int32 = 0
        for c in 0..<w {
            if values[r * w + c] != 0 { row += 1 }
            integral[(r + 1) * (w + 1) + c + 1] = integral[r * (w + 1) + c + 1] + row
        }
    }
    var out = [Float](repeating: 0, count: w * h)
    out.withUnsafeMutableBufferPointer { dst in
    parallelChunks(h, minimumChunk: 32) { rows in
        var window = [Float](repeating: 0, count: size * size)
        for r in rows {
            let r0 = max(r - half, 0), r1 = min(r + half, h - 1)
            for c in 0..<w {
                let c0 = max(c - half, 0), c1 = min(c + half, w - 1)
                let nonZero = integral[(r1 + 1) * (w + 1) + c1 + 1] - integral[r0 * (w + 1) + c1 + 1]
                    - integral[(r1 + 1) * (w + 1) + c0] + integral[r0 * (w + 1) + c0]
                guard Int(nonZero) >= needed else { continue }
                var n = 0
                for rr in (r - half)...(r + half) {
                    for cc in (c - half)...(c + half) {
                        window[n] = rr >= 0 && rr < h && cc >= 0 && cc < w ? values[rr * w + cc] : 0
                        n += 1
                    }
                }
                window.sort()
                dst[r * w + c] = window[size * size / 2]
            }
        }
    }
    }
    return out
}
