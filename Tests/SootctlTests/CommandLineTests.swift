import Foundation
import ImageCore
import Synthesis
import Testing
import TestSupport

/// Runs the built `sootctl` binary and captures its output.
func runSootctl(_ arguments: [String], environment: [String: String] = [:]) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    try runBuiltProgram("sootctl", arguments, environment: environment)
}

@Suite("sootctl command line")
struct CommandLineTests {
    @Test("info prints size, depth, pixel size and footer for each file")
    func info() throws {
        let result = try runSootctl(["info", "Examples/synthetic_soot.png", TestPaths.fixture("mask_g4.tif")])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("640 x 480, 8-bit gray, 1 channel, PNG"))
        #expect(lines[0].contains("pixel size 0.8 nm/px (png-text)"))
        #expect(lines[0].contains("footer: none"))
        #expect(lines[1].contains("24 x 16, 1-bit bilevel"))
        #expect(lines[1].contains("CCITT Group 4"))
        #expect(lines[1].contains("foreground 29.43 %"))
    }

    @Test("info --json emits one parseable object per file")
    func infoJSON() throws {
        let result = try runSootctl(["info", "--json", TestPaths.fixture("gray8_deflate.tif")])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(object?["width"] as? Int == 24)
        #expect(object?["bitDepth"] as? Int == 8)
        #expect(object?["pixelSizeNm"] as? Double == 0.5)
        #expect(object?["pixelSizeSource"] as? String == "tiff-resolution")
    }

    @Test("a bad file is reported on stderr, the others are still printed, and the exit code is 1")
    func badFileKeepsGoing() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let empty = folder.appendingPathComponent("empty.png").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let bogus = folder.appendingPathComponent("bogus.tif").path
        _ = FileManager.default.createFile(atPath: bogus, contents: Data("II*\0garbage".utf8))
        let result = try runSootctl(["info", empty, TestPaths.fixture("gray8.png"), bogus])
        #expect(result.status == 1)
        #expect(result.stdout.contains("gray8.png: 24 x 16"))
        #expect(result.stderr.contains("\(empty): empty file"))
        #expect(result.stderr.contains(bogus))
        #expect(result.stderr.contains("2 of 3 file(s) could not be read"))
    }

    @Test("every subcommand has --help")
    func help() throws {
        let root = try runSootctl(["--help"])
        #expect(root.status == 0 && root.stdout.contains("SUBCOMMANDS") && root.stdout.contains("info"))
        let info = try runSootctl(["info", "--help"])
        #expect(info.status == 0 && info.stdout.contains("USAGE: sootctl info"))
        let missing = try runSootctl(["info"])
        #expect(missing.status != 0)
    }

    @Test("the README example is what Synthesis.readmeExample renders")
    func exampleIsReproducible() throws {
        let example = readmeExample()
        let (image, mask) = (example.image, example.mask)
        let stored = try ImageReader.read(TestPaths.packageRoot.appendingPathComponent("Examples/synthetic_soot.png").path)
        let mismatches = zip(stored.image.bytes8(), image.bytes8()).filter { $0 != $1 }.count
        #expect(mismatches == 0, "pixels differing from the renderer: \(mismatches)")
        #expect(stored.image.pixelSize?.nanometersPerPixel == 0.8)
        let storedMask = try ImageReader.readMask(TestPaths.packageRoot.appendingPathComponent("Examples/synthetic_soot_mask.png").path)
        #expect(zip(storedMask.bits, mask.bits).filter { $0 != $1 }.isEmpty)
    }
}
