/// Nearest-neighbour upsampling by an integer factor (PyTorch `interpolate(mode="nearest")`,
/// out[i] = in[floor(i / factor)]).
func upsampleNearest(_ x: Tensor, factor: Int) -> Tensor {
    NeuralNetProfile.measure(.resampling) {
    let (n, c, h, w) = x.nchw
    let oh = h * factor, ow = w * factor
    var y = Tensor(uninitialized: [n, c, oh, ow])
    x.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            let xp = xb.baseAddress!, yp = yb.baseAddress!
            parallelFor(n * c) { planes in
                for pl in planes {
                    let src = xp + pl * h * w, dst = yp + pl * oh * ow
                    for r in 0..<oh {
                        let s = src + (r / factor) * w, d = dst + r * ow
                        for cc in 0..<ow { d[cc] = s[cc / factor] }
                    }
                }
            }
        }
    }
    return y
    }
}

func upsampleNearestBackward(_ dy: Tensor, factor: Int) -> Tensor {
    NeuralNetProfile.measure(.resampling) {
    let (n, c, oh, ow) = dy.nchw
    let h = oh / factor, w = ow / factor
    var dx = Tensor(zeros: [n, c, h, w])
    dy.data.withUnsafeBufferPointer { dyb in
        dx.data.withUnsafeMutableBufferPointer { dxb in
            let dyp = dyb.baseAddress!, dxp = dxb.baseAddress!
            parallelFor(n * c) { planes in
                for pl in planes {
                    let src = dyp + pl * oh * ow, dst = dxp + pl * h * w
                    for r in 0..<oh {
                        let s = src + r * ow, d = dst + (r / factor) * w
                        for cc in 0..<ow { d[cc / factor] += s[cc] }
                    }
                }
            }
        }
    }
    return dx
    }
}

/// Linear interpolation taps for align_corners = true: output index i samples source position
/// i (n_in - 1) / (n_out - 1).
struct LinearTaps {
    var low: [Int], high: [Int], weight: [Float]

    init(input: Int, output: Int) {
        low = []; high = []; weight = []
        let scale = output > 1 ? Float(input - 1) / Float(output - 1) : 0
        for i in 0..<output {
            let pos = Float(i) * scale
            let l = min(Int(pos), input - 1)
            low.append(l)
            high.append(min(l + 1, input - 1))
            weight.append(pos - Float(l))
        }
    }
}

/// Bilinear upsampling by an integer factor with align_corners = true (smp's FPN blocks and
/// segmentation head, PyTorch `UpsamplingBilinear2d`).
func upsampleBilinear(_ x: Tensor, factor: Int) -> Tensor {
    let (n, c, h, w) = x.nchw
    var y = Tensor(uninitialized: [n, c, h * factor, w * factor])
    upsampleBilinear(x, factor: factor, into: &y, accumulate: false)
    return y
}

/// Bilinear upsampling written into (or, with `accumulate`, added to) `y`.
func upsampleBilinear(_ x: Tensor, factor: Int, into y: inout Tensor, accumulate: Bool) {
    NeuralNetProfile.measure(.resampling) {
    let (n, c, h, w) = x.nchw
    let oh = h * factor, ow = w * factor
    precondition(y.shape == [n, c, oh, ow], "upsampling target has the wrong shape")
    let rows = LinearTaps(input: h, output: oh), cols = LinearTaps(input: w, output: ow)
    x.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            cols.low.withUnsafeBufferPointer { lowBuffer in
                cols.high.withUnsafeBufferPointer { highBuffer in
                    cols.weight.withUnsafeBufferPointer { weightBuffer in
                        let xp = xb.baseAddress!, yp = yb.baseAddress!
                        let low = lowBuffer.baseAddress!, high = highBuffer.baseAddress!, fxs = weightBuffer.baseAddress!
                        parallelFor(n * c) { planes in
                            // Horizontally interpolated source rows, computed once per source row.
                            var rowA = [Float](repeating: 0, count: ow), rowB = rowA
                            rowA.withUnsafeMutableBufferPointer { ab in
                                rowB.withUnsafeMutableBufferPointer { bb in
                                    var top = ab.baseAddress!, bottom = bb.baseAddress!
                                    for pl in planes {
                                        let src = xp + pl * h * w, dst = yp + pl * oh * ow
                                        var topRow = -1, bottomRow = -1
                                        func fill(_ out: UnsafeMutablePointer<Float>, _ r: Int) {
                                            let a = src + r * w
                                            for cc in 0..<ow {
                                                let l = a[low[cc]]
                                                out[cc] = l + (a[high[cc]] - l) * fxs[cc]
                                            }
                                        }
                                        for r in 0..<oh {
                                            let rl = rows.low[r], rh = rows.high[r], fy = rows.weight[r]
                                            if rl != topRow {
                                                if rl == bottomRow { swap(&top, &bottom); topRow = rl; bottomRow = -1 }
                                                else { fill(top, rl); topRow = rl }
                                            }
                                            if rh != bottomRow { fill(bottom, rh); bottomRow = rh }
                                            let d = dst + r * ow
                                            if accumulate {
                                                for cc in 0..<ow { d[cc] += top[cc] + (bottom[cc] - top[cc]) * fy }
                                            } else {
                                                for cc in 0..<ow { d[cc] = top[cc] + (bottom[cc] - top[cc]) * fy }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    }
}

func upsampleBilinearBackward(_ dy: Tensor, factor: Int) -> Tensor {
    NeuralNetProfile.measure(.resampling) {
    let (n, c, oh, ow) = dy.nchw
    let h = oh / factor, w = ow / factor
    let rows = LinearTaps(input: h, output: oh), cols = LinearTaps(input: w, output: ow)
    var dx = Tensor(zeros: [n, c, h, w])
    dy.data.withUnsafeBufferPointer { dyb in
        dx.data.withUnsafeMutableBufferPointer { dxb in
            let dyp = dyb.baseAddress!, dxp = dxb.baseAddress!
            parallelFor(n * c) { planes in
                var rowGrad = [Float](repeating: 0, count: w)
                for pl in planes {
                    let src = dyp + pl * oh * ow, dst = dxp + pl * h * w
                    for r in 0..<oh {
                        for cc in 0..<w { rowGrad[cc] = 0 }
                        let s = src + r * ow
                        for cc in 0..<ow {
                            let g = s[cc], fx = cols.weight[cc]
                            rowGrad[cols.low[cc]] += g * (1 - fx)
                            rowGrad[cols.high[cc]] += g * fx
                        }
                        let fy = rows.weight[r]
                        let a = dst + rows.low[r] * w, b = dst + rows.high[r] * w
                        for cc in 0..<w { a[cc] += rowGrad[cc] * (1 - fy); b[cc] += rowGrad[cc] * fy }
                    }
                }
            }
        }
    }
    return dx
    }
}
