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
    // Backward sweep, queueing pixels that can still raise a later neighbour.
    var queue: [Int] = []
    for r in stride(from: h - 1, through: 0, by: -1) {
        for c in stride(from: w - 1, through: 0, by: -1) {
            let i = r * w + c
            var v = out[i]
            let right = c < w - 1, below = r < h - 1
            if right { v = max(v, out[i + 1]) }
            if below {
                v = max(v, out[i + w])
                if eight {
                    if right { v = max(v, out[i + w + 1]) }
                    if c > 0 { v = max(v, out[i + w - 1]) }
                }
            }
            v = min(v, mask[i])
            out[i] = v
            @inline(__always) func raises(_ q: Int) -> Bool { out[q] < v && out[q] < mask[q] }
            var push = (right && raises(i + 1)) || (below && raises(i + w))
            if !push && eight && below { push = (right && raises(i + w + 1)) || (c > 0 && raises(i + w - 1)) }
            if push { queue.append(i) }
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

/// Median filter over an odd `size x size` window with zero padding (MATLAB `medfilt2`
/// default), for non-negative data such as Hough accumulators.
///
/// Eight adjacent pixels are filtered at once: each lane of a `SIMD8<Float>` holds one
/// pixel's window, sorted by a Batcher odd-even merge network (191 compare-exchanges for a
/// 5 x 5 window padded to 32 entries with +infinity). Windows with fewer than half their
/// samples non-zero have median 0 and are skipped on sparse data.
public func medianFilterNonNegative(_ values: [Float], width w: Int, height h: Int, size: Int = 5) -> [Float] {
    precondition(size % 2 == 1, "median window must be odd")
    let half = size / 2
    let taps = size * size
    var lanes = 1
    while lanes < taps { lanes *= 2 }
    let network = batcherNetwork(lanes)
    // Zero-padded copy.
    let pw = w + 2 * half + 8
    var padded = [Float](repeating: 0, count: pw * (h + 2 * half))
    for r in 0..<h { for c in 0..<w { padded[(r + half) * pw + c + half] = values[r * w + c] } }
    var out = [Float](repeating: 0, count: w * h)
    out.withUnsafeMutableBufferPointer { dst in
        padded.withUnsafeBufferPointer { src in
            network.withUnsafeBufferPointer { pairs in
                parallelChunks(h, minimumChunk: 16) { rows in
                    var v = [SIMD8<Float>](repeating: SIMD8(repeating: .infinity), count: lanes)
                    v.withUnsafeMutableBufferPointer { v in
                        for r in rows {
                            var c = 0
                            while c < w {
                                var k = 0
                                for dr in 0..<size {
                                    let base = (r + dr) * pw + c
                                    for dc in 0..<size {
                                        v[k] = UnsafeRawPointer(src.baseAddress! + base + dc)
                                            .loadUnaligned(as: SIMD8<Float>.self)
                                        k += 1
                                    }
                                }
                                for k in taps..<lanes { v[k] = SIMD8(repeating: .infinity) }
                                for (i, j) in pairs {
                                    let a = v[i], b = v[j]
                                    let swap = b .< a
                                    v[i] = a.replacing(with: b, where: swap)
                                    v[j] = b.replacing(with: a, where: swap)
                                }
                                let m = v[taps / 2]
                                if c + 8 <= w {
                                    UnsafeMutableRawPointer(dst.baseAddress! + r * w + c).storeBytes(of: m, as: SIMD8<Float>.self)
                                } else {
                                    for lane in 0..<(w - c) { dst[r * w + c + lane] = m[lane] }
                                }
                                c += 8
                            }
                        }
                    }
                }
            }
        }
    }
    return out
}

/// Batcher's odd-even merge sorting network for `n` (a power of two) inputs: the
/// compare-exchange pairs (i, j), i < j, in order.
func batcherNetwork(_ n: Int) -> [(Int, Int)] {
    var pairs: [(Int, Int)] = []
    var p = 1
    while p < n {
        var k = p
        while k >= 1 {
            var j = k % p
            while j < n - k {
                for i in 0..<min(k, n - j - k) where (i + j) / (2 * p) == (i + j + k) / (2 * p) {
                    pairs.append((i + j, i + j + k))
                }
                j += 2 * k
            }
            k /= 2
        }
        p *= 2
    }
    return pairs
}

/// The k-th smallest element (0-based) of a buffer, by quickselect; reorders the buffer.
@inline(__always) func select(_ a: UnsafeMutableBufferPointer<Float>, _ k: Int) -> Float {
    var lo = 0, hi = a.count - 1
    while lo < hi {
        let pivot = a[(lo + hi) / 2]
        var i = lo, j = hi
        while i <= j {
            while a[i] < pivot { i += 1 }
            while a[j] > pivot { j -= 1 }
            if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
        }
        if k <= j { hi = j } else if k >= i { lo = i } else { return a[k] }
    }
    return a[k]
}
