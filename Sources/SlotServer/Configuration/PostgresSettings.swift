import Foundation
import SlotProviders
import SlotStorePostgres
import Yams

/// The `postgres:` block of slotd.yaml: the PostgreSQL store by its parts, the password kept in a file of its own
/// instead of in a URL (issue 16).
///
/// ```yaml
/// postgres:
///   host: db.example.internal     # or the directory of a Unix socket: /run/postgresql
///   port: 5432
///   database: shop
///   user: slotd
///   password_file: /etc/slotd/postgres.password   # 0600 (or 0640 owned by root), read at start
///   tls: require                  # disable, prefer (TCP default) or require
///   pool: 10                      # connections per daemon
///   timeout: 10s                  # longest a store operation may take before a 503
/// ```
enum PostgresSettings {
    /// Reads the block (and the password file it names) into a location; every mistake is reported with its place.
    static func parse(_ node: Node, file: String, directory: String) throws(ConfigurationError) -> PostgresLocation {
        func fail(_ node: Node, _ message: String) -> ConfigurationError { ConfigurationFile.error(node, file, message) }
        func text(_ value: Node, _ key: String) throws(ConfigurationError) -> String {
            try ConfigurationFile.text(value, key: key, file: file)
        }
        guard let mapping = node.mapping else {
            throw fail(node, "`postgres` must be a mapping with at least `host`, `database` and `user`")
        }
        func number(_ value: Node, _ key: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            guard let string = value.scalar?.string, let number = Int(string), range.contains(number) else {
                throw fail(
                    value,
                    "`\(key)` must be a whole number from \(range.lowerBound) to \(range.upperBound) "
                        + "(got '\(value.scalar?.string ?? "")')")
            }
            return number
        }
        var host: String?
        var port = 5432
        var database: String?
        var user: String?
        var password: String?
        var tls: (mode: PostgresLocation.TLSMode, node: Node)?
        var pool = PostgresLocation.defaultPoolSize
        var timeout = PostgresLocation.defaultOperationTimeoutSeconds
        var problems: [ConfigurationProblem] = []
        for (keyNode, value) in mapping {
            ConfigurationFile.collect(into: &problems) { () throws(ConfigurationError) in
                let key = keyNode.string ?? ""
                switch key {
                case "host": host = try text(value, key)
                case "port": port = try number(value, key, 1...65_535)
                case "database": database = try text(value, key)
                case "user": user = try text(value, key)
                case "password_file":
                    let path = try text(value, key)
                    do throws(PostgresPasswordFile.Problem) {
                        password = try PostgresPasswordFile.read(path.hasPrefix("/") ? path : directory + "/" + path)
                    } catch {
                        throw fail(value, error.message)
                    }
                case "tls":
                    let word = try text(value, key)
                    guard let mode = PostgresLocation.TLSMode(rawValue: word) else {
                        throw fail(value, "`tls` must be disable, prefer or require (got '\(word)')")
                    }
                    tls = (mode, value)
                case "pool": pool = try number(value, key, PostgresLocation.poolSizes)
                case "timeout":
                    let range = PostgresLocation.operationTimeouts
                    guard let string = value.scalar?.string, let duration = ProviderSettings.parseDuration(string),
                        duration.components.attoseconds == 0, range.contains(Int(duration.components.seconds))
                    else {
                        throw fail(
                            value,
                            "`timeout` must be whole seconds from \(range.lowerBound)s to \(range.upperBound)s "
                                + "like 10s (got '\(value.scalar?.string ?? "")')")
                    }
                    timeout = Int(duration.components.seconds)
                default:
                    throw fail(
                        keyNode,
                        "unknown key '\(key)' in `postgres` — use host, port, database, user, password_file, tls, "
                            + "pool or timeout")
                }
            }
        }
        for (key, value) in [("host", host), ("database", database), ("user", user)] where value == nil {
            problems.append(
                ConfigurationProblem(
                    file: file, line: node.mark?.line, column: node.mark?.column,
                    message: "`postgres` has no `\(key)` — "
                        + (key == "host"
                            ? "name the server (db.example.internal) or its Unix socket's directory (/run/postgresql)"
                            : "name the \(key) slotd uses")))
        }
        let socketDirectory = host.flatMap { $0.hasPrefix("/") ? $0 : nil }
        if let tls, socketDirectory != nil, tls.mode == .require {
            problems.append(
                fail(tls.node, "`tls: require` needs a server host name: a Unix socket (`host: /…`) has no TLS — "
                    + "use tls: disable there").problems[0])
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        guard let host, let database, let user else { throw ConfigurationError(problems: problems) }
        return PostgresLocation(
            user: user, password: password, host: socketDirectory == nil ? host : "localhost",
            socketDirectory: socketDirectory, port: port, database: database,
            tls: socketDirectory == nil ? tls?.mode : .disable, poolSize: pool, operationTimeoutSeconds: timeout)
    }
}
