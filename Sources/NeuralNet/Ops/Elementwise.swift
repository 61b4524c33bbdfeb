import Foundation

/// max(x, 0) element-wise (one pass into a new buffer).
func reluForward(_ x: Tensor) -> Tensor {
    NeuralNetProfile.measure(.elementwise) {
    var y = Tensor(uninitialized: x.shape)
    x.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            let p = xb.baseAddress!, q = yb.baseAddress!
            parallelFor(xb.count, minimumChunk: 1 << 16) { r in for i in r { q[i] = max(p[i], 0) } }
        }
    }
    return y
    }
}

/// dy where the forward output was positive, else 0 (one pass into a new buffer).
func reluBackward(_ dy: Tensor, output: Tensor) -> Tensor {
    NeuralNetProfile.measure(.elementwise) {
    var dx = Tensor(uninitialized: dy.shape)
    dx.data.withUnsafeMutableBufferPointer { b in
        dy.data.withUnsafeBufferPointer { g in
            output.data.withUnsafeBufferPointer { o in
                let d = b.baseAddress!, gp = g.baseAddress!, q = o.baseAddress!
                parallelFor(b.count, minimumChunk: 1 << 16) { r in for i in r { d[i] = q[i] > 0 ? gp[i] : 0 } }
            }
        }
    }
    return dx
    }
}

/// a + b element-wise (same shapes, one pass into a new buffer).
func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    NeuralNetProfile.measure(.elementwise) {
    precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
    var y = Tensor(uninitialized: a.shape)
    y.data.withUnsafeMutableBufferPointer { yb in
        a.data.withUnsafeBufferPointer { ab in
            b.data.withUnsafeBufferPointer { bb in
                let out = yb.baseAddress!, p = ab.baseAddress!, q = bb.baseAddress!
                parallelFor(yb.count, minimumChunk: 1 << 16) { r in for i in r { out[i] = p[i] + q[i] } }
            }
        }
    }
    return y
    }
}

/// Adds `b` into `a` in place.
func addInPlace(_ a: inout Tensor, _ b: Tensor) {
    NeuralNetProfile.measure(.elementwise) {
    precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
    a.data.withUnsafeMutableBufferPointer { yb in
        b.data.withUnsafeBufferPointer { bb in
            let p = yb.baseAddress!, q = bb.baseAddress!
            parallelFor(yb.count, minimumChunk: 1 << 16) { r in for i in r { p[i] += q[i] } }
        }
    }
    }
}

/// The logistic function element-wise.
public func sigmoid(_ x: Tensor) -> Tensor {
    var y = x
    y.data.withUnsafeMutableBufferPointer { b in
        let p = b.baseAddress!
        parallelFor(b.count, minimumChunk: 1 << 15) { r in
            for i in r {
                let v = p[i]
                // Stable on both sides.
                if v >= 0 { p[i] = 1 / (1 + expf(-v)) } else { let e = expf(v); p[i] = e / (1 + e) }
            }
        }
    }
    return y
}
