import Foundation

/// Adam with PyTorch's coupled weight decay (L2 added to the gradient before the moment
/// updates, `torch.optim.Adam(weight_decay:)`, not AdamW) and bias correction.
///
/// ## References
/// D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization", ICLR 2015, arXiv:1412.6980.
public final class Adam {
    public let parameters: [(String, Parameter)]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    /// Steps taken so far.
    public private(set) var step = 0
    var firstMoments: [[Float]]
    var secondMoments: [[Float]]

    public init(parameters: [(String, Parameter)], learningRate: Float = 1e-4, beta1: Float = 0.9,
                beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoments = parameters.map { [Float](repeating: 0, count: $0.1.value.count) }
        secondMoments = firstMoments
    }

    /// One update of every trainable parameter from its accumulated gradient.
    public func update() { NeuralNetProfile.measure(.optimizer) { updateParameters() } }

    private func updateParameters() {
        step += 1
        let correction1 = 1 - powf(beta1, Float(step)), correction2 = 1 - powf(beta2, Float(step))
        let stepSize = learningRate / correction1, root2 = correction2.squareRoot()
        for (k, (_, p)) in parameters.enumerated() where p.requiresGradient {
            let n = p.value.count
            p.value.data.withUnsafeMutableBufferPointer { theta in
                p.gradient.data.withUnsafeBufferPointer { grad in
                    firstMoments[k].withUnsafeMutableBufferPointer { m in
                        secondMoments[k].withUnsafeMutableBufferPointer { v in
                            let tp = theta.baseAddress!, gp = grad.baseAddress!, mp = m.baseAddress!, vp = v.baseAddress!
                            let (beta1, beta2, weightDecay, epsilon) = (self.beta1, self.beta2, self.weightDecay, self.epsilon)
                            // Large tensors on all cores (each element is independent).
                            parallelFor(n, minimumChunk: 1 << 15) { range in
                                for i in range {
                                    let g = gp[i] + weightDecay * tp[i]
                                    mp[i] = beta1 * mp[i] + (1 - beta1) * g
                                    vp[i] = beta2 * vp[i] + (1 - beta2) * g * g
                                    tp[i] -= stepSize * mp[i] / (vp[i].squareRoot() / root2 + epsilon)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Scales all gradients so that their global L2 norm is at most `maximumNorm`.
    /// - Returns: the norm before clipping.
    @discardableResult
    public func clipGradients(maximumNorm: Float) -> Float {
        var sum = 0.0
        for (_, p) in parameters where p.requiresGradient {
            for g in p.gradient.data { sum += Double(g) * Double(g) }
        }
        let norm = Float(sum.squareRoot())
        if norm > maximumNorm && norm > 0 {
            let scale = maximumNorm / (norm + 1e-6)
            for (_, p) in parameters where p.requiresGradient {
                for i in 0..<p.gradient.data.count { p.gradient.data[i] *= scale }
            }
        }
        return norm
    }

    /// Moments and step as a state dict (`NAME.exp_avg`, `NAME.exp_avg_sq`, `step`), for checkpoints.
    public func stateDict() -> StateDict {
        var entries: [String: StateDict.Entry] = [:]
        var order: [String] = []
        for (k, (name, p)) in parameters.enumerated() {
            entries[name + ".exp_avg"] = .init(tensor: Tensor(uncheckedShape: p.value.shape, data: firstMoments[k]), isInteger: false)
            entries[name + ".exp_avg_sq"] = .init(tensor: Tensor(uncheckedShape: p.value.shape, data: secondMoments[k]), isInteger: false)
            order += [name + ".exp_avg", name + ".exp_avg_sq"]
        }
        entries["step"] = .init(tensor: Tensor(uncheckedShape: [], data: [Float(step)]), isInteger: true)
        order.append("step")
        return StateDict(entries: entries, order: order)
    }

    /// Restores moments and step saved by `stateDict()`.
    /// - Throws: `NeuralNetError.stateDictMismatch` when a parameter's moments are missing or misshapen.
    public func load(_ state: StateDict) throws {
        var missing: [String] = [], wrong: [String] = []
        for (k, (name, p)) in parameters.enumerated() {
            guard let m = state[name + ".exp_avg"], let v = state[name + ".exp_avg_sq"] else { missing.append(name); continue }
            guard m.count == p.value.count, v.count == p.value.count else { wrong.append(name); continue }
            firstMoments[k] = m.data
            secondMoments[k] = v.data
        }
        guard missing.isEmpty, wrong.isEmpty, let s = state["step"] else {
            throw NeuralNetError.stateDictMismatch(missing: missing + (state["step"] == nil ? ["step"] : []),
                                                   unexpected: [], wrongShape: wrong)
        }
        step = Int(s.data[0])
    }
}
