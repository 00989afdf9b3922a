import Foundation
import PostgresNIO

/// Where a PostgreSQL store lives, read from a `postgres://` URL (the `database:` setting or `--db`).
///
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?host=/socket/dir&pool=N&sslmode=disable|prefer|require]`.
/// As with libpq, a `host` parameter that starts with `/` names the directory of the server's Unix socket
/// (`.s.PGSQL.PORT` in it), and then the URL's host part is ignored.
public struct PostgresLocation: Hashable, Sendable, CustomStringConvertible {
    public enum TLSMode: String, Hashable, Sendable { case disable, prefer, require }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    /// The directory of the server's Unix socket; nil for TCP.
    public var socketDirectory: String?
    public var database: String
    public var tls: TLSMode
    /// Most connections the store opens at once.
    public var poolSize: Int
    /// Seconds one store operation may take before it answers `unavailable` (503).
    public var operationTimeoutSeconds: Int

    /// The pool sizes a setting may ask for, and the default.
    public static let poolSizes = 1...1_000
    public static let defaultPoolSize = 10
    /// The operation timeouts (seconds) a setting may ask for, and the default.
    public static let operationTimeouts = 1...3_600
    public static let defaultOperationTimeoutSeconds = 10

    /// A location from its parts (the `postgres:` block of slotd.yaml); `tls` nil means `prefer` over TCP and
    /// `disable` on a Unix socket, as in a URL without `sslmode`.
    public init(
        user: String, password: String?, host: String, socketDirectory: String?, port: Int, database: String,
        tls: TLSMode?, poolSize: Int = PostgresLocation.defaultPoolSize,
        operationTimeoutSeconds: Int = PostgresLocation.defaultOperationTimeoutSeconds
    ) {
        self.user = user
        self.password = password
        self.host = host
        self.socketDirectory = socketDirectory
        self.port = port
        self.database = database
        self.tls = tls ?? (socketDirectory == nil ? .prefer : .disable)
        self.poolSize = poolSize
        self.operationTimeoutSeconds = operationTimeoutSeconds
    }

    /// Whether a `database` setting names a PostgreSQL store rather than a SQLite file.
    public static func isPostgres(_ setting: String) -> Bool {
        setting.hasPrefix("postgres://") || setting.hasPrefix("postgresql://")
    }

    /// Parses a URL; the error says what is wrong and what a good one looks like.
    public init(url text: String) throws(PostgresLocationError) {
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw PostgresLocationError(text, "it is not a postgres:// URL")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard let value = item.value else { throw PostgresLocationError(text, "parameter '\(item.name)' has no value") }
            query[item.name] = value
        }
        let known: Set = ["host", "port", "pool", "sslmode", "user", "password", "timeout"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw PostgresLocationError(text, "unknown parameter '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        user = query["user"] ?? components.user.flatMap { $0.removingPercentEncoding } ?? ""
        guard !user.isEmpty else { throw PostgresLocationError(text, "it names no user (postgres://USER@…)") }
        password = query["password"] ?? components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.removingPercentEncoding ?? path
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresLocationError(text, "it names no database (postgres://USER@HOST/DATABASE)")
        }
        port = components.port ?? 5432
        if let portText = query["port"] {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                throw PostgresLocationError(text, "port '\(portText)' is not a number from 1 to 65535")
            }
            port = value
        }
        host = components.host ?? ""
        socketDirectory = nil
        if let hostParameter = query["host"] {
            if hostParameter.hasPrefix("/") { socketDirectory = hostParameter } else { host = hostParameter }
        }
        guard socketDirectory != nil || !host.isEmpty else {
            throw PostgresLocationError(text, "it names no host (postgres://USER@HOST/… or ?host=/socket/directory)")
        }
        poolSize = Self.defaultPoolSize
        if let poolText = query["pool"] {
            guard let value = Int(poolText), Self.poolSizes.contains(value) else {
                throw PostgresLocationError(text, "pool '\(poolText)' is not a number from 1 to 1000")
            }
            poolSize = value
        }
        operationTimeoutSeconds = Self.defaultOperationTimeoutSeconds
        if let timeoutText = query["timeout"] {
            guard let value = Int(timeoutText), Self.operationTimeouts.contains(value) else {
                throw PostgresLocationError(text, "timeout '\(timeoutText)' is not a number of seconds from 1 to 3600")
            }
            operationTimeoutSeconds = value
        }
        let mode = query["sslmode"] ?? (socketDirectory == nil ? "prefer" : "disable")
        guard let tls = TLSMode(rawValue: mode) else {
            throw PostgresLocationError(text, "sslmode '\(mode)' is not one of disable, prefer, require")
        }
        self.tls = tls
    }

    /// The same server and user, another database.
    public func with(database: String) -> PostgresLocation {
        var copy = self
        copy.database = database
        return copy
    }

    /// The URL without its password, for logs and errors.
    public var description: String {
        let server = socketDirectory.map { "?host=\($0)" } ?? ""
        let address = socketDirectory == nil ? "\(host):\(port)" : "localhost"
        return "postgres://\(user)@\(address)/\(database)\(server)"
    }

    /// The client configuration for postgres-nio.
    var clientConfiguration: PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketDirectory {
            configuration = PostgresClient.Configuration(
                unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password,
                database: database)
        } else {
            let tlsSetting: PostgresClient.Configuration.TLS
            switch tls {
            case .disable: tlsSetting = .disable
            case .prefer: tlsSetting = .prefer(.makeClientConfiguration())
            case .require: tlsSetting = .require(.makeClientConfiguration())
            }
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: tlsSetting)
        }
        configuration.options.maximumConnections = poolSize
        // The pool schedules a keep-alive query's timer (three tasks and a sleep) for a connection each time it goes
        // idle, and cancels it at the next lease: at a few leases per booking, CPU of the order of the queries' own
        // in postgres-nio (docs/benchmarks.md, third round). Over a Unix socket there is nothing for it to find: a
        // server that goes away closes the socket, and no middlebox drops an idle connection. Over TCP it stays.
        if socketDirectory != nil { configuration.options.keepAliveBehavior = nil }
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}

/// A `postgres://` URL that cannot be used, with what is wrong.
public struct PostgresLocationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    init(_ url: String, _ problem: String) {
        let shown = url.replacingOccurrences(of: #":[^:@/]*@"#, with: ":***@", options: .regularExpression)
        message = "bad PostgreSQL URL '\(shown)': \(problem) — use postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
            + " or postgres://USER@localhost/DATABASE?host=/socket/directory"
    }

    public var description: String { message }
}
