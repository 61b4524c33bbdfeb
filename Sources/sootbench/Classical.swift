import Classifiers
import Foundation
import ImageCore
import PrimarySizing
import Aggregates
import Statistics

/// Times the classical pipeline on one image: each classifier, the mask-to-aggregates step,
/// each sizing method (on the aggregates of the given mask, or of the k-means mask), and a
/// whole `analyze` (k-means + all four sizing methods).
func benchClassical(imagePath: String, maskPath: String?, pixelSizeNm ps: Double, repeatCount: Int,
                    jsonPath: String?) throws {
    var image = try ImageReader.read(imagePath).image
    image.pixelSize = PixelSize(nanometersPerPixel: ps, source: .user)
    let n = image.count
    print("image: \(imagePath) (\(image.width) x \(image.height)), \(ps) nm/px")
    print("threads: \(imageCoreThreadCount), repeats: \(repeatCount) (median reported)")
    var timings: [Timing] = []
    timings.append(measure("background subtraction", pixels: n, repeat: repeatCount) {
        consume(try? subtractBackground(image))
    })
    timings.append(measure("otsu classifier", pixels: n, repeat: repeatCount) {
        consume(try? OtsuSegmenter().segment(image, pixelSizeNm: ps))
    })
    let kmeans = KMeansSegmenter()
    timings.append(measure("kmeans features", pixels: n, repeat: repeatCount) {
        consume(try? kmeans.features(image, pixelSizeNm: ps))
    })
    var kmeansMask = BinaryMask(width: image.width, height: image.height)
    timings.append(measure("kmeans classifier", pixels: n, repeat: repeatCount) {
        kmeansMask = (try? kmeans.segment(image, pixelSizeNm: ps))?.mask ?? kmeansMask
    })
    let mask = try maskPath.map { try ImageReader.readMask($0) } ?? kmeansMask
    var analysis = extractAggregates(mask: mask, image: image, pixelSizeNm: ps)
    timings.append(measure("analyze binary (properties)", pixels: n, repeat: repeatCount) {
        analysis = extractAggregates(mask: mask, image: image, pixelSizeNm: ps)
    })
    print("aggregates: \(analysis.aggregates.count)")
    for method in SizingMethod.allCases {
        timings.append(measure("sizing \(method.rawValue)", pixels: n, repeat: repeatCount) {
            consume(sizePrimaryParticles(analysis: analysis, image: image, methods: [method]))
        })
    }
    timings.append(measure("analyze kmeans + all sizing", pixels: n, repeat: repeatCount) {
        guard let seg = try? kmeans.segment(image, pixelSizeNm: ps) else { return }
        let a = extractAggregates(mask: seg.mask, image: image, pixelSizeNm: ps)
        consume(sizePrimaryParticles(analysis: a, image: image, methods: SizingMethod.allCases))
    })
    if let jsonPath {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(timings).write(to: URL(fileURLWithPath: jsonPath))
        print("wrote \(jsonPath)")
    }
}
