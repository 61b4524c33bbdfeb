import ArgumentParser
import Dispatch
import Foundation
import ImageCore
import Pipeline
import Review

/// `sootctl review IMAGE... --out DIR`: the browser mask editor (slider method, brush, eraser).
struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Make or correct aggregate masks in the browser: the paper's slider method, brush, eraser (Docs/Review.md).",
        discussion: """
            Starts a local web server on 127.0.0.1 and prints the address to open, with a random token; \
            every request without it is refused. Each image is shown with its mask: the one saved into \
            --out earlier, else --masks DIR's, else the classifier's. Saved masks go to OUT/masks/STEM.png \
            (0/255, the image's size and pixel size) and each image's status to OUT/review.json; they feed \
            `analyze --mask OUT/masks` and `compare --truth OUT/masks`. Stop with Ctrl+C.
            """)

    @Argument(help: "Images (PNG, TIFF, JPEG, DM3, DM4) or folders of them.", completion: .file())
    var images: [String] = []

    @Option(help: "Folder of masks named like the images, shown first.", completion: .directory)
    var masks: String?

    @Option(help: "Output folder (masks/, review.json).", completion: .directory)
    var out: String

    @Option(help: "Port on 127.0.0.1 (0: any free port).")
    var port: Int = 0

    @Option(help: "The first mask of an image with none saved or given: classifier (the --classifier's) or empty (to draw a truth mask from scratch).")
    var start: StartMask = .classifier

    enum StartMask: String, ExpressibleByArgument { case classifier, empty }

    @OptionGroup var classifier: ClassifierOptions
    @OptionGroup var pixelSizes: PixelSizeOptions

    func validate() throws {
        if images.isEmpty { throw ValidationError("name the images (files or folders)") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
    }

    func run() throws {
        try reportingErrors {
            let rule = try pixelSizes.rule()
            let list = InputList(images, recursive: pixelSizes.recursive)
            for m in list.missing { printError("warning: \(m): no such file") }
            let maskFolder = try masks.map { try MaskSource($0, option: "--masks", allowFile: false).path }
            var configuration = AnalysisConfiguration()
            configuration.classifier = classifier.classifier
            configuration.setModelPath(classifier.model, for: classifier.classifier)
            let shared = configuration
            // The classifier is built on first use: reviewing saved or given masks needs no model.
            let analyzer = LazyAnalyzer(configuration: shared)
            var classify: (@Sendable (LoadedImage) throws -> BinaryMask)?
            if start == .classifier {
                classify = { (loaded: LoadedImage) throws -> BinaryMask in try analyzer.get().segment(loaded).mask }
            }
            let session = try ReviewSession(inputs: list.files, masks: maskFolder, out: out, pixelSizes: rule,
                                            classifierName: classifier.classifier.rawValue, classify: classify)
            let server = ReviewServer(session: session)
            let done = DispatchSemaphore(value: 0)
            let failure = LockedBox<Error?>(nil)
            Task {
                do {
                    try await server.run(port: port) { actual in
                        print("review of \(list.files.count) image(s) -> \(out)/masks; open \(server.url(port: actual))")
                        fflush(stdout)
                    }
                } catch { failure.set(ReviewError.cannotServe(port: port, reason: "\(error)")) }
                done.signal()
            }
            done.wait()
            if let error = failure.get() { throw error }
        }
    }
}

/// An `Analyzer` made on first use, once.
final class LazyAnalyzer: @unchecked Sendable {
    let configuration: AnalysisConfiguration
    let lock = NSLock()
    var analyzer: Analyzer?
    init(configuration: AnalysisConfiguration) { self.configuration = configuration }
    func get() throws -> Analyzer {
        lock.lock()
        defer { lock.unlock() }
        if let analyzer { return analyzer }
        let made = try Analyzer(configuration: configuration)
        analyzer = made
        return made
    }
}

/// A value shared between a task and the thread waiting for it.
final class LockedBox<T>: @unchecked Sendable {
    let lock = NSLock()
    var value: T
    init(_ value: T) { self.value = value }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
}
