import Foundation

// The exec-plugin protocol, version 1: JSON lines on the plugin's stdin (requests) and stdout (replies).
// Plugins/README.md is its specification; keep the two in step.

/// How a plugin host reports what happens to a plugin (its stderr lines, restarts, protocol mistakes).
public enum ExecPluginLogLevel: String, Sendable {
    /// One line the plugin wrote to its stderr.
    case stderr
    case info
    case warning
    case error
}

/// Receives the host's reports; slotd forwards them to its log with the plugin's name.
public typealias ExecPluginLog = @Sendable (_ level: ExecPluginLogLevel, _ message: String) -> Void

/// The protocol's constants.
public enum ExecPluginProtocol {
    /// The version this slotd speaks; a plugin must answer `describe` with the same.
    public static let version = 1

    /// The requests slotd sends.
    public enum Method: String, Sendable, CaseIterable {
        case describe
        case notify
        case createDeposit = "create_deposit"
        case cancelDeposit = "cancel_deposit"
        case refund
    }
}

/// What a plugin said about itself in the `describe` handshake.
public struct ExecPluginDescription: Hashable, Sendable {
    public var protocolVersion: Int
    /// Its own name for itself (for the log; the configured name is what slotd uses).
    public var name: String
    /// The methods it answers besides `describe` (`notify`, `create_deposit`, …); unknown ones are ignored.
    public var capabilities: Set<String>

    public init(protocolVersion: Int, name: String, capabilities: Set<String>) {
        self.protocolVersion = protocolVersion
        self.name = name
        self.capabilities = capabilities
    }

    /// Reads a `describe` result; a missing or mistyped field is a clear error.
    static func parse(_ result: Data, plugin: String) throws(ProviderError) -> ExecPluginDescription {
        guard let object = try? JSONSerialization.jsonObject(with: result) as? [String: Any] else {
            throw .permanent("plugin '\(plugin)' answered `describe` with something other than a JSON object")
        }
        guard let version = (object["protocol"] as? NSNumber)?.intValue else {
            throw .permanent(
                "plugin '\(plugin)' answered `describe` without a numeric `protocol` — it must answer "
                    + "{\"protocol\": \(ExecPluginProtocol.version), \"name\": …, \"capabilities\": […]}")
        }
        guard version == ExecPluginProtocol.version else {
            throw .permanent(
                "plugin '\(plugin)' speaks exec protocol \(version), this slotd speaks \(ExecPluginProtocol.version) "
                    + "— install a version of the plugin made for protocol \(ExecPluginProtocol.version)")
        }
        guard let capabilities = object["capabilities"] as? [String] else {
            throw .permanent(
                "plugin '\(plugin)' answered `describe` without a `capabilities` list of strings "
                    + "(notify, create_deposit, cancel_deposit, refund)")
        }
        return ExecPluginDescription(
            protocolVersion: version, name: object["name"] as? String ?? plugin, capabilities: Set(capabilities))
    }
}

/// A reply line taken apart: the `result` as JSON bytes, or the plugin's error.
enum ExecPluginReply {
    static func parse(_ line: Data, method: String, plugin: String) -> Result<Data, ProviderError> {
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            return .failure(.permanent("plugin '\(plugin)' answered `\(method)` with a line that is not a JSON object"))
        }
        if let error = object["error"] {
            guard let error = error as? [String: Any] else {
                return .failure(
                    .permanent("plugin '\(plugin)' answered `\(method)` with an `error` that is not an object"))
            }
            let message =
                (error["message"] as? String).map { "plugin '\(plugin)': \($0)" }
                ?? "plugin '\(plugin)' failed `\(method)` without a message"
            switch error["code"] as? String {
            case "temporary": return .failure(.temporary(message))
            case "permanent": return .failure(.permanent(message))
            case let code:
                return .failure(
                    .permanent(
                        "\(message) (and its error code \(code.map { "'\($0)'" } ?? "is missing") is not "
                            + "temporary or permanent)"))
            }
        }
        guard let result = object["result"] else {
            return .failure(.permanent("plugin '\(plugin)' answered `\(method)` with neither `result` nor `error`"))
        }
        guard JSONSerialization.isValidJSONObject([result]),
            let data = try? JSONSerialization.data(withJSONObject: result, options: [.fragmentsAllowed])
        else {
            return .failure(.permanent("plugin '\(plugin)' answered `\(method)` with a `result` slotd cannot read"))
        }
        return .success(data)
    }
}
