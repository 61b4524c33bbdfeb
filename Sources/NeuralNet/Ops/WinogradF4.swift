internal import CSGEMM

/// Winograd F(4 x 4, 3 x 3): 4 x 4 output tiles from 6 x 6 input patches, 36 GEMMs, 2.25
/// multiplies per output instead of F(2 x 2, 3 x 3)'s 4 (and im2col's 9). Interpolation points
/// 0, ±1, ±2 and ∞ (Lavin and Gray 2016):
///
///     Bᵀ = [4  0 -5  0 1 0]    G = [ 1/4     0     0]    Aᵀ = [1 1  1 1  1 0]
///          [0 -4 -4  1 1 0]        [-1/6  -1/6  -1/6]         [0 1 -1 2 -2 0]
///          [0  4 -4 -1 1 0]        [-1/6   1/6  -1/6]         [0 1  1 4  4 0]
///          [0 -2 -1  2 1 0]        [1/24  1/12   1/6]         [0 1 -1 8 -8 1]
///          [0  2 -1 -2 1 0]        [1/24 -1/12   1/6]
///          [0  4  0 -5 0 1]        [   0     0     1]
///
/// Its transforms carry factors up to 8 in Aᵀ and 1/24 in G, so rounding is about ten times
/// F(2 x 2)'s (tests: 2e-5 relative to the output's scale). The transforms are vectorised over
/// eight tiles of a tile row at a time: each padded input row is split into its four column
/// phases (`row[4j + p - 1]`), so that a tile's six columns are phases 0-3 at `j` and phases
/// 0-1 at `j + 1`, loaded as SIMD8 vectors; the kernel transforms run over eight kernels at a time.
///
/// Where the CPU has AVX2 and FMA, the input and output transforms of each tile row run in C
/// compiled for them (`CWinograd.h`, chosen at run time): Swift builds this code for baseline
/// x86-64, where a SIMD8 is two SSE halves and no FMA, and those two transforms were a third of
/// a forward pass on such a CPU (Docs/Benchmarks.md).
extension Winograd {
    /// Whether the F(4 x 4) input and output transforms run in the AVX2 + FMA C kernels (tests
    /// switch it off to compare with the Swift transforms).
    nonisolated(unsafe) package static var vectorTransforms = cwinograd_avx2_available()

    typealias V8 = SIMD8<Float>
    typealias Six = (V8, V8, V8, V8, V8, V8)

    /// Bᵀ v for six values.
    @inline(__always)
    static func f4B(_ d: Six) -> Six {
        (4 * d.0 - 5 * d.2 + d.4,
         d.3 + d.4 - 4 * (d.1 + d.2),
         d.4 - d.3 + 4 * (d.1 - d.2),
         d.4 - d.2 + 2 * (d.3 - d.1),
         d.4 - d.2 - 2 * (d.3 - d.1),
         4 * d.1 - 5 * d.3 + d.5)
    }

    /// G v for three values.
    @inline(__always)
    static func f4G(_ a: V8, _ b: V8, _ c: V8) -> Six {
        (a * 0.25, (a + b + c) * (-1.0 / 6), (a - b + c) * (-1.0 / 6),
         a * (1.0 / 24) + b * (1.0 / 12) + c * (1.0 / 6), a * (1.0 / 24) - b * (1.0 / 12) + c * (1.0 / 6), c)
    }

    /// Gᵀ v for six values.
    @inline(__always)
    static func f4GT(_ v: Six) -> (V8, V8, V8) {
        (v.0 * 0.25 - (v.1 + v.2) * (1.0 / 6) + (v.3 + v.4) * (1.0 / 24),
         (v.2 - v.1) * (1.0 / 6) + (v.3 - v.4) * (1.0 / 12),
         (v.3 + v.4 - v.1 - v.2) * (1.0 / 6) + v.5)
    }

    /// Aᵀ v for six values.
    @inline(__always)
    static func f4AT(_ m: Six) -> (V8, V8, V8, V8) {
        (m.0 + m.1 + m.2 + m.3 + m.4,
         m.1 - m.2 + 2 * (m.3 - m.4),
         m.1 + m.2 + 4 * (m.3 + m.4),
         m.1 - m.2 + 8 * (m.3 - m.4) + m.5)
    }

    /// A v for four values.
    @inline(__always)
    static func f4A(_ y0: V8, _ y1: V8, _ y2: V8, _ y3: V8) -> Six {
        (y0, y0 + y1 + y2 + y3, y0 - y1 + y2 - y3, y0 + 2 * y1 + 4 * y2 + 8 * y3, y0 - 2 * y1 + 4 * y2 - 8 * y3, y3)
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }

    /// Loads `lanes` (at most 8) floats, zeros beyond.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, lanes: Int) -> V8 {
        if lanes >= 8 { return load(p) }
        var v = V8()
        for l in 0..<lanes { v[l] = p[l] }
        return v
    }

    /// Stores the first `lanes` (at most 8) lanes.
    @inline(__always)
    static func store(_ v: V8, _ p: UnsafeMutablePointer<Float>, lanes: Int) {
        if lanes >= 8 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self); return }
        for l in 0..<lanes { p[l] = v[l] }
    }

    /// Stores six vectors `stride` floats apart (their first `lanes` lanes).
    @inline(__always)
    static func storeSix(_ e: Six, _ p: UnsafeMutablePointer<Float>, stride: Int, lanes: Int) {
        store(e.0, p, lanes: lanes); store(e.1, p + stride, lanes: lanes); store(e.2, p + 2 * stride, lanes: lanes)
        store(e.3, p + 3 * stride, lanes: lanes); store(e.4, p + 4 * stride, lanes: lanes); store(e.5, p + 5 * stride, lanes: lanes)
    }

    /// F(4 x 4) kernels `U[ξ][o][c] = (G g Gᵀ)[ξ]`; with `turned`, those of the input gradient:
    /// `U[ξ][c][o]` of `g[o][c]` turned by 180°. Eight kernels at a time, along the stored index.
    static func f4Kernels(_ weight: UnsafePointer<Float>, outputs o: Int, inputs c: Int, turned: Bool) -> [Float] {
        var u = [Float](repeating: 0, count: 36 * o * c)
        // Forward: index oi * c + ci, blocks of ci; turned: index ci * o + oi, blocks of oi.
        let rows = turned ? c : o, columns = turned ? o : c
        u.withUnsafeMutableBufferPointer { ub in
            let up = ub.baseAddress!, plane = o * c
            parallelFor(rows, minimumChunk: 4) { range in
                for row in range {
                    for start in stride(from: 0, to: columns, by: 8) {
                        let lanes = min(8, columns - start)
                        @inline(__always) func tap(_ k: Int) -> V8 {  // weight k (0-8) of the eight kernels
                            var v = V8()
                            for l in 0..<lanes {
                                let (oi, ci) = turned ? (start + l, row) : (row, start + l)
                                v[l] = weight[(oi * c + ci) * 9 + (turned ? 8 - k : k)]
                            }
                            return v
                        }
                        // G g: for each kernel column j, the six rows; then each row's three values times Gᵀ.
                        let col0 = f4G(tap(0), tap(3), tap(6)), col1 = f4G(tap(1), tap(4), tap(7)), col2 = f4G(tap(2), tap(5), tap(8))
                        let out = up + row * columns + start
                        @inline(__always) func put(_ a: Int, _ x: V8, _ y: V8, _ z: V8) {
                            storeSix(f4G(x, y, z), out + a * 6 * plane, stride: plane, lanes: lanes)
                        }
                        put(0, col0.0, col1.0, col2.0); put(1, col0.1, col1.1, col2.1); put(2, col0.2, col1.2, col2.2)
                        put(3, col0.3, col1.3, col2.3); put(4, col0.4, col1.4, col2.4); put(5, col0.5, col1.5, col2.5)
                    }
                }
            }
        }
        return u
    }

    /// F(4 x 4) `V[ξ][ci][q - tiles.lowerBound] = (Bᵀ d B)[ξ]` (as `transformInput`, 6 x 6 patches).
    static func f4TransformInput(_ x: UnsafePointer<Float>, channels c: Int, tiling t: Tiling, tiles: Range<Int>,
                                 into v: UnsafeMutablePointer<Float>) {
        let h = t.height, w = t.width, tw = t.tilesWide
        let count = tiles.count, stride = c * count
        let span = (tw + 1 + 7) / 8 * 8 + 8  // phases padded so that SIMD8 loads at j and j + 1 stay inside
        let vectorised = vectorTransforms
        parallelFor(c, minimumChunk: 1) { channels in
            let phases = UnsafeMutablePointer<Float>.allocate(capacity: 24 * span)  // 6 rows x 4 phases
            defer { phases.deallocate() }
            phases.initialize(repeating: 0, count: 24 * span)
            for ci in channels {
                forEachTileRow(t, tiles: tiles) { b, ti, column in
                    let plane = x + (b * c + ci) * h * w
                    if vectorised {
                        cwinograd_f4_input_row(plane, h, w, ti, tw, v + ci * count + column, stride, phases, span)
                        return
                    }
                    for k in 0..<6 {
                        let r = 4 * ti - 1 + k
                        for p in 0..<4 {
                            let dst = phases + (k * 4 + p) * span
                            guard r >= 0 && r < h else { dst.update(repeating: 0, count: tw + 1); continue }
                            // Padded column 4j + p is input column 4j + p - 1.
                            let row = plane + r * w
                            dst[0] = p == 0 ? 0 : row[p - 1]
                            let valid = min(tw + 1, (w - p + 4) / 4)  // j with 4j + p - 1 < w
                            for j in 1..<max(1, valid) { dst[j] = row[4 * j + p - 1] }
                            if valid < tw + 1 { (dst + max(valid, 1)).update(repeating: 0, count: tw + 1 - max(valid, 1)) }
                        }
                    }
                    for jb in Swift.stride(from: 0, to: tw, by: 8) {
                        let lanes = min(8, tw - jb)
                        @inline(__always) func patchRow(_ k: Int) -> Six {
                            let base = phases + k * 4 * span + jb
                            return (load(base), load(base + span), load(base + 2 * span), load(base + 3 * span),
                                    load(base + 1), load(base + span + 1))
                        }
                        // Bᵀ d over the six rows (each a six-column tuple), then B on each row.
                        let d0 = patchRow(0), d1 = patchRow(1), d2 = patchRow(2), d3 = patchRow(3), d4 = patchRow(4), d5 = patchRow(5)
                        @inline(__always) func transformedColumn(_ i: Int) -> Six {
                            func pick(_ s: Six) -> V8 { i == 0 ? s.0 : i == 1 ? s.1 : i == 2 ? s.2 : i == 3 ? s.3 : i == 4 ? s.4 : s.5 }
                            return f4B((pick(d0), pick(d1), pick(d2), pick(d3), pick(d4), pick(d5)))
                        }
                        let c0 = transformedColumn(0), c1 = transformedColumn(1), c2 = transformedColumn(2), c3 = transformedColumn(3), c4 = transformedColumn(4), c5 = transformedColumn(5)
                        let out = v + ci * count + column + jb
                        @inline(__always) func put(_ r: Int, _ e: Six) { storeSix(e, out + r * 6 * stride, stride: stride, lanes: lanes) }
                        // Row r of Bᵀ d B is B applied to row r of Bᵀ d: the r-th entries of c0...c5.
                        put(0, f4B((c0.0, c1.0, c2.0, c3.0, c4.0, c5.0)))
                        put(1, f4B((c0.1, c1.1, c2.1, c3.1, c4.1, c5.1)))
                        put(2, f4B((c0.2, c1.2, c2.2, c3.2, c4.2, c5.2)))
                        put(3, f4B((c0.3, c1.3, c2.3, c3.3, c4.3, c5.3)))
                        put(4, f4B((c0.4, c1.4, c2.4, c3.4, c4.4, c5.4)))
                        put(5, f4B((c0.5, c1.5, c2.5, c3.5, c4.5, c5.5)))
                    }
                }
            }
        }
    }

    /// F(4 x 4) `dM[ξ][oi][q - tiles.lowerBound] = (A dY Aᵀ)[ξ]` from the 4 x 4 output-gradient blocks.
    static func f4TransformGradient(_ dy: UnsafePointer<Float>, channels o: Int, tiling t: Tiling, tiles: Range<Int>,
                                    into m: UnsafeMutablePointer<Float>) {
        let h = t.height, w = t.width, tw = t.tilesWide
        let count = tiles.count, stride = o * count
        let span = (tw + 7) / 8 * 8
        parallelFor(o, minimumChunk: 1) { channels in
            let phases = UnsafeMutablePointer<Float>.allocate(capacity: 16 * span)  // 4 rows x 4 phases
            defer { phases.deallocate() }
            phases.initialize(repeating: 0, count: 16 * span)
            for oi in channels {
                forEachTileRow(t, tiles: tiles) { b, ti, column in
                    let plane = dy + (b * o + oi) * h * w
                    for r in 0..<4 {
                        let row = 4 * ti + r
                        for p in 0..<4 {
                            let dst = phases + (r * 4 + p) * span
                            guard row < h else { dst.update(repeating: 0, count: tw); continue }
                            let src = plane + row * w
                            let valid = min(tw, (w - p + 3) / 4)  // j with 4j + p < w
                            for j in 0..<valid { dst[j] = src[4 * j + p] }
                            if valid < tw { (dst + valid).update(repeating: 0, count: tw - valid) }
                        }
                    }
                    for jb in Swift.stride(from: 0, to: tw, by: 8) {
                        let lanes = min(8, tw - jb)
                        @inline(__always) func y(_ r: Int, _ p: Int) -> V8 { load(phases + (r * 4 + p) * span + jb) }
                        // A over the rows (for each column phase p), then A over the columns.
                        let p0 = f4A(y(0, 0), y(1, 0), y(2, 0), y(3, 0)), p1 = f4A(y(0, 1), y(1, 1), y(2, 1), y(3, 1))
                        let p2 = f4A(y(0, 2), y(1, 2), y(2, 2), y(3, 2)), p3 = f4A(y(0, 3), y(1, 3), y(2, 3), y(3, 3))
                        let out = m + oi * count + column + jb
                        @inline(__always) func put(_ r: Int, _ e: Six) { storeSix(e, out + r * 6 * stride, stride: stride, lanes: lanes) }
                        put(0, f4A(p0.0, p1.0, p2.0, p3.0)); put(1, f4A(p0.1, p1.1, p2.1, p3.1))
                        put(2, f4A(p0.2, p1.2, p2.2, p3.2)); put(3, f4A(p0.3, p1.3, p2.3, p3.3))
                        put(4, f4A(p0.4, p1.4, p2.4, p3.4)); put(5, f4A(p0.5, p1.5, p2.5, p3.5))
                    }
                }
            }
        }
    }

    /// F(4 x 4) output: `Aᵀ M A` of each tile into `y`, plus what `y` holds when `accumulate`,
    /// then the epilogue's bias and ReLU.
    static func f4TransformOutput(_ m: UnsafePointer<Float>, channels o: Int, tiling t: Tiling, tiles: Range<Int>,
                                  into y: UnsafeMutablePointer<Float>, epilogue: ConvolutionEpilogue, accumulate: Bool) {
        let h = t.height, w = t.width, tw = t.tilesWide
        let count = tiles.count, stride = o * count
        let vectorised = vectorTransforms
        parallelFor(o, minimumChunk: 1) { channels in
            for oi in channels {
                let add = epilogue.bias?[oi] ?? 0, relu = epilogue.relu
                forEachTileRow(t, tiles: tiles) { b, ti, column in
                    let plane = y + (b * o + oi) * h * w
                    if vectorised {
                        cwinograd_f4_output_row(m + oi * count + column, stride, h, w, ti, tw, plane, add, relu, accumulate)
                        return
                    }
                    for jb in Swift.stride(from: 0, to: tw, by: 8) {
                        let lanes = min(8, tw - jb)
                        let base = m + oi * count + column + jb
                        @inline(__always) func row(_ k: Int) -> Six {
                            let p = base + k * 6 * stride
                            return (load(p, lanes: lanes), load(p + stride, lanes: lanes), load(p + 2 * stride, lanes: lanes),
                                    load(p + 3 * stride, lanes: lanes), load(p + 4 * stride, lanes: lanes),
                                    load(p + 5 * stride, lanes: lanes))
                        }
                        let m0 = row(0), m1 = row(1), m2 = row(2), m3 = row(3), m4 = row(4), m5 = row(5)
                        // Aᵀ M: for each column, Aᵀ over the six rows; then Aᵀ over each result row's six columns.
                        @inline(__always) func transformedColumn(_ i: Int) -> (V8, V8, V8, V8) {
                            func pick(_ s: Six) -> V8 { i == 0 ? s.0 : i == 1 ? s.1 : i == 2 ? s.2 : i == 3 ? s.3 : i == 4 ? s.4 : s.5 }
                            return f4AT((pick(m0), pick(m1), pick(m2), pick(m3), pick(m4), pick(m5)))
                        }
                        let s0 = transformedColumn(0), s1 = transformedColumn(1), s2 = transformedColumn(2), s3 = transformedColumn(3), s4 = transformedColumn(4), s5 = transformedColumn(5)
                        // Eight whole tiles inside the row: the four column vectors interleaved into
                        // 32 consecutive outputs, with the epilogue on vectors.
                        let whole = lanes == 8 && 4 * (jb + 8) <= w
                        @inline(__always) func write(_ r: Int, _ q: (V8, V8, V8, V8)) {
                            let rowIndex = 4 * ti + r
                            guard rowIndex < h else { return }
                            let dst = plane + rowIndex * w
                            if whole {
                                let a = q.0, b = q.1, c = q.2, d = q.3
                                let start = dst + 4 * jb
                                @inline(__always) func put(_ i: Int, _ v: V8) {
                                    var x = v + add
                                    if accumulate { x += load(start + 8 * i) }
                                    if relu { x = x.replacing(with: 0, where: x .< 0) }
                                    UnsafeMutableRawPointer(start + 8 * i).storeBytes(of: x, as: V8.self)
                                }
                                put(0, V8(a[0], b[0], c[0], d[0], a[1], b[1], c[1], d[1]))
                                put(1, V8(a[2], b[2], c[2], d[2], a[3], b[3], c[3], d[3]))
                                put(2, V8(a[4], b[4], c[4], d[4], a[5], b[5], c[5], d[5]))
                                put(3, V8(a[6], b[6], c[6], d[6], a[7], b[7], c[7], d[7]))
                                return
                            }
                            @inline(__always) func put(_ col: Int, _ value: Float) {
                                guard col < w else { return }
                                var v = value + add
                                if accumulate { v += dst[col] }
                                dst[col] = relu ? max(v, 0) : v
                            }
                            for l in 0..<lanes {
                                let col = 4 * (jb + l)
                                put(col, q.0[l]); put(col + 1, q.1[l]); put(col + 2, q.2[l]); put(col + 3, q.3[l])
                            }
                        }
                        write(0, f4AT((s0.0, s1.0, s2.0, s3.0, s4.0, s5.0)))
                        write(1, f4AT((s0.1, s1.1, s2.1, s3.1, s4.1, s5.1)))
                        write(2, f4AT((s0.2, s1.2, s2.2, s3.2, s4.2, s5.2)))
                        write(3, f4AT((s0.3, s1.3, s2.3, s3.3, s4.3, s5.3)))
                    }
                }
            }
        }
    }

    /// F(4 x 4) weight gradient from `dU` ([36][O][C]): `dW[o][c] += Gᵀ dU[o][c] G`, eight
    /// kernels at a time.
    static func f4AddWeightGradient(_ du: UnsafePointer<Float>, outputs o: Int, inputs c: Int,
                                    into dw: UnsafeMutablePointer<Float>) {
        let plane = o * c
        parallelFor(o, minimumChunk: 4) { range in
            for oi in range {
                for start in stride(from: 0, to: c, by: 8) {
                    let lanes = min(8, c - start)
                    let base = du + oi * c + start
                    @inline(__always) func row(_ a: Int) -> Six {
                        let p = base + a * 6 * plane
                        return (load(p, lanes: lanes), load(p + plane, lanes: lanes), load(p + 2 * plane, lanes: lanes),
                                load(p + 3 * plane, lanes: lanes), load(p + 4 * plane, lanes: lanes), load(p + 5 * plane, lanes: lanes))
                    }
                    let u0 = row(0), u1 = row(1), u2 = row(2), u3 = row(3), u4 = row(4), u5 = row(5)
                    // Gᵀ dU: for each column b, Gᵀ over the six rows (three results); then G on each row.
                    let c0 = f4GT((u0.0, u1.0, u2.0, u3.0, u4.0, u5.0)), c1 = f4GT((u0.1, u1.1, u2.1, u3.1, u4.1, u5.1))
                    let c2 = f4GT((u0.2, u1.2, u2.2, u3.2, u4.2, u5.2)), c3 = f4GT((u0.3, u1.3, u2.3, u3.3, u4.3, u5.3))
                    let c4 = f4GT((u0.4, u1.4, u2.4, u3.4, u4.4, u5.4)), c5 = f4GT((u0.5, u1.5, u2.5, u3.5, u4.5, u5.5))
                    let r0 = f4GT((c0.0, c1.0, c2.0, c3.0, c4.0, c5.0))
                    let r1 = f4GT((c0.1, c1.1, c2.1, c3.1, c4.1, c5.1))
                    let r2 = f4GT((c0.2, c1.2, c2.2, c3.2, c4.2, c5.2))
                    for l in 0..<lanes {
                        let out = dw + (oi * c + start + l) * 9
                        out[0] += r0.0[l]; out[1] += r0.1[l]; out[2] += r0.2[l]
                        out[3] += r1.0[l]; out[4] += r1.1[l]; out[5] += r1.2[l]
                        out[6] += r2.0[l]; out[7] += r2.1[l]; out[8] += r2.2[l]
                    }
                }
            }
        }
    }
}
