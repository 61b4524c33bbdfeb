import Foundation
import HTTPTypes
import Hummingbird
import ImageCore
import Logging
import NIOCore
import Pipeline

/// The request context of the review server: uploads up to 64 MiB (a 2240 x 1952 mask PNG is
/// far smaller; an image-sized RGBA upload fits).
public struct ReviewRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
    public var maxUploadSize: Int { 64 << 20 }
}

/// Refuses every request without the session's token (query `token=` or header
/// `X-Review-Token`) with 403.
struct TokenMiddleware: RouterMiddleware {
    typealias Context = ReviewRequestContext
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let given = request.headers[HTTPField.Name("X-Review-Token")!] ?? request.uri.queryParameters["token"].map(String.init)
        guard let given, constantTimeEqual(given, token) else {
            return Response(status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "403: this review needs the token from the URL sootctl printed\n")))
        }
        return try await next(request, context)
    }

    func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// `sootctl review`'s server: the page at `/` and the JSON API (Docs/Review.md), bound to
/// 127.0.0.1 only, every request checked against a random token.
public struct ReviewServer: Sendable {
    public let session: ReviewSession
    public let token: String

    /// - Parameter token: nil: 32 random hexadecimal digits.
    public init(session: ReviewSession, token: String? = nil) {
        self.session = session
        self.token = token ?? (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// The URL to open: `http://127.0.0.1:PORT/?token=TOKEN`.
    public func url(port: Int) -> String { "http://127.0.0.1:\(port)/?token=\(token)" }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    static func png(_ bytes: [UInt8], headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "image/png", .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func failure(_ error: Error) -> Response {
        let status: HTTPResponse.Status
        switch error {
        case ReviewError.unknownImage: status = .notFound
        case is ReviewError, is DecodingError: status = .badRequest
        case PipelineError.wouldOverwriteInput: status = .conflict
        default: status = .internalServerError
        }
        let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
        return (try? json(["error": message], status: status)) ?? Response(status: status)
    }

    /// Runs a handler, turning its errors into 400/404/500 with `{"error": reason}`.
    static func answer(_ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch { return failure(error) }
    }

    /// The router: the page, the API, the token check in front of both.
    public func router() -> Router<ReviewRequestContext> {
        let router = Router(context: ReviewRequestContext.self)
        router.add(middleware: TokenMiddleware(token: token))
        let session = self.session
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: ReviewPage.html)))
        }
        router.get("/api/images") { _, _ in await Self.answer { try Self.json(session.images) } }
        router.get("/api/images/:stem/image") { _, context in
            await Self.answer { Self.png(try ImageWriter.encodePNG8(try session.image(try context.parameters.require("stem")))) }
        }
        router.get("/api/images/:stem/mask") { _, context in
            await Self.answer { Self.png(try ImageWriter.encodeMask(try session.mask(try context.parameters.require("stem")))) }
        }
        router.put("/api/images/:stem/mask") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            return await Self.answer {
                let stem = try context.parameters.require("stem")
                _ = try session.saveMask(stem, png: Array(body.readableBytesView))
                return try Self.json(session.images.first { $0.stem == stem })
            }
        }
        router.post("/api/images/:stem/slider") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            return await Self.answer {
                let slider = try JSONDecoder().decode(SliderRequest.self, from: Data(body.readableBytesView))
                let (mask, result) = try session.slider(try context.parameters.require("stem"), slider)
                var headers = HTTPFields()
                headers[HTTPField.Name("X-Slider-Threshold")!] = String(result.threshold)
                headers[HTTPField.Name("X-Slider-Otsu")!] = String(result.otsuLevel)
                headers[HTTPField.Name("X-Slider-Rectangle")!] = "\(result.x),\(result.y),\(result.width),\(result.height)"
                return Self.png(try ImageWriter.encodeMask(mask), headers: headers)
            }
        }
        router.put("/api/images/:stem/status") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 16)
            return await Self.answer {
                struct Body: Decodable { let status: ReviewStatus }
                let stem = try context.parameters.require("stem")
                try session.setStatus(stem, try JSONDecoder().decode(Body.self, from: Data(body.readableBytesView)).status)
                return try Self.json(session.images.first { $0.stem == stem })
            }
        }
        return router
    }

    /// Serves on 127.0.0.1:`port` (0: any free port) until the task is cancelled or the
    /// process is interrupted; `onRunning` gets the port.
    /// - Parameter logLevel: of the server's log on standard error (`warning`: problems only).
    public func run(port: Int, logLevel: Logger.Level = .warning, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "sootctl-review")
        logger.logLevel = logLevel
        let app = Application(router: router(), configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
                              logger: logger)
        try await app.runService()
    }
}
