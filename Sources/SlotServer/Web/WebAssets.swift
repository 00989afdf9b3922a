import Foundation
import Hummingbird
import NIOCore
import SlotProviders

/// One file compiled into the binary by the EmbedWebAssets build plugin.
struct EmbeddedFile: Sendable {
    let name: String
    let base64: String
    /// The file gzipped at build time (text files only).
    let gzipBase64: String?
}

/// The booking page's files, decoded once at start, each with its content type, a strong ETag and (for text) a
/// gzip copy, so a request only picks bytes.
struct WebAssets: Sendable {
    struct Asset: Sendable {
        let contentType: String
        let etag: String
        let identity: ByteBuffer
        let gzip: ByteBuffer?
    }

    private let assets: [String: Asset]

    init(_ files: [EmbeddedFile] = webAssetFiles) {
        var assets: [String: Asset] = [:]
        for file in files {
            guard let bytes = Data(base64Encoded: file.base64) else { continue }
            let gzip = file.gzipBase64.flatMap { Data(base64Encoded: $0) }
            let hash = Signatures.hex(Signatures.sha256(bytes)).prefix(32)
            assets[file.name] = Asset(
                contentType: Self.contentType(of: file.name), etag: "\"\(hash)\"", identity: ByteBuffer(bytes: bytes),
                // Only worth sending when smaller.
                gzip: gzip.flatMap { $0.count < bytes.count ? ByteBuffer(bytes: $0) : nil })
        }
        self.assets = assets
    }

    /// The file's names, for tests and the log.
    var names: [String] { assets.keys.sorted() }

    func asset(_ name: String) -> Asset? { assets[name] }

    /// The content type of a file name, by its extension.
    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json": return "application/json"
        case "webmanifest": return "application/manifest+json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "webp": return "image/webp"
        case "ico": return "image/x-icon"
        case "woff2": return "font/woff2"
        case "txt": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }

    /// The response for `name`: `304` when the client has it (If-None-Match), gzip when the client accepts it.
    /// Pages revalidate each time (`no-cache`); assets may be kept an hour, then revalidated by ETag.
    func response(_ name: String, request: Request, cacheControl: String) -> Response? {
        guard let asset = assets[name] else { return nil }
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: asset.etag, .cacheControl: cacheControl, .vary: "Accept-Encoding",
            .xContentTypeOptions: "nosniff",
        ]
        if let tags = request.headers[.ifNoneMatch],
            tags.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag || $0 == "*" })
        {
            return Response(status: .notModified, headers: headers)
        }
        let acceptsGzip = request.headers[values: .acceptEncoding].contains { value in
            value.split(separator: ",").contains { part in
                let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                return fields.first?.lowercased() == "gzip" && !fields.dropFirst().contains("q=0")
            }
        }
        if acceptsGzip, let gzip = asset.gzip {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: gzip))
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: asset.identity))
    }
}
