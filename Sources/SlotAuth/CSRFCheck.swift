/// The CSRF defence of the admin page's state-changing requests, besides the `SameSite=Strict` cookie: the request
/// must come from the page's own origin (`Origin`) and carry the session's token (`X-CSRF-Token`).
public enum CSRFCheck {
    /// Why a request was refused; nil means it may go on.
    public enum Refusal: Sendable, Hashable, CustomStringConvertible {
        case missingOrigin
        case foreignOrigin(String)
        case missingToken
        case wrongToken

        public var description: String {
            switch self {
            case .missingOrigin: "the request has no Origin header — send it from the admin page"
            case .foreignOrigin(let origin): "requests from \(origin) are not accepted — use the admin page itself"
            case .missingToken: "the X-CSRF-Token header is missing — reload the admin page"
            case .wrongToken: "the X-CSRF-Token does not match this session — reload the admin page"
            }
        }
    }

    /// Whether a request with `method` may change state. GET and HEAD change nothing and pass; every other method
    /// needs an allowed `origin` and, when `sessionToken` is given, the same `sentToken`.
    public static func refusal(
        method: String, origin: String?, allowedOrigins: Set<String>, sentToken: String?, sessionToken: String?
    ) -> Refusal? {
        if method == "GET" || method == "HEAD" { return nil }
        guard let origin, !origin.isEmpty else { return .missingOrigin }
        let normalised = origin.hasSuffix("/") ? String(origin.dropLast()) : origin
        guard allowedOrigins.contains(normalised.lowercased()) else { return .foreignOrigin(origin) }
        guard let sessionToken else { return nil }
        guard let sentToken, !sentToken.isEmpty else { return .missingToken }
        return ConstantTime.equal(sentToken, sessionToken) ? nil : .wrongToken
    }

    /// The origin (`scheme://host[:port]`, lowercase) of an address like `https://shop.example/admin`.
    public static func origin(of url: String) -> String? {
        let parts = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        // "scheme:", "", "host[:port]", rest…
        guard parts.count >= 3, parts[0].hasSuffix(":"), parts[0].count > 1, parts[1].isEmpty else { return nil }
        let host = parts[2].prefix { $0 != "?" && $0 != "#" }
        guard !host.isEmpty else { return nil }
        return (parts[0] + "//" + host).lowercased()
    }
}
