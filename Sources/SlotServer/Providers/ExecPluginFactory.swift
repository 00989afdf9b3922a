import Logging
import ServiceLifecycle
import SlotProviders

/// `type: exec`: one plugin process behind a notification and a payment adapter.
///
/// The handshake is asynchronous and a plugin may be down at start, so both adapters are built and the plugin's
/// `describe` answer decides on first use: a call the plugin does not offer fails `.permanent` with its list.
enum ExecPluginFactory {
    static func build(_ settings: ProviderSettings, logger: Logger) throws(ProviderSettingsError) -> BuiltProvider {
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

/// Stops the providers that run something (exec plugins) at graceful shutdown: after the services that call them,
/// since it is started before them and the group stops in reverse order.
struct ProviderShutdownService: Service {
    let providers: ConfiguredProviders

    func run() async throws {
        try? await gracefulShutdown()
        var stoppable: [any StoppableProvider] = []
        if let payment = providers.payment as? any StoppableProvider { stoppable.append(payment) }
        for notification in providers.notifications.values {
            if let provider = notification as? any StoppableProvider { stoppable.append(provider) }
        }
        for provider in stoppable { await provider.stop() }
    }
}
