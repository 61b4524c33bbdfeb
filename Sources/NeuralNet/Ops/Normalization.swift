import Foundation

/// Batch normalisation over N, H, W per channel (PyTorch `BatchNorm2d`).
///
/// Training normalises with the biased batch variance and updates the running statistics with
/// momentum 0.1 using the unbiased variance; evaluation uses the running statistics.
struct BatchNormCache {
    var normalized: [Float]   // x-hat
    var inverseStd: [Float]   // per channel
}

/// With `residual` (same shape as `x`), returns bn(x) + residual (then the ReLU when `relu`):
/// a residual block's tail in one pass.
func batchNormForwardTraining(_ x: Tensor, gamma: [Float], beta: [Float], runningMean: inout [Float],
                              runningVar: inout [Float], momentum: Float, epsilon: Float,
                              relu: Bool = false, residual: Tensor? = nil) -> (Tensor, BatchNormCache) {
    NeuralNetProfile.measure(.normalizationForward) {
    let (n, c, h, w) = x.nchw
    let plane = h * w, count = n * plane
    var y = Tensor(uninitialized: x.shape)
    var normalized = Tensor(uninitialized: x.shape).data
    var inverseStd = [Float](repeating: 0, count: c)
    var means = [Float](repeating: 0, count: c), variances = [Float](repeating: 0, count: c)
    if let residual { precondition(residual.shape == x.shape, "residual shape \(residual.shape) differs from \(x.shape)") }
    let residualData = residual?.data ?? []
    x.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            normalized.withUnsafeMutableBufferPointer { nb in
                residualData.withUnsafeBufferPointer { rb in
                let rp = residual == nil ? nil : rb.baseAddress
                means.withUnsafeMutableBufferPointer { mb in
                    variances.withUnsafeMutableBufferPointer { vb in
                        inverseStd.withUnsafeMutableBufferPointer { ib in
                            let xp = xb.baseAddress!, yp = yb.baseAddress!, np = nb.baseAddress!
                            let mp = mb.baseAddress!, vp = vb.baseAddress!, ip = ib.baseAddress!
                            parallelFor(c) { channels in
                                for ch in channels {
                                    var sum = 0.0
                                    for b in 0..<n {
                                        sum += Double(vectorSum(xp + (b * c + ch) * plane, plane))
                                    }
                                    let mean = Float(sum / Double(count))
                                    var sq = 0.0
                                    for b in 0..<n {
                                        sq += Double(vectorSumOfSquaredDeviations(xp + (b * c + ch) * plane, plane, mean: mean))
                                    }
                                    let variance = Float(sq / Double(count))
                                    let inv = 1 / (variance + epsilon).squareRoot()
                                    mp[ch] = mean; vp[ch] = variance; ip[ch] = inv
                                    let g = gamma[ch], bt = beta[ch]
                                    for b in 0..<n {
                                        let off = (b * c + ch) * plane
                                        if let rp {
                                            for i in 0..<plane {
                                                let xh = (xp[off + i] - mean) * inv
                                                np[off + i] = xh
                                                let v = xh * g + bt + rp[off + i]
                                                yp[off + i] = relu ? max(v, 0) : v
                                            }
                                            continue
                                        }
                                        for i in 0..<plane {
                                            let xh = (xp[off + i] - mean) * inv
                                            np[off + i] = xh
                                            let v = xh * g + bt
                                            yp[off + i] = relu ? max(v, 0) : v
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
    let unbias = count > 1 ? Float(count) / Float(count - 1) : 1
    for ch in 0..<c {
        runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * means[ch]
        runningVar[ch] = (1 - momentum) * runningVar[ch] + momentum * variances[ch] * unbias
    }
    return (y, BatchNormCache(normalized: normalized, inverseStd: inverseStd))
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
        cache.normalized.withUnsafeBufferPointer { nb in
            dx.data.withUnsafeMutableBufferPointer { dxb in
                dGamma.withUnsafeMutableBufferPointer { dgb in
                    dBeta.withUnsafeMutableBufferPointer { dbb in
                        mask.withUnsafeBufferPointer { mb in
                            let dyp = dyb.baseAddress!, np = nb.baseAddress!, dxp = dxb.baseAddress!
                            let dgp = dgb.baseAddress!, dbp = dbb.baseAddress!
                            let mp = reluOutput == nil ? nil : mb.baseAddress
                            parallelFor(c) { channels in
                                for ch in channels {
                                    // Pass 1: the (masked) gradient goes into dx, with its sums.
                                    var sumDy: Float = 0, sumDyXh: Float = 0
                                    for b in 0..<n {
                                        let off = (b * c + ch) * plane
                                        let g = dxp + off, d = dyp + off, xh = np + off
                                        if let mp {
                                            let m = mp + off
                                            for i in 0..<plane { g[i] = m[i] > 0 ? d[i] : 0 }
                                        } else {
                                            g.update(from: d, count: plane)
                                        }
                                        let (sg, sgx) = vectorSumAndDot(g, xh, plane)
                                        sumDy += sg; sumDyXh += sgx
                                    }
                                    dgp[ch] = sumDyXh; dbp[ch] = sumDy
                                    // Pass 2: dx = k (N g - sum g - xhat sum g xhat), in place.
                                    let k = gamma[ch] * cache.inverseStd[ch] / count
                                    for b in 0..<n {
                                        let off = (b * c + ch) * plane
                                        let g = dxp + off, xh = np + off
                                        for i in 0..<plane { g[i] = k * (count * g[i] - sumDy - xh[i] * sumDyXh) }
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
