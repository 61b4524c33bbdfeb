/// Thins a mask to a one-pixel-wide skeleton (MATLAB `bwmorph(mask, 'thin', Inf)`,
/// scikit-image `thin`): the two-subiteration algorithm of Guo and Hall as given by Lam, Lee and
/// Suen (METHODS.md section 5.1). Runs until no pixel changes.
///
/// Each subiteration deletes, simultaneously, every true pixel with X_H = 1,
/// 2 <= min(n1, n2) <= 3 and the subiteration's orientation test; the decision depends only on
/// the 8 neighbours, so both tests are precomputed as 256-entry tables. Only pixels still true
/// are visited, so the cost falls as the mask thins.
///
/// ## References
/// Z. Guo, R. W. Hall, "Parallel thinning with two-subiteration algorithms", Comm. ACM 32 (1989)
/// 359-373; L. Lam, S.-W. Lee, C. Y. Suen, "Thinning methodologies - a comprehensive survey",
/// IEEE TPAMI 14 (1992) 869-885, p. 879.
public func thin(_ mask: BinaryMask) -> BinaryMask {
    let w = mask.width, h = mask.height
    let pw = w + 2
    // Padded copy: outside the image is 0.
    var padded = [UInt8](repeating: 0, count: pw * (h + 2))
    var active: [Int] = []
    for r in 0..<h {
        for c in 0..<w where mask.bits[r * w + c] != 0 {
            let i = (r + 1) * pw + c + 1
            padded[i] = 1
            active.append(i)
        }
    }
    // Neighbour offsets x1...x8 = E, NE, N, NW, W, SW, S, SE.
    let offsets = [1, -pw + 1, -pw, -pw - 1, -1, pw - 1, pw, pw + 1]
    let tables = [thinningTable(subiteration: 1), thinningTable(subiteration: 2)]
    var toDelete: [Int] = []
    var changed = true
    while changed {
        changed = false
        for table in tables {
            toDelete.removeAll(keepingCapacity: true)
            padded.withUnsafeBufferPointer { p in
                for i in active where p[i] != 0 {
                    var code = 0
                    for k in 0..<8 where p[i + offsets[k]] != 0 { code |= 1 << k }
                    if table[code] { toDelete.append(i) }
                }
            }
            if !toDelete.isEmpty {
                changed = true
                for i in toDelete { padded[i] = 0 }
            }
        }
        if changed { active.removeAll { padded[$0] == 0 } }
    }
    var out = mask
    for r in 0..<h {
        for c in 0..<w { out.bits[r * w + c] = padded[(r + 1) * pw + c + 1] }
    }
    return out
}

/// Whether a pixel with neighbour code `code` (bit k-1 = x_k) is deleted in the subiteration.
private func thinningTable(subiteration: Int) -> [Bool] {
    (0..<256).map { code in
        func x(_ k: Int) -> Bool { code & (1 << ((k - 1) % 8)) != 0 }  // x9 = x1
        var xh = 0
        for i in 1...4 where !x(2 * i - 1) && (x(2 * i) || x(2 * i + 1)) { xh += 1 }
        var n1 = 0, n2 = 0
        for k in 1...4 {
            if x(2 * k - 1) || x(2 * k) { n1 += 1 }
            if x(2 * k) || x(2 * k + 1) { n2 += 1 }
        }
        let m = min(n1, n2)
        guard xh == 1, m >= 2, m <= 3 else { return false }
        if subiteration == 1 {
            return !((x(2) || x(3) || !x(8)) && x(1))
        }
        return !((x(6) || x(7) || !x(4)) && x(5))
    }
}
