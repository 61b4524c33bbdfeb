/// Sums over contiguous floats with 16 partial sums (two SIMD8 accumulators), so the loops run
/// on vector units: a plain `s += p[i]` loop is one dependent add after another (the compiler
/// may not reorder float additions), about 16x slower on long planes. The order of additions
/// differs from a serial sum by rounding only.

@inline(__always)
private func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

/// Σ p[i] for i < n.
@inline(__always)
func vectorSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n { a0 += load8(p, i); a1 += load8(p, i + 8); i += 16 }
    var s = (a0 + a1).sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// Σ (p[i] - mean)² for i < n.
@inline(__always)
func vectorSumOfSquaredDeviations(_ p: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
    let m = SIMD8<Float>(repeating: mean)
    var i = 0
    while i + 16 <= n {
        let d0 = load8(p, i) - m, d1 = load8(p, i + 8) - m
        a0 += d0 * d0; a1 += d1 * d1
        i += 16
    }
    var s = (a0 + a1).sum()
    while i < n { let d = p[i] - mean; s += d * d; i += 1 }
    return s
}

/// (Σ g[i], Σ g[i] x[i]) for i < n.
@inline(__always)
func vectorSumAndDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> (sum: Float, dot: Float) {
    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), d0 = SIMD8<Float>(), d1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n {
        let g0 = load8(g, i), g1 = load8(g, i + 8)
        s0 += g0; s1 += g1
        d0 += g0 * load8(x, i); d1 += g1 * load8(x, i + 8)
        i += 16
    }
    var sum = (s0 + s1).sum(), dot = (d0 + d1).sum()
    while i < n { sum += g[i]; dot += g[i] * x[i]; i += 1 }
    return (sum, dot)
}

/// (Σ d, Σ d²) with d = p[i] - shift for i < n: one pass for a mean and variance, shifted by a
/// value of the data so that the difference of squares does not cancel.
@inline(__always)
func vectorShiftedSums(_ p: UnsafePointer<Float>, _ n: Int, shift: Float) -> (sum: Float, squares: Float) {
    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), q0 = SIMD8<Float>(), q1 = SIMD8<Float>()
    let m = SIMD8<Float>(repeating: shift)
    var i = 0
    while i + 16 <= n {
        let d0 = load8(p, i) - m, d1 = load8(p, i + 8) - m
        s0 += d0; s1 += d1
        q0 += d0 * d0; q1 += d1 * d1
        i += 16
    }
    var sum = (s0 + s1).sum(), squares = (q0 + q1).sum()
    while i < n { let d = p[i] - shift; sum += d; squares += d * d; i += 1 }
    return (sum, squares)
}

/// (Σ g[i], Σ g[i] (x[i] - mean)) for i < n.
@inline(__always)
func vectorSumAndCenteredDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, mean: Float) -> (sum: Float, dot: Float) {
    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), d0 = SIMD8<Float>(), d1 = SIMD8<Float>()
    let m = SIMD8<Float>(repeating: mean)
    var i = 0
    while i + 16 <= n {
        let g0 = load8(g, i), g1 = load8(g, i + 8)
        s0 += g0; s1 += g1
        d0 += g0 * (load8(x, i) - m); d1 += g1 * (load8(x, i + 8) - m)
        i += 16
    }
    var sum = (s0 + s1).sum(), dot = (d0 + d1).sum()
    while i < n { sum += g[i]; dot += g[i] * (x[i] - mean); i += 1 }
    return (sum, dot)
}
