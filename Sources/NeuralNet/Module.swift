import Foundation

/// A trainable tensor and its accumulated gradient.
public final class Parameter {
    /// Current value.
    public var value: Tensor
    /// dL/dvalue accumulated by `backward` since the last `zeroGradient()`.
    public var gradient: Tensor
    /// Frozen parameters get no optimiser updates.
    public var requiresGradient = true

    public init(_ value: Tensor) {
        self.value = value
        self.gradient = Tensor(zeros: value.shape)
    }

    public func zeroGradient() {
        for i in 0..<gradient.data.count { gradient.data[i] = 0 }
    }
}

/// A non-trainable state tensor (batch-norm running statistics).
public final class Buffer {
    public var value: Tensor
    /// Stored as a 64-bit integer in PyTorch (e.g. `num_batches_tracked`).
    public let isInteger: Bool

    public init(_ value: Tensor, isInteger: Bool = false) {
        self.value = value
        self.isInteger = isInteger
    }
}

/// A network building block with a forward pass, a backward pass and named state.
///
/// `forward(_:training:)` caches what `backward(_:)` needs when `training` is true;
/// `backward` returns dL/dinput and adds into each parameter's gradient. Names follow
/// PyTorch's `state_dict()` (children of a sequential container are "0", "1", ...).
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, training: Bool) -> Tensor
    func backward(_ gradOutput: Tensor) -> Tensor
    /// Directly owned parameters, by local name.
    var localParameters: [(String, Parameter)] { get }
    /// Directly owned buffers, by local name.
    var localBuffers: [(String, Buffer)] { get }
    /// Sub-layers, by local name.
    var children: [(String, Layer)] { get }
    /// Drops cached derived data (e.g. folded inference weights) after the weights change.
    func invalidateCaches()
}

extension Layer {
    public var localParameters: [(String, Parameter)] { [] }
    public var localBuffers: [(String, Buffer)] { [] }
    public var children: [(String, Layer)] { [] }
    public func invalidateCaches() {}

    /// All parameters with dotted names, depth first in declaration order.
    public func namedParameters(prefix: String = "") -> [(String, Parameter)] {
        var out = localParameters.map { (prefix + $0.0, $0.1) }
        for (name, child) in children { out += child.namedParameters(prefix: prefix + name + ".") }
        return out
    }

    /// All buffers with dotted names.
    public func namedBuffers(prefix: String = "") -> [(String, Buffer)] {
        var out = localBuffers.map { (prefix + $0.0, $0.1) }
        for (name, child) in children { out += child.namedBuffers(prefix: prefix + name + ".") }
        return out
    }

    /// Calls `invalidateCaches()` on this layer and every descendant.
    public func invalidateAllCaches() {
        invalidateCaches()
        for (_, child) in children { child.invalidateAllCaches() }
    }

    /// Number of trainable scalars.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.value.count } }

    /// Parameters and buffers as a PyTorch-style state dict (values are copies).
    public func stateDict() -> StateDict {
        var entries: [String: StateDict.Entry] = [:]
        var order: [String] = []
        for (name, p) in namedParameters() { entries[name] = .init(tensor: p.value, isInteger: false); order.append(name) }
        for (name, b) in namedBuffers() { entries[name] = .init(tensor: b.value, isInteger: b.isInteger); order.append(name) }
        return StateDict(entries: entries, order: order)
    }

    /// Loads a state dict. With `strict`, every key must be present and no extra key allowed;
    /// shapes must always match.
    /// - Throws: `NeuralNetError.stateDictMismatch` listing the offending keys.
    public func load(_ state: StateDict, strict: Bool = true) throws {
        let parameters = namedParameters(), buffers = namedBuffers()
        var missing: [String] = [], wrong: [String] = []
        var known = Set<String>()
        for (name, p) in parameters {
            known.insert(name)
            guard let e = state.entries[name] else { missing.append(name); continue }
            if e.tensor.shape != p.value.shape { wrong.append("\(name) expects \(p.value.shape), file has \(e.tensor.shape)") }
        }
        for (name, b) in buffers {
            known.insert(name)
            guard let e = state.entries[name] else { missing.append(name); continue }
            if e.tensor.count != b.value.count { wrong.append("\(name) expects \(b.value.shape), file has \(e.tensor.shape)") }
        }
        let unexpected = state.entries.keys.filter { !known.contains($0) }.sorted()
        if !wrong.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            throw NeuralNetError.stateDictMismatch(missing: missing, unexpected: unexpected, wrongShape: wrong)
        }
        for (name, p) in parameters { if let e = state.entries[name] { p.value = e.tensor } }
        for (name, b) in buffers {
            if let e = state.entries[name] { b.value = Tensor(uncheckedShape: b.value.shape, data: e.tensor.data) }
        }
        invalidateAllCaches()
    }

    /// Sets every parameter gradient to zero.
    public func zeroGradients() {
        NeuralNetProfile.measure(.zeroGradients) { for (_, p) in namedParameters() { p.zeroGradient() } }
    }
}

/// Named tensors in PyTorch `state_dict()` order, with the integer flag PyTorch's
/// `num_batches_tracked` needs when written back.
public struct StateDict: Sendable {
    public struct Entry: Sendable {
        public var tensor: Tensor
        public var isInteger: Bool
        public init(tensor: Tensor, isInteger: Bool) {
            self.tensor = tensor
            self.isInteger = isInteger
        }
    }
    public var entries: [String: Entry]
    /// Key order for writing (the model's declaration order).
    public var order: [String]

    public init(entries: [String: Entry], order: [String]? = nil) {
        self.entries = entries
        self.order = order ?? entries.keys.sorted()
    }

    public subscript(key: String) -> Tensor? { entries[key]?.tensor }
}

/// Applies layers in order; children are named "0", "1", ... as in `nn.Sequential`.
public final class Sequential: Layer {
    public let layers: [Layer]
    public init(_ layers: [Layer]) { self.layers = layers }
    public var children: [(String, Layer)] { layers.enumerated().map { (String($0.offset), $0.element) } }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        layers.reduce(input) { $1.forward($0, training: training) }
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        layers.reversed().reduce(gradOutput) { $1.backward($0) }
    }
}
