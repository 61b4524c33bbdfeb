import ArgumentParser
import Foundation
import Pipeline

/// `sootctl info IMAGE...`: what each image file holds.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print size, stored type and range, pixel size and its source, scale bar and footer of image files.",
        discussion: """
            Reads PNG, TIFF (integer and floating-point samples; FEI, Zeiss, TVIPS, JEOL, Gatan, \
            ImageJ and OME calibrations), JPEG and Gatan DM3/DM4 files. The pixel size is the \
            file's own calibration, else the scale bar burned into the image (its label read by \
            OCR); without either, the reason is printed. A file that cannot be read is reported \
            on standard error and the others are still printed; the exit code is then 1.
            """)

    @Argument(help: "Image files (PNG, TIFF, JPEG, DM3, DM4).", completion: .file())
    var images: [String]

    @Flag(help: "Print one JSON object per file instead of text.")
    var json = false

    func run() throws {
        var failures = 0
        for path in images {
            do {
                let summary = try FileDescription(path: path)
                print(json ? summary.jsonLine() : summary.textLine())
            } catch {
                failures += 1
                printError(error, path: path)
            }
        }
        if failures > 0 {
            printError("\(failures) of \(images.count) file(s) could not be read")
            throw ExitCode.failure
        }
    }
}
