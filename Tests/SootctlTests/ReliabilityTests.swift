import Foundation
import ImageCore
import Testing
import TestSupport

/// sha256-free fingerprint of a folder: every file (but the lock) with its bytes.
func folderContents(_ root: String) throws -> [String: Data] {
    var out: [String: Data] = [:]
    let walker = FileManager.default.enumerator(atPath: root)
    while let relative = walker?.nextObject() as? String {
        var isDirectory: ObjCBool = false
        let path = (root as NSString).appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              relative != ".sootctl/lock" else { continue }
        out[relative] = try Data(contentsOf: URL(fileURLWithPath: path))
    }
    return out
}

@Suite("Runs that are interrupted, repeated, concurrent or sharded", .serialized)
struct ReliabilityTests {
    /// Six small synthetic images (made once per test).
    func images(_ root: URL) throws -> String {
        let result = try runSootctl(["synth", "--out", root.appendingPathComponent("syn").path, "--count", "6",
                                     "--size", "400x320", "--pixel-size", "0.8", "--seed", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        return root.appendingPathComponent("syn/images").path
    }

    let reproducible = ["SOURCE_DATE_EPOCH": "1700000000"]

    func analyze(_ images: String, _ out: String, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try runSootctl(["analyze", images, "--classifier", "otsu", "--sizing", "pcm,edm-sbs", "--out", out] + extra,
                       environment: reproducible)
    }

    /// Synthetic images analysed once into `root/out`: (images, out, its files).
    func analysedOnce(_ root: URL) throws -> (images: String, out: String, reference: [String: Data]) {
        let images = try images(root)
        let out = root.appendingPathComponent("out").path
        #expect(try analyze(images, out).status == 0)
        return (images, out, try folderContents(out))
    }

    @Test("kill -9 at any moment, then the same command: outputs identical to an uninterrupted run, no temporary file left")
    func killAndRerun() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let (images, out, reference) = try analysedOnce(root)
        #expect(reference.keys.contains("run.json") && reference.keys.contains("aggregates.csv"))
        let binary = TestPaths.packageRoot.appendingPathComponent(".build/release/sootctl").path
        for delay in [0.02, 0.15, 0.3, 0.5, 0.8] {
            try FileManager.default.removeItem(atPath: out)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["analyze", images, "--classifier", "otsu", "--sizing", "pcm,edm-sbs", "--out", out]
            process.environment = ProcessInfo.processInfo.environment.merging(reproducible) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if let run = try? String(contentsOfFile: out + "/run.json", encoding: .utf8), process.terminationReason == .uncaughtSignal {
                // An interrupted run says so.
                #expect(run.contains("\"status\" : \"incomplete\"") || run.contains("\"status\" : \"complete\""))
            }
            #expect(try analyze(images, out).status == 0)
            let again = try folderContents(out)
            #expect(again.keys.sorted() == reference.keys.sorted(), "after a kill at \(delay) s")
            for (name, bytes) in reference { #expect(again[name] == bytes, "\(name) differs after a kill at \(delay) s") }
            #expect(!again.keys.contains { $0.contains(".sootctl-tmp-") })
        }
    }

    @Test("a folder another run holds is refused; a second run replaces the first run's outputs, it does not mix them")
    func lockAndReplace() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let images = try images(root)
        let out = root.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: out + "/.sootctl", withIntermediateDirectories: true)
        let fd = open(out + "/.sootctl/lock", O_CREAT | O_RDWR, 0o644)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let refused = try analyze(images, out)
        #expect(refused.status != 0 && refused.stderr.contains("another sootctl run is writing into this folder"))
        #expect(!FileManager.default.fileExists(atPath: out + "/aggregates.csv"))
        close(fd)
        // First all six images, then two of them: masks and tables hold the second run only.
        #expect(try analyze(images, out).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/masks").count == 6)
        let two = try FileManager.default.contentsOfDirectory(atPath: images).sorted().prefix(2).map { images + "/" + $0 }
        #expect(try runSootctl(["analyze"] + two + ["--classifier", "otsu", "--sizing", "pcm,edm-sbs", "--out", out]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/masks").count == 2)
        let rows = try String(contentsOfFile: out + "/images.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 3)
    }

    @Test("--resume keeps the finished images and redoes a changed one; with other options it is refused")
    func resume() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let (images, out, reference) = try analysedOnce(root)
        let resumed = try analyze(images, out, ["--resume"])
        #expect(resumed.status == 0 && resumed.stderr.contains("6 image(s) finished by an earlier run were kept"))
        // The same results; run.json and the report name the command, now with --resume.
        let after = try folderContents(out)
        #expect(after.keys.sorted() == reference.keys.sorted())
        for (name, bytes) in reference where name != "run.json" && name != "report.html" { #expect(after[name] == bytes, "\(name)") }
        // Change one image: only it is analysed again.
        let first = try FileManager.default.contentsOfDirectory(atPath: images).sorted()[0]
        var image = try ImageReader.read(images + "/" + first).image
        for i in 0..<image.count { image.pixels[i] = min(1, image.pixels[i] + 0.01) }
        try ImageWriter.writePNG8(image, to: images + "/" + first)
        let changed = try analyze(images, out, ["--resume"])
        #expect(changed.status == 0 && changed.stderr.contains("5 image(s) finished by an earlier run were kept"))
        let other = try analyze(images, out, ["--resume", "--min-pixels", "500"])
        #expect(other.status != 0 && other.stderr.contains("--resume needs the same options"))
    }

    @Test("shards K/N merged give the tables, masks, overlays and report of one run; a missing shard is named")
    func shardsAndMerge() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let images = try images(root)
        let single = root.appendingPathComponent("single").path
        #expect(try analyze(images, single).status == 0)
        var shards: [String] = []
        for k in 1...3 {
            let out = root.appendingPathComponent("shard\(k)").path
            let result = try analyze(images, out, ["--shard", "\(k)/3"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/masks").count == 2)
            shards.append(out)
        }
        let merged = root.appendingPathComponent("merged").path
        let result = try runSootctl(["merge"] + shards + ["--out", merged], environment: reproducible)
        #expect(result.status == 0, "\(result.stderr)")
        let a = try folderContents(single), b = try folderContents(merged)
        #expect(a.keys.sorted() == b.keys.sorted())
        for (name, bytes) in a where name != "run.json" && name != "report.html" && !name.hasPrefix(".sootctl/state") {
            #expect(b[name] == bytes, "\(name) differs")
        }
        let run = try String(contentsOfFile: merged + "/run.json", encoding: .utf8)
        #expect(run.contains("merged_from") && run.contains("\"status\" : \"complete\""))
        let missing = try runSootctl(["merge", shards[0], shards[2], "--out", root.appendingPathComponent("m2").path])
        #expect(missing.status != 0 && missing.stderr.contains("shard(s) 2/3 missing"))
        #expect(try runSootctl(["analyze", images, "--shard", "4/3", "--out", single]).status == 64)
        // --out must not overlap a run: the shard's files stay as they were.
        let before = try folderContents(shards[1])
        let into = try runSootctl(["merge"] + shards + ["--out", shards[1]])
        #expect(into.status != 0 && into.stderr.contains("overlaps the run folder"))
        #expect(try folderContents(shards[1]) == before)
    }

    @Test("the masks an earlier run wrote, given back with --mask into the same --out, are never removed")
    func earlierMasksAsInput() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let (images, out, reference) = try analysedOnce(root)
        let masks = reference.keys.filter { $0.hasPrefix("masks/") }
        #expect(masks.count == 6)
        let again = try analyze(images, out, ["--mask", out + "/masks"])
        #expect(again.status != 0 && again.stderr.contains("refusing to overwrite"))
        let after = try folderContents(out)
        for name in masks { #expect(after[name] == reference[name], "\(name) was changed or removed") }
    }
}

@Suite("Defects found by hand, each with its regression test")
struct DefectRegressionTests {
    @Test("a 6000 x 10 strip, an all-black frame, and a huge pixel size: analysed without a crash or a hang")
    func oddImages() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let strip = root.appendingPathComponent("strip.png").path
        var image = GrayImage(width: 6000, height: 10, value: 0.8)
        for c in 100..<200 { for r in 2..<8 { image[r, c] = 0.2 } }
        image.pixelSize = PixelSize(nanometersPerPixel: 0.8, source: .user)
        try ImageWriter.writePNG8(image, to: strip)
        let black = root.appendingPathComponent("black.png").path
        var dark = GrayImage(width: 64, height: 48, value: 0)
        dark.pixelSize = PixelSize(nanometersPerPixel: 0.8, source: .user)
        try ImageWriter.writePNG8(dark, to: black)
        let result = try runSootctl(["analyze", strip, black, "--classifier", "kmeans", "--sizing", "all",
                                     "--out", root.appendingPathComponent("out").path])
        #expect([0, 1].contains(result.status), "\(result.stderr)")
        #expect(!result.stderr.contains("3 x 3"))
        #expect(result.stderr.contains("was not taken for a footer"))
        // 50 nm/px on a 640 x 480 image: circles of huge radius are not drawn point by point.
        let big = try runSootctl(["analyze", example, "--classifier", "otsu", "--pixel-size", "50",
                                  "--out", root.appendingPathComponent("big").path])
        #expect([0, 1].contains(big.status) && big.stderr.contains("warning: --pixel-size"))
        let negative = try runSootctl(["segment", example, "--pixel-size", "-1", "--out", root.path + "/n"])
        #expect(negative.status == 64 && negative.stderr.contains("between 0.001 and 1000 nm per pixel (got -1.0)"))
    }

    @Test("two inputs with one stem: the second is reported, the first's results stay whole")
    func duplicateStems() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        for folder in ["a", "b"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: example, toPath: root.appendingPathComponent("\(folder)/x.png").path)
        }
        let out = root.appendingPathComponent("out")
        let result = try runSootctl(["analyze", root.appendingPathComponent("a/x.png").path, root.appendingPathComponent("b/x.png").path,
                                     "--classifier", "otsu", "--sizing", "pcm", "--out", out.path])
        #expect(result.status == 1 && result.stderr.contains("has the same file stem"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("masks/x.png").path))
        let table = try readCSV(out.appendingPathComponent("images.csv"))
        #expect(table.count == 3 && table[1][4] == "ok" && table[2][4] == "error")
        #expect(try readCSV(out.appendingPathComponent("aggregates.csv")).count > 1)
    }

    @Test("an image whose files cannot be written is reported as failed and leaves no rows and no files")
    func failedWrite() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let images = root.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: example, toPath: images.appendingPathComponent("a.png").path)
        try FileManager.default.copyItem(atPath: example, toPath: images.appendingPathComponent("b.png").path)
        let out = root.appendingPathComponent("out")
        // A folder where b's overlay must go: its write fails, as on a full disk.
        try FileManager.default.createDirectory(at: out.appendingPathComponent("overlays/b.png"), withIntermediateDirectories: true)
        let result = try runSootctl(["analyze", images.path, "--classifier", "otsu", "--sizing", "pcm", "--out", out.path])
        #expect(result.status == 1 && result.stderr.contains("b.png"))
        let rows = try readCSV(out.appendingPathComponent("aggregates.csv"))
        #expect(rows.count > 1 && rows.dropFirst().allSatisfy { $0[0] == "a" })
        let table = try readCSV(out.appendingPathComponent("images.csv"))
        #expect(table.count == 3 && table[2][0] == "b" && table[2][4] == "error")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("masks/b.png").path))
    }
}
