import Logging
import SlotProviders

/// Writes each message as one log line instead of sending it: the default, and a way to see what would be sent.
/// It makes no call, so the fan-out writes the line itself and records the delivery done
/// (`InstantNotificationProvider`).
public struct LogNotifier: InstantNotificationProvider {
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

    public func sendNow(_ message: OutgoingMessage) {
        logger.info(
            "notification",
            metadata: [
                "provider": "\(name)", "event": "\(message.event)", "id": "\(message.id)",
                "to": "\(message.recipient.name)", "subject": "\(message.subject)",
            ])
    }
}
