import Foundation
import Logging
import SlotCore
import SlotProviders
import SlotStore
import Yams

/// Reads `slotd.yaml` onto a base configuration (what is not in the file keeps the base value).
///
/// ```yaml
/// socket: { path: /run/slotd/slotd.sock, mode: "0660", group: slotd }
/// database: /var/lib/slotd/slotd.sqlite    # or postgres://…, or a `postgres:` block (PostgresSettings)
/// rules: /etc/slotd/rules
/// roles: { root: admin, barber: staff, 33: booking, nobody: read }
/// server: { header_timeout: 10s, idle_timeout: 30s, max_connections: 512 }
/// providers: { ... }   # later issues; read leniently
/// ```
/// Relative paths are resolved against the configuration file's directory; `database: ":memory:"` runs on the
/// in-memory store (tests and demos: nothing survives a restart).
public enum ConfigurationFile {
    /// Parses the file at `path` over `base`; every problem is reported, all of them in the one error thrown.
    public static func load(path: String, over base: DaemonConfiguration) throws(ConfigurationError)
        -> DaemonConfiguration
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(
                file: path, message: "cannot read the configuration file — check the path and its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, message: "not UTF-8 text — save it as UTF-8")
        }
        var directory = (path as NSString).deletingLastPathComponent
        if !directory.hasPrefix("/") {
            let current = FileManager.default.currentDirectoryPath
            directory = directory.isEmpty ? current : current + "/" + directory
        }
        return try parse(text, file: path, relativeTo: directory, over: base)
    }

    /// Parses configuration text; throws every problem found, not only the first.
    public static func parse(
        _ text: String, file: String, relativeTo directory: String, over base: DaemonConfiguration
    ) throws(ConfigurationError) -> DaemonConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw located(error, file: file)
        } catch {
            throw ConfigurationError(file: file, message: "not valid YAML: \(error)")
        }
        var configuration = base
        guard let root else { return configuration }
        guard let mapping = root.mapping else {
            throw error(root, file, "the configuration must be a mapping (keys like `socket:`, `database:`, `rules:`)")
        }
        var problems: [ConfigurationProblem] = []
        let keys = mapping.map { $0.key }
        if keys.contains(where: { $0.string == "database" }),
            let block = keys.first(where: { $0.string == "postgres" })
        {
            problems += error(block, file, "`database` and `postgres` both name the store — keep one of them").problems
        }
        // Each setting is read on its own: a mistake in one is noted and the others are still checked.
        for (keyNode, value) in mapping {
            do throws(ConfigurationError) {
                try parseSetting(
                    keyNode, value, into: &configuration, problems: &problems, file: file, directory: directory)
            } catch {
                problems += error.problems
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return configuration
    }

    /// One top-level setting onto `configuration`; each entry of a section adds its own mistakes to `problems`.
    private static func parseSetting(
        _ keyNode: Node, _ value: Node, into configuration: inout DaemonConfiguration,
        problems: inout [ConfigurationProblem], file: String, directory: String
    ) throws(ConfigurationError) {
        func path(_ node: Node) throws(ConfigurationError) -> String {
            guard let value = node.string, !value.isEmpty else {
                throw error(node, file, "expected a path — write one, absolute or relative to this file")
            }
            return value.hasPrefix("/") ? value : directory + "/" + value
        }
        let key = keyNode.string ?? ""
        switch key {
        case "socket":
            if let string = value.string {
                configuration.socketPath = try path(Node(string, value.tag, .plain))
                return
            }
            guard let socket = value.mapping else {
                throw error(value, file, "`socket` must be a path or a mapping with `path`, `mode`, `group`")
            }
            for (innerKey, inner) in socket {
                collect(into: &problems) { () throws(ConfigurationError) in
                    switch innerKey.string ?? "" {
                    case "path": configuration.socketPath = try path(inner)
                    case "mode":
                        guard let text = inner.string,
                            let mode = UInt16(text.hasPrefix("0o") ? String(text.dropFirst(2)) : text, radix: 8),
                            mode <= 0o777
                        else {
                            throw error(inner, file, "`mode` must be octal permission bits like \"0660\" — quote it")
                        }
                        configuration.socketMode = mode
                    case "group":
                        guard let group = inner.string, !group.isEmpty else {
                            throw error(inner, file, "`group` must be a group name or gid — name the socket's group")
                        }
                        if gid(of: group) == nil {
                            throw error(inner, file, "unknown group '\(group)' — create it or name an existing group")
                        }
                        configuration.socketGroup = group
                    default:
                        throw error(
                            innerKey, file,
                            "unknown key '\(innerKey.string ?? "")' in `socket` — use path, mode or group")
                    }
                }
            }
        case "database":
            // `:memory:` and a `postgres://` URL name no file: they are not resolved against the directory.
            if let setting = value.string, !DatabaseSetting.isFile(setting) {
                if let problem = DatabaseSetting.problem(setting) { throw error(value, file, problem) }
                configuration.databasePath = setting
            } else {
                configuration.databasePath = try path(value)
            }
        case "postgres":
            let location = try PostgresSettings.parse(value, file: file, directory: directory)
            configuration.postgres = location
            configuration.databasePath = location.description
        case "rules":
            configuration.rulesDirectory = try path(value)
        case "roles":
            guard let roles = value.mapping else {
                throw error(value, file, "`roles` must map users (names or uids) to roles — write `user: role` lines")
            }
            var table: [UInt32: Role] = [:]
            for (userNode, roleNode) in roles {
                collect(into: &problems) { () throws(ConfigurationError) in
                    let user = userNode.string ?? ""
                    guard let uid = uid(of: user) else {
                        throw error(userNode, file, "unknown user '\(user)' — name an existing user or a numeric uid")
                    }
                    guard let role = roleNode.string.flatMap(Role.init(rawValue:)) else {
                        throw error(
                            roleNode, file,
                            "unknown role '\(roleNode.string ?? "")' — use admin, staff, booking or read")
                    }
                    table[uid] = role
                }
            }
            configuration.roles = table
        case "providers":
            guard let providers = value.mapping else {
                throw error(
                    value, file, "`providers` must map names to settings with a `type` — e.g. `mail: { type: smtp }`")
            }
            for (nameNode, settingsNode) in providers {
                collect(into: &problems) { () throws(ConfigurationError) in
                    let settings = try providerSettings(nameNode, settingsNode, file: file, directory: directory)
                    configuration.providers[settings.name] = settings
                }
            }
        case "payments":
            guard let name = value.string, !name.isEmpty else {
                throw error(value, file, "`payments` must name a provider — manual, or one under `providers:`")
            }
            configuration.paymentProvider = name
            configuration.paymentProviderMark = (value.mark?.line, value.mark?.column)
        case "server":
            configuration.connectionLimits = try ConnectionLimits.parse(
                value, file: file, over: configuration.connectionLimits)
        case "outbox":
            configuration.outbox = try OutboxSettings.parse(value, file: file, over: configuration.outbox)
        case "notifications":
            configuration.notifications = try NotificationSettings.parse(value, file: file)
        case "web":
            configuration.web = try WebSettings.parse(value, file: file, directory: directory)
        case "country":
            let country = (value.string ?? "").uppercased()
            guard PhoneNumber.callingCodes[country] != nil else {
                throw error(
                    value, file,
                    "`country` must be an ISO 3166 code slotd knows, e.g. DE, AT, CH, GB, US (customers' phone "
                        + "numbers without + get its calling code)")
            }
            configuration.country = country
        case "log_level":
            guard let level = value.string.flatMap(Logger.Level.init(rawValue:)) else {
                throw error(
                    value, file, "`log_level` must be trace, debug, info, notice, warning, error or critical")
            }
            configuration.logLevel = level
        default:
            throw error(
                keyNode, file,
                "unknown key '\(key)' — use socket, database, postgres, rules, roles, country, server, providers, "
                    + "payments, outbox, notifications, web or log_level")
        }
    }

    /// One `providers:` entry: a mapping with a `type` and the type's settings, kept with their locations.
    static func providerSettings(
        _ nameNode: Node, _ node: Node, file: String, directory: String
    ) throws(ConfigurationError) -> ProviderSettings {
        guard let name = nameNode.string, !name.isEmpty, name != "manual" else {
            throw error(nameNode, file, "a provider needs a name other than `manual` (which is built in)")
        }
        guard let mapping = node.mapping else {
            throw error(
                node, file, "provider '\(name)' must be a mapping with a `type` (smtp, webhook, exec, stripe, log)")
        }
        var type: String?
        var values: [String: ProviderSettingValue] = [:]
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? ""
            if key == "type" {
                type = valueNode.string
                continue
            }
            let shape: ProviderSettingValue.Shape
            if let scalar = valueNode.scalar {
                shape = .scalar(scalar.string)
            } else if let sequence = valueNode.sequence {
                var items: [String] = []
                for item in sequence {
                    guard let text = item.scalar?.string else {
                        throw error(item, file, "`\(key)` must be a list of plain values")
                    }
                    items.append(text)
                }
                shape = .list(items)
            } else if let map = valueNode.mapping {
                var table: [String: String] = [:]
                for (innerKey, innerValue) in map {
                    guard let innerName = innerKey.string, let text = innerValue.scalar?.string else {
                        throw error(innerValue, file, "`\(key)` must map names to plain values")
                    }
                    table[innerName] = text
                }
                shape = .mapping(table)
            } else {
                throw error(
                    valueNode, file, "`\(key)` has an unsupported value — use a plain value, a list or a mapping")
            }
            values[key] = ProviderSettingValue(shape, line: valueNode.mark?.line, column: valueNode.mark?.column)
        }
        guard let type, !type.isEmpty else {
            throw error(node, file, "provider '\(name)' has no `type` — use smtp, webhook, exec, stripe or log")
        }
        return ProviderSettings(
            name: name, type: type, file: file, directory: directory, line: nameNode.mark?.line,
            column: nameNode.mark?.column, values: values)
    }

    /// Runs `read`, adding the problems it throws to `problems` instead of stopping there.
    static func collect(
        into problems: inout [ConfigurationProblem], _ read: () throws(ConfigurationError) -> Void
    ) {
        do throws(ConfigurationError) { try read() } catch { problems += error.problems }
    }

    /// The uid of a user name or numeric uid.
    public static func uid(of user: String) -> UInt32? {
        if let number = UInt32(user) { return number }
        guard let entry = getpwnam(user) else { return nil }
        return entry.pointee.pw_uid
    }

    /// The gid of a group name or numeric gid.
    public static func gid(of group: String) -> UInt32? {
        if let number = UInt32(group) { return number }
        guard let entry = getgrnam(group) else { return nil }
        return entry.pointee.gr_gid
    }

    /// A problem at `node`'s place in `file`.
    static func error(_ node: Node, _ file: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: node.mark?.line, column: node.mark?.column, message: message)
    }

    /// `node`'s text, or the problem that `key` needs a non-empty one.
    static func text(_ node: Node, key: String, file: String) throws(ConfigurationError) -> String {
        guard let string = node.scalar?.string, !string.isEmpty else {
            throw error(node, file, "`\(key)` must be a non-empty text")
        }
        return string
    }

    private static func located(_ error: YamlError, file: String) -> ConfigurationError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return ConfigurationError(
                file: file, line: mark.line, column: mark.column, message: "not valid YAML: \(problem)")
        default:
            return ConfigurationError(file: file, message: "not valid YAML: \(error)")
        }
    }
}
