import ImageCore
import Testing
import TestSupport

/// Direct max/min over the element, ignoring pixels outside the image.
private func naive(_ image: GrayImage, _ element: StructuringElement, max useMax: Bool) -> [Float] {
    var out = [Float](repeating: 0, count: image.count)
    for r in 0..<image.height {
        for c in 0..<image.width {
            var v: Float = useMax ? -.infinity : .infinity
            for dr in -element.radius...element.radius {
                for dc in -element.radius...element.radius where element.contains(rowOffset: dr, columnOffset: dc) {
                    let rr = r + dr, cc = c + dc
                    guard rr >= 0, rr < image.height, cc >= 0, cc < image.width else { continue }
                    v = useMax ? max(v, image[rr, cc]) : min(v, image[rr, cc])
                }
            }
            out[r * image.width + c] = v
        }
    }
    return out
}

@Suite("Morphology")
struct MorphologyTests {
    @Test("disk pixel counts: Euclidean and MATLAB strel('disk') (METHODS.md table)")
    func diskCounts() {
        let matlab = [3: 25, 4: 37, 5: 69, 16: 817, 20: 1301, 80: 21321]
        let euclidean = [3: 29, 4: 49, 5: 81, 16: 797, 20: 1257, 80: 20081]
        for (r, n) in matlab { #expect(StructuringElement.disk(radius: r, shape: .matlab).pixelCount == n, "r = \(r)") }
        for (r, n) in euclidean { #expect(StructuringElement.disk(radius: r).pixelCount == n, "r = \(r)") }
        #expect(StructuringElement.disk(radius: 1, shape: .matlab).pixelCount == 5)
        #expect(StructuringElement.disk(radius: 2, shape: .matlab).pixelCount == 13)
        #expect(StructuringElement.disk(radius: 80, shape: .matlab).halfWidths.count == 159)
    }

    @Test("grayscale dilation and erosion match a direct computation on random images",
          arguments: [(1, DiskShape.euclidean), (3, .euclidean), (6, .euclidean), (3, .matlab), (7, .matlab)])
    func grayMatchesNaive(radius: Int, shape: DiskShape) {
        let image = randomImage(width: 29, height: 21, seed: UInt64(radius * 10 + (shape == .matlab ? 1 : 0)))
        let element = StructuringElement.disk(radius: radius, shape: shape)
        #expect(dilate(image, element).pixels == naive(image, element, max: true))
        #expect(erode(image, element).pixels == naive(image, element, max: false))
        let square = StructuringElement.square(side: 5)
        #expect(dilate(image, square).pixels == naive(image, square, max: true))
    }

    @Test("element wider than the image")
    func wideElement() {
        let image = randomImage(width: 3, height: 40, seed: 11)
        let element = StructuringElement.disk(radius: 6)
        #expect(dilate(image, element).pixels == naive(image, element, max: true))
        let column = randomImage(width: 1, height: 9, seed: 12)
        #expect(erode(column, element).pixels == naive(column, element, max: false))
    }

    @Test("binary morphology (distance-transform path and element path) matches a direct computation",
          arguments: [(2, DiskShape.euclidean), (5, .euclidean), (4, .matlab)])
    func binaryMatchesNaive(radius: Int, shape: DiskShape) {
        let mask = randomMask(width: 31, height: 26, fraction: 0.12, seed: UInt64(radius))
        let element = StructuringElement.disk(radius: radius, shape: shape)
        let dilated = naive(mask.asImage(), element, max: true).map { $0 > 0.5 ? UInt8(1) : 0 }
        // erode(X) = not dilate(not X) when outside pixels are ignored; X = not mask here.
        let eroded = dilated.map { 1 - $0 }
        #expect(dilate(mask, element).bits == dilated)
        #expect(erode(mask.inverted(), element).bits == eroded)
    }

    @Test("closing bridges gaps, opening removes specks, bottom-hat is closing minus image")
    func compositeOperations() {
        var mask = BinaryMask(width: 20, height: 9)
        for c in 2..<8 { for r in 3..<6 { mask[r, c] = true } }
        for c in 10..<17 { for r in 3..<6 { mask[r, c] = true } }
        mask[0, 19] = true
        let closed = close(mask, .disk(radius: 2))
        #expect(closed[4, 9])  // the 2-pixel gap is bridged
        let opened = open(mask, .disk(radius: 1))
        #expect(!opened[0, 19])  // the speck is gone
        #expect(opened[4, 4])
        let image = randomImage(width: 15, height: 12, seed: 13)
        let element = StructuringElement.disk(radius: 2)
        let bh = bottomHat(image, element)
        let closedImage = close(image, element)
        #expect(bh.pixels == zip(closedImage.pixels, image.pixels).map { $0 - $1 })
        #expect(bh.pixels.allSatisfy { $0 >= 0 })
    }

    @Test("area opening and border clearing use 8-connectivity")
    func componentFilters() {
        var mask = BinaryMask(width: 10, height: 10)
        mask[0, 0] = true; mask[1, 1] = true  // diagonal pair touching the border
        for r in 4..<7 { for c in 4..<7 { mask[r, c] = true } }  // 9 px, interior
        mask[8, 3] = true  // single interior pixel
        let cleared = clearBorder(mask)
        #expect(!cleared[1, 1] && cleared[5, 5] && cleared[8, 3])
        let opened = removeSmallComponents(mask, minimumPixels: 2)
        #expect(opened[0, 0] && opened[1, 1] && opened[5, 5] && !opened[8, 3])
        #expect(removeSmallComponents(mask, minimumPixels: 2, connectivity: .four)[0, 0] == false)
    }
}
