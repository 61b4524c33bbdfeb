import ArgumentParser
import Classifiers
import Foundation
import ImageCore
import Statistics

/// `sootctl segment IMAGE... --method M --out DIR`: aggregate masks and overlays.
struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment TEM images into aggregate masks (true = soot).",
        discussion: """
            Writes DIR/masks/STEM.png (8-bit, 0/255, same size as the input) and \
            DIR/overlays/STEM.png (aggregates tinted and outlined). A footer (instrument data bar) \
            is detected and left out of the segmentation; its rows are background in the mask. \
            Folders are expanded to their PNG and TIFF files. A file that cannot be processed is \
            reported and skipped; the exit code is then 1.
            """)

    @Argument(help: "Images (PNG or TIFF) or folders of them.", completion: .file())
    var images: [String]

    @OptionGroup var classifier: ClassifierOptions

    @Option(help: "Aggregates touching the image border: keep or remove.")
    var border: BorderPolicy = .keep

    @Flag(help: "Write the classifier's own mask, without post-processing.")
    var raw = false

    @Flag(help: "Also write DIR/probability/STEM.png, the per-pixel foreground probability as a 16-bit PNG (cnn).")
    var probability = false

    @Option(help: "Output folder.", completion: .directory)
    var out: String

    func validate() throws {
        if probability && classifier.method != .cnn {
            throw ValidationError("--probability needs --method cnn")
        }
    }

    func run() throws {
        let (files, missing) = expandInputs(images)
        for m in missing { printError(CommandError.notFound(m), path: m) }
        guard !files.isEmpty else { throw failure(CommandError.noInputs) }
        let output = try OutputFolder(out, inputs: files)
        let segmenter: any Segmenter
        do { segmenter = try classifier.makeSegmenter() } catch { throw failure(error) }
        let post = raw ? PostProcessing.none : classifier.postProcessing(for: segmenter, removeBorder: border == .remove)
        var failures = missing.count
        var seen: [String: String] = [:]
        let progress = Progress(total: files.count)
        for (k, path) in files.enumerated() {
            progress.update(k, stem(of: path))
            do {
                let name = stem(of: path)
                if let first = seen[name] { throw CommandError.duplicateStem(path, first: first) }
                seen[name] = path
                let loaded = try LoadedImage(path: path, pixelSizeOverride: classifier.pixelSizeNm)
                let result = try segmenter.segment(loaded.image, pixelSizeNm: loaded.pixelSize?.nanometersPerPixel)
                let mask = try post.apply(result.mask, pixelSizeNm: loaded.pixelSize?.nanometersPerPixel)
                let full = loaded.fullSize(mask)
                try ImageWriter.writeMask(full, to: try output.path("masks", name + ".png"))
                var canvas = RGBCanvas(image: loaded.original)
                canvas.tint(full, color: .aggregateTint)
                canvas.outline(full, color: .outline, thickness: max(1, loaded.original.width / 1000))
                try ImageWriter.writeRGB(width: canvas.width, height: canvas.height, rgb: canvas.bytes,
                                         pixelSize: loaded.pixelSize, to: try output.path("overlays", name + ".png"))
                if probability, let p = result.probability {
                    var plane = GrayImage(width: loaded.original.width, height: loaded.original.height,
                                          pixelSize: loaded.pixelSize)
                    for i in 0..<p.count { plane.pixels[i] = p.pixels[i] }
                    try ImageWriter.writePNG16(plane, to: try output.path("probability", name + ".png"))
                }
                for warning in result.warnings { printError("warning: \(path): \(warning)") }
                if !raw, let reason = detectSegmentationFailure(mask) {
                    printError("warning: \(path): segmentation looks failed (\(reason.rawValue))")
                }
            } catch {
                failures += 1
                progress.finish()
                printError(error, path: path)
            }
        }
        progress.finish()
        if failures > 0 {
            printError("\(failures) of \(files.count + missing.count) input(s) failed")
            throw ExitCode.failure
        }
    }
}

/// Reports an error that stops a whole command and returns the exit code to throw.
func failure(_ error: Error) -> ExitCode {
    let text = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
    printError("error: " + text)
    return ExitCode.failure
}
