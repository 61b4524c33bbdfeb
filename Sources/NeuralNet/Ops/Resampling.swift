/// Nearest-neighbour upsampling by an integer factor (PyTorch `interpolate(mode="nearest")`,
/// out[i] = in[floor(i / factor)]).
func upsampleNearest(_ x: Tensor, factor: Int) -> Tensor {
    let (n, c, h, w) = x.nchw
    let oh = h * factor, ow = w * factor
    var y = Tensor(zeros: [n, c, oh, ow])
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

func upsampleNearestBackward(_ dy: Tensor, factor: Int) -> Tensor {
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
    let oh = h * factor, ow = w * factor
    let rows = LinearTaps(input: h, output: oh), cols = LinearTaps(input: w, output: ow)
    var y = Tensor(zeros: [n, c, oh, ow])
    x.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            let xp = xb.baseAddress!, yp = yb.baseAddress!
            parallelFor(n * c) { planes in
                var top = [Float](repeating: 0, count: ow), bottom = [Float](repeating: 0, count: ow)
                for pl in planes {
                    let src = xp + pl * h * w, dst = yp + pl * oh * ow
                    var cachedLow = -1, cachedHigh = -1
                    for r in 0..<oh {
                        let rl = rows.low[r], rh = rows.high[r], fy = rows.weight[r]
                        if rl != cachedLow || rh != cachedHigh {
                            let a = src + rl * w, b = src + rh * w
                            for cc in 0..<ow {
                                let l = cols.low[cc], hgh = cols.high[cc], fx = cols.weight[cc]
                                top[cc] = a[l] + (a[hgh] - a[l]) * fx
                                bottom[cc] = b[l] + (b[hgh] - b[l]) * fx
                            }
                            cachedLow = rl; cachedHigh = rh
                        }
                        let d = dst + r * ow
                        for cc in 0..<ow { d[cc] = top[cc] + (bottom[cc] - top[cc]) * fy }
                    }
                }
            }
        }
    }
    return y
}

func upsampleBilinearBackward(_ dy: Tensor, factor: Int) -> Tensor {
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
