/// `GET /v1/health`.
public struct Health: Codable, Hashable, Sendable {
    /// `ok`.
    public var status: String
    /// The daemon's version.
    public var version: String
    /// The API version (`1`).
    public var apiVersion: String
    /// The version hash of the rules in force.
    public var rulesVersion: String
    /// Seconds since the daemon started.
    public var uptimeSeconds: Int
    /// The caller's role as the daemon sees it.
    public var role: String

    enum CodingKeys: String, CodingKey {
        case status, version, role
        case apiVersion = "api_version"
        case rulesVersion = "rules_version"
        case uptimeSeconds = "uptime_seconds"
    }

    public init(
        status: String, version: String, apiVersion: String, rulesVersion: String, uptimeSeconds: Int,
        role: String
    ) {
        self.status = status
        self.version = version
        self.apiVersion = apiVersion
        self.rulesVersion = rulesVersion
        self.uptimeSeconds = uptimeSeconds
        self.role = role
    }
}
