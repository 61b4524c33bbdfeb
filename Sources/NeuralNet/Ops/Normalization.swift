import Foundation

/// Batch normalisation over N, H, W per channel (PyTorch `BatchNorm2d`).
///
/// Training normalises with the biased batch variance and updates the running statistics with
/// momentum 0.1 using the unbiased variance; evaluation uses the running statistics.
///
/// The cache keeps the layer's input (shared, not copied) and each channel's mean and inverse
/// standard deviation; backward recomputes x-hat from them. Against storing x-hat this spares
/// the forward pass one write of the activations and costs no memory: the input (a
/// convolution's output) would otherwise be freed after the forward pass, x-hat kept instead.
struct BatchNormCache {
    var input: [Float]
    var mean: [Float]         // per channel
    var inverseStd: [Float]   // per channel
}

/// With `residual` (same shape as `x`), returns bn(x) + residual (then the ReLU when `relu`):
/// a residual block's tail in one pass. Statistics come from one pass over x (sums of
/// deviations from the channel's first value and of their squares, per plane in Float and
/// across planes in Double), the output from a second.
func batchNormForwardTraining(_ x: Tensor, gamma: [Float], beta: [Float], runningMean: inout [Float],
                              runningVar: inout [Float], momentum: Float, epsilon: Float,
                              relu: Bool = false, residual: Tensor? = nil) -> (Tensor, BatchNormCache) {
    NeuralNetProfile.measure(.normalizationForward) {
    let (n, c, h, w) = x.nchw
    let plane = h * w, count = n * plane
    var y = Tensor(uninitialized: x.shape)
    var inverseStd = [Float](repeating: 0, count: c)
    var means = [Float](repeating: 0, count: c), variances = [Float](repeating: 0, count: c)
    if let residual { precondition(residual.shape == x.shape, "residual shape \(residual.shape) differs from \(x.shape)") }
    let residualData = residual?.data ?? []
    x.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            residualData.withUnsafeBufferPointer { rb in
                let rp = residual == nil ? nil : rb.baseAddress
                means.withUnsafeMutableBufferPointer { mb in
                    variances.withUnsafeMutableBufferPointer { vb in
                        inverseStd.withUnsafeMutableBufferPointer { ib in
                            let xp = xb.baseAddress!, yp = yb.baseAddress!
                            let mp = mb.baseAddress!, vp = vb.baseAddress!, ip = ib.baseAddress!
                            parallelFor(c) { channels in
                                for ch in channels {
                                    let shift = count > 0 ? xp[ch * plane] : 0
                                    var sum = 0.0, squares = 0.0
                                    for b in 0..<n {
                                        let (s, q) = vectorShiftedSums(xp + (b * c + ch) * plane, plane, shift: shift)
                                        sum += Double(s); squares += Double(q)
                                    }
                                    let meanShift = sum / Double(count)
                                    let mean = Float(Double(shift) + meanShift)
                                    let variance = Float(max(0, squares / Double(count) - meanShift * meanShift))
                                    let inv = 1 / (variance + epsilon).squareRoot()
                                    mp[ch] = mean; vp[ch] = variance; ip[ch] = inv
                                    // y = (x - mean) * scale + beta (+ residual), then the ReLU.
                                    let scale = gamma[ch] * inv, offset = beta[ch]
                                    for b in 0..<n {
                                        let off = (b * c + ch) * plane
                                        let src = xp + off, dst = yp + off
                                        if let rp {
                                            let r = rp + off
                                            if relu { for i in 0..<plane { dst[i] = max((src[i] - mean) * scale + offset + r[i], 0) } }
                                            else { for i in 0..<plane { dst[i] = (src[i] - mean) * scale + offset + r[i] } }
                                        } else if relu {
                                            for i in 0..<plane { dst[i] = max((src[i] - mean) * scale + offset, 0) }
                                        } else {
                                            for i in 0..<plane { dst[i] = (src[i] - mean) * scale + offset }
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
    let unbias = count > 1 ? Float(count) / Float(count - 1) : 1
    for ch in 0..<c {
        runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * means[ch]
        runningVar[ch] = (1 - momentum) * runningVar[ch] + momentum * variances[ch] * unbias
    }
    return (y, BatchNormCache(input: x.data, mean: means, inverseStd: inverseStd))
    }
}

/// y = x * scale[c] + shift[c] (evaluation-mode batch norm, or any per-channel affine map).
func channelAffine(_ x: Tensor, scale: [Float], shift: [Float], relu: Bool = false) -> Tensor {
    NeuralNetProfile.measure(.normalizationForward) {
    let (n, c, h, w) = x.nchw
    let plane = h * w
    var y = x
    y.data.withUnsafeMutableBufferPointer { yb in
        let yp = yb.baseAddress!
        parallelFor(n * c) { range in
            for nc in range {
                let ch = nc % c, s = scale[ch], t = shift[ch]
                let row = yp + nc * plane
                if relu { for i in 0..<plane { row[i] = max(row[i] * s + t, 0) } }
                else { for i in 0..<plane { row[i] = row[i] * s + t } }
            }
        }
    }
    return y
    }
}

/// With `reluOutput`, dy is first masked where that (fused ReLU) output was not positive.
func batchNormBackward(_ dy: Tensor, cache: BatchNormCache, gamma: [Float],
                       gradGamma: inout [Float], gradBeta: inout [Float], reluOutput: Tensor? = nil) -> Tensor {
    NeuralNetProfile.measure(.normalizationBackward) {
    let (n, c, h, w) = dy.nchw
    let mask = reluOutput?.data ?? []
    let plane = h * w, count = Float(n * plane)
    var dx = Tensor(uninitialized: dy.shape)
    var dGamma = [Float](repeating: 0, count: c), dBeta = [Float](repeating: 0, count: c)
    dy.data.withUnsafeBufferPointer { dyb in
        cache.input.withUnsafeBufferPointer { nb in
            dx.data.withUnsafeMutableBufferPointer { dxb in
                dGamma.withUnsafeMutableBufferPointer { dgb in
                    dBeta.withUnsafeMutableBufferPointer { dbb in
                        mask.withUnsafeBufferPointer { mb in
                            let dyp = dyb.baseAddress!, np = nb.baseAddress!, dxp = dxb.baseAddress!
                            let dgp = dgb.baseAddress!, dbp = dbb.baseAddress!
                            let mp = reluOutput == nil ? nil : mb.baseAddress
                            parallelFor(c) { channels in
                                for ch in channels {
                                    // Pass 1: the (masked) gradient goes into dx, with its sums
                                    // (Σ g and Σ g x-hat, x-hat = (x - mean) inv).
                                    let mean = cache.mean[ch], inv = cache.inverseStd[ch]
                                    var sumDy: Float = 0, sumDyCentered: Float = 0
                                    for b in 0..<n {
                                        let off = (b * c + ch) * plane
                                        let g = dxp + off, d = dyp + off, x = np + off
                                        if let mp {
                                            let m = mp + off
                                            for i in 0..<plane { g[i] = m[i] > 0 ? d[i] : 0 }
                                        } else {
                                            g.update(from: d, count: plane)
                                        }
                                        let (sg, sgx) = vectorSumAndCenteredDot(g, x, plane, mean: mean)
                                        sumDy += sg; sumDyCentered += sgx
                                    }
                                    let sumDyXh = sumDyCentered * inv
                                    dgp[ch] = sumDyXh; dbp[ch] = sumDy
                                    // Pass 2: dx = k (N g - sum g - xhat sum g xhat), in place.
                                    let k = gamma[ch] * inv / count
                                    let a = k * count, b0 = -k * sumDy, bx = -k * inv * sumDyXh
                                    for b in 0..<n {
                                        let off = (b * c + ch) * plane
                                        let g = dxp + off, x = np + off
                                        for i in 0..<plane { g[i] = a * g[i] + bx * (x[i] - mean) + b0 }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    for ch in 0..<c { gradGamma[ch] += dGamma[ch]; gradBeta[ch] += dBeta[ch] }
    return dx
    }
}

/// Group normalisation (PyTorch `GroupNorm`): statistics per sample over each group of
/// channels and all pixels, biased variance, then a per-channel affine map.
struct GroupNormCache {
    var normalized: [Float]
    var inverseStd: [Float]  // n x groups
}

func groupNormForward(_ x: Tensor, groups: Int, gamma: [Float], beta: [Float], epsilon: Float,
                      relu: Bool = false, keepCache: Bool = true) -> (Tensor, GroupNormCache) {
    NeuralNetProfile.measure(.normalizationForward) {
    let (n, c, h, w) = x.nchw
    precondition(c % groups == 0, "channels must divide into groups")
    let perGroup = c / groups, plane = h * w, groupSize = perGroup * plane
    var y = Tensor(uninitialized: x.shape)
    var normalized = keepCache ? Tensor(uninitialized: x.shape).data : []
    var inverseStd = [Float](repeating: 0, count: n * groups)
    x.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            normalized.withUnsafeMutableBufferPointer { nb in
                inverseStd.withUnsafeMutableBufferPointer { ib in
                    let xp = xb.baseAddress!, yp = yb.baseAddress!, ip = ib.baseAddress!
                    let np = keepCache ? nb.baseAddress : nil  // an empty array may still have a base address
                    parallelFor(n * groups) { range in
                        for ng in range {
                            let off = ng * groupSize
                            // Float partial sums over blocks of 4,096, added in Double.
                            var sum = 0.0
                            for start in stride(from: 0, to: groupSize, by: 4096) {
                                sum += Double(vectorSum(xp + off + start, min(4096, groupSize - start)))
                            }
                            let mean = Float(sum / Double(groupSize))
                            var sq = 0.0
                            for start in stride(from: 0, to: groupSize, by: 4096) {
                                sq += Double(vectorSumOfSquaredDeviations(xp + off + start, min(4096, groupSize - start), mean: mean))
                            }
                            let inv = 1 / (Float(sq / Double(groupSize)) + epsilon).squareRoot()
                            ip[ng] = inv
                            let g0 = (ng % groups) * perGroup
                            for cc in 0..<perGroup {
                                let gm = gamma[g0 + cc], bt = beta[g0 + cc]
                                let base = off + cc * plane
                                if let np {
                                    for i in 0..<plane {
                                        let xh = (xp[base + i] - mean) * inv
                                        np[base + i] = xh
                                        let v = xh * gm + bt
                                        yp[base + i] = relu ? max(v, 0) : v
                                    }
                                } else {
                                    // y = x * (inv gm) + (bt - mean inv gm)
                                    let scale = inv * gm, shift = bt - mean * inv * gm
                                    if relu {
                                        for i in 0..<plane { yp[base + i] = max(xp[base + i] * scale + shift, 0) }
                                    } else {
                                        for i in 0..<plane { yp[base + i] = xp[base + i] * scale + shift }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return (y, GroupNormCache(normalized: normalized, inverseStd: inverseStd))
    }
}

/// With `reluOutput`, dy is first masked where that (fused ReLU) output was not positive.
func groupNormBackward(_ dy: Tensor, cache: GroupNormCache, groups: Int, gamma: [Float],
                       gradGamma: inout [Float], gradBeta: inout [Float], reluOutput: Tensor? = nil) -> Tensor {
    NeuralNetProfile.measure(.normalizationBackward) {
    let (n, c, h, w) = dy.nchw
    let perGroup = c / groups, plane = h * w, groupSize = perGroup * plane
    var dx = Tensor(uninitialized: dy.shape)
    let mask = reluOutput?.data ?? []
    // Per-sample, per-channel parameter gradients, summed over samples afterwards.
    var dGamma = [Float](repeating: 0, count: n * c), dBeta = [Float](repeating: 0, count: n * c)
    dy.data.withUnsafeBufferPointer { dyb in
        cache.normalized.withUnsafeBufferPointer { nb in
            dx.data.withUnsafeMutableBufferPointer { dxb in
                dGamma.withUnsafeMutableBufferPointer { dgb in
                    dBeta.withUnsafeMutableBufferPointer { dbb in
                        mask.withUnsafeBufferPointer { mb in
                            let dyp = dyb.baseAddress!, np = nb.baseAddress!, dxp = dxb.baseAddress!
                            let dgp = dgb.baseAddress!, dbp = dbb.baseAddress!
                            let mp = reluOutput == nil ? nil : mb.baseAddress
                            parallelFor(n * groups) { range in
                                for ng in range {
                                    let b = ng / groups, g0 = (ng % groups) * perGroup
                                    let off = ng * groupSize
                                    // Pass 1: masked gradient into dx; sums of g and g xhat per channel.
                                    // dxhat = g gamma; dx = inv/M (M dxhat - sum dxhat - xhat sum dxhat xhat)
                                    var sumD: Float = 0, sumDX: Float = 0
                                    for cc in 0..<perGroup {
                                        let base = off + cc * plane
                                        let gp = dxp + base, d = dyp + base, xh = np + base
                                        if let mp {
                                            let m = mp + base
                                            for i in 0..<plane { gp[i] = m[i] > 0 ? d[i] : 0 }
                                        } else {
                                            gp.update(from: d, count: plane)
                                        }
                                        let (sdy, sdyx) = vectorSumAndDot(gp, xh, plane)
                                        dgp[b * c + g0 + cc] = sdyx; dbp[b * c + g0 + cc] = sdy
                                        let gm = gamma[g0 + cc]
                                        sumD += sdy * gm; sumDX += sdyx * gm
                                    }
                                    // Pass 2, in place.
                                    let m = Float(groupSize), k = cache.inverseStd[ng] / m
                                    for cc in 0..<perGroup {
                                        let gm = gamma[g0 + cc], base = off + cc * plane
                                        let gp = dxp + base, xh = np + base
                                        for i in 0..<plane { gp[i] = k * (m * gp[i] * gm - sumD - xh[i] * sumDX) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    for b in 0..<n { for ch in 0..<c { gradGamma[ch] += dGamma[b * c + ch]; gradBeta[ch] += dBeta[b * c + ch] } }
    return dx
    }
}
