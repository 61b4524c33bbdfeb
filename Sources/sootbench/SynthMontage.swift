import Foundation
import ImageCore
import Randomness
import Training

/// `sootbench synth-montage`: the four shared real images and eight synthetic training images
/// with every realism ingredient (`SyntheticRealism`), all at the default model's 0.8 nm/px and
/// shown at the same scale (a 560 x 488 px window of each, 448 nm x 390 nm), as one PNG.
func writeSyntheticMontage(realFolder: String, pixelSizes: String, out: String, seed: UInt64) throws {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: realFolder, isDirectory: &isFolder), isFolder.boolValue else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "synth-montage: no folder of real images at \(realFolder) (--real DIR)"])
    }
    let ps = 0.8, tileW = 560, tileH = 488, gap = 8
    var sizes: [String: Double] = [:]
    for line in try String(contentsOfFile: pixelSizes, encoding: .utf8).split(separator: "\n").dropFirst() {
        let f = line.split(separator: ",")
        if f.count >= 2, let v = Double(f[1]) { sizes[String(f[0])] = v }
    }
    func window(_ image: GrayImage) -> GrayImage {
        var tile = GrayImage(width: tileW, height: tileH, value: 1)
        let r0 = max(0, (image.height - tileH) / 2), c0 = max(0, (image.width - tileW) / 2)
        for r in 0..<min(tileH, image.height) { for c in 0..<min(tileW, image.width) { tile[r, c] = image[r0 + r, c0 + c] } }
        return tile
    }
    var tiles: [GrayImage] = []
    let stems = try FileManager.default.contentsOfDirectory(atPath: realFolder).filter { $0.hasSuffix(".png") }.sorted()
    for name in stems.prefix(4) {
        let stem = (name as NSString).deletingPathExtension
        let image = try ImageReader.read((realFolder as NSString).appendingPathComponent(name)).image
        let scale = (sizes[stem] ?? ps) / ps
        tiles.append(window(resize(image, width: Int(Double(image.width) * scale), height: Int(Double(image.height) * scale), method: .area)))
    }
    let realism = SyntheticRealism(ingredients: Set(SyntheticIngredient.allCases), modelPixelSizeNm: ps)
    var rng = SplitMix64(seed: seed)
    for _ in 0..<8 { tiles.append(window(realism.image(using: &rng).image)) }
    let columns = 4, rows = (tiles.count + columns - 1) / columns
    var montage = GrayImage(width: columns * tileW + (columns - 1) * gap, height: rows * tileH + (rows - 1) * gap, value: 1)
    for (k, tile) in tiles.enumerated() {
        let r0 = (k / columns) * (tileH + gap), c0 = (k % columns) * (tileW + gap)
        for r in 0..<tileH { for c in 0..<tileW { montage[r0 + r, c0 + c] = tile[r, c] } }
    }
    try FileManager.default.createDirectory(atPath: (out as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try ImageWriter.writePNG8(montage, to: out)
    print("wrote \(out): row 1 the shared real images (\(stems.prefix(4).joined(separator: ", "))), rows 2-3 synthetic (seed \(seed))")
}

/// `sootbench realism-set`: a test set of synthetic images with every realism ingredient
/// (`SyntheticRealism`, the training generator's draws, with seeds no training run uses), at
/// the model's pixel size (0.8 nm/px) with it in each PNG: `OUT/images/realism_SEED_NN.png`
/// and `OUT/masks/` (the same names), for `sootctl compare` of models trained with and without
/// each ingredient (Docs/Training.md). `ingredients` picks a subset ("all" by default).
func writeRealismSet(out: String, count: Int, seed: UInt64, ingredients: String) throws {
    let chosen: Set<SyntheticIngredient> = ingredients == "all" ? Set(SyntheticIngredient.allCases)
        : Set(try ingredients.split(separator: ",").map { name -> SyntheticIngredient in
            guard let i = SyntheticIngredient(rawValue: String(name)) else {
                throw CocoaError(.formatting, userInfo: [NSLocalizedDescriptionKey: "realism-set: unknown ingredient \(name)"])
            }
            return i
        })
    let ps = 0.8
    let realism = SyntheticRealism(ingredients: chosen, modelPixelSizeNm: ps)
    for folder in ["images", "masks"] {
        try FileManager.default.createDirectory(atPath: (out as NSString).appendingPathComponent(folder), withIntermediateDirectories: true)
    }
    for k in 0..<count {
        var rng = SplitMix64(seed: seed &+ UInt64(k) &* 0x9E37_79B9_7F4A_7C15)
        var (image, mask) = realism.image(using: &rng)
        image.pixelSize = PixelSize(nanometersPerPixel: ps, source: .user)
        mask.pixelSize = image.pixelSize
        let name = String(format: "realism_%llu_%02d.png", seed, k)
        try ImageWriter.writePNG8(image, to: (out as NSString).appendingPathComponent("images/" + name))
        try ImageWriter.writeMask(mask, to: (out as NSString).appendingPathComponent("masks/" + name))
    }
    print("wrote \(count) image(s) with \(ingredients) ingredient(s) at \(ps) nm/px to \(out)/images and \(out)/masks (seed \(seed))")
}
