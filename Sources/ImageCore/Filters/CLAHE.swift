import Foundation

/// Index `i` folded into 0..<n by reflection without repeating the edge (OpenCV's
/// BORDER_REFLECT_101, NumPy's "reflect"): ... 2 1 | 0 1 2 ... n-1 | n-2 ...
public func reflect101(_ i: Int, _ n: Int) -> Int {
    if n == 1 { return 0 }
    let period = 2 * (n - 1)
    var j = i % period
    if j < 0 { j += period }
    return j < n ? j : period - j
}

/// Contrast-limited adaptive histogram equalisation of 8-bit values, as OpenCV's
/// `createCLAHE(clipLimit, tileGridSize)` (which albumentations' CLAHE calls on grey images):
/// the image is cut into `tilesX x tilesY` tiles (padded by reflection to a multiple of the
/// grid, with OpenCV's padding rule), each tile's 256-bin histogram is clipped at max(1, clipLimit x tile area / 256) with
/// the excess spread evenly over the bins (the remainder one count every 256/remainder bins),
/// its cumulative sum becomes a look-up table, and every pixel takes the bilinear blend of the
/// tables of the four tiles around it.
///
/// - Parameters:
///   - values: row-major 8-bit values, `width x height` of them.
/// - Returns: the equalised values.
public func clahe(_ values: [UInt8], width: Int, height: Int, clipLimit: Double = 4, tilesX: Int = 8, tilesY: Int = 8) -> [UInt8] {
    precondition(values.count == width * height && width > 0 && height > 0, "values must hold width x height entries")
    precondition(tilesX > 0 && tilesY > 0, "the tile grid must be positive")
    // Tile size after padding (BORDER_REFLECT_101, bottom and right). As in OpenCV, when either
    // side is not a multiple of the grid both sides are padded by tiles - (size % tiles), which
    // adds a whole tile's worth to a side that already was a multiple.
    let divisible = width % tilesX == 0 && height % tilesY == 0
    let paddedWidth = divisible ? width : width + tilesX - width % tilesX
    let paddedHeight = divisible ? height : height + tilesY - height % tilesY
    let tileWidth = paddedWidth / tilesX, tileHeight = paddedHeight / tilesY
    let reflect = reflect101
    let tileArea = tileWidth * tileHeight
    let clip = clipLimit > 0 ? max(Int(clipLimit * Double(tileArea) / 256), 1) : Int.max
    // Single precision and round-half-to-even, as OpenCV computes the tables and the blend.
    let scale = Float(255) / Float(tileArea)
    var luts = [UInt8](repeating: 0, count: tilesX * tilesY * 256)
    for ty in 0..<tilesY {
        for tx in 0..<tilesX {
            var histogram = [Int](repeating: 0, count: 256)
            for r in (ty * tileHeight)..<((ty + 1) * tileHeight) {
                let row = reflect(r, height) * width
                for c in (tx * tileWidth)..<((tx + 1) * tileWidth) { histogram[Int(values[row + reflect(c, width)])] += 1 }
            }
            if clip != Int.max {
                var excess = 0
                for i in 0..<256 where histogram[i] > clip {
                    excess += histogram[i] - clip
                    histogram[i] = clip
                }
                let batch = excess / 256
                var residual = excess - batch * 256
                for i in 0..<256 { histogram[i] += batch }
                if residual > 0 {
                    let step = max(256 / residual, 1)
                    var i = 0
                    while i < 256 && residual > 0 {
                        histogram[i] += 1
                        residual -= 1
                        i += step
                    }
                }
            }
            var sum = 0
            let base = (ty * tilesX + tx) * 256
            for i in 0..<256 {
                sum += histogram[i]
                luts[base + i] = UInt8(min(max((Float(sum) * scale).rounded(.toNearestOrEven), 0), 255))
            }
        }
    }
    var out = [UInt8](repeating: 0, count: values.count)
    let inverseTileWidth = 1 / Float(tileWidth), inverseTileHeight = 1 / Float(tileHeight)
    // The two tiles whose tables blend at a pixel, and the weight of the second.
    func neighbours(_ i: Int, _ inverseTileSize: Float, _ tiles: Int) -> (Int, Int, Float) {
        let t = Float(i) * inverseTileSize - 0.5
        let first = Int(t.rounded(.down))
        return (max(first, 0), min(first + 1, tiles - 1), t - Float(first))
    }
    for r in 0..<height {
        let (ty1, ty2, ya) = neighbours(r, inverseTileHeight, tilesY)
        for c in 0..<width {
            let (tx1, tx2, xa) = neighbours(c, inverseTileWidth, tilesX)
            let v = Int(values[r * width + c])
            let a = Float(luts[(ty1 * tilesX + tx1) * 256 + v]), b = Float(luts[(ty1 * tilesX + tx2) * 256 + v])
            let p = Float(luts[(ty2 * tilesX + tx1) * 256 + v]), q = Float(luts[(ty2 * tilesX + tx2) * 256 + v])
            let top = a * (1 - xa) + b * xa, bottom = p * (1 - xa) + q * xa
            out[r * width + c] = UInt8(min(max((top * (1 - ya) + bottom * ya).rounded(.toNearestOrEven), 0), 255))
        }
    }
    return out
}
