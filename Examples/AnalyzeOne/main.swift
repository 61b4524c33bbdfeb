// Analyses one image with the sootctl library and writes aggregates.csv (Docs/Architecture.md).
//   analyze-one IMAGE OUT.csv [PIXEL_SIZE_NM]
import Foundation
import ImageCore
import Pipeline

let arguments = CommandLine.arguments
let pixelSizes = PixelSizeRule(commandLineNm: arguments.count > 3 ? Double(arguments[3]) : nil)
var configuration = AnalysisConfiguration()        // the defaults of `sootctl analyze`
configuration.classifier = .kmeans
configuration.sizing = [.pcm, .edmSBS]
do {
    let image = try LoadedImage(path: arguments[1], pixelSizes: pixelSizes)
    let result = try Analyzer(configuration: configuration).analyze(image)
    try AggregateRecord.table(result.records).csv.write(toFile: arguments[2], atomically: true, encoding: .utf8)
    print("\(result.records.count) aggregate(s), pixel size \(image.pixelSize!.nanometersPerPixel) nm/px")
} catch {
    print("error: \(describe(error))")
    exit(1)
}
