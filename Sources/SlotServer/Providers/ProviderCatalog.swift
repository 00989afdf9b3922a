import Logging
import LogProvider
import ManualPayment
import SMTPProvider
import WebhookProvider
import SlotProviders
import StripePayment

/// A provider built from its settings: a payment provider, a notification provider, or (an exec plugin) both.
public struct BuiltProvider: Sendable {
    public var payment: (any PaymentProvider)?
    public var notification: (any NotificationProvider)?

    public init(payment: (any PaymentProvider)? = nil, notification: (any NotificationProvider)? = nil) {
        self.payment = payment
        self.notification = notification
    }
}

/// The providers slotd knows, by `type:` — the one list where a provider implementation is registered.
enum ProviderCatalog {
    typealias Factory = @Sendable (ProviderSettings, Logger) throws(ConfigurationError) -> BuiltProvider

    static let factories: [String: Factory] = [
        "log": { settings, logger throws(ConfigurationError) in
            BuiltProvider(notification: try LogNotifier(settings: settings, logger: logger))
        },
        "webhook": { settings, _ throws(ConfigurationError) in
            BuiltProvider(notification: try WebhookNotifier(settings: settings))
        },
        "smtp": { settings, _ throws(ConfigurationError) in
            BuiltProvider(notification: try SMTPNotifier(settings: settings))
        },
        "exec": { settings, logger throws(ConfigurationError) in
            try ExecPluginFactory.build(settings, logger: logger)
        },
        "stripe": { settings, _ throws(ConfigurationError) in
            BuiltProvider(payment: try StripePayments(settings: settings))
        },
    ]

    /// The configured providers, built; every provider's problems are thrown together, with their locations.
    static func build(
        _ configuration: DaemonConfiguration, logger: Logger
    ) throws(ConfigurationError) -> ConfiguredProviders {
        var payments: [String: any PaymentProvider] = ["manual": ManualPayments()]
        var notifications: [String: any NotificationProvider] = [:]
        var problems: [ConfigurationProblem] = []
        for name in configuration.providers.keys.sorted() {
            guard let settings = configuration.providers[name] else { continue }
            guard let factory = factories[settings.type] else {
                problems += settings.error(
                    nil,
                    "unknown type '\(settings.type)' — use \(factories.keys.sorted().joined(separator: ", "))"
                ).problems
                continue
            }
            do throws(ConfigurationError) {
                let built = try factory(settings, logger)
                if let payment = built.payment { payments[name] = payment }
                if let notification = built.notification { notifications[name] = notification }
            } catch {
                problems += error.problems
            }
        }
        // A payments setting naming a provider that failed to build is that provider's problem, already listed.
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        guard let payment = payments[configuration.paymentProvider] else {
            let file = configuration.providers.values.first?.file ?? "configuration"
            throw ConfigurationError(
                file: file, line: configuration.paymentProviderMark.line,
                column: configuration.paymentProviderMark.column,
                message: "`payments: \(configuration.paymentProvider)` names no payment provider — use manual or "
                    + "a provider under `providers:` that takes payments (\(payments.keys.sorted().joined(separator: ", ")))")
        }
        return ConfiguredProviders(payment: payment, notifications: notifications)
    }
}

/// The providers in force: the one payment provider and the notification providers by name.
public struct ConfiguredProviders: Sendable {
    public var payment: any PaymentProvider
    public var notifications: [String: any NotificationProvider]
}
