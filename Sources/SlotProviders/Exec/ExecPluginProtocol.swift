import Foundation
import SlotCore

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
    static func parse(_ result: JSONValue, plugin: String) throws(ProviderError) -> ExecPluginDescription {
        guard result.isObject else {
            throw .permanent("plugin '\(plugin)' answered `describe` with something other than a JSON object")
        }
        guard let version = result["protocol"]?.intValue else {
            throw .permanent(
                "plugin '\(plugin)' answered `describe` without a numeric `protocol` — it must answer "
                    + "{\"protocol\": \(ExecPluginProtocol.version), \"name\": …, \"capabilities\": […]}")
        }
        guard version == ExecPluginProtocol.version else {
            throw .permanent(
                "plugin '\(plugin)' speaks exec protocol \(version), this slotd speaks \(ExecPluginProtocol.version) "
                    + "— install a version of the plugin made for protocol \(ExecPluginProtocol.version)")
        }
        guard let list = result["capabilities"]?.arrayValue, case let names = list.compactMap(\.stringValue),
            names.count == list.count
        else {
            throw .permanent(
                "plugin '\(plugin)' answered `describe` without a `capabilities` list of strings "
                    + "(notify, create_deposit, cancel_deposit, refund)")
        }
        return ExecPluginDescription(
            protocolVersion: version, name: result["name"]?.stringValue ?? plugin, capabilities: Set(names))
    }
}

/// A reply line taken apart: its `result`, or the plugin's error.
enum ExecPluginReply {
    /// The id of a reply line, nil when the line is not a JSON object with a whole-number `id`.
    static func id(of line: Data) -> Int? {
        (try? StableJSON.decoder.decode(JSONValue.self, from: line))?["id"]?.intValue
    }

    static func parse(_ line: Data, method: String, plugin: String) -> Result<JSONValue, ProviderError> {
        guard let reply = try? StableJSON.decoder.decode(JSONValue.self, from: line), reply.isObject else {
            return .failure(.permanent("plugin '\(plugin)' answered `\(method)` with a line that is not a JSON object"))
        }
        if let error = reply["error"] {
            guard error.isObject else {
                return .failure(
                    .permanent("plugin '\(plugin)' answered `\(method)` with an `error` that is not an object"))
            }
            let message =
                error["message"]?.stringValue.map { "plugin '\(plugin)': \($0)" }
                ?? "plugin '\(plugin)' failed `\(method)` without a message"
            switch error["code"]?.stringValue {
            case "temporary": return .failure(.temporary(message))
            case "permanent": return .failure(.permanent(message))
            case let code:
                return .failure(
                    .permanent(
                        "\(message) (and its error code \(code.map { "'\($0)'" } ?? "is missing") is not "
                            + "temporary or permanent)"))
            }
        }
        guard let result = reply["result"] else {
            return .failure(.permanent("plugin '\(plugin)' answered `\(method)` with neither `result` nor `error`"))
        }
        return .success(result)
    }
}

// MARK: - Request params, as the specification names them

/// `describe`'s params.
struct DescribeParams: Encodable {
    var `protocol` = ExecPluginProtocol.version
}

/// An amount in minor units (cents) of a currency.
struct AmountParams: Encodable {
    var minorUnits: Int
    var currency: String

    init(_ amount: ProviderAmount) {
        minorUnits = amount.minorUnits
        currency = amount.currency
    }

    enum CodingKeys: String, CodingKey {
        case minorUnits = "minor_units"
        case currency
    }
}

/// `notify`'s params.
struct NotifyParams: Encodable {
    var id: String
    var event: String
    var recipient: Recipient
    var subject: String
    var body: String
    /// The message's data as the notification handler wrote it (`{}` when it is not JSON).
    var data: JSONValue
}

/// `create_deposit`'s params.
struct DepositParams: Encodable {
    struct Customer: Encodable {
        var name: String
        var email: String?
    }

    var bookingID: String
    var amount: AmountParams
    var description: String
    var customer: Customer
    var idempotencyKey: String

    enum CodingKeys: String, CodingKey {
        case bookingID = "booking_id"
        case amount, description, customer
        case idempotencyKey = "idempotency_key"
    }
}

/// `cancel_deposit`'s and `refund`'s params.
struct RefundParams: Encodable {
    var bookingID: String
    var reference: String
    var idempotencyKey: String
    var amount: AmountParams?

    enum CodingKeys: String, CodingKey {
        case bookingID = "booking_id"
        case reference
        case idempotencyKey = "idempotency_key"
        case amount
    }
}
