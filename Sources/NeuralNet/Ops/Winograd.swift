import Foundation
import Dispatch
internal import COpenBLAS

/// Winograd's minimal filtering F(2 x 2, 3 x 3) for 3 x 3 convolutions with stride 1 and
/// padding 1, the bulk of an FPN-ResNet's work (89 % of FPN-ResNet-18's multiply-adds).
///
/// Each 2 x 2 block of outputs (a tile) is computed from the 4 x 4 input patch around it as
/// `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`: the element-wise products, summed over input channels, are 16
/// matrix products (one per position ξ of the 4 x 4 transformed tile) of the transformed
/// kernels `U[ξ]` (outputs x inputs) with the transformed inputs `V[ξ]` (inputs x tiles). That is
/// 16 multiply-adds per tile and channel pair instead of 36: 2.25x fewer than im2col + GEMM.
/// The backward pass uses the same machinery: the input gradient is the forward transform of
/// the output gradient with the kernels turned by 180° and transposed (read from the forward
/// pass's transformed kernels by transposed GEMMs, see `turnedPosition`), and the weight gradient is
/// `Gᵀ [Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ d B)] G`, again 16 GEMMs (outputs x tiles times tiles x inputs).
///
/// Tiles of all images of a batch are processed together in chunks (each chunk's transformed
/// inputs and products capped near `bufferLimit` floats), so a batch of small crops still makes
/// GEMMs of useful size and a full-size image stays within bounded memory. The 16 GEMMs of a
/// chunk run on all cores (one GEMM per core at a time); the transforms split channels over the
/// cores.
///
/// Rounding differs from im2col's (the transforms add and subtract before multiplying): outputs
/// and gradients agree with the direct convolution to about 1e-6 relative (tests compare both
/// and PyTorch). Training takes this path (`Conv2d.forward(_:training: true)` and `backward`),
/// and so does inference (`NeuralNetRuntime.inferenceUsesWinograd`, on unless
/// `SOOTCTL_WINOGRAD=0`), with the folded batch norm's weights transformed once and cached:
/// on a 2240 x 1952 image the FPN-ResNet-18 forward pass takes about half im2col's time, and
/// the shipped model's masks and tables on the shared real images are unchanged.
///
/// ## References
/// A. Lavin and S. Gray, "Fast algorithms for convolutional neural networks", CVPR 2016,
/// doi:10.1109/CVPR.2016.435.
package enum Winograd {
    /// Whether training's 3 x 3 stride-1 convolutions take this path (tests switch it off to
    /// compare with im2col).
    nonisolated(unsafe) static var isEnabled = true

    /// Floats in one chunk's transformed inputs (and in its products): 32 MiB. Tests lower it to
    /// cross chunk boundaries on small inputs.
    nonisolated(unsafe) package static var bufferLimit = 8 << 20

    /// Whether the geometry is F(2 x 2, 3 x 3)'s: 3 x 3, stride 1, padding 1, no dilation.
    static func applies(_ g: ConvolutionGeometry) -> Bool {
        isEnabled && g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.padding == 1 && g.dilation == 1
    }

    /// The two tile sizes: F(2 x 2, 3 x 3) (16 points) and F(4 x 4, 3 x 3) (36 points).
    enum Scheme: Sendable {
        case f2, f4
        /// Outputs per tile side.
        var tile: Int { self == .f2 ? 2 : 4 }
        /// Positions of a transformed tile (GEMMs per chunk).
        var points: Int { self == .f2 ? 16 : 36 }
    }

    /// Whether training uses F(4 x 4) on planes of at least 8 x 8. Off: it is correct (tests switch
    /// it on and compare every entry with Double) but not faster on training's 256-pixel crops, its
    /// transforms cost more than its GEMMs save (crops-resnet18 pinned to Haswell, 2026-12-02:
    /// 1.82 s a step against 1.68 s with F(2 x 2) only).
    nonisolated(unsafe) package static var allowsF4 = false

    /// Whether inference uses F(4 x 4) on planes of at least 8 x 8. On: on whole 2240 x 1952
    /// images its fewer multiplies (2.25 per output against F(2 x 2)'s 4) win (nn-profile gray-resnet18,
    /// 2026-12-03: 2.39-2.48 s against 2.61-2.99 s a forward; Docs/Benchmarks.md); its outputs
    /// differ from im2col's by about 2e-5 relative, well inside a logit's decision margin (the
    /// golden-mask tests hold). `SOOTCTL_WINOGRAD=f2` in the environment keeps inference on
    /// F(2 x 2).
    nonisolated(unsafe) package static var inferenceAllowsF4: Bool =
        NeuralNetRuntime.winogradEnvironment != "f2"

    /// With `allowsF4` (training) or `inferenceAllowsF4` (inference), F(4 x 4, 3 x 3) on planes
    /// of at least `f4MinimumSide` (fewer multiplies, less transformed data), F(2 x 2, 3 x 3) on
    /// smaller ones (less padding waste).
    nonisolated(unsafe) package static var f4MinimumSide = 8
    static func scheme(height: Int, width: Int, inference: Bool = false) -> Scheme {
        (inference ? inferenceAllowsF4 : allowsF4) && height >= f4MinimumSide && width >= f4MinimumSide ? .f4 : .f2
    }

    /// Tile layout of an h x w plane: tiles across, tiles per image.
    struct Tiling {
        let height: Int, width: Int
        var tile = 2
        var tilesWide: Int { (width + tile - 1) / tile }
        var tilesHigh: Int { (height + tile - 1) / tile }
        var tilesPerImage: Int { tilesWide * tilesHigh }
    }

    /// Tiles per chunk for `channels` (the larger of the transform's inputs and outputs): whole
    /// tile rows, so the transforms run along rows.
    static func chunkTiles(_ t: Tiling, total: Int, channels: Int, points: Int = 16) -> Int {
        let rows = max(1, bufferLimit / (points * max(1, channels) * t.tilesWide))
        return min(total, rows * t.tilesWide)
    }

    /// Transformed kernels of weights [O][C][3][3]: `U[ξ][o][c] = (G g[o][c] Gᵀ)[ξ]`.
    static func kernels(_ weight: UnsafePointer<Float>, outputs o: Int, inputs c: Int) -> [Float] {
        var u = [Float](repeating: 0, count: 16 * o * c)
        u.withUnsafeMutableBufferPointer { ub in
            let up = ub.baseAddress!, plane = o * c
            parallelFor(o, minimumChunk: 8) { range in
                for oi in range {
                    for ci in 0..<c {
                        let g0 = weight + (oi * c + ci) * 9
                        @inline(__always) func row(_ r: Int) -> SIMD4<Float> { SIMD4(g0[3 * r], g0[3 * r + 1], g0[3 * r + 2], 0) }
                        let a = row(0), b = row(1), cc = row(2)
                        // G g (4 x 3, rows), then (G g) Gᵀ on each row.
                        let rows = (a, 0.5 * (a + b + cc), 0.5 * (a - b + cc), cc)
                        let index = oi * c + ci
                        @inline(__always) func put(_ r: Int, _ p: SIMD4<Float>) {
                            up[(4 * r + 0) * plane + index] = p[0]
                            up[(4 * r + 1) * plane + index] = 0.5 * (p[0] + p[1] + p[2])
                            up[(4 * r + 2) * plane + index] = 0.5 * (p[0] - p[1] + p[2])
                            up[(4 * r + 3) * plane + index] = p[2]
                        }
                        put(0, rows.0); put(1, rows.1); put(2, rows.2); put(3, rows.3)
                    }
                }
            }
        }
        return u
    }

    /// Calls `body(b, ti, column)` for each tile row of a chunk: image, tile row in the image,
    /// and the chunk column of its first tile.
    @inline(__always)
    static func forEachTileRow(_ t: Tiling, tiles: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        let tw = t.tilesWide, th = t.tilesHigh
        for globalRow in (tiles.lowerBound / tw)..<(tiles.upperBound / tw) {
            body(globalRow / th, globalRow % th, globalRow * tw - tiles.lowerBound)
        }
    }

    /// `V[ξ][ci][q - tiles.lowerBound] = (Bᵀ d B)[ξ]` for the tiles `q` of a batch `x` (N x C x H x W),
    /// tiles numbered image by image, row by row; `tiles` holds whole tile rows. Works a tile row
    /// at a time: the four input rows are split into even and odd columns, so that every step
    /// is a contiguous loop over the row's tiles.
    static func transformInput(_ x: UnsafePointer<Float>, channels c: Int, tiling t: Tiling, tiles: Range<Int>,
                               into v: UnsafeMutablePointer<Float>) {
        let h = t.height, w = t.width, tw = t.tilesWide
        let count = tiles.count, stride = c * count, span = tw + 1
        parallelFor(c, minimumChunk: 1) { channels in
            // Even and odd columns of the four padded input rows, then of Bᵀ d's four rows.
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 16 * span)
            defer { scratch.deallocate() }
            let pe = scratch, po = scratch + 4 * span, te = scratch + 8 * span, to = scratch + 12 * span
            for ci in channels {
                forEachTileRow(t, tiles: tiles) { b, ti, column in
                    let plane = x + (b * c + ci) * h * w
                    for k in 0..<4 {
                        let r = 2 * ti - 1 + k
                        let e = pe + k * span, o = po + k * span
                        guard r >= 0 && r < h else {
                            e.update(repeating: 0, count: span); o.update(repeating: 0, count: span)
                            continue
                        }
                        let row = plane + r * w
                        // Padded column j is input column j - 1: even padded columns 2j -> 2j - 1.
                        // Input column 2j - 1 exists for 1 <= j < (w + 1) / 2 + ..., column 2j for j < (w + 1) / 2.
                        let evens = (w + 2) / 2, odds = (w + 1) / 2  // j with 2j - 1 < w; j with 2j < w
                        e[0] = 0
                        for j in 1..<evens { e[j] = row[2 * j - 1] }
                        if evens < span { (e + evens).update(repeating: 0, count: span - evens) }
                        for j in 0..<odds { o[j] = row[2 * j] }
                        if odds < span { (o + odds).update(repeating: 0, count: span - odds) }
                    }
                    // Bᵀ d: t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3 (rows), even and odd columns.
                    @inline(__always) func combine(_ dst: Int, _ a: Int, _ bb: Int, _ sign: Float) {
                        let e0 = pe + a * span, e1 = pe + bb * span, ey = te + dst * span
                        for j in 0..<span { ey[j] = e0[j] + sign * e1[j] }
                        let o0 = po + a * span, o1 = po + bb * span, oy = to + dst * span
                        for j in 0..<span { oy[j] = o0[j] + sign * o1[j] }
                    }
                    combine(0, 0, 2, -1); combine(1, 1, 2, 1); combine(2, 2, 1, -1); combine(3, 1, 3, -1)
                    // (Bᵀ d) B along each row: p0 - p2, p1 + p2, p2 - p1, p1 - p3 with p = even, odd, next even, next odd.
                    for k in 0..<4 {
                        let e = te + k * span, o = to + k * span
                        let base = v + ci * count + column + (4 * k) * stride
                        let out0 = base, out1 = base + stride, out2 = base + 2 * stride, out3 = base + 3 * stride
                        for j in 0..<tw { out0[j] = e[j] - e[j + 1] }
                        for j in 0..<tw { out1[j] = o[j] + e[j + 1] }
                        for j in 0..<tw { out2[j] = e[j + 1] - o[j] }
                        for j in 0..<tw { out3[j] = o[j] - o[j + 1] }
                    }
                }
            }
        }
    }

    /// `dM[ξ][oi][q - tiles.lowerBound] = (A dY Aᵀ)[ξ]` from the 2 x 2 output-gradient blocks.
    static func transformGradient(_ dy: UnsafePointer<Float>, channels o: Int, tiling t: Tiling, tiles: Range<Int>,
                                  into m: UnsafeMutablePointer<Float>) {
        let h = t.height, w = t.width, tw = t.tilesWide
        let count = tiles.count, stride = o * count
        parallelFor(o, minimumChunk: 1) { channels in
            // Even and odd columns of the two rows, then the four rows of A y: y0, y0 + y1, y0 - y1, -y1.
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 12 * tw)
            defer { scratch.deallocate() }
            let ev = scratch, od = scratch + 6 * tw
            for oi in channels {
                forEachTileRow(t, tiles: tiles) { b, ti, column in
                    let plane = dy + (b * o + oi) * h * w
                    for k in 0..<2 {
                        let r = 2 * ti + k, e = ev + k * tw, d = od + k * tw
                        guard r < h else { e.update(repeating: 0, count: tw); d.update(repeating: 0, count: tw); continue }
                        let row = plane + r * w
                        for j in 0..<tw { e[j] = row[2 * j] }
                        for j in 0..<tw { d[j] = 2 * j + 1 < w ? row[2 * j + 1] : 0 }
                    }
                    @inline(__always) func sums(_ src: UnsafeMutablePointer<Float>) {
                        let y0 = src, y1 = src + tw, sum = src + 2 * tw, difference = src + 3 * tw
                        for j in 0..<tw { sum[j] = y0[j] + y1[j] }
                        for j in 0..<tw { difference[j] = y0[j] - y1[j] }
                    }
                    sums(ev); sums(od)
                    // Rows r of A y as (even a, odd b); columns: a, a + b, a - b, -b.
                    for r in 0..<4 {
                        let sign: Float = r == 3 ? -1 : 1
                        let index = r == 0 ? 0 : r == 1 ? 2 : r == 2 ? 3 : 1  // y0, y0 + y1, y0 - y1, y1 (negated)
                        let a = ev + index * tw, bb = od + index * tw
                        let base = m + oi * count + column + (4 * r) * stride
                        let out0 = base, out1 = base + stride, out2 = base + 2 * stride, out3 = base + 3 * stride
                        for j in 0..<tw { out0[j] = sign * a[j] }
                        for j in 0..<tw { out1[j] = sign * (a[j] + bb[j]) }
                        for j in 0..<tw { out2[j] = sign * (a[j] - bb[j]) }
                        for j in 0..<tw { out3[j] = -sign * bb[j] }
                    }
                }
            }
        }
    }

    /// Writes `Aᵀ M A` of each tile into `y` (N x O x H x W), adding what `y` holds when
    /// `accumulate`, then the epilogue's bias and ReLU.
    static func transformOutput(_ m: UnsafePointer<Float>, channels o: Int, tiling t: Tiling, tiles: Range<Int>,
                                into y: UnsafeMutablePointer<Float>, epilogue: ConvolutionEpilogue, accumulate: Bool) {
        let h = t.height, w = t.width, tw = t.tilesWide
        let count = tiles.count, stride = o * count
        parallelFor(o, minimumChunk: 1) { channels in
            // Aᵀ M's two rows (4 columns each), then the tile's four outputs, each over the row's tiles.
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 12 * tw)
            defer { scratch.deallocate() }
            let s = scratch, q = scratch + 8 * tw
            for oi in channels {
                let add = epilogue.bias?[oi] ?? 0, relu = epilogue.relu
                forEachTileRow(t, tiles: tiles) { b, ti, column in
                    let base = m + oi * count + column
                    for col in 0..<4 {
                        let m0 = base + col * stride, m1 = base + (4 + col) * stride
                        let m2 = base + (8 + col) * stride, m3 = base + (12 + col) * stride
                        let s0 = s + col * tw, s1 = s + (4 + col) * tw
                        for j in 0..<tw { s0[j] = m0[j] + m1[j] + m2[j] }
                        for j in 0..<tw { s1[j] = m1[j] - m2[j] - m3[j] }
                    }
                    let plane = y + (b * o + oi) * h * w
                    for k in 0..<2 where 2 * ti + k < h {
                        let r0 = s + 4 * k * tw, r1 = r0 + tw, r2 = r0 + 2 * tw, r3 = r0 + 3 * tw
                        let left = q, right = q + tw
                        for j in 0..<tw { left[j] = r0[j] + r1[j] + r2[j] + add }
                        for j in 0..<tw { right[j] = r1[j] - r2[j] - r3[j] + add }
                        let row = plane + (2 * ti + k) * w
                        let pairs = w / 2  // tiles with both columns inside
                        if accumulate {
                            for j in 0..<pairs { row[2 * j] += left[j]; row[2 * j + 1] += right[j] }
                            if pairs < tw { row[2 * pairs] += left[pairs] }
                        } else {
                            for j in 0..<pairs { row[2 * j] = left[j]; row[2 * j + 1] = right[j] }
                            if pairs < tw { row[2 * pairs] = left[pairs] }
                        }
                        if relu { for i in 0..<w { row[i] = max(row[i], 0) } }
                    }
                }
            }
        }
    }

    /// A chunk's GEMMs (one per point) over all cores, one serial GEMM per core at a time.
    static func pointGEMMs(_ points: Int, _ body: (Int) -> Void) {
        if runsSerially || neuralNetThreadCount == 1 {
            for xi in 0..<points { body(xi) }
        } else {
            DispatchQueue.concurrentPerform(iterations: points) { xi in serially { body(xi) } }
        }
    }

    /// Position of `U(rot180 g)[ξ]` in `U(g)`: turning a kernel by 180° maps the transformed
    /// tile's rows and columns i -> [3, 1, 2, 0][i] (G J₃ = S J₄ G, with J the reversal and S
    /// the swap of rows 1 and 2).
    static func turnedPosition(_ xi: Int) -> Int {
        let sigma = (3, 1, 2, 0)
        func map(_ i: Int) -> Int { i == 0 ? sigma.0 : i == 1 ? sigma.1 : i == 2 ? sigma.2 : sigma.3 }
        return 4 * map(xi / 4) + map(xi % 4)
    }

    /// Convolution of `input` (N x C x H x W) with transformed kernels `u` ([points][O][C]) of
    /// `scheme`; with `transposed` (F(2 x 2) only), `u` holds a forward convolution's kernels
    /// ([16][C_in = o][C]) and the convolution is its transpose turned by 180° (the input
    /// gradient), read from `u` by a transposed GEMM.
    static func convolve(_ input: Tensor, kernels u: [Float], outputChannels o: Int, scheme: Scheme = .f2,
                         epilogue: ConvolutionEpilogue, accumulate: Tensor?, transposed: Bool = false,
                         inputGradient: Bool = false) -> Tensor {
        precondition(!transposed || scheme == .f2, "transposed kernels are F(2 x 2) only")
        let (n, c, h, w) = input.nchw
        let tiling = Tiling(height: h, width: w, tile: scheme.tile)
        let total = n * tiling.tilesPerImage, points = scheme.points
        let chunk = chunkTiles(tiling, total: total, channels: max(c, o), points: points)
        var output = accumulate ?? Tensor(uninitialized: [n, o, h, w])
        precondition(output.shape == [n, o, h, w], "accumulated tensor has the wrong shape")
        let backward = transposed || inputGradient
        let transforms: NeuralNetProfile.Category = backward ? .inputGradientWinogradTransforms : .forwardWinogradTransforms
        let gemms: NeuralNetProfile.Category = backward ? .inputGradientWinogradGEMM : .forwardWinogradGEMM
        var v = [Float](unsafeUninitializedCapacity: points * c * chunk) { _, k in k = points * c * chunk }
        var m = [Float](unsafeUninitializedCapacity: points * o * chunk) { _, k in k = points * o * chunk }
        input.data.withUnsafeBufferPointer { xb in
            u.withUnsafeBufferPointer { ub in
                v.withUnsafeMutableBufferPointer { vb in
                    m.withUnsafeMutableBufferPointer { mb in
                        output.data.withUnsafeMutableBufferPointer { yb in
                            let vp = vb.baseAddress!, mp = mb.baseAddress!, up = ub.baseAddress!
                            for start in stride(from: 0, to: total, by: chunk) {
                                let tiles = start..<min(total, start + chunk), l = tiles.count
                                NeuralNetProfile.measure(transforms) {
                                    if scheme == .f4 {
                                        f4TransformInput(xb.baseAddress!, channels: c, tiling: tiling, tiles: tiles, into: vp)
                                    } else {
                                        transformInput(xb.baseAddress!, channels: c, tiling: tiling, tiles: tiles, into: vp)
                                    }
                                }
                                NeuralNetProfile.measure(gemms) {
                                    pointGEMMs(points) { xi in
                                        if transposed {
                                            // U'[ξ] (o x c) = U[σ(ξ)]ᵀ, U[σ(ξ)] stored c x o.
                                            serialGEMM(transA: true, transB: false, m: o, n: l, k: c, alpha: 1,
                                                       a: up + turnedPosition(xi) * o * c, lda: o, b: vp + xi * c * l, ldb: l,
                                                       beta: 0, c: mp + xi * o * l, ldc: l)
                                        } else {
                                            serialGEMM(transA: false, transB: false, m: o, n: l, k: c, alpha: 1,
                                                       a: up + xi * o * c, lda: c, b: vp + xi * c * l, ldb: l,
                                                       beta: 0, c: mp + xi * o * l, ldc: l)
                                        }
                                    }
                                }
                                NeuralNetProfile.measure(transforms) {
                                    if scheme == .f4 {
                                        f4TransformOutput(mp, channels: o, tiling: tiling, tiles: tiles, into: yb.baseAddress!,
                                                          epilogue: epilogue, accumulate: accumulate != nil)
                                    } else {
                                        transformOutput(mp, channels: o, tiling: tiling, tiles: tiles, into: yb.baseAddress!,
                                                        epilogue: epilogue, accumulate: accumulate != nil)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// Transformed kernels of a layer's weights [O][C][3][3] (`U[ξ][o][c]`) for `scheme`.
    static func kernels(_ weight: [Float], geometry g: ConvolutionGeometry, scheme: Scheme = .f2) -> [Float] {
        NeuralNetProfile.measure(.forwardWinogradTransforms) {
            weight.withUnsafeBufferPointer {
                scheme == .f4 ? f4Kernels($0.baseAddress!, outputs: g.outputChannels, inputs: g.inputChannels, turned: false)
                              : kernels($0.baseAddress!, outputs: g.outputChannels, inputs: g.inputChannels)
            }
        }
    }

    /// Forward pass of a 3 x 3 stride-1 convolution with its transformed kernels.
    static func forward(_ input: Tensor, kernels u: [Float], geometry g: ConvolutionGeometry, scheme: Scheme = .f2,
                        epilogue: ConvolutionEpilogue, accumulate: Tensor?) -> Tensor {
        convolve(input, kernels: u, outputChannels: g.outputChannels, scheme: scheme, epilogue: epilogue,
                 accumulate: accumulate)
    }

    /// dL/dinput: the output gradient convolved with the turned, transposed kernels. F(2 x 2)
    /// reads them from the forward pass's kernels `u` (when given); F(4 x 4) transforms the turned
    /// weights (its points are not symmetric under turning).
    static func inputGradient(_ gradOutput: Tensor, weight: [Float], kernels u: [Float]?, geometry g: ConvolutionGeometry,
                              scheme: Scheme = .f2) -> Tensor {
        if scheme == .f4 {
            let turned = NeuralNetProfile.measure(.inputGradientWinogradTransforms) {
                weight.withUnsafeBufferPointer {
                    f4Kernels($0.baseAddress!, outputs: g.outputChannels, inputs: g.inputChannels, turned: true)
                }
            }
            return convolve(gradOutput, kernels: turned, outputChannels: g.inputChannels, scheme: .f4,
                            epilogue: ConvolutionEpilogue(), accumulate: nil, inputGradient: true)
        }
        return convolve(gradOutput, kernels: u ?? kernels(weight, geometry: g), outputChannels: g.inputChannels,
                        epilogue: ConvolutionEpilogue(), accumulate: nil, transposed: true)
    }

    /// Adds dL/dW ([O][C][3][3]) into `gradWeight`.
    static func weightGradient(_ input: Tensor, gradOutput: Tensor, geometry g: ConvolutionGeometry,
                               scheme: Scheme = .f2, into gradWeight: inout [Float]) {
        let (n, c, h, w) = input.nchw
        let o = g.outputChannels
        let tiling = Tiling(height: h, width: w, tile: scheme.tile)
        let total = n * tiling.tilesPerImage, points = scheme.points
        let chunk = chunkTiles(tiling, total: total, channels: max(c, o), points: points)
        var v = [Float](unsafeUninitializedCapacity: points * c * chunk) { _, k in k = points * c * chunk }
        var dm = [Float](unsafeUninitializedCapacity: points * o * chunk) { _, k in k = points * o * chunk }
        var du = [Float](repeating: 0, count: points * o * c)
        input.data.withUnsafeBufferPointer { xb in
            gradOutput.data.withUnsafeBufferPointer { dyb in
                v.withUnsafeMutableBufferPointer { vb in
                    dm.withUnsafeMutableBufferPointer { mb in
                        du.withUnsafeMutableBufferPointer { ub in
                            let vp = vb.baseAddress!, mp = mb.baseAddress!, up = ub.baseAddress!
                            for start in stride(from: 0, to: total, by: chunk) {
                                let tiles = start..<min(total, start + chunk), l = tiles.count
                                NeuralNetProfile.measure(.weightGradientWinogradTransforms) {
                                    if scheme == .f4 {
                                        f4TransformInput(xb.baseAddress!, channels: c, tiling: tiling, tiles: tiles, into: vp)
                                        f4TransformGradient(dyb.baseAddress!, channels: o, tiling: tiling, tiles: tiles, into: mp)
                                    } else {
                                        transformInput(xb.baseAddress!, channels: c, tiling: tiling, tiles: tiles, into: vp)
                                        transformGradient(dyb.baseAddress!, channels: o, tiling: tiling, tiles: tiles, into: mp)
                                    }
                                }
                                NeuralNetProfile.measure(.weightGradientWinogradGEMM) {
                                    pointGEMMs(points) { xi in
                                        serialGEMM(transA: false, transB: true, m: o, n: c, k: l, alpha: 1,
                                                   a: mp + xi * o * l, lda: l, b: vp + xi * c * l, ldb: l,
                                                   beta: 1, c: up + xi * o * c, ldc: c)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // dW[o][c] += Gᵀ dU[o][c] G.
        if scheme == .f4 {
            NeuralNetProfile.measure(.weightGradientWinogradTransforms) {
                du.withUnsafeBufferPointer { ub in
                    gradWeight.withUnsafeMutableBufferPointer {
                        f4AddWeightGradient(ub.baseAddress!, outputs: o, inputs: c, into: $0.baseAddress!)
                    }
                }
            }
            return
        }
        NeuralNetProfile.measure(.weightGradientWinogradTransforms) {
            du.withUnsafeBufferPointer { ub in
                gradWeight.withUnsafeMutableBufferPointer { gw in
                    let up = ub.baseAddress!, dw = gw.baseAddress!, plane = o * c
                    parallelFor(o, minimumChunk: 8) { range in
                        for oi in range {
                            for ci in 0..<c {
                                let index = oi * c + ci
                                @inline(__always) func row(_ r: Int) -> SIMD4<Float> {
                                    SIMD4(up[(4 * r) * plane + index], up[(4 * r + 1) * plane + index],
                                          up[(4 * r + 2) * plane + index], up[(4 * r + 3) * plane + index])
                                }
                                let u0 = row(0), u1 = row(1), u2 = row(2), u3 = row(3)
                                // Gᵀ dU (3 x 4, rows), then (Gᵀ dU) G on each row.
                                let p = (u0 + 0.5 * (u1 + u2), 0.5 * (u1 - u2), 0.5 * (u1 + u2) + u3)
                                let out = dw + index * 9
                                @inline(__always) func add(_ r: Int, _ q: SIMD4<Float>) {
                                    out[3 * r] += q[0] + 0.5 * (q[1] + q[2])
                                    out[3 * r + 1] += 0.5 * (q[1] - q[2])
                                    out[3 * r + 2] += 0.5 * (q[1] + q[2]) + q[3]
                                }
                                add(0, p.0); add(1, p.1); add(2, p.2)
                            }
                        }
                    }
                }
            }
        }
    }
}
