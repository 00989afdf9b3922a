import Logging

/// Logging for the `slotd` binary: swift-log to stderr, one event a line (journald keeps lines as they are).
public enum DaemonLog {
    /// Sends every logger to stderr; call once, first thing in `main`.
    public static func bootstrap() {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
    }

    /// Whether `text` names a log level.
    public static func isLevel(_ text: String) -> Bool { Logger.Level(rawValue: text) != nil }
}

extension DaemonConfiguration {
    /// Sets the log level by name; false when the name is unknown.
    public mutating func setLogLevel(_ text: String) -> Bool {
        guard let level = Logger.Level(rawValue: text) else { return false }
        logLevel = level
        return true
    }
}
