import Foundation

/// Binary cross-entropy on logits, mean over all elements, and its gradient with respect to the
/// logits: loss_i = max(x, 0) - x y + log(1 + exp(-|x|)), the numerically safe form of
/// -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) (paper Eq. 1, PyTorch
/// `BCEWithLogitsLoss`).
/// - Returns: the loss and dL/dx = (sigmoid(x) - y) / N.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, targets: Tensor) -> (loss: Float, gradient: Tensor) {
    NeuralNetProfile.measure(.loss) {
    precondition(logits.shape == targets.shape, "logits and targets must have the same shape")
    let count = logits.count
    var gradient = Tensor(zeros: logits.shape)
    var partial = [Double](repeating: 0, count: neuralNetThreadCount * 2)
    logits.data.withUnsafeBufferPointer { xb in
        targets.data.withUnsafeBufferPointer { yb in
            gradient.data.withUnsafeMutableBufferPointer { gb in
                partial.withUnsafeMutableBufferPointer { pb in
                    let xp = xb.baseAddress!, yp = yb.baseAddress!, gp = gb.baseAddress!, pp = pb.baseAddress!
                    let chunks = pb.count
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        let start = chunk * count / chunks, end = (chunk + 1) * count / chunks
                        var s = 0.0
                        let scale = 1 / Float(count)
                        for i in start..<end {
                            let x = xp[i], y = yp[i]
                            s += Double(max(x, 0) - x * y + log1pf(expf(-abs(x))))
                            let p: Float = x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
                            gp[i] = (p - y) * scale
                        }
                        pp[chunk] = s
                    }
                }
            }
        }
    }
    return (Float(partial.reduce(0, +) / Double(count)), gradient)
    }
}

/// Binary cross-entropy on probabilities with PyTorch's clamp of the logarithms at -100
/// (`BCELoss`, mean reduction), for evaluating a model that outputs probabilities.
public func binaryCrossEntropy(probabilities: Tensor, targets: Tensor) -> Float {
    precondition(probabilities.shape == targets.shape, "probabilities and targets must have the same shape")
    var s = 0.0
    for i in 0..<probabilities.count {
        let p = Double(probabilities.data[i]), y = Double(targets.data[i])
        s -= y * max(log(p), -100) + (1 - y) * max(log(1 - p), -100)
    }
    return Float(s / Double(probabilities.count))
}

/// The loss of a centre-heatmap primary-particle detector (CenterNet, Zhou et al. 2019,
/// "Objects as points"), on logits [N, 2, H, W]: channel 0 the centre heatmap, channel 1 the
/// log diameter.
///
/// Heatmap: the penalty-reduced focal loss, summed and divided by the number of centres
/// (pixels where `heatmap` is 1): -(1 - p)^2 log p at a centre, -(1 - Y)^4 p^2 log(1 - p)
/// elsewhere (Y the target, p the sigmoid of the logit). Diameter: `sizeWeight` x L1 between
/// channel 1 and `logDiameter`, divided by the summed weight, times `sizeFactor`.
/// - Parameters:
///   - heatmap, logDiameter, sizeWeight: [N, 1, H, W].
/// - Returns: the total loss, its two parts and dL/dlogits.
public func centerHeatmapLoss(_ logits: Tensor, heatmap: Tensor, logDiameter: Tensor, sizeWeight: Tensor,
                              sizeFactor: Float = 1) -> (loss: Float, heatmapLoss: Float, sizeLoss: Float, gradient: Tensor) {
    NeuralNetProfile.measure(.loss) {
    var positives = 0.0
    for v in heatmap.data where v >= 1 { positives += 1 }
    let heatScale = Float(1 / max(positives, 1))
    let (heat, size, gradient) = detectorLoss(logits, target: heatmap, logDiameter: logDiameter, sizeWeight: sizeWeight,
                                              sizeFactor: sizeFactor, name: "centerHeatmapLoss") { x, y, _ in
        let p: Float = x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
        // log p = -softplus(-x), log(1 - p) = -softplus(x), both stable.
        let logP = -(max(-x, 0) + log1pf(expf(-abs(x)))), log1mP = -(max(x, 0) + log1pf(expf(-abs(x))))
        if y >= 1 {
            let q = (1 - p) * (1 - p)
            return (-Double(q * logP), q * (2 * p * logP - (1 - p)) * heatScale)
        }
        let r = (1 - y) * (1 - y), weight = r * r * p * p
        return (-Double(weight * log1mP), weight * (p - 2 * (1 - p) * log1mP) * heatScale)
    }
    let heatLoss = Float(heat * Double(heatScale))
    return (heatLoss + size, heatLoss, size, gradient)
    }
}

/// The loss of a distance-map primary-particle detector, on logits [N, 2, H, W]: channel 0
/// regresses `distance` (1 at a primary's centre, 0 at its rim and outside) through a sigmoid
/// with a squared error weighted by `distanceWeight` and divided by the number of pixels inside
/// a primary (where `distance` > 0), so that an image's loss does not shrink with its empty
/// film; channel 1 the log diameter as in `centerHeatmapLoss` (`sizeWeight` x L1 over the
/// summed weight, times `sizeFactor`). Peaks of the sigmoid then decode as the heatmap's do.
/// - Returns: the total loss, its two parts and dL/dlogits.
public func distanceMapLoss(_ logits: Tensor, distance: Tensor, distanceWeight: Tensor, logDiameter: Tensor, sizeWeight: Tensor,
                            sizeFactor: Float = 1) -> (loss: Float, distanceLoss: Float, sizeLoss: Float, gradient: Tensor) {
    NeuralNetProfile.measure(.loss) {
    precondition(distanceWeight.shape == distance.shape, "distanceWeight must have the shape of distance")
    var inside = 0.0
    for v in distance.data where v > 0 { inside += 1 }
    let distanceScale = Float(1 / max(inside, 1))
    let (squared, size, gradient) = detectorLoss(logits, target: distance, logDiameter: logDiameter, sizeWeight: sizeWeight,
                                                 sizeFactor: sizeFactor, name: "distanceMapLoss") { x, y, index in
        let p: Float = x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
        let e = p - y, w = distanceWeight.data[index]
        return (Double(w * e * e), 2 * w * e * p * (1 - p) * distanceScale)
    }
    let distanceLoss = Float(squared * Double(distanceScale))
    return (distanceLoss + size, distanceLoss, size, gradient)
    }
}

/// What both detector losses share, on logits [N, 2, H, W]: channel 0's loss and gradient from
/// `centre(logit, target, index)` per pixel (summed, unscaled; the gradient already scaled),
/// channel 1's `sizeWeight` x L1 to `logDiameter` over the summed weight times `sizeFactor`.
/// - Returns: channel 0's summed loss, the size loss and dL/dlogits.
func detectorLoss(_ logits: Tensor, target: Tensor, logDiameter: Tensor, sizeWeight: Tensor, sizeFactor: Float, name: String,
                  centre: (_ logit: Float, _ target: Float, _ index: Int) -> (loss: Double, gradient: Float))
    -> (centreLoss: Double, sizeLoss: Float, gradient: Tensor) {
    let (n, c, h, w) = logits.nchw
    precondition(c == 2, "\(name) needs logits with 2 channels")
    precondition(target.shape == [n, 1, h, w] && logDiameter.shape == target.shape && sizeWeight.shape == target.shape,
                 "targets must be [N, 1, H, W] like the logits")
    let plane = h * w
    var weightSum = 0.0
    for v in sizeWeight.data { weightSum += Double(v) }
    let sizeScale = Float(Double(sizeFactor) / max(weightSum, 1e-6))
    var gradient = Tensor(zeros: logits.shape)
    var centreParts = [Double](repeating: 0, count: n), sizeParts = [Double](repeating: 0, count: n)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: n) { k in
        var centreSum = 0.0, size = 0.0
        var g0 = [Float](repeating: 0, count: plane), g1 = [Float](repeating: 0, count: plane)
        let xBase = k * 2 * plane, tBase = k * plane
        for i in 0..<plane {
            let part = centre(logits.data[xBase + i], target.data[tBase + i], tBase + i)
            centreSum += part.loss
            g0[i] = part.gradient
            let sw = sizeWeight.data[tBase + i]
            if sw > 0 {
                let d = logits.data[xBase + plane + i] - logDiameter.data[tBase + i]
                size += Double(sw * abs(d))
                g1[i] = (d > 0 ? sw : d < 0 ? -sw : 0) * sizeScale
            }
        }
        lock.lock()
        centreParts[k] = centreSum
        sizeParts[k] = size
        for i in 0..<plane {
            gradient.data[xBase + i] = g0[i]
            gradient.data[xBase + plane + i] = g1[i]
        }
        lock.unlock()
    }
    return (centreParts.reduce(0, +), Float(sizeParts.reduce(0, +) * Double(sizeScale)), gradient)
}
