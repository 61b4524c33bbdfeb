/// Grayscale morphology with flat, symmetric structuring elements.
///
/// Pixels outside the image are ignored, as in MATLAB (dilation pads with -infinity, erosion
/// with +infinity; METHODS.md section 1.4). The cost does not grow with the element's area:
/// the element is cut into row segments; the running maximum over a segment of half-width k
/// is built from the one of half-width k - 1 with one shifted comparison, and each element row
/// adds one pass over the image. A radius-80 disk costs about 240 vectorised passes.

@usableFromInline protocol MorphologyOperator {
    static func combine(_ a: Float, _ b: Float) -> Float
    static var identity: Float { get }
}

@usableFromInline enum MaxOperator: MorphologyOperator {
    @inlinable static func combine(_ a: Float, _ b: Float) -> Float { Swift.max(a, b) }
    @inlinable static var identity: Float { -.infinity }
}

@usableFromInline enum MinOperator: MorphologyOperator {
    @inlinable static func combine(_ a: Float, _ b: Float) -> Float { Swift.min(a, b) }
    @inlinable static var identity: Float { .infinity }
}

/// Grayscale dilation: the maximum over the element centred on each pixel.
public func dilate(_ image: GrayImage, _ element: StructuringElement) -> GrayImage {
    image.with(pixels: rankFilter(image.pixels, width: image.width, height: image.height, element, MaxOperator.self))
}

/// Grayscale erosion: the minimum over the element centred on each pixel.
public func erode(_ image: GrayImage, _ element: StructuringElement) -> GrayImage {
    image.with(pixels: rankFilter(image.pixels, width: image.width, height: image.height, element, MinOperator.self))
}

/// Grayscale closing: erosion of the dilation.
public func close(_ image: GrayImage, _ element: StructuringElement) -> GrayImage {
    erode(dilate(image, element), element)
}

/// Grayscale opening: dilation of the erosion.
public func open(_ image: GrayImage, _ element: StructuringElement) -> GrayImage {
    dilate(erode(image, element), element)
}

/// Bottom-hat (black top-hat): closing minus the image; bright where dark details narrower than
/// the element sit.
public func bottomHat(_ image: GrayImage, _ element: StructuringElement) -> GrayImage {
    let closed = close(image, element)
    var out = closed
    for i in 0..<out.pixels.count { out.pixels[i] = closed.pixels[i] - image.pixels[i] }
    return out
}

/// Max or min filter of `pixels` over `element`, in row bands on all cores.
func rankFilter<Op: MorphologyOperator>(_ pixels: [Float], width w: Int, height h: Int,
                                        _ element: StructuringElement, _: Op.Type) -> [Float] {
    let radius = element.radius
    var out = [Float](repeating: Op.identity, count: w * h)
    // Element rows grouped by half-width.
    let maxHalf = element.halfWidths.max() ?? 0
    var rowsByHalf = [[Int]](repeating: [], count: maxHalf + 1)
    for (i, k) in element.halfWidths.enumerated() where k >= 0 { rowsByHalf[k].append(i - radius) }
    let bands = min(h, imageCoreThreadCount * 2)
    pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let dstBase = dst.baseAddress!
            parallelChunks(bands, minimumChunk: 1) { bandRange in
                for band in bandRange {
                    let y0 = band * h / bands, y1 = (band + 1) * h / bands
                    let in0 = max(0, y0 - radius), in1 = min(h, y1 + radius)
                    // running[k]: max over [c - k, c + k] of the source rows in0..<in1.
                    var running = Array(src[(in0 * w)..<(in1 * w)])
                    var previous = running
                    running.withUnsafeMutableBufferPointer { runningBuffer in
                        previous.withUnsafeMutableBufferPointer { previousBuffer in
                            var cur = runningBuffer, prev = previousBuffer
                            for k in 0...maxHalf {
                                if k >= 1 {
                                    swap(&cur, &prev)
                                    for r in 0..<(in1 - in0) {
                                        let b = r * w
                                        if w == 1 { cur[b] = prev[b]; continue }
                                        if k == 1 || w == 2 {
                                            // window(1) = {c - 1, c, c + 1}
                                            for c in 0..<w {
                                                var v = prev[b + c]
                                                if c > 0 { v = Op.combine(v, prev[b + c - 1]) }
                                                if c + 1 < w { v = Op.combine(v, prev[b + c + 1]) }
                                                cur[b + c] = v
                                            }
                                        } else {
                                            // window(k) = window(k-1) at c-1  union  window(k-1) at c+1;
                                            // at the ends the missing side lies outside the image.
                                            cur[b] = prev[b + 1]
                                            for c in 1..<(w - 1) {
                                                cur[b + c] = Op.combine(prev[b + c - 1], prev[b + c + 1])
                                            }
                                            cur[b + w - 1] = prev[b + w - 2]
                                        }
                                    }
                                }
                                for dr in rowsByHalf[k] {
                                    let first = max(y0, -dr), last = min(y1, h - dr)
                                    if first >= last { continue }
                                    for y in first..<last {
                                        let s = (y + dr - in0) * w, d = y * w
                                        for c in 0..<w { dstBase[d + c] = Op.combine(dstBase[d + c], cur[s + c]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return out
}
