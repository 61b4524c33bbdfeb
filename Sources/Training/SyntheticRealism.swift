import Foundation
import ImageCore
import Randomness
import Synthesis
import TextRendering

/// What synthetic training images hold beyond the plain generator (issue 13), by ingredient.
/// Each is switched on by name in `TrainingConfiguration.syntheticIngredients`, so that an
/// ablation trains with and without one; none on keeps the images the shipped model saw.
public enum SyntheticIngredient: String, Sendable, CaseIterable, Codable {
    /// Native pixel sizes 0.15-2 nm/px (log-uniform), rendered there and resampled to the
    /// model's pixel size as real images are.
    case pixelSize
    /// Primary geometric means 10-60 nm (log-uniform per aggregate), 1-10 aggregates.
    case primarySize
    /// Dense and open aggregates (Df 1.5-2.4 per aggregate, overlap 0-0.35), touching and
    /// overlapping each other (40 % of aggregates placed against another).
    case morphology
    /// Film texture 0.01-0.08, thickness and illumination gradients up to 35 %.
    case film
    /// Holey and lacey film (60 % of images): bright holes, darker film edges.
    case holeyFilm
    /// Defocus: blur 0.3-2 px, Fresnel fringe 0-2.5, wide halos 0-1.
    case defocus
    /// Shot noise from dose-limited (8 % of the background) to clean (0.3 %), log-uniform.
    case dose
    /// Contrast from faint to dark: attenuation 0.006-0.045 per nm of carbon, background 0.35-0.85.
    case contrast
    /// Burned-in scale bars, text labels and footers (not soot).
    case annotations

    /// Every ingredient ("all" in a configuration).
    public static var everything: [SyntheticIngredient] { allCases }
}

/// Draws one synthetic training image with the chosen ingredients.
public struct SyntheticRealism: Sendable {
    public var ingredients: Set<SyntheticIngredient>
    /// The model's pixel size (nm/px): images come out at it.
    public var modelPixelSizeNm: Double
    /// Working size of a plain image (a 2240 x 1952 field at 0.4 nm/px).
    public var workingWidth: Int, workingHeight: Int
    /// Fonts for annotations (none installed: bars and footers without text).
    public var fonts: [String]

    public init(ingredients: Set<SyntheticIngredient>, modelPixelSizeNm: Double, fonts: [String] = TextRenderer.installedFonts()) {
        self.ingredients = ingredients
        self.modelPixelSizeNm = modelPixelSizeNm
        workingWidth = max(Int((2240 * 0.4 / modelPixelSizeNm).rounded()), 64)
        workingHeight = max(Int((1952 * 0.4 / modelPixelSizeNm).rounded()), 64)
        self.fonts = fonts
    }

    /// Native pixels per side at most (a finer native pixel size shows a smaller field).
    static let maximumNativeSide = 2800

    /// The generator's parameters for one image, drawn from `rng`.
    public func parameters(using rng: inout SplitMix64) -> SynthesisParameters {
        var p = SynthesisParameters()
        var ps = modelPixelSizeNm
        if ingredients.contains(.pixelSize) { ps = exp(Double.random(in: log(0.15)...log(2.0), using: &rng)) }
        p.pixelSizeNm = ps
        let factor = modelPixelSizeNm / ps
        let aspect = Double(workingHeight) / Double(workingWidth)
        p.width = max(Int((Double(workingWidth) * factor).rounded()), 64)
        p.height = max(Int((Double(workingHeight) * factor).rounded()), 64)
        if p.width > Self.maximumNativeSide {
            p.width = Self.maximumNativeSide
            p.height = max(Int((Double(p.width) * aspect).rounded()), 64)
        }
        if ingredients.contains(.primarySize) {
            p.primarySize = .logUniform(lowNm: 10, highNm: 60)
            p.aggregateCount = 1...10
        }
        if ingredients.contains(.morphology) {
            p.fractalDimensionRange = 1.5...2.4
            p.overlap = 0...0.35
            p.aggregateContact = 0.4
        }
        if ingredients.contains(.film) {
            p.filmTexture = Double.random(in: 0.01...0.08, using: &rng)
            p.illuminationGradient = Double.random(in: 0...0.35, using: &rng)
        }
        if ingredients.contains(.holeyFilm) { p.holeyFilm = 0.6 }
        if ingredients.contains(.defocus) {
            let blur = Double.random(in: 0.3...2, using: &rng)
            p.blurPx = blur...blur
            p.fringe = Double.random(in: 0...2.5, using: &rng)
            p.halo = 0...1
        }
        if ingredients.contains(.dose) { p.shotNoise = exp(Double.random(in: log(0.003)...log(0.08), using: &rng)) }
        if ingredients.contains(.contrast) {
            p.attenuationPerNm = 0.006...0.045
            p.backgroundLevel = 0.35...0.85
        }
        return p
    }

    /// One image and its mask at the model's pixel size.
    public func image(using rng: inout SplitMix64) -> (image: GrayImage, mask: BinaryMask) {
        let p = parameters(using: &rng)
        let s = synthesize(p, seed: rng.next())
        var image = s.image, mask = s.mask
        if ingredients.contains(.annotations) { annotate(&image, mask: &mask, pixelSizeNm: p.pixelSizeNm, using: &rng) }
        let scale = p.pixelSizeNm / modelPixelSizeNm
        if abs(scale - 1) > 1e-6 {
            let w = max(Int((Double(image.width) * scale).rounded()), 1), h = max(Int((Double(image.height) * scale).rounded()), 1)
            image = resize(image, width: w, height: h, method: .area)
            var m = resize(mask.asImage(), width: w, height: h, method: .area)
            m.pixelSize = nil
            mask = BinaryMask(width: w, height: h)
            for i in 0..<m.count where m.pixels[i] > 0.5 { mask.bits[i] = 1 }
        }
        image.pixelSize = PixelSize(nanometersPerPixel: modelPixelSizeNm, source: .user)
        mask.pixelSize = image.pixelSize
        return (image, mask)
    }

    /// Burns a scale bar (70 % of images), a footer band (35 %) and text labels (35 %) into
    /// `image`; every pixel they change, and the whole footer, is background in `mask`.
    func annotate(_ image: inout GrayImage, mask: inout BinaryMask, pixelSizeNm ps: Double, using rng: inout SplitMix64) {
        let before = image.pixels
        let renderer: TextRenderer? = fonts.isEmpty ? nil : try? TextRenderer(fontPath: fonts[Int(rng.next() % UInt64(fonts.count))])
        func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
        if chance(0.35) {
            // A footer: a black or white band across the bottom with the microscope's text.
            let band = max(8, Int(Double(image.height) * Double.random(in: 0.04...0.1, using: &rng)))
            let value: Float = chance(0.7) ? 0 : 1
            for r in (image.height - band)..<image.height {
                for c in 0..<image.width { image[r, c] = value; mask.bits[r * image.width + c] = 0 }
            }
            if let renderer {
                let words = ["HV=200.0kV", "Direct Mag: \(Int.random(in: 10...400, using: &rng))000x", "Cam: 2k",
                             "TEM Mode: Imaging", "\(Int.random(in: 1...999, using: &rng)).tif", "Print Mag: 98500x"]
                var x = band / 2
                let size = max(8, band / 2)
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let word = words[Int(rng.next() % UInt64(words.count))]
                    let box = renderer.draw(word, sizePx: size, into: &image, x: x, y: image.height - band + band / 4, value: 1 - value)
                    x += box.width + size
                    if x >= image.width { break }
                }
            }
        }
        if chance(0.7), let renderer {
            let style = ScaleBarScene.randomStyle(width: image.width, pixelSizeNm: ps, fonts: [renderer.fontPath], rng: &rng)
            _ = ScaleBarScene.draw(style, into: &image, pixelSizeNm: ps, renderer: renderer)
        } else if chance(0.5) {
            // A bar without a label.
            let length = max(8, image.width / Int.random(in: 5...10, using: &rng)), thickness = max(2, image.height / 150)
            let x0 = image.width / 20, y0 = image.height - image.height / 20 - thickness
            let value: Float = chance(0.5) ? 0 : 1
            for r in y0..<(y0 + thickness) { for c in x0..<(x0 + length) { image[r, c] = value } }
        }
        if chance(0.35), let renderer {
            let labels = ["A", "B", "1", "2a", "x50k", "100 kV", "Sample 3", "→"]
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let size = max(10, Int(Double(image.width) * Double.random(in: 0.015...0.04, using: &rng)))
                let x = Int.random(in: 0..<max(1, image.width - 4 * size), using: &rng)
                let y = Int.random(in: 0..<max(1, image.height - 2 * size), using: &rng)
                renderer.draw(labels[Int(rng.next() % UInt64(labels.count))], sizePx: size, into: &image, x: x, y: y,
                              value: chance(0.5) ? 0 : 1)
            }
        }
        for i in 0..<before.count where image.pixels[i] != before[i] { mask.bits[i] = 0 }
    }
}
