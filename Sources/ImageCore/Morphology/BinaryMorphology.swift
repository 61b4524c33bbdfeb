/// Binary morphology, connected-component filters and border clearing.
///
/// Dilation and erosion by a Euclidean disk use the exact distance transform (cost independent
/// of the radius); other elements go through the grayscale row-segment filter. Pixels outside
/// the image are ignored (METHODS.md section 1.4): an erosion never eats in from the border.

/// Binary dilation: true where the element centred on the pixel meets a true pixel.
public func dilate(_ mask: BinaryMask, _ element: StructuringElement) -> BinaryMask {
    if let r = element.euclideanRadius {
        let d2 = squaredDistanceTransform(mask)
        let limit = Float(r * r)
        var out = mask
        for i in 0..<d2.count { out.bits[i] = d2[i] <= limit ? 1 : 0 }
        return out
    }
    return viaGray(mask, element, MaxOperator.self)
}

/// Binary erosion: true where the element centred on the pixel lies inside the mask
/// (pixels outside the image are ignored).
public func erode(_ mask: BinaryMask, _ element: StructuringElement) -> BinaryMask {
    if let r = element.euclideanRadius {
        let d2 = squaredDistanceTransform(mask.inverted())
        let limit = Float(r * r)
        var out = mask
        for i in 0..<d2.count { out.bits[i] = d2[i] > limit ? 1 : 0 }
        return out
    }
    return viaGray(mask, element, MinOperator.self)
}

/// Binary closing: erosion of the dilation.
public func close(_ mask: BinaryMask, _ element: StructuringElement) -> BinaryMask {
    erode(dilate(mask, element), element)
}

/// Binary opening: dilation of the erosion.
public func open(_ mask: BinaryMask, _ element: StructuringElement) -> BinaryMask {
    dilate(erode(mask, element), element)
}

private func viaGray<Op: MorphologyOperator>(_ mask: BinaryMask, _ element: StructuringElement,
                                            _ op: Op.Type) -> BinaryMask {
    let values = rankFilter(mask.bits.map { Float($0) }, width: mask.width, height: mask.height, element, op)
    var out = mask
    for i in 0..<values.count { out.bits[i] = values[i] > 0.5 ? 1 : 0 }
    return out
}

/// Removes connected components with fewer than `minimumPixels` pixels (MATLAB `bwareaopen`).
public func removeSmallComponents(_ mask: BinaryMask, minimumPixels: Int,
                                  connectivity: Connectivity = .eight) -> BinaryMask {
    let labels = label(mask, connectivity: connectivity)
    var areas = [Int](repeating: 0, count: labels.count + 1)
    for l in labels.labels { areas[Int(l)] += 1 }
    var out = mask
    for i in 0..<labels.labels.count {
        let l = Int(labels.labels[i])
        out.bits[i] = l != 0 && areas[l] >= minimumPixels ? 1 : 0
    }
    return out
}

/// Removes connected components that touch the image border (MATLAB `imclearborder`).
public func clearBorder(_ mask: BinaryMask, connectivity: Connectivity = .eight) -> BinaryMask {
    let labels = label(mask, connectivity: connectivity)
    var touching = [Bool](repeating: false, count: labels.count + 1)
    let w = mask.width, h = mask.height
    for c in 0..<w {
        touching[Int(labels.labels[c])] = true
        touching[Int(labels.labels[(h - 1) * w + c])] = true
    }
    for r in 0..<h {
        touching[Int(labels.labels[r * w])] = true
        touching[Int(labels.labels[r * w + w - 1])] = true
    }
    var out = mask
    for i in 0..<labels.labels.count {
        let l = Int(labels.labels[i])
        out.bits[i] = l != 0 && !touching[l] ? 1 : 0
    }
    return out
}
