/// A network's first convolution (with its batch norm folded in) for a gray image that the
/// network would see replicated to C channels and normalised per channel, `(g - mean_c) / std_c`
/// (ImageNet statistics for TEM images, METHODS.md 3.5).
///
/// The C channels carry one plane, so the convolution folds to a single-channel one:
///
///     y_o(p) = Σ_k W'_ok g(p + k) + b_o - Σ_{k inside} T_ok,
///     W'_ok = s_o Σ_c w_ock / std_c,  T_ok = s_o Σ_c w_ock mean_c / std_c,
///
/// with `s_o`, `b_o` the batch norm's scale and shift and "inside" the taps that fall on the
/// image (the C-channel convolution pads its normalised input with zeros, so a tap in the
/// padding adds nothing, not `-T_ok`). The single-channel convolution runs with the bias
/// `b_o - Σ_k T_ok` of an interior pixel; the few output rows and columns whose window reaches
/// into the padding then get back the `T_ok` of their outside taps. For ResNet's 7 x 7 stem on a
/// 2240 x 1952 image this is a third of the multiply-adds and of the im2col columns.
/// Results equal the C-channel convolution's up to rounding (tests compare them).
struct GrayStemWeights {
    let mean: [Float], std: [Float]
    /// W' ([O][1][kh][kw]).
    let weight: [Float]
    /// b_o - Σ_k T_ok: the bias of an output whose window lies inside the image.
    let interiorBias: [Float]
    /// T ([O][kh][kw]).
    let tapShift: [Float]
    let geometry: ConvolutionGeometry
}

extension Conv2d {
    /// relu?(bn(conv(x))) for the C-channel input `x_c = (g - mean_c) / std_c` built from the
    /// gray batch `gray` (N x 1 x H x W), without building it; see `GrayStemWeights`.
    func forwardFoldedGray(_ gray: Tensor, batchNorm: BatchNorm2d, mean: [Float], std: [Float], relu: Bool) -> Tensor {
        let g = geometry
        precondition(mean.count == g.inputChannels && std.count == g.inputChannels,
                     "normalisation has \(mean.count) channels, the convolution \(g.inputChannels)")
        precondition(gray.shape.count == 4 && gray.shape[1] == 1, "gray input must be N x 1 x H x W")
        if grayStem == nil || grayStem!.mean != mean || grayStem!.std != std {
            grayStem = foldGray(batchNorm: batchNorm, mean: mean, std: std)
        }
        let stem = grayStem!
        var y = stem.interiorBias.withUnsafeBufferPointer { bb in
            convolutionForward(gray, weight: stem.weight, geometry: stem.geometry,
                               epilogue: ConvolutionEpilogue(bias: bb.baseAddress, relu: false))
        }
        let (n, _, h, w) = gray.nchw
        addOutsideTaps(stem, to: &y, images: n, inputHeight: h, inputWidth: w)
        if relu { reluInPlace(&y) }
        return y
    }

    private func foldGray(batchNorm: BatchNorm2d, mean: [Float], std: [Float]) -> GrayStemWeights {
        let g = geometry, o = g.outputChannels, c = g.inputChannels, taps = g.kernelHeight * g.kernelWidth
        let (scale, shift) = batchNorm.inferenceScaleShift()
        let w = weight.value.data
        var folded = [Float](repeating: 0, count: o * taps), tapShift = folded
        var interior = [Float](repeating: 0, count: o)
        for oi in 0..<o {
            var total: Float = 0
            for k in 0..<taps {
                var sum: Float = 0, shifted: Float = 0
                for ci in 0..<c {
                    let v = w[(oi * c + ci) * taps + k]
                    sum += v / std[ci]
                    shifted += v * mean[ci] / std[ci]
                }
                folded[oi * taps + k] = scale[oi] * sum
                tapShift[oi * taps + k] = scale[oi] * shifted
                total += scale[oi] * shifted
            }
            interior[oi] = shift[oi] + scale[oi] * (bias?.value.data[oi] ?? 0) - total
        }
        let single = ConvolutionGeometry(inputChannels: 1, outputChannels: o, kernelSize: g.kernelHeight,
                                         stride: g.stride, padding: g.padding, dilation: g.dilation)
        return GrayStemWeights(mean: mean, std: std, weight: folded, interiorBias: interior, tapShift: tapShift,
                               geometry: single)
    }

    /// Adds Σ_{k outside} T_ok to the outputs whose window reaches outside the input.
    private func addOutsideTaps(_ stem: GrayStemWeights, to y: inout Tensor, images n: Int, inputHeight h: Int,
                                inputWidth w: Int) {
        let g = stem.geometry, kh = g.kernelHeight, kw = g.kernelWidth, o = g.outputChannels
        let outH = g.outputSize(h, kernel: kh), outW = g.outputSize(w, kernel: kw)
        // Which taps of output row r (column q) lie inside the input.
        func inside(_ out: Int, _ tap: Int, extent: Int) -> Bool {
            let i = out * g.stride - g.padding + tap * g.dilation
            return i >= 0 && i < extent
        }
        let rowInside = (0..<outH).map { r in (0..<kh).map { inside(r, $0, extent: h) } }
        let colInside = (0..<outW).map { q in (0..<kw).map { inside(q, $0, extent: w) } }
        let borderRows = (0..<outH).filter { rowInside[$0].contains(false) }
        let borderColumns = (0..<outW).filter { colInside[$0].contains(false) }
        if borderRows.isEmpty && borderColumns.isEmpty { return }
        let borderRowSet = Set(borderRows)
        var positions: [(Int, Int)] = []
        for r in borderRows { for q in 0..<outW { positions.append((r, q)) } }
        for r in 0..<outH where !borderRowSet.contains(r) { for q in borderColumns { positions.append((r, q)) } }
        let plane = outH * outW
        stem.tapShift.withUnsafeBufferPointer { tb in
            y.data.withUnsafeMutableBufferPointer { yb in
                let t = tb.baseAddress!, yp = yb.baseAddress!
                parallelFor(o, minimumChunk: 4) { channels in
                    for oi in channels {
                        let taps = t + oi * kh * kw
                        for (r, q) in positions {
                            var outside: Float = 0
                            for i in 0..<kh {
                                let rowIn = rowInside[r][i]
                                for j in 0..<kw where !(rowIn && colInside[q][j]) { outside += taps[i * kw + j] }
                            }
                            for b in 0..<n { yp[(b * o + oi) * plane + r * outW + q] += outside }
                        }
                    }
                }
            }
        }
    }
}

/// max(x, 0) in place, over all cores.
func reluInPlace(_ x: inout Tensor) {
    let count = x.count
    x.data.withUnsafeMutableBufferPointer { xb in
        let p = xb.baseAddress!
        let chunk = 1 << 16
        parallelFor((count + chunk - 1) / chunk, minimumChunk: 1) { blocks in
            for b in blocks {
                for i in (b * chunk)..<min(count, (b + 1) * chunk) { p[i] = max(p[i], 0) }
            }
        }
    }
}
