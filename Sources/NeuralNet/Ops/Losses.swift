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
