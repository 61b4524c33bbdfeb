import Aggregates
import Foundation
import ImageCore
import Pipeline
import PrimarySizing
import Report
import Testing
import TestSupport

let exampleImage = TestPaths.packageRoot.appendingPathComponent("Examples/synthetic_soot.png").path
let exampleTruth = TestPaths.packageRoot.appendingPathComponent("Examples/synthetic_soot_mask.png").path

func touch(_ url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data([1]).write(to: url)
}

@Suite("Pipeline inputs")
struct InputTests {
    @Test("folders expand to their image files, sorted; hidden files skipped; sub-folders only when recursive")
    func expansion() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        for name in ["b.png", "a.TIF", ".hidden.png", "notes.txt", "sub/c.tiff", "sub/deeper/d.png", "sub/.e.png"] {
            try touch(root.appendingPathComponent(name))
        }
        let flat = InputList([root.path, root.appendingPathComponent("x.png").path])
        #expect(flat.files.map { ($0 as NSString).lastPathComponent } == ["a.TIF", "b.png"])
        #expect(flat.missing == [root.appendingPathComponent("x.png").path])
        let deep = InputList([root.path], recursive: true)
        #expect(deep.files.map { String($0.dropFirst(root.path.count + 1)) } == ["a.TIF", "b.png", "sub/c.tiff", "sub/deeper/d.png"])
        let twice = InputList([root.appendingPathComponent("b.png").path, root.appendingPathComponent("sub/b.png").path])
        #expect(twice.missing.count == 1)
        try touch(root.appendingPathComponent("sub/b.png"))
        let clash = InputList([root.path, root.appendingPathComponent("sub/b.png").path])
        #expect(clash.duplicateStems.count == 1 && clash.duplicateStems[0].first.hasSuffix("/b.png"))
    }

    @Test("pixel size precedence: command line, then the table, then the file's metadata")
    func precedence() throws {
        let metadata = PixelSize(nanometersPerPixel: 0.8, source: .pngText)
        let table = ["a": 0.4]
        #expect(PixelSizeRule(commandLineNm: 2, table: table).resolve(stem: "a", metadata: metadata)
            == PixelSize(nanometersPerPixel: 2, source: .user))
        #expect(PixelSizeRule(table: table).resolve(stem: "a", metadata: metadata) == PixelSize(nanometersPerPixel: 0.4, source: .table))
        #expect(PixelSizeRule(table: table).resolve(stem: "b", metadata: metadata) == metadata)
        #expect(PixelSizeRule(table: table).resolve(stem: "b", metadata: nil) == nil)
        let loaded = try LoadedImage(path: exampleImage, pixelSizes: PixelSizeRule(table: ["synthetic_soot": 0.5]))
        #expect(loaded.pixelSize?.nanometersPerPixel == 0.5 && loaded.image.pixelSize == loaded.pixelSize)
        #expect(loaded.pixelSize?.source == .table)
        #expect(try LoadedImage(path: exampleImage).pixelSize == PixelSize(nanometersPerPixel: 0.8, source: .pngText))
    }

    @Test("pixel sizes outside 0.01-20 nm/px are flagged with the likely unit slip")
    func unitWarnings() {
        #expect(PixelSizeRule.unitWarning(0.4) == nil && PixelSizeRule.unitWarning(20) == nil && PixelSizeRule.unitWarning(0.01) == nil)
        let micrometres = PixelSizeRule.unitWarning(0.0008) ?? ""
        #expect(micrometres.contains("µm") && micrometres.contains("0.8 nm/px"))
        let angstrom = PixelSizeRule.unitWarning(50) ?? ""
        #expect(angstrom.contains("ångström (5 nm/px)") && angstrom.contains("pixels per µm"))
    }

    @Test("masks are found by stem in a folder; a file serves one image; a missing mask names the folder")
    func masks() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try touch(root.appendingPathComponent("m/a.tif"))
        let folder = try MaskSource(root.appendingPathComponent("m").path, option: "--truth", allowFile: false)
        #expect(try folder.mask(for: "/x/a.png").hasSuffix("m/a.tif"))
        #expect(throws: PipelineError.self) { try folder.mask(for: "/x/b.png") }
        // Masks beside their images: the image is never its own mask; STEM_mask is found.
        try touch(root.appendingPathComponent("m/c.png"))
        let besides = root.appendingPathComponent("m").path
        #expect(throws: PipelineError.self) { try folder.mask(for: besides + "/c.png") }
        try touch(root.appendingPathComponent("m/c_mask.png"))
        #expect(try folder.mask(for: besides + "/c.png").hasSuffix("m/c_mask.png"))
        #expect(try folder.mask(for: "/x/c.png").hasSuffix("m/c.png"))
        let examples = try MaskSource((exampleImage as NSString).deletingLastPathComponent, option: "--truth", allowFile: false)
        #expect(try examples.mask(for: exampleImage) == exampleTruth)
        // The images' folder as the mask folder: the masks beside the images are not inputs.
        let beside = InputList([besides])
        #expect(beside.files.map { stem(of: $0) } == ["a", "c", "c_mask"])
        #expect(beside.excludingMasks(in: folder).files.map { stem(of: $0) } == ["a", "c"])
        #expect(beside.excludingMasks(in: nil) == beside && beside.excludingMasks(in: .file(exampleTruth)) == beside)
        #expect(throws: PipelineError.self) { try MaskSource(root.appendingPathComponent("m/a.tif").path, option: "--truth", allowFile: false) }
        let two = InputList([exampleImage, exampleTruth])
        #expect(throws: PipelineError.self) { try BatchInputs(inputs: two, masks: .file(exampleTruth)) }
    }

    @Test("the output folder is made on the first write and refuses inputs and files inside input folders")
    func outputFolder() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try touch(root.appendingPathComponent("masks/a.png"))
        let out = OutputFolder(root.appendingPathComponent("results").path, inputs: [], inputFolders: [root.appendingPathComponent("masks").path])
        try out.check()
        #expect(!FileManager.default.fileExists(atPath: out.root))
        let into = OutputFolder(root.path, inputs: [], inputFolders: [root.appendingPathComponent("masks").path])
        #expect(throws: PipelineError.self) { try into.path("masks", "a.png") }
        #expect(throws: PipelineError.self) { try into.path("masks", "new.png") }
        try out.write("x", to: "t.csv")
        #expect(try String(contentsOfFile: out.root + "/t.csv", encoding: .utf8) == "x")
    }
}

@Suite("Per-image pipeline")
struct AnalyzerTests {
    func maskConfiguration(_ sizing: [SizingMethod]) -> AnalysisConfiguration {
        var c = AnalysisConfiguration()
        c.sizing = sizing
        return c
    }

    @Test("one call analyses one image: the example's true mask gives its three aggregates with sizes")
    func analyseGivenMask() throws {
        let loaded = try LoadedImage(path: exampleImage)
        let analyzer = try Analyzer(configuration: maskConfiguration([.pcm, .edmSBS]), classify: false)
        let result = try analyzer.analyze(loaded, mask: try loaded.readMask(exampleTruth))
        #expect(result.records.count == result.analysis.aggregates.count && result.records.count >= 3)
        #expect(result.summary.status == .ok && result.summary.pixelSizeSource == "png-text")
        for r in result.records {
            #expect(abs(r.areaNm2 - Double(r.areaPx) * 0.64) < 1e-6)
            let pcm = try #require(r.dpPcmNm), edm = try #require(r.dpEdmSbsNm)
            #expect((10...40).contains(pcm) && (8...40).contains(edm))
            #expect(r.dpHoughNm == nil)
        }
        #expect(result.summary.statistics?.quantities["dp_pcm_nm"]?.count == result.records.count)
        #expect(result.summary.edmSbsEnsemble != nil)
    }

    @Test("a mask without a pixel size is an error naming what needs it, never 1 nm/px")
    func noPixelSize() throws {
        var image = try LoadedImage(path: exampleImage, pixelSizes: PixelSizeRule())
        image.original.pixelSize = nil
        image.image.pixelSize = nil
        let analyzer = try Analyzer(configuration: maskConfiguration([]), classify: false)
        #expect {
            try analyzer.analyze(image, mask: BinaryMask(width: 640, height: 480))
        } throws: { error in
            describe(error).contains("analysing a given mask needs the pixel size") && describe(error).contains("--pixel-sizes")
        }
        var kmeans = AnalysisConfiguration()
        kmeans.classifier = .kmeans
        let classifier = try Analyzer(configuration: kmeans)
        #expect {
            try classifier.analyze(image)
        } throws: { error in
            describe(error).contains("the kmeans classifier needs the pixel size")
        }
        #expect(throws: PipelineError.self) {
            try measureAggregates(mask: BinaryMask(width: 4, height: 4), image: image.image, options: AggregateOptions(), sizing: [], source: "x")
        }
    }

    @Test("border aggregates are removed from the results and drawn as excluded; the legend band names what is drawn")
    func excludedAndLegend() throws {
        let loaded = try LoadedImage(path: exampleImage)
        var mask = try loaded.readMask(exampleTruth)
        for r in 200..<240 { for c in 0..<30 { mask.bits[r * 640 + c] = 1 } }  // a blob on the left border
        let analyzer = try Analyzer(configuration: maskConfiguration([.pcm, .hough]), classify: false)
        let result = try analyzer.analyze(loaded, mask: mask)
        let excluded = try #require(result.excluded)
        #expect(excluded.trueCount == 40 * 30)
        #expect(result.records.allSatisfy { !$0.touchesBorder })
        let canvas = Overlay.analysis(result)
        #expect(canvas.width == 640 && canvas.height > 480 + 4 * 20)
        // An excluded pixel is tinted grey (equal channels), a kept one blue.
        let p = 3 * (220 * 640 + 10)
        #expect(canvas.bytes[p] == canvas.bytes[p + 1] && canvas.bytes[p + 1] == canvas.bytes[p + 2])
        #expect(Overlay.labelMethod([.hough, .pcm]) == .pcm && Overlay.labelMethod([]) == nil)
    }

    @Test("scale bars are a round length about a fifth of the picture")
    func scaleBar() {
        let bar = Overlay.scaleBar(widthPx: 640, pixelSizeNm: 0.8)
        #expect(bar.label == "100 nm" && bar.lengthPx == 125)
        #expect(Overlay.scaleBar(widthPx: 2048, pixelSizeNm: 5).label == "2 um")
        #expect(Overlay.scaleBar(widthPx: 2240, pixelSizeNm: 0.4).label == "100 nm")
    }

    @Test("images.csv holds one row per image with its pixel-size source, status and every statistic")
    func imagesTable() throws {
        let loaded = try LoadedImage(path: exampleImage)
        let analyzer = try Analyzer(configuration: maskConfiguration([.pcm]), classify: false)
        let result = try analyzer.analyze(loaded, mask: try loaded.readMask(exampleTruth))
        let table = ImageRecord.table([result.summary, .error(file: "/x/bad.png", message: "cannot read")], methods: [.pcm])
        #expect(table.columns == ["image", "file", "pixel_size_nm", "pixel_size_source", "status", "reason", "footer_rows",
                                  "aggregates", "da_count", "da_g_nm", "da_sigma_g", "da_median_nm", "dp_pcm_count",
                                  "dp_pcm_g_nm", "dp_pcm_sigma_g", "dp_pcm_median_nm", "edm_sbs_ensemble_dg_nm",
                                  "edm_sbs_ensemble_sigma_g"])
        #expect(table.rows[0][0] == "synthetic_soot" && table.rows[0][2] == "0.8" && table.rows[0][3] == "png-text")
        #expect(table.rows[0][4] == "ok" && Int(table.rows[0][7]) == result.records.count)
        #expect(table.rows[1][0] == "bad" && table.rows[1][4] == "error" && table.rows[1][5] == "cannot read")
    }

    @Test("provenance: version, git commit, command line, configuration, model sha256, date")
    func provenance() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let model = root.appendingPathComponent("model.bin")
        try Data("abc".utf8).write(to: model)
        var c = AnalysisConfiguration()
        c.rollingBall = false
        let p = try RunProvenance(commandLine: ["sootctl", "analyze", "a b.png"], configuration: c, modelPath: model.path,
                                  date: Date(timeIntervalSince1970: 0))
        #expect(p.model?.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(p.date == "1970-01-01T00:00:00Z")
        let json = try JSONSerialization.jsonObject(with: Data(encodeJSON(p).utf8)) as? [String: Any]
        #expect(json?["version"] as? String == sootctlVersion)
        let configuration = json?["configuration"] as? [String: Any]
        #expect(configuration?["rolling_ball"] as? Bool == false && configuration?["min_pixels"] as? Int == 1000)
        #expect(configuration?.keys.contains("model") == true)
        #expect(p.reportRows.contains(["command", "sootctl analyze 'a b.png'"]))
        if let commit = buildGitCommit { #expect(commit.prefix(40).allSatisfy { $0.isHexDigit }) }
    }
}
