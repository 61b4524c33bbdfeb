import Dispatch
/// 2-D convolution (cross-correlation, as PyTorch) by im2col and OpenBLAS SGEMM.
///
/// The column buffer is built for a band of output rows at a time and capped near
/// `columnBufferLimit` floats, so memory stays bounded for any image size; a 1 x 1 convolution
/// with stride 1 and no padding multiplies the input directly, without a column buffer.

/// Sizes of one convolution.
public struct ConvolutionGeometry: Sendable, Equatable {
    public let inputChannels: Int, outputChannels: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let stride: Int, padding: Int, dilation: Int

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
                padding: Int = 0, dilation: Int = 1) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && dilation > 0 && padding >= 0)
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelSize
        self.kernelWidth = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// Output extent along one axis of input extent `n`.
    public func outputSize(_ n: Int, kernel: Int) -> Int {
        (n + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    }

    /// Rows of the column matrix: C x kh x kw.
    var patchSize: Int { inputChannels * kernelHeight * kernelWidth }

    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }
}

/// Multiply-add work done by convolution forward passes, for benchmarks (2 FLOP per
/// multiply-add). Not synchronised: read it between passes, from one thread.
public enum ConvolutionCounter {
    nonisolated(unsafe) public static var forwardFLOPs: Double = 0
}

/// Floats in one band's column buffer (32 MiB).
let columnBufferLimit = 8 << 20

/// What to apply to each output channel after the matrix product (fused epilogue).
struct ConvolutionEpilogue {
    /// Added per output channel.
    var bias: UnsafePointer<Float>?
    /// Clamp negative values to zero after the bias.
    var relu = false
}

/// Output rows per band for a given geometry and output width.
@inline(__always)
func bandRows(_ g: ConvolutionGeometry, outputHeight: Int, outputWidth: Int) -> Int {
    max(1, min(outputHeight, columnBufferLimit / max(1, g.patchSize * outputWidth)))
}

/// Fills `columns` (patchSize x (rows.count * outW)) from one image `x` (C x H x W).
func im2col(_ x: UnsafePointer<Float>, height h: Int, width w: Int, geometry g: ConvolutionGeometry,
            outputRows rows: Range<Int>, outputWidth outW: Int, into columns: UnsafeMutablePointer<Float>) {
    let kh = g.kernelHeight, kw = g.kernelWidth, s = g.stride, p = g.padding, d = g.dilation
    let bandPixels = rows.count * outW
    parallelFor(g.patchSize, minimumChunk: 4) { patchRows in
        for row in patchRows {
            let c = row / (kh * kw), i = (row / kw) % kh, j = row % kw
            let plane = x + c * h * w
            var dst = columns + row * bandPixels
            // Valid output columns for this j: 0 <= ow*s - p + j*d < w.
            let offset = j * d - p
            var owStart = 0
            while owStart < outW && owStart * s + offset < 0 { owStart += 1 }
            var owEnd = outW
            while owEnd > owStart && (owEnd - 1) * s + offset >= w { owEnd -= 1 }
            for oh in rows {
                let ih = oh * s - p + i * d
                if ih < 0 || ih >= h {
                    dst.update(repeating: 0, count: outW)
                } else {
                    let src = plane + ih * w
                    if owStart > 0 { dst.update(repeating: 0, count: owStart) }
                    if s == 1 {
                        dst.advanced(by: owStart).update(from: src + owStart + offset, count: owEnd - owStart)
                    } else {
                        for ow in owStart..<owEnd { dst[ow] = src[ow * s + offset] }
                    }
                    if owEnd < outW { dst.advanced(by: owEnd).update(repeating: 0, count: outW - owEnd) }
                }
                dst += outW
            }
        }
    }
}

/// Adds `columns` back into the image gradient `dx` (C x H x W): the transpose of im2col.
func col2im(_ columns: UnsafePointer<Float>, height h: Int, width w: Int, geometry g: ConvolutionGeometry,
            outputRows rows: Range<Int>, outputWidth outW: Int, into dx: UnsafeMutablePointer<Float>) {
    let kh = g.kernelHeight, kw = g.kernelWidth, s = g.stride, p = g.padding, d = g.dilation
    let bandPixels = rows.count * outW
    parallelFor(g.inputChannels) { channels in
        for c in channels {
            let plane = dx + c * h * w
            for i in 0..<kh {
                for j in 0..<kw {
                    var src = columns + ((c * kh + i) * kw + j) * bandPixels
                    // Valid output columns for this j: 0 <= ow*s + offset < w (as in im2col).
                    let offset = j * d - p
                    var owStart = 0
                    while owStart < outW && owStart * s + offset < 0 { owStart += 1 }
                    var owEnd = outW
                    while owEnd > owStart && (owEnd - 1) * s + offset >= w { owEnd -= 1 }
                    for oh in rows {
                        let ih = oh * s - p + i * d
                        if ih >= 0 && ih < h && owStart < owEnd {
                            let dst = plane + ih * w + offset
                            if s == 1 {
                                for ow in owStart..<owEnd { dst[ow] += src[ow] }
                            } else {
                                for ow in owStart..<owEnd { dst[ow * s] += src[ow] }
                            }
                        }
                        src += outW
                    }
                }
            }
        }
    }
}

/// Forward convolution of an NCHW batch. `accumulate`, when given (same shape as the output),
/// is added to the result (a fused residual connection). With `winograd`, a 3 x 3 stride-1
/// convolution takes the Winograd path (see `Winograd`), with `winogradKernels` when the
/// caller has transformed the weights already; `inference` picks inference's tile size
/// (`Winograd.scheme`), which the kernels must have been transformed for.
func convolutionForward(_ input: Tensor, weight: [Float], geometry g: ConvolutionGeometry,
                        epilogue: ConvolutionEpilogue = ConvolutionEpilogue(), accumulate: Tensor? = nil,
                        winograd: Bool = false, winogradKernels: [Float]? = nil, inference: Bool = false) -> Tensor {
    let (n, c, h, w) = input.nchw
    precondition(c == g.inputChannels, "convolution expects \(g.inputChannels) channels, got \(c)")
    let outH = g.outputSize(h, kernel: g.kernelHeight), outW = g.outputSize(w, kernel: g.kernelWidth)
    precondition(outH > 0 && outW > 0, "input \(h) x \(w) too small for the convolution")
    let o = g.outputChannels, k = g.patchSize, outPlane = outH * outW
    if winograd && Winograd.applies(g) {
        ConvolutionCounter.forwardFLOPs += 2 * Double(n) * Double(o) * Double(k) * Double(outPlane)
        let scheme = Winograd.scheme(height: h, width: w, inference: inference)
        return Winograd.forward(input, kernels: winogradKernels ?? Winograd.kernels(weight, geometry: g, scheme: scheme),
                                geometry: g, scheme: scheme, epilogue: epilogue, accumulate: accumulate)
    }
    var output = accumulate ?? Tensor(zeros: [n, o, outH, outW])
    precondition(output.shape == [n, o, outH, outW], "accumulated tensor has the wrong shape")
    // The output is either freshly zeroed or the tensor to accumulate onto: beta = 1 both ways,
    // which also spares OpenBLAS its separate pass that scales C by beta.
    let beta: Float = 1
    ConvolutionCounter.forwardFLOPs += 2 * Double(n) * Double(o) * Double(k) * Double(outPlane)
    let rowsPerBand = bandRows(g, outputHeight: outH, outputWidth: outW)
    let columnCount = g.isPointwise ? 0 : k * rowsPerBand * outW
    // Several images: each core takes whole images with serial GEMMs (see convolutionBackward).
    let workers = n >= 2 ? min(neuralNetThreadCount, n) : 1
    let region = PhaseRegion(workers: workers)
    input.data.withUnsafeBufferPointer { xBuffer in
        weight.withUnsafeBufferPointer { wBuffer in
            output.data.withUnsafeMutableBufferPointer { yBuffer in
                func forwardImages(_ images: StrideTo<Int>, columns: UnsafeMutablePointer<Float>?, worker t: Int) {
                    var clock = PhaseClock()
                    defer { region.store(clock, worker: t) }
                    for b in images {
                        let x = xBuffer.baseAddress! + b * c * h * w
                        let y = yBuffer.baseAddress! + b * o * outPlane
                        if g.isPointwise {
                            gemm(transA: false, transB: false, m: o, n: outPlane, k: k, alpha: 1,
                                 a: wBuffer.baseAddress!, lda: k, b: x, ldb: outPlane, beta: beta, c: y, ldc: outPlane)
                            clock.lap(.forwardGEMM)
                            applyEpilogue(epilogue, y, channels: o, plane: outPlane, columns: 0..<outPlane)
                            clock.lap(.forwardEpilogue)
                            continue
                        }
                        var row0 = 0
                        while row0 < outH {
                            let rows = row0..<min(outH, row0 + rowsPerBand)
                            let bandPixels = rows.count * outW
                            im2col(x, height: h, width: w, geometry: g, outputRows: rows, outputWidth: outW,
                                   into: columns!)
                            clock.lap(.forwardIm2col)
                            gemm(transA: false, transB: false, m: o, n: bandPixels, k: k, alpha: 1,
                                 a: wBuffer.baseAddress!, lda: k, b: columns!, ldb: bandPixels,
                                 beta: beta, c: y + row0 * outW, ldc: outPlane)
                            clock.lap(.forwardGEMM)
                            applyEpilogue(epilogue, y, channels: o, plane: outPlane,
                                          columns: (row0 * outW)..<(row0 * outW + bandPixels))
                            clock.lap(.forwardEpilogue)
                            row0 = rows.upperBound
                        }
                    }
                }
                if workers == 1 {
                    var columns = [Float](repeating: 0, count: columnCount)
                    columns.withUnsafeMutableBufferPointer {
                        forwardImages(stride(from: 0, to: n, by: 1), columns: $0.baseAddress, worker: 0)
                    }
                } else {
                    DispatchQueue.concurrentPerform(iterations: workers) { t in
                        serially {
                            var columns = [Float](repeating: 0, count: columnCount)
                            columns.withUnsafeMutableBufferPointer {
                                forwardImages(stride(from: t, to: n, by: workers), columns: $0.baseAddress, worker: t)
                            }
                        }
                    }
                }
            }
        }
    }
    region.finish()
    return output
}

@inline(__always)
func applyEpilogue(_ e: ConvolutionEpilogue, _ y: UnsafeMutablePointer<Float>, channels: Int, plane: Int,
                   columns: Range<Int>) {
    if e.bias == nil && !e.relu { return }
    parallelFor(channels, minimumChunk: 4) { range in
        for ch in range {
            let row = y + ch * plane
            let add = e.bias?[ch] ?? 0
            if e.relu {
                for i in columns { row[i] = max(row[i] + add, 0) }
            } else {
                for i in columns { row[i] += add }
            }
        }
    }
}

/// Backward convolution: adds dL/dW into `gradWeight` (and dL/db into `gradBias`) and returns
/// dL/dx when `needInputGradient`.
/// A 3 x 3 stride-1 convolution takes the Winograd path, reading the forward pass's transformed
/// kernels `winogradKernels` (of `Winograd.scheme(height:width:)`'s scheme) when given.
func convolutionBackward(_ input: Tensor, weight: [Float], geometry g: ConvolutionGeometry, gradOutput: Tensor,
                         gradWeight: inout [Float], gradBias: UnsafeMutablePointer<Float>?,
                         needInputGradient: Bool, winogradKernels: [Float]? = nil) -> Tensor? {
    let (n, c, h, w) = input.nchw
    let (_, o, outH, outW) = gradOutput.nchw
    let k = g.patchSize, outPlane = outH * outW
    let rowsPerBand = bandRows(g, outputHeight: outH, outputWidth: outW)
    let bandCapacity = rowsPerBand * outW
    if let gradBias {
        NeuralNetProfile.measure(.biasGradient) {
        gradOutput.data.withUnsafeBufferPointer { dy in
            for b in 0..<n {
                for ch in 0..<o {
                    gradBias[ch] += vectorSum(dy.baseAddress! + (b * o + ch) * outPlane, outPlane)
                }
            }
        }
        }
    }
    if Winograd.applies(g) {
        let scheme = Winograd.scheme(height: h, width: w)
        Winograd.weightGradient(input, gradOutput: gradOutput, geometry: g, scheme: scheme, into: &gradWeight)
        guard needInputGradient else { return nil }
        return Winograd.inputGradient(gradOutput, weight: weight, kernels: winogradKernels, geometry: g, scheme: scheme)
    }
    var gradInputData = [Float](repeating: 0, count: needInputGradient ? input.count : 0)
    // With several images, each core takes whole images (serial GEMMs, its own buffers and its
    // own weight-gradient accumulator): no GEMM is split, so no operand is packed twice.
    let workers = n >= 2 ? min(neuralNetThreadCount, n) : 1
    var partialGradWeights = [Float](repeating: 0, count: workers > 1 ? workers * gradWeight.count : 0)
    let region = PhaseRegion(workers: workers)
    input.data.withUnsafeBufferPointer { xBuffer in
        weight.withUnsafeBufferPointer { wBuffer in
            gradOutput.data.withUnsafeBufferPointer { dyBuffer in
                gradWeight.withUnsafeMutableBufferPointer { dwBuffer in
                    gradInputData.withUnsafeMutableBufferPointer { dxBuffer in
                        partialGradWeights.withUnsafeMutableBufferPointer { partialBuffer in
                            let wp = wBuffer.baseAddress!
                            func backwardImages(_ images: StrideTo<Int>, dw: UnsafeMutablePointer<Float>,
                                                columns: UnsafeMutablePointer<Float>?, gradColumns: UnsafeMutablePointer<Float>?,
                                                worker t: Int) {
                                var clock = PhaseClock()
                                defer { region.store(clock, worker: t) }
                                for b in images {
                                    let x = xBuffer.baseAddress! + b * c * h * w
                                    let dy = dyBuffer.baseAddress! + b * o * outPlane
                                    if g.isPointwise {
                                        // dW += dY X^T ; dX = W^T dY
                                        gemm(transA: false, transB: true, m: o, n: k, k: outPlane, alpha: 1,
                                             a: dy, lda: outPlane, b: x, ldb: outPlane, beta: 1, c: dw, ldc: k)
                                        clock.lap(.weightGradientGEMM)
                                        if needInputGradient {
                                            gemm(transA: true, transB: false, m: k, n: outPlane, k: o, alpha: 1,
                                                 a: wp, lda: k, b: dy, ldb: outPlane, beta: 1,
                                                 c: dxBuffer.baseAddress! + b * c * h * w, ldc: outPlane)
                                            clock.lap(.inputGradientGEMM)
                                        }
                                        continue
                                    }
                                    var row0 = 0
                                    while row0 < outH {
                                        let rows = row0..<min(outH, row0 + rowsPerBand)
                                        let bandPixels = rows.count * outW
                                        im2col(x, height: h, width: w, geometry: g, outputRows: rows, outputWidth: outW,
                                               into: columns!)
                                        clock.lap(.weightGradientIm2col)
                                        gemm(transA: false, transB: true, m: o, n: k, k: bandPixels, alpha: 1,
                                             a: dy + row0 * outW, lda: outPlane, b: columns!, ldb: bandPixels,
                                             beta: 1, c: dw, ldc: k)
                                        clock.lap(.weightGradientGEMM)
                                        if needInputGradient {
                                            gemm(transA: true, transB: false, m: k, n: bandPixels, k: o, alpha: 1,
                                                 a: wp, lda: k, b: dy + row0 * outW, ldb: outPlane,
                                                 beta: 0, c: gradColumns!, ldc: bandPixels)
                                            clock.lap(.inputGradientGEMM)
                                            col2im(gradColumns!, height: h, width: w, geometry: g,
                                                   outputRows: rows, outputWidth: outW,
                                                   into: dxBuffer.baseAddress! + b * c * h * w)
                                            clock.lap(.inputGradientCol2im)
                                        }
                                        row0 = rows.upperBound
                                    }
                                }
                            }
                            let columnCount = g.isPointwise ? 0 : k * bandCapacity
                            let gradColumnCount = needInputGradient && !g.isPointwise ? k * bandCapacity : 0
                            if workers == 1 {
                                var columns = [Float](repeating: 0, count: columnCount)
                                var gradColumns = [Float](repeating: 0, count: gradColumnCount)
                                columns.withUnsafeMutableBufferPointer { cb in
                                    gradColumns.withUnsafeMutableBufferPointer { gb in
                                        backwardImages(stride(from: 0, to: n, by: 1), dw: dwBuffer.baseAddress!,
                                                       columns: cb.baseAddress, gradColumns: gb.baseAddress, worker: 0)
                                    }
                                }
                            } else {
                                let partial = partialBuffer.baseAddress!, size = dwBuffer.count
                                DispatchQueue.concurrentPerform(iterations: workers) { t in
                                    serially {
                                        var columns = [Float](repeating: 0, count: columnCount)
                                        var gradColumns = [Float](repeating: 0, count: gradColumnCount)
                                        columns.withUnsafeMutableBufferPointer { cb in
                                            gradColumns.withUnsafeMutableBufferPointer { gb in
                                                backwardImages(stride(from: t, to: n, by: workers), dw: partial + t * size,
                                                               columns: cb.baseAddress, gradColumns: gb.baseAddress, worker: 0)
                                            }
                                        }
                                    }
                                }
                                let dw = dwBuffer.baseAddress!
                                var clock = PhaseClock()
                                for t in 0..<workers {
                                    let part = partial + t * size
                                    for i in 0..<size { dw[i] += part[i] }
                                }
                                clock.lap(.weightGradientReduce)
                                region.store(clock, worker: 0)
                            }
                        }
                    }
                }
            }
        }
    }
    region.finish()
    return needInputGradient ? Tensor(uncheckedShape: input.shape, data: gradInputData) : nil
}
