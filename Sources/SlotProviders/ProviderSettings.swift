import Foundation

/// One value of a provider's settings in `slotd.yaml`, with where it was written.
public struct ProviderSettingValue: Hashable, Sendable {
    public enum Shape: Hashable, Sendable {
        case scalar(String)
        case list([String])
        case mapping([String: String])
    }

    public var shape: Shape
    public var line: Int?
    public var column: Int?

    public init(_ shape: Shape, line: Int? = nil, column: Int? = nil) {
        self.shape = shape
        self.line = line
        self.column = column
    }
}

/// One entry under `providers:` in `slotd.yaml`: a name, a `type`, and the type's settings.
///
/// ```yaml
/// providers:
///   mail: { type: smtp, url: "smtps://mail.example.com:465", from: "shop@example.com", password_file: mail.pw }
/// ```
/// Provider factories read their keys through the typed accessors, which throw located errors, and call
/// `rejectUnknownKeys` so a typo is an error rather than a silently ignored setting.
public struct ProviderSettings: Hashable, Sendable {
    public var name: String
    public var type: String
    /// The configuration file, for error locations and for resolving relative paths.
    public var file: String
    /// Directory relative paths are resolved against (the configuration file's).
    public var directory: String
    public var line: Int?
    public var column: Int?
    /// Every key but `type`.
    public var values: [String: ProviderSettingValue]

    public init(
        name: String, type: String, file: String, directory: String, line: Int? = nil, column: Int? = nil,
        values: [String: ProviderSettingValue]
    ) {
        self.name = name
        self.type = type
        self.file = file
        self.directory = directory
        self.line = line
        self.column = column
        self.values = values
    }

    /// An error at `key` (or at the provider's entry when the key is absent).
    public func error(_ key: String?, _ message: String) -> ConfigurationError {
        let value = key.flatMap { values[$0] }
        return ConfigurationError(
            file: file, line: value?.line ?? line, column: value?.column ?? column,
            message: "provider '\(name)' (\(type)): \(message)")
    }

    /// A scalar setting, or nil when absent.
    public func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = values[key] else { return nil }
        guard case .scalar(let text) = value.shape else { throw error(key, "`\(key)` must be a single value") }
        return text
    }

    /// A scalar setting that must be there.
    public func requiredString(_ key: String, hint: String) throws(ConfigurationError) -> String {
        guard let text = try string(key), !text.isEmpty else { throw error(nil, "`\(key)` is missing — \(hint)") }
        return text
    }

    /// A list setting (a single scalar counts as a list of one).
    public func strings(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let value = values[key] else { return nil }
        switch value.shape {
        case .scalar(let text): return [text]
        case .list(let items): return items
        case .mapping: throw error(key, "`\(key)` must be a list")
        }
    }

    /// A mapping setting (`env: { KEY: value }`).
    public func mapping(_ key: String) throws(ConfigurationError) -> [String: String]? {
        guard let value = values[key] else { return nil }
        guard case .mapping(let map) = value.shape else { throw error(key, "`\(key)` must be a mapping") }
        return map
    }

    /// A boolean setting (`true`/`false`, `yes`/`no`).
    public func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(key, "`\(key)` must be true or false")
        }
    }

    /// A duration setting: `500ms`, `10s`, `5m`, `2h`, or plain seconds.
    public func duration(_ key: String) throws(ConfigurationError) -> Duration? {
        guard let text = try string(key) else { return nil }
        guard let duration = ProviderSettings.parseDuration(text) else {
            throw error(key, "`\(key)` must be a duration like 10s, 500ms, 5m or 2h")
        }
        return duration
    }

    /// A path setting, resolved against the configuration file's directory.
    public func path(_ key: String) throws(ConfigurationError) -> String? {
        guard let text = try string(key) else { return nil }
        return text.hasPrefix("/") ? text : directory + "/" + text
    }

    /// The contents of the file named by `key` (a secret: a key, a password), trimmed of surrounding whitespace.
    /// Secrets live in their own files so the configuration can be shared and logged without them.
    public func secret(fromFileAt key: String) throws(ConfigurationError) -> String? {
        guard let path = try path(key) else { return nil }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw error(key, "cannot read the secret file \(path) — check the path and that slotd's user may read it")
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if secret.isEmpty { throw error(key, "the secret file \(path) is empty") }
        return secret
    }

    /// Throws for every key not in `known` (besides `type`), naming the keys that are.
    public func rejectUnknownKeys(_ known: Set<String>) throws(ConfigurationError) {
        let unknown = values.keys.sorted().filter { !known.contains($0) }
        guard !unknown.isEmpty else { return }
        throw ConfigurationError(
            problems: unknown.flatMap { key in
                error(key, "unknown key '\(key)' — use \(known.sorted().joined(separator: ", "))").problems
            })
    }

    /// Parses `500ms`, `10s`, `5m`, `2h` or a plain number of seconds.
    public static func parseDuration(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, milliseconds) in units where trimmed.hasSuffix(suffix) {
            guard let number = Int64(trimmed.dropLast(suffix.count)), number >= 0 else { return nil }
            return .milliseconds(number * milliseconds)
        }
        guard let seconds = Int64(trimmed), seconds >= 0 else { return nil }
        return .seconds(seconds)
    }
}
