import Foundation
import Testing
import TestSupport

/// The numbers `analyze` and `compare` give, byte for byte: the README example's
/// aggregates.csv (unchanged since the pipeline moved out of the CLI, commit 29ffbe3, but for
/// the located primaries' count and spread columns appended after dp_edm_ws_nm), and
/// compare's four tables on the shared real images with their nominal pixel sizes (renewed
/// when k-means, Otsu, Hough and the mask sizing methods moved to 0.8 nm/px, PaperScale;
/// Docs/Methods.md gives the differences). Both renewed again when the default CNN changed
/// (session 13, Docs/Training.md): only the CNN's rows and matches moved.
@Suite("Golden results")
struct GoldenTests {
    func golden(_ name: String) throws -> String {
        try String(contentsOfFile: TestPaths.fixture("golden/" + name, target: "PipelineTests"), encoding: .utf8)
    }

    @Test("the README example gives the same aggregates.csv as before the move")
    func readmeExample() throws {
        let out = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runBuiltProgram("sootctl", ["analyze", "Examples/synthetic_soot.png", "--out", out.path + "/results"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: out.path + "/results/aggregates.csv", encoding: .utf8) == golden("readme/aggregates.csv"))
        for file in ["aggregates.json", "images.csv", "summary.json", "run.json", "report.html", "masks/synthetic_soot.png",
                     "overlays/synthetic_soot.png"] {
            #expect(FileManager.default.fileExists(atPath: out.path + "/results/" + file), "\(file) missing")
        }
    }

    @Test("compare on the shared real images gives the recorded Tables 3-5 and matches",
          .enabled(if: TestPaths.hasSharedData))
    func compareReal() throws {
        let out = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let table = out.appendingPathComponent("pixel_sizes.csv")
        try "stem,pixel_size_nm\n20180529_A9_003,0.4\n201805A_A6_004,0.4\nCase1_E7_025,0.4\nRU_FI_A10_004,0.8\n"
            .write(to: table, atomically: true, encoding: .utf8)
        let real = TestPaths.sharedReal
        let result = try runBuiltProgram("sootctl", [
            "compare", real.appendingPathComponent("images").path, "--truth", real.appendingPathComponent("masks").path,
            "--pixel-sizes", table.path, "--classifiers", "cnn,kmeans,otsu", "--out", out.path + "/compare",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        for name in ["segmentation.csv", "sizing.csv", "powerlaw.csv", "matches.csv"] {
            let made = try String(contentsOfFile: out.path + "/compare/" + name, encoding: .utf8)
            #expect(made == (try golden("compare_real/" + name)), "\(name) differs")
        }
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out.path + "/compare/run.json"))) as? [String: Any]
        #expect(run?["classifiers"] as? [String] == ["cnn", "kmeans", "otsu"])
        #expect((run?["model"] as? [String: Any])?["sha256"] is String)
    }
}

/// The library example of Docs/Architecture.md, built against the public API only.
@Suite("Library example")
struct LibraryExampleTests {
    @Test("Docs/Architecture.md shows Examples/AnalyzeOne/main.swift as it is")
    func documented() throws {
        let source = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("Examples/AnalyzeOne/main.swift"), encoding: .utf8)
        let doc = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("Docs/Architecture.md"), encoding: .utf8)
        #expect(doc.contains("```swift\n" + source + "```"))
        #expect(source.split(separator: "\n").count <= 25)
    }

    @Test("the example analyses one image and writes aggregates.csv")
    func runs() throws {
        let out = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        let csv = out.appendingPathComponent("aggregates.csv").path
        let result = try runBuiltProgram("analyze-one", [exampleImage, csv])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("pixel size 0.8 nm/px"))
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.hasPrefix("image,id,area_px,area_nm2,da_nm") == true)
        #expect(lines.count >= 3)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("synthetic_soot,") })
        let failed = try runBuiltProgram("analyze-one", ["/nonexistent.png", csv])
        #expect(failed.status == 1 && failed.stdout.contains("/nonexistent.png"))
    }
}
