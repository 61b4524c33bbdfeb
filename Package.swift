// swift-tools-version: 6.1
//
// sootctl: characterising soot in TEM images (aggregate segmentation, aggregate
// properties, primary-particle sizing, statistics). See Docs/Architecture.md for what each
// target owns and which may import which.
import PackageDescription

let package = Package(
    name: "sootctl",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "ImageCore", targets: ["ImageCore"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "Classifiers", targets: ["Classifiers"]),
        .library(name: "PrimarySizing", targets: ["PrimarySizing"]),
        .library(name: "Statistics", targets: ["Statistics"]),
        .library(name: "Aggregates", targets: ["Aggregates"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Annotations", targets: ["Annotations"]),
        .library(name: "TextRendering", targets: ["TextRendering"]),
        .library(name: "RandomForest", targets: ["RandomForest"]),
        .library(name: "Synthesis", targets: ["Synthesis"]),
        .library(name: "Randomness", targets: ["Randomness"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Report", targets: ["Report"]),
        .library(name: "Review", targets: ["Review"]),
        .executable(name: "sootctl", targets: ["sootctl"]),
        .executable(name: "sootbench", targets: ["sootbench"]),
        .executable(name: "sootfuzz", targets: ["sootfuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
    ],
    targets: [
        // System libraries: one module map and one shim header each.
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(
            name: "CLAPACKE", pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"]), .brew(["lapack"])]),
        .systemLibrary(
            name: "CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(
            name: "CTIFF", pkgConfig: "libtiff-4",
            providers: [.apt(["libtiff-dev"]), .brew(["libtiff"])]),
        .systemLibrary(
            name: "CFreeType", pkgConfig: "freetype2",
            providers: [.apt(["libfreetype-dev"]), .brew(["freetype"])]),
        .systemLibrary(
            name: "CTesseract", pkgConfig: "tesseract",
            providers: [.apt(["libtesseract-dev", "tesseract-ocr-eng"]), .brew(["tesseract"])]),
        .systemLibrary(
            name: "CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"]), .brew(["jpeg-turbo"])]),

        // Libraries.
        .target(name: "Randomness"),
        // Random forests (Gini, bootstrap, √F features per split, trees in parallel) and their file.
        .target(name: "RandomForest", dependencies: ["Randomness"]),
        .target(
            name: "ImageCore",
            dependencies: [
                "CPNG", "CTIFF", "CTurboJPEG", "CLAPACKE",
                .product(name: "HeapModule", package: "swift-collections"),
            ]),
        // Scale bars, their labels (Tesseract OCR), text boxes and saturated regions: what is not soot.
        .target(name: "Annotations", dependencies: ["ImageCore", "CTesseract"]),
        // Text rendered with FreeType, for synthetic images with burned-in labels.
        .target(name: "TextRendering", dependencies: ["ImageCore", "CFreeType", "Randomness"]),
        // NeuralNet's own AVX-512 SGEMM (C, runtime-dispatched; OpenBLAS where the CPU lacks AVX-512F).
        .target(name: "CSGEMM"),
        .target(
            name: "NeuralNet",
            dependencies: ["COpenBLAS", "CSGEMM", "Randomness", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(
            name: "Statistics", dependencies: ["ImageCore"]),
        .target(
            name: "Aggregates", dependencies: ["ImageCore"]),
        .target(
            name: "Classifiers",
            dependencies: ["ImageCore", "NeuralNet", "Aggregates", "Randomness", "RandomForest"]),
        .target(
            name: "PrimarySizing",
            dependencies: ["ImageCore", "Statistics", "Aggregates", "NeuralNet"]),
        .target(
            name: "Training",
            dependencies: ["ImageCore", "NeuralNet", "Synthesis", "Randomness", "Classifiers", "RandomForest", "Statistics", "PrimarySizing", "TextRendering"]),
        .target(
            name: "Report",
            dependencies: ["ImageCore", "Statistics", "PrimarySizing"]),
        // The whole path from files to results; the commands are thin wrappers around it.
        .target(
            name: "Pipeline",
            dependencies: [
                "ImageCore", "NeuralNet", "Classifiers", "Aggregates", "PrimarySizing", "Statistics", "Report", "Synthesis",
                "Annotations", "Randomness", .product(name: "Crypto", package: "swift-crypto"),
            ],
            plugins: ["BuildInfo"]),
        .plugin(name: "BuildInfo", capability: .buildTool()),
        // `sootctl review`: the browser mask editor (slider method, brush), its server and JSON API.
        .target(
            name: "Review",
            dependencies: [
                "ImageCore", "Classifiers", "Pipeline", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        .target(
            name: "Synthesis",
            dependencies: ["ImageCore", "Randomness"]),

        // Executables: the thin CLI and the benchmark driver.
        .executableTarget(
            name: "sootctl",
            dependencies: [
                "ImageCore", "Synthesis", "Randomness", "Training", "Pipeline", "PrimarySizing", "Review",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The library example of Docs/Architecture.md (built and run by PipelineTests).
        .executableTarget(name: "analyze-one", dependencies: ["Pipeline", "ImageCore"], path: "Examples/AnalyzeOne"),
        .executableTarget(
            name: "sootbench",
            dependencies: ["ImageCore", "NeuralNet", "Synthesis", "Classifiers", "Statistics", "Aggregates", "PrimarySizing", "RandomForest", "Annotations", "TextRendering", "Randomness", "Training"]),

        // Mutation fuzzing of the decoders through `sootctl info` (scripts/fuzz.sh).
        .executableTarget(name: "sootfuzz", dependencies: ["Randomness"]),

        // Tests.
        .target(name: "TestSupport", dependencies: ["ImageCore", "Randomness"], path: "Tests/TestSupport"),
        .testTarget(
            name: "ImageCoreTests", dependencies: ["ImageCore", "Synthesis", "TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "NeuralNetTests", dependencies: ["NeuralNet", "Randomness", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "StatisticsTests", dependencies: ["Statistics", "ImageCore", "TestSupport"]),
        .testTarget(name: "RandomForestTests", dependencies: ["RandomForest", "Randomness"]),
        .testTarget(name: "AggregatesTests", dependencies: ["Aggregates", "Statistics", "ImageCore", "TestSupport"]),
        .testTarget(
            name: "PipelineTests", dependencies: ["Pipeline", "Aggregates", "Classifiers", "ImageCore", "PrimarySizing", "Report", "TestSupport",
                                                  "Synthesis", "TextRendering", "Annotations"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "ClassifiersTests", dependencies: ["Classifiers", "Statistics", "Aggregates", "NeuralNet", "Synthesis", "RandomForest", "TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "PrimarySizingTests", dependencies: ["PrimarySizing", "Statistics", "Aggregates", "ImageCore", "Synthesis", "TestSupport"]),
        .testTarget(
            name: "SynthesisTests",
            dependencies: ["Synthesis", "Statistics", "Aggregates", "ImageCore", "Classifiers", "PrimarySizing", "TestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Pipeline", "Statistics", "Aggregates", "ImageCore", "PrimarySizing", "Classifiers", "TestSupport"]),
        .testTarget(name: "AnnotationsTests", dependencies: ["Annotations", "TextRendering", "Synthesis", "ImageCore", "Randomness", "TestSupport"]),
        .testTarget(name: "ReviewTests", dependencies: ["Review", "ImageCore", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "NeuralNet", "ImageCore", "Randomness", "Classifiers", "TestSupport", "Synthesis", "PrimarySizing"]),
        .testTarget(name: "SootctlTests", dependencies: ["ImageCore", "NeuralNet", "Synthesis", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
