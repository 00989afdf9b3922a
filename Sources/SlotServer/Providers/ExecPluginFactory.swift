import Logging
import ServiceLifecycle
import SlotProviders

/// `type: exec`: one plugin process behind a notification and a payment adapter.
///
/// The handshake is asynchronous and a plugin may be down at start, so both adapters are built and the plugin's
/// `describe` answer decides on first use: a call the plugin does not offer fails `.permanent` with its list.
enum ExecPluginFactory {
    static func build(_ settings: ProviderSettings, logger: Logger) throws(ConfigurationError) -> BuiltProvider {
        let configuration = try ExecPluginConfiguration(settings: settings)
        let name = configuration.name
        let host = ExecPluginHost(configuration: configuration) { level, message in
            switch level {
            case .stderr: logger.notice("\(message)", metadata: ["plugin": "\(name)", "stream": "stderr"])
            case .info: logger.info("\(message)", metadata: ["plugin": "\(name)"])
            case .warning: logger.warning("\(message)", metadata: ["plugin": "\(name)"])
            case .error: logger.error("\(message)", metadata: ["plugin": "\(name)"])
            }
        }
        return BuiltProvider(payment: ExecPayments(host: host), notification: ExecNotifier(host: host))
    }
}

/// Starts the providers that run something (exec plugins) when slotd starts, so the log shows at once whether they
/// work, and stops them at graceful shutdown: after the services that call them, since it is started before them
/// and the group stops in reverse order.
struct ProviderLifecycleService: Service {
    let providers: ConfiguredProviders

    func run() async throws {
        var managed: [any ManagedProvider] = []
        if let payment = providers.payment as? any ManagedProvider { managed.append(payment) }
        for name in providers.notifications.keys.sorted() {
            if let provider = providers.notifications[name] as? any ManagedProvider { managed.append(provider) }
        }
        await withTaskGroup(of: Void.self) { group in
            // Started side by side: one plugin's slow start holds up neither another's nor a shutdown (stopping a
            // plugin ends its pending handshake).
            for provider in managed { group.addTask { await provider.start() } }
            try? await gracefulShutdown()
            for provider in managed { await provider.stop() }
        }
    }
}
