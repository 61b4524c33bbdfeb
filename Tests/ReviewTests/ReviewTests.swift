import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ImageCore
import Review
import Testing
import TestSupport

/// A review server on a free port of 127.0.0.1 for one test.
final class RunningServer: @unchecked Sendable {
    let server: ReviewServer
    let task: Task<Void, Error>
    let port: Int
    let root: URL

    init(images: Int = 1, masks: String? = nil, out: URL? = nil) async throws {
        root = TestPaths.temporaryFolder()
        var paths: [String] = []
        for k in 0..<images {
            var image = GrayImage(width: 64, height: 48, value: 0.8)
            for r in 14..<34 { for c in (10 + k)..<(30 + k) where (r - 24) * (r - 24) + (c - 20 - k) * (c - 20 - k) < 90 { image[r, c] = 0.3 } }
            image.pixelSize = PixelSize(nanometersPerPixel: 0.5, source: .user)
            let path = root.appendingPathComponent("img\(k).png").path
            try ImageWriter.writePNG8(image, to: path)
            paths.append(path)
        }
        let session = try ReviewSession(inputs: paths, masks: masks, out: (out ?? root.appendingPathComponent("out")).path)
        server = ReviewServer(session: session, token: "secret-token")
        let box = PortBox()
        let server = self.server
        task = Task { try await server.run(port: 0, logLevel: .critical) { box.set($0) } }
        var port = 0
        for _ in 0..<200 where port == 0 {
            try await Task.sleep(nanoseconds: 20_000_000)
            port = box.get()
        }
        guard port > 0 else { throw ReviewError.badRequest("the server did not start") }
        self.port = port
    }

    func request(_ method: String, _ path: String, body: Data? = nil, token: String? = "secret-token") async throws -> (Int, Data, HTTPURLResponse) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        if let token { request.setValue(token, forHTTPHeaderField: "X-Review-Token") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, data, http)
    }

    func stop() {
        task.cancel()
        try? FileManager.default.removeItem(at: root)
    }
}

final class PortBox: @unchecked Sendable {
    let lock = NSLock()
    var port = 0
    func set(_ p: Int) { lock.lock(); port = p; lock.unlock() }
    func get() -> Int { lock.lock(); defer { lock.unlock() }; return port }
}

func maskPNG(width: Int, height: Int, _ fill: (Int, Int) -> Bool) throws -> Data {
    var mask = BinaryMask(width: width, height: height)
    for r in 0..<height { for c in 0..<width where fill(r, c) { mask[r, c] = true } }
    return Data(try ImageWriter.encodeMask(mask))
}

@Suite("sootctl review: the JSON API", .serialized)
struct ReviewAPITests {
    @Test("every request needs the token: none or a wrong one is 403, the header or the query parameter passes")
    func token() async throws {
        let s = try await RunningServer()
        defer { s.stop() }
        #expect(try await s.request("GET", "/api/images", token: nil).0 == 403)
        #expect(try await s.request("GET", "/", token: "wrong").0 == 403)
        #expect(try await s.request("GET", "/api/images/img0/mask", token: nil).0 == 403)
        #expect(try await s.request("GET", "/api/images?token=secret-token", token: nil).0 == 200)
        let (status, page, response) = try await s.request("GET", "/")
        #expect(status == 200 && response.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/html") == true)
        #expect(String(decoding: page, as: UTF8.self).contains("X-Review-Token"))
        #expect(s.server.url(port: s.port) == "http://127.0.0.1:\(s.port)/?token=secret-token")
    }

    @Test("images are listed with size, pixel size, mask and status; image and mask come as PNG; unknown images are 404")
    func listAndFetch() async throws {
        let s = try await RunningServer(images: 2)
        defer { s.stop() }
        let (status, data, _) = try await s.request("GET", "/api/images")
        #expect(status == 200)
        let list = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(list.map { $0["stem"] as? String } == ["img0", "img1"])
        #expect(list[0]["width"] as? Int == 64 && list[0]["height"] as? Int == 48 && list[0]["pixel_size_nm"] as? Double == 0.5)
        #expect(list[0]["has_mask"] as? Bool == false && list[0]["status"] as? String == "unreviewed")
        let image = try ImageReader.decodePNG(Array(try await s.request("GET", "/api/images/img0/image").1), name: "image")
        #expect(image.image.width == 64 && image.info.pixelSize?.nanometersPerPixel == 0.5)
        let mask = try ImageReader.decodePNG(Array(try await s.request("GET", "/api/images/img0/mask").1), name: "mask")
        #expect(mask.image.pixels.allSatisfy { $0 == 0 })  // no mask, no classifier: empty
        let (missing, body, _) = try await s.request("GET", "/api/images/nothing/mask")
        #expect(missing == 404 && String(decoding: body, as: UTF8.self).contains("nothing"))
    }

    @Test("PUT mask: a 0/255 PNG of the image's size is saved atomically with review.json; anything else is 400 with the reason")
    func saveMask() async throws {
        let s = try await RunningServer()
        defer { s.stop() }
        let out = s.root.appendingPathComponent("out")
        for (body, reason) in [(Data("not a png".utf8), "not a PNG"),
                               (try maskPNG(width: 10, height: 10) { _, _ in true }, "10 x 10"),
                               (Data(try ImageWriter.encodePNG8(GrayImage(width: 64, height: 48, value: 0.5))), "other than 0 and 255")] {
            let (status, data, _) = try await s.request("PUT", "/api/images/img0/mask", body: body)
            #expect(status == 400 && String(decoding: data, as: UTF8.self).contains(reason), "\(String(decoding: data, as: UTF8.self))")
        }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("masks/img0.png").path))
        let good = try maskPNG(width: 64, height: 48) { r, c in r < 10 && c < 20 }
        let (status, data, _) = try await s.request("PUT", "/api/images/img0/mask", body: good)
        #expect(status == 200, "\(String(decoding: data, as: UTF8.self))")
        let saved = try ImageReader.read(out.appendingPathComponent("masks/img0.png").path)
        #expect(BinaryMask(saved.image, above: 0.5).trueCount == 200 && saved.info.pixelSize?.nanometersPerPixel == 0.5)
        let review = try String(contentsOf: out.appendingPathComponent("review.json"), encoding: .utf8)
        #expect(review.contains("\"status\" : \"edited\"") && review.contains("edited_at"))
        // The working mask is the saved one.
        let back = try ImageReader.decodePNG(Array(try await s.request("GET", "/api/images/img0/mask").1), name: "mask")
        #expect(BinaryMask(back.image, above: 0.5).trueCount == 200)
        let (accepted, _, _) = try await s.request("PUT", "/api/images/img0/status", body: Data(#"{"status":"accepted"}"#.utf8))
        #expect(accepted == 200)
        #expect(try String(contentsOf: out.appendingPathComponent("review.json"), encoding: .utf8).contains("accepted"))
        #expect(try await s.request("PUT", "/api/images/img0/status", body: Data(#"{"status":"done"}"#.utf8)).0 == 400)
    }

    @Test("the slider finds the dark disc in its rectangle; preview leaves the working mask alone; bad rectangles are 400")
    func slider() async throws {
        let s = try await RunningServer()
        defer { s.stop() }
        let body = Data(#"{"x":5,"y":8,"width":30,"height":32,"sigma_px":1,"mode":"add","preview":true}"#.utf8)
        let (status, data, response) = try await s.request("POST", "/api/images/img0/slider", body: body)
        #expect(status == 200)
        let mask = BinaryMask(try ImageReader.decodePNG(Array(data), name: "slider").image, above: 0.5)
        // The disc: (r - 24)² + (c - 20)² < 90, about 280 px.
        var inside = 0, outside = 0
        for r in 0..<48 { for c in 0..<64 where mask[r, c] { if (r - 24) * (r - 24) + (c - 20) * (c - 20) < 110 { inside += 1 } else { outside += 1 } } }
        #expect(inside > 240 && outside < 20, "inside \(inside), outside \(outside)")
        #expect(response.value(forHTTPHeaderField: "X-Slider-Rectangle") == "5,8,30,32")
        #expect(Double(response.value(forHTTPHeaderField: "X-Slider-Otsu") ?? "") != nil)
        let working = try ImageReader.decodePNG(Array(try await s.request("GET", "/api/images/img0/mask").1), name: "mask")
        #expect(working.image.pixels.allSatisfy { $0 == 0 })
        // Applied (not a preview): the working mask holds it.
        _ = try await s.request("POST", "/api/images/img0/slider", body: Data(#"{"x":5,"y":8,"width":30,"height":32,"sigma_px":1,"mode":"add"}"#.utf8))
        let after = try ImageReader.decodePNG(Array(try await s.request("GET", "/api/images/img0/mask").1), name: "mask")
        #expect(BinaryMask(after.image, above: 0.5).trueCount == inside + outside)
        for bad in [#"{"x":100,"y":100,"width":5,"height":5,"sigma_px":1,"mode":"add"}"#, #"{"x":0,"y":0,"width":20,"height":20,"sigma_px":1,"threshold":2,"mode":"add"}"#,
                    #"{"x":0,"y":0,"width":20,"height":20,"sigma_px":1,"mode":"sideways"}"#, "{"] {
            #expect(try await s.request("POST", "/api/images/img0/slider", body: Data(bad.utf8)).0 == 400, "\(bad)")
        }
    }

    @Test("concurrent saves: every one succeeds, the file is one of them, no temporary file is left")
    func concurrentSaves() async throws {
        let s = try await RunningServer()
        defer { s.stop() }
        let bodies = try (0..<8).map { k in try maskPNG(width: 64, height: 48) { r, _ in r <= k } }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for body in bodies { group.addTask { try await s.request("PUT", "/api/images/img0/mask", body: body).0 } }
            var out: [Int] = []
            for try await status in group { out.append(status) }
            return out
        }
        #expect(statuses == [Int](repeating: 200, count: 8))
        let folder = s.root.appendingPathComponent("out/masks")
        let saved = BinaryMask(try ImageReader.read(folder.appendingPathComponent("img0.png").path).image, above: 0.5).trueCount
        #expect((1...8).map { $0 * 64 }.contains(saved))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["img0.png"])
    }

    @Test("a mask given with --masks is shown first and never overwritten: saving into that folder is refused")
    func givenMasks() async throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let masks = root.appendingPathComponent("out/masks")
        try FileManager.default.createDirectory(at: masks, withIntermediateDirectories: true)
        let given = try maskPNG(width: 64, height: 48) { r, c in r > 40 && c > 50 }
        try given.write(to: masks.appendingPathComponent("img0.png"))
        let s = try await RunningServer(masks: masks.path, out: root.appendingPathComponent("out"))
        defer { s.stop() }
        let shown = try ImageReader.decodePNG(Array(try await s.request("GET", "/api/images/img0/mask").1), name: "mask")
        #expect(BinaryMask(shown.image, above: 0.5).trueCount == 7 * 13)
        let (status, _, _) = try await s.request("PUT", "/api/images/img0/mask", body: try maskPNG(width: 64, height: 48) { _, _ in false })
        #expect(status == 409)
        #expect(try Data(contentsOf: masks.appendingPathComponent("img0.png")) == given)
    }
}
