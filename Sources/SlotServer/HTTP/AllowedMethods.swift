import Hummingbird
import SlotAPI
import Synchronization

/// The methods each route pattern answers, for `405 Method Not Allowed` with an `Allow` header: the router alone
/// answers a known path with an unknown method as if the path did not exist (404).
final class AllowedMethods: Sendable {
    private struct Route {
        /// Path segments; nil where the pattern has a parameter (`:id`, `{id}`).
        var segments: [Substring?]
        var methods: Set<String>
    }

    private let routes = Mutex<[Route]>([])

    /// Learns the router's routes (once they are all registered); a GET route answers HEAD too.
    func load(_ endpoints: [(method: String, path: String)]) {
        var table: [String: Route] = [:]
        for endpoint in endpoints {
            var route = table[endpoint.path] ?? Route(segments: Self.pattern(endpoint.path), methods: [])
            route.methods.insert(endpoint.method)
            if endpoint.method == "GET" { route.methods.insert("HEAD") }
            table[endpoint.path] = route
        }
        routes.withLock { $0 = Array(table.values) }
    }

    /// The methods `path` answers, sorted; empty when no route has that path.
    func methods(for path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return routes.withLock { routes in
            var methods = Set<String>()
            for route in routes where route.segments.count == parts.count {
                let matches = zip(route.segments, parts).allSatisfy { pattern, part in
                    pattern.map { $0 == part } ?? !part.isEmpty
                }
                if matches { methods.formUnion(route.methods) }
            }
            return methods.sorted()
        }
    }

    private static func pattern(_ path: String) -> [Substring?] {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") || (segment.hasPrefix("{") && segment.hasSuffix("}")) ? nil : segment
        }
    }
}

/// Answers a known path asked with a method it does not take with `405` and `Allow`, instead of the router's 404.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowed: AllowedMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let methods = allowed.methods(for: request.uri.path)
            guard !methods.isEmpty, !methods.contains(request.method.rawValue) else { throw error }
            var response = ProblemMapping.response(
                Problem(
                    code: .methodNotAllowed,
                    detail: "\(request.uri.path) answers \(methods.joined(separator: ", ")), not \(request.method)"))
            response.headers[.allow] = methods.joined(separator: ", ")
            return response
        }
    }
}
