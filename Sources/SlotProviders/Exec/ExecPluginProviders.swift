import Foundation
import SlotCore

/// A provider that runs something (an exec plugin's process): started when slotd starts, stopped at shutdown.
public protocol ManagedProvider: Sendable {
    /// Gets ready in the background (an exec plugin: start it and shake hands). A failure is logged, never fatal:
    /// calls try again later.
    func start() async
    /// Ends what the provider runs; later calls fail.
    func stop() async
}

extension ExecPluginConfiguration {
    /// The keys `type: exec` accepts.
    public static let settingKeys: Set<String> = ["command", "timeout", "env", "directory"]

    /// Reads `{type: exec, command: [program, args…], timeout: 10s, env: {KEY: value}, directory: path}`.
    ///
    /// The program is resolved now (relative to the configuration file when it has a `/`, else on `PATH`), so a
    /// typo stops slotd at start; the plugin itself starts on first use, so a plugin that fails does not.
    public init(settings: ProviderSettings) throws(ConfigurationError) {
        try settings.rejectUnknownKeys(Self.settingKeys)
        guard let command = try settings.strings("command"), let program = command.first, !program.isEmpty else {
            throw settings.error(
                "command", "`command` is missing — give the program and its arguments, e.g. command: [./plugin.py]")
        }
        let configured = try settings.mapping("env") ?? [:]
        var environment: [String: String] = [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "SLOTD_PLUGIN_NAME": settings.name,
            "SLOTD_PLUGIN_PROTOCOL": "\(ExecPluginProtocol.version)",
        ]
        for (key, value) in configured { environment[key] = value }

        let executable: String
        if program.contains("/") {
            executable = program.hasPrefix("/") ? program : settings.directory + "/" + program
        } else {
            let path = environment["PATH"] ?? ""
            guard
                let found = path.split(separator: ":").map({ "\($0)/\(program)" }).first(where: {
                    FileManager.default.isExecutableFile(atPath: $0)
                })
            else {
                throw settings.error(
                    "command", "cannot find '\(program)' on the plugin's PATH (\(path)) — give its full path")
            }
            executable = found
        }
        let standardized = (executable as NSString).standardizingPath
        guard FileManager.default.isExecutableFile(atPath: standardized) else {
            throw settings.error(
                "command",
                "'\(standardized)' is not an executable file — check the path and run chmod +x on the plugin")
        }
        let directory: String
        if let configuredDirectory = try settings.path("directory") {
            directory = (configuredDirectory as NSString).standardizingPath
        } else if program.contains("/") {
            directory = (standardized as NSString).deletingLastPathComponent
        } else {
            directory = settings.directory
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw settings.error("directory", "the plugin's directory \(directory) does not exist")
        }
        let timeout = try settings.duration("timeout") ?? .seconds(10)
        guard timeout > .zero else { throw settings.error("timeout", "`timeout` must be more than 0s") }
        self.init(
            name: settings.name, executable: standardized, arguments: Array(command.dropFirst()),
            environment: environment, directory: directory, timeout: timeout)
    }
}

// MARK: - Notifications

/// An exec plugin that offers `notify`.
public struct ExecNotifier: NotificationProvider, ManagedProvider {
    public let host: ExecPluginHost
    public var name: String { host.configuration.name }

    public init(host: ExecPluginHost) {
        self.host = host
    }

    public func send(_ message: OutgoingMessage) async throws(ProviderError) {
        let params = NotifyParams(
            id: message.id, event: message.event,
            recipient: message.recipient,
            subject: message.subject, body: message.body,
            data: (try? StableJSON.decoder.decode(JSONValue.self, from: message.data)) ?? .object([:]))
        _ = try await host.call(.notify, params: params)
    }

    public func start() async { _ = try? await host.describe() }

    public func stop() async { await host.stop() }
}

// MARK: - Payments

/// An exec plugin that offers `create_deposit` (and `cancel_deposit`, `refund`). It collects online; plugins
/// receive no webhooks, so the payment's outcome reaches slotd another way (a later protocol version).
public struct ExecPayments: PaymentProvider, ManagedProvider {
    public let host: ExecPluginHost
    public var name: String { host.configuration.name }
    public let collectsOnline = true

    public init(host: ExecPluginHost) {
        self.host = host
    }

    public func createDeposit(_ request: DepositRequest) async throws(ProviderError) -> DepositResult {
        let params = DepositParams(
            bookingID: request.bookingID, amount: AmountParams(request.amount), description: request.description,
            customer: .init(name: request.customerName, email: request.customerEmail),
            idempotencyKey: request.idempotencyKey)
        let result = try await host.call(.createDeposit, params: params)
        let object = try ExecParams.object(result, method: "create_deposit", plugin: name)
        return DepositResult(
            reference: try ExecParams.reference(object, method: "create_deposit", plugin: name),
            status: try ExecParams.status(object, method: "create_deposit", plugin: name),
            clientSecret: object["client_secret"]?.stringValue, paymentURL: object["payment_url"]?.stringValue)
    }

    public func cancelDeposit(_ request: RefundRequest) async throws(ProviderError) -> RefundResult {
        try await refundLike(.cancelDeposit, request)
    }

    public func refund(_ request: RefundRequest) async throws(ProviderError) -> RefundResult {
        try await refundLike(.refund, request)
    }

    public func verifyWebhook(_ delivery: WebhookDelivery) throws(ProviderError) -> PaymentWebhookEvent {
        throw .rejected("exec plugin '\(name)' takes no webhooks — payment webhooks go to a built-in provider")
    }

    public func start() async { _ = try? await host.describe() }

    public func stop() async { await host.stop() }

    private func refundLike(_ method: ExecPluginProtocol.Method, _ request: RefundRequest) async throws(ProviderError)
        -> RefundResult
    {
        let params = RefundParams(
            bookingID: request.bookingID, reference: request.reference, idempotencyKey: request.idempotencyKey,
            amount: request.amount.map(AmountParams.init))
        let result = try await host.call(method, params: params)
        let object = try ExecParams.object(result, method: method.rawValue, plugin: name)
        return RefundResult(
            reference: try ExecParams.reference(object, method: method.rawValue, plugin: name),
            status: try ExecParams.status(object, method: method.rawValue, plugin: name))
    }
}

/// Reading results.
enum ExecParams {
    static func object(_ result: JSONValue, method: String, plugin: String) throws(ProviderError) -> JSONValue {
        guard result.isObject else {
            throw .permanent("plugin '\(plugin)' answered `\(method)` with a result that is not a JSON object")
        }
        return result
    }

    static func reference(_ object: JSONValue, method: String, plugin: String) throws(ProviderError) -> String {
        guard let reference = object["reference"]?.stringValue, !reference.isEmpty else {
            throw .permanent("plugin '\(plugin)' answered `\(method)` without a `reference` string")
        }
        return reference
    }

    static func status(_ object: JSONValue, method: String, plugin: String) throws(ProviderError)
        -> PaymentStatus
    {
        let text = object["status"]?.stringValue ?? ""
        guard let status = PaymentStatus(rawValue: text) else {
            throw .permanent(
                "plugin '\(plugin)' answered `\(method)` with status '\(text)' — use pending, succeeded, cancelled, "
                    + "refunded or failed")
        }
        return status
    }
}
