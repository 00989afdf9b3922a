import Logging
import SlotProviders

/// Writes each message as one log line instead of sending it: the default, and a way to see what would be sent.
public struct LogNotifier: NotificationProvider {
    public let name: String
    let logger: Logger

    public init(name: String, logger: Logger) {
        self.name = name
        self.logger = logger
    }

    /// Builds it from `providers: { journal: { type: log } }` (no settings).
    public init(settings: ProviderSettings, logger: Logger) throws(ConfigurationError) {
        try settings.rejectUnknownKeys([])
        self.init(name: settings.name, logger: logger)
    }

    public func send(_ message: OutgoingMessage) async throws(ProviderError) {
        logger.info(
            "notification",
            metadata: [
                "provider": "\(name)", "event": "\(message.event)", "id": "\(message.id)",
                "to": "\(message.recipient.name)", "subject": "\(message.subject)",
            ])
    }
}
