import Foundation
import Logging
import SlotStore
import SlotStorePostgres

/// What a `database` setting (`--db`, `database:` in slotd.yaml) names: the in-memory store (`:memory:`), a
/// PostgreSQL database (`postgres://…`, issue 16) or, for anything else, a SQLite file.
enum DatabaseSetting {
    /// Whether the setting names a file (one that a relative path is resolved for and a directory is made for).
    static func isFile(_ setting: String) -> Bool {
        !StoreLocation.isInMemory(setting) && !PostgresLocation.isPostgres(setting)
    }

    /// The setting as it may be shown (a log line, `GET /v1/status`): a PostgreSQL URL without its password.
    static func shown(_ setting: String) -> String {
        guard PostgresLocation.isPostgres(setting) else { return setting }
        return (try? PostgresLocation(url: setting).description) ?? "postgres://…"
    }

    /// Checks a PostgreSQL URL when the configuration is read, so a bad one is a configuration error with its
    /// place; nil when it is fine or not a PostgreSQL URL.
    static func problem(_ setting: String) -> String? {
        guard PostgresLocation.isPostgres(setting) else { return nil }
        do {
            _ = try PostgresLocation(url: setting)
            return nil
        } catch {
            return error.message
        }
    }

    /// Opens the store the configuration names: its `postgres:` block, else its `database` setting.
    static func open(_ configuration: DaemonConfiguration, logger: Logger) async throws(StoreError) -> any SlotStorage {
        if let location = configuration.postgres { return try await PostgresBookingStore.open(location, logger: logger) }
        let setting = configuration.databasePath
        guard PostgresLocation.isPostgres(setting) else { return try await StoreLocation.open(setting) }
        let location: PostgresLocation
        do {
            location = try PostgresLocation(url: setting)
        } catch {
            throw StoreError(.database, error.message)
        }
        return try await PostgresBookingStore.open(location, logger: logger)
    }
}
