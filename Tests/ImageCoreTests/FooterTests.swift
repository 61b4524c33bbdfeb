import ImageCore
import Testing
import TestSupport

@Suite("Footer detection")
struct FooterTests {
    @Test("a white data bar is found at its first row")
    func whiteFooter() {
        var image = randomImage(width: 50, height: 40, seed: 2)
        for i in 0..<image.count { image.pixels[i] *= 0.8 }  // body never reaches 90 % white
        for r in 31..<40 { for c in 0..<50 { image[r, c] = c < 3 ? 0 : 1 } }  // 94 % white rows
        #expect(detectFooter(image) == Footer(kind: .white, startRow: 31))
        let cropped = image.cropped(rows: 0..<31)
        #expect(detectFooter(cropped) == nil)
    }

    @Test("a black bar is found when there is no white one")
    func blackFooter() {
        var image = randomImage(width: 30, height: 20, seed: 4)
        for i in 0..<image.count { image.pixels[i] = max(image.pixels[i], 0.1) }
        for r in 15..<20 { for c in 0..<30 { image[r, c] = 0 } }
        #expect(detectFooter(image) == Footer(kind: .black, startRow: 15))
    }

    @Test("an over-exposed row inside the image stops the reference scan, not the bottom-quarter scan")
    func bottomQuarter() {
        var image = GrayImage(width: 20, height: 40, value: 0.5)
        for c in 0..<20 { image[5, c] = 1 }
        #expect(detectFooter(image)?.startRow == 5)
        #expect(detectFooter(image, bottomQuarterOnly: true) == nil)
    }
}
