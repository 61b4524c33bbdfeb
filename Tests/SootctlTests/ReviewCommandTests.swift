import Foundation
import Testing
import TestSupport

@Suite("sootctl review: the command line")
struct ReviewCommandTests {
    @Test("no images, a bad port, a missing --masks folder or duplicate names are clear errors")
    func errors() throws {
        let none = try runSootctl(["review", "--out", "/tmp/x"])
        #expect(none.status != 0 && none.stderr.contains("name the images"))
        let port = try runSootctl(["review", example, "--out", "/tmp/x", "--port", "70000"])
        #expect(port.status != 0 && port.stderr.contains("--port"))
        let masks = try runSootctl(["review", example, "--out", "/tmp/x", "--masks", "/nonexistent"])
        #expect(masks.status != 0 && masks.stderr.contains("/nonexistent"))
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        for sub in ["a", "b"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: example, toPath: root.appendingPathComponent("\(sub)/synthetic_soot.png").path)
        }
        let twice = try runSootctl(["review", root.appendingPathComponent("a").path, root.appendingPathComponent("b").path,
                                    "--out", root.appendingPathComponent("out").path])
        #expect(twice.status != 0 && twice.stderr.contains("same name"), "\(twice.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("out").path))
    }
}
