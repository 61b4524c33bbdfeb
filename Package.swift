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
        .library(name: "Synthesis", targets: ["Synthesis"]),
        .library(name: "Randomness", targets: ["Randomness"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Report", targets: ["Report"]),
        .executable(name: "sootctl", targets: ["sootctl"]),
        .executable(name: "sootbench", targets: ["sootbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
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

        // Libraries.
        .target(name: "Randomness"),
        .target(
            name: "ImageCore",
            dependencies: [
                "CPNG", "CTIFF", "CLAPACKE",
                .product(name: "HeapModule", package: "swift-collections"),
            ]),
        .target(
            name: "NeuralNet",
            dependencies: ["COpenBLAS", "Randomness", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(
            name: "Statistics", dependencies: ["ImageCore"]),
        .target(
            name: "Classifiers",
            dependencies: ["ImageCore", "NeuralNet", "Statistics", "Randomness"]),
        .target(
            name: "PrimarySizing",
            dependencies: ["ImageCore", "Statistics"]),
        .target(
            name: "Training",
            dependencies: ["ImageCore", "NeuralNet", "Synthesis", "Randomness"]),
        .target(
            name: "Report",
            dependencies: ["ImageCore", "Statistics", "Classifiers", "PrimarySizing"]),
        .target(
            name: "Synthesis",
            dependencies: ["ImageCore", "Randomness"]),

        // Executables: the thin CLI and the benchmark driver.
        .executableTarget(
            name: "sootctl",
            dependencies: [
                "ImageCore", "NeuralNet", "Classifiers", "PrimarySizing", "Statistics", "Synthesis", "Randomness", "Training", "Report",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "sootbench",
            dependencies: ["ImageCore", "NeuralNet", "Synthesis", "Classifiers", "Statistics", "PrimarySizing"]),

        // Tests.
        .target(name: "TestSupport", dependencies: ["ImageCore", "Randomness"], path: "Tests/TestSupport"),
        .testTarget(
            name: "ImageCoreTests", dependencies: ["ImageCore", "Synthesis", "TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "NeuralNetTests", dependencies: ["NeuralNet", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "StatisticsTests", dependencies: ["Statistics", "ImageCore", "TestSupport"]),
        .testTarget(
            name: "ClassifiersTests", dependencies: ["Classifiers", "Statistics", "NeuralNet", "Synthesis", "TestSupport"]),
        .testTarget(
            name: "PrimarySizingTests", dependencies: ["PrimarySizing", "Statistics", "ImageCore", "Synthesis", "TestSupport"]),
        .testTarget(
            name: "SynthesisTests",
            dependencies: ["Synthesis", "Statistics", "ImageCore", "Classifiers", "PrimarySizing", "TestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Statistics", "ImageCore", "PrimarySizing", "Classifiers", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "NeuralNet", "ImageCore", "Randomness", "TestSupport"]),
        .testTarget(name: "SootctlTests", dependencies: ["ImageCore", "Synthesis", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
