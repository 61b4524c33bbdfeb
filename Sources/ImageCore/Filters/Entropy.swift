import Foundation

/// Local entropy (MATLAB `entropyfilt`): for every pixel, the Shannon entropy in bits of the
/// 256-bin histogram of the 8-bit values in the `windowSize x windowSize` window centred on
/// it, with symmetric padding (mirror including the edge pixel).
///
/// Runs in O(width x height x windowSize): the window histogram slides along each row and
/// the entropy is updated from the running sum of c log2 c over the bins.
/// - Parameter windowSize: odd window side in pixels (atems: 15).
/// - Returns: entropies in bits (0...8) as an image (not normalised to 0...1).
public func localEntropy(_ image: GrayImage, windowSize: Int = 9) -> GrayImage {
    precondition(windowSize % 2 == 1 && windowSize > 0, "window size must be odd")
    let w = image.width, h = image.height
    let half = windowSize / 2
    let values = image.bytes8()
    let n = windowSize * windowSize
    // cLogC[c] = c log2 c.
    let cLogC: [Double] = (0...n).map { $0 == 0 ? 0 : Double($0) * log2(Double($0)) }
    let logN = log2(Double(n))
    func mirror(_ i: Int, _ size: Int) -> Int {
        // Symmetric padding: ...c b a | a b c ... (period 2 size).
        var j = i
        let period = 2 * size
        j %= period
        if j < 0 { j += period }
        return j < size ? j : period - 1 - j
    }
    var out = GrayImage(width: w, height: h, pixelSize: image.pixelSize)
    values.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            let dstBase = dst.baseAddress!
            parallelChunks(h, minimumChunk: 8) { rows in
                var counts = [Int32](repeating: 0, count: 256)
                var columnIndex = (0..<(w + 2 * half)).map { mirror($0 - half, w) }
                var rowIndex = [Int](repeating: 0, count: windowSize)
                for r in rows {
                    for k in 0..<windowSize { rowIndex[k] = mirror(r + k - half, h) * w }
                    for b in 0..<256 { counts[b] = 0 }
                    var sum = 0.0  // sum over bins of c log2 c
                    @inline(__always) func add(_ v: UInt8) {
                        let c = Int(counts[Int(v)])
                        sum += cLogC[c + 1] - cLogC[c]
                        counts[Int(v)] += 1
                    }
                    @inline(__always) func remove(_ v: UInt8) {
                        let c = Int(counts[Int(v)])
                        sum += cLogC[c - 1] - cLogC[c]
                        counts[Int(v)] -= 1
                    }
                    for k in 0..<windowSize {
                        let cc = columnIndex[k]
                        for rr in rowIndex { add(src[rr + cc]) }
                    }
                    for c in 0..<w {
                        if c > 0 {
                            let leaving = columnIndex[c - 1], entering = columnIndex[c + windowSize - 1]
                            for rr in rowIndex {
                                remove(src[rr + leaving])
                                add(src[rr + entering])
                            }
                        }
                        // H = log2 n - (1/n) sum c log2 c
                        dstBase[r * w + c] = Float(max(0, logN - sum / Double(n)))
                    }
                }
                columnIndex.removeAll()
            }
        }
    }
    return out
}
