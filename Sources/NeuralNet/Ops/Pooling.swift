/// Max pooling (PyTorch `MaxPool2d`, padding with -infinity), recording the argmax for backward.
func maxPoolForward(_ x: Tensor, kernel: Int, stride: Int, padding: Int) -> (Tensor, [Int32]) {
    NeuralNetProfile.measure(.pooling) {
    let (n, c, h, w) = x.nchw
    let outH = (h + 2 * padding - kernel) / stride + 1, outW = (w + 2 * padding - kernel) / stride + 1
    var y = Tensor(uninitialized: [n, c, outH, outW])
    var argmax = [Int32](repeating: 0, count: y.count)
    x.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            argmax.withUnsafeMutableBufferPointer { ab in
                let xp = xb.baseAddress!, yp = yb.baseAddress!, ap = ab.baseAddress!
                parallelFor(n * c) { planes in
                    for pl in planes {
                        let src = xp + pl * h * w
                        let dst = yp + pl * outH * outW, arg = ap + pl * outH * outW
                        for oh in 0..<outH {
                            let r0 = max(0, oh * stride - padding), r1 = min(h, oh * stride - padding + kernel)
                            for ow in 0..<outW {
                                let c0 = max(0, ow * stride - padding), c1 = min(w, ow * stride - padding + kernel)
                                var best = -Float.infinity, at = r0 * w + c0
                                if r1 - r0 == 3 && c1 - c0 == 3 {
                                    // Interior 3 x 3 window, unrolled (the ResNet stem's pool).
                                    let base = r0 * w + c0
                                    var dr = 0
                                    while dr < 3 {
                                        let row = base + dr * w
                                        var v = src[row]; if v > best { best = v; at = row }
                                        v = src[row + 1]; if v > best { best = v; at = row + 1 }
                                        v = src[row + 2]; if v > best { best = v; at = row + 2 }
                                        dr += 1
                                    }
                                } else {
                                    var r = r0
                                    while r < r1 {
                                        let row = src + r * w
                                        var cc = c0
                                        while cc < c1 {
                                            let v = row[cc]
                                            if v > best { best = v; at = r * w + cc }
                                            cc += 1
                                        }
                                        r += 1
                                    }
                                }
                                dst[oh * outW + ow] = best
                                arg[oh * outW + ow] = Int32(at)
                            }
                        }
                    }
                }
            }
        }
    }
    return (y, argmax)
    }
}

func maxPoolBackward(_ dy: Tensor, argmax: [Int32], inputShape: [Int]) -> Tensor {
    NeuralNetProfile.measure(.pooling) {
    let (n, c, outH, outW) = dy.nchw
    let h = inputShape[2], w = inputShape[3]
    var dx = Tensor(zeros: inputShape)
    dy.data.withUnsafeBufferPointer { dyb in
        dx.data.withUnsafeMutableBufferPointer { dxb in
            let dyp = dyb.baseAddress!, dxp = dxb.baseAddress!
            parallelFor(n * c) { planes in
                for pl in planes {
                    let dst = dxp + pl * h * w
                    for i in 0..<(outH * outW) { dst[Int(argmax[pl * outH * outW + i])] += dyp[pl * outH * outW + i] }
                }
            }
        }
    }
    return dx
    }
}
