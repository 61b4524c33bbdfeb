import Foundation
import ImageCore
import Randomness
import Synthesis
import Testing
import Training

/// The realism ingredients of synthetic training images (issue 13): each changes the image,
/// all come out at the model's pixel size with a binary mask, the same generator state gives
/// the same image, burned-in annotations are background, and the plain generator is untouched.
@Suite("Synthetic realism ingredients")
struct SyntheticRealismTests {
    /// A small working field so that the test stays fast (the trainer's is 1120 x 976 px).
    func realism(_ ingredients: Set<SyntheticIngredient>) -> SyntheticRealism {
        var r = SyntheticRealism(ingredients: ingredients, modelPixelSizeNm: 0.8)
        r.workingWidth = 200
        r.workingHeight = 160
        return r
    }

    @Test("every ingredient alone changes the image; outputs at 0.8 nm/px, deterministic")
    func eachIngredientMatters() {
        var g = SplitMix64(seed: 4)
        let plain = realism([]).image(using: &g)
        #expect(plain.image.width == 200 && plain.image.height == 160)
        #expect(plain.image.pixelSize?.nanometersPerPixel == 0.8)
        for ingredient in SyntheticIngredient.allCases {
            var a = SplitMix64(seed: 4), b = SplitMix64(seed: 4)
            let one = realism([ingredient]).image(using: &a)
            let again = realism([ingredient]).image(using: &b)
            #expect(one.image.pixels == again.image.pixels && one.mask.bits == again.mask.bits, "\(ingredient) not deterministic")
            #expect(one.image.pixelSize?.nanometersPerPixel == 0.8)
            #expect(one.mask.width == one.image.width && one.mask.height == one.image.height)
            if ingredient != .pixelSize {
                #expect(one.image.width == 200 && one.image.height == 160)
            }
            #expect(one.image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
            let differs = one.image.width != plain.image.width || one.image.pixels != plain.image.pixels
            #expect(differs, "\(ingredient) leaves the image as it was")
        }
    }

    @Test("with pixel sizes drawn, fields shrink at fine native pixel sizes and every image lands at 0.8 nm/px")
    func pixelSizes() {
        var g = SplitMix64(seed: 9)
        let r = realism([.pixelSize])
        var drawn: [Double] = []
        for _ in 0..<40 {
            var copy = g
            let p = r.parameters(using: &copy)
            drawn.append(p.pixelSizeNm)
            #expect(p.width <= 2800)
            let out = r.image(using: &g)
            #expect(out.image.pixelSize?.nanometersPerPixel == 0.8)
            #expect(abs(Double(out.image.width) - Double(p.width) * p.pixelSizeNm / 0.8) <= 1)
        }
        #expect(drawn.min()! >= 0.15 && drawn.max()! <= 2.0)
        #expect(drawn.min()! < 0.3 && drawn.max()! > 1.2)
    }

    @Test("pixels an annotation changes, and the footer, are background in the mask")
    func annotationsAreNotSoot() {
        var total = 0, changed = 0
        for seed in 0..<12 {
            var a = SplitMix64(seed: UInt64(seed)), b = SplitMix64(seed: UInt64(seed))
            let plain = realism([]).image(using: &a)
            let annotated = realism([.annotations]).image(using: &b)
            for i in plain.image.pixels.indices where plain.image.pixels[i] != annotated.image.pixels[i] {
                changed += 1
                if annotated.mask.bits[i] != 0 { total += 1 }
            }
        }
        #expect(changed > 0)
        #expect(total == 0, "\(total) annotation pixels marked as soot")
    }

    @Test("configurations name ingredients; unknown ones are errors; the plain generator is unchanged")
    func configuration() throws {
        var c = TrainingConfiguration.cpuPreset
        c.syntheticIngredients = ["all"]
        #expect(c.ingredients == Set(SyntheticIngredient.allCases))
        c.syntheticIngredients = ["dose", "holeyFilm"]
        #expect(c.ingredients == [.dose, .holeyFilm])
        try c.validate()
        c.syntheticIngredients = ["glitter"]
        #expect(throws: TrainingError.self) { try c.validate() }
        // Without ingredients the generator draws what it drew before they existed.
        var p = SynthesisParameters()
        p.width = 120; p.height = 100; p.pixelSizeNm = 0.8
        let first = synthesize(p, seed: 77)
        #expect(first.truth.parameters.halo == nil && first.truth.parameters.holeyFilm == nil)
        #expect(synthesize(p, seed: 77).image.pixels == first.image.pixels)
    }
}
