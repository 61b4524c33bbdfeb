import Foundation
import ImageCore
import Synthesis
import Testing
import TestSupport

/// `sootctl info` on the files microscopes write: every file says where its pixel size came
/// from, or why there is none.
@Suite("info on microscope files", .enabled(if: TestPaths.hasSharedData))
struct InfoCommandTests {
    @Test("every shared microscope file: a pixel size with its source, or the reason there is none")
    func everyFile() throws {
        let folder = TestPaths.sharedReal.deletingLastPathComponent().appendingPathComponent("formats")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { ["tif", "dm3", "dm4"].contains(($0 as NSString).pathExtension) }.sorted()
        #expect(files.count == 28)
        let result = try runSootctl(["info", "--json"] + files.map { folder.appendingPathComponent($0).path })
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == files.count)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let file = object["file"] as? String ?? "?"
            if object["pixelSizeNm"] != nil {
                #expect(object["pixelSizeSource"] is String, "\(file)")
            } else {
                #expect((object["pixelSizeNote"] as? String)?.isEmpty == false, "\(file): no reason for the missing pixel size")
            }
            #expect(object["sampleType"] is String && object["intensityMapping"] is String, "\(file)")
        }
        // The TVIPS camera image's bright top rows are not a footer.
        let tvips = try runSootctl(["info", folder.appendingPathComponent("TVIPS_bin4.tif").path])
        #expect(tvips.stdout.contains("tvips-metadata") && !tvips.stdout.contains("footer: white bar"))
        let fei = try runSootctl(["info", folder.appendingPathComponent("FEI-Helios-Ebeam-8bits.tif").path])
        #expect(fei.stdout.contains("footer: databar from row 442 (file metadata)"))
    }
}
