import Foundation
import PostgresNIO
import SlotStore

/// The event log across daemons.
///
/// Cursors are gap-free and in commit order: a transaction that appends events takes the one `event_log_head` row
/// (`UPDATE … RETURNING`) as its last statement before commit, and hands out the cursors after the head's. The row
/// lock makes every other appending transaction wait at that statement until this one has committed (or rolled
/// back, leaving the head as it was), so cursor n + 1 never becomes visible before cursor n, and a rolled-back
/// append leaves no hole. A reader asking for `cursor > c` therefore never skips an event that commits later. The
/// price is that appending transactions commit one at a time, for the length of their last statement and commit
/// (measured in the README's figures). With the append, `pg_notify('slotd_events', head)` tells every daemon
/// listening that the log moved; PostgreSQL delivers it at commit. The head's update, the event rows and the
/// notification are one statement, usually together with the transaction's other writes (`WriteBatch`).
extension PostgresBookingStore {
    /// The NOTIFY channel the log's head is announced on.
    public static let eventChannel = "slotd_events"

    /// Appends events (the transaction's last write); returns them with their cursors.
    static func appendEvents(_ connection: PostgresConnection, _ events: [PendingEvent]) async throws
        -> [StoredEvent]
    {
        try await WriteBatch().run(on: connection, appending: events)
    }

    static func appendEvents(_ connection: PostgresConnection, _ events: [(type: String, at: Int64, data: Data)])
        async throws -> [StoredEvent]
    {
        // One statement: the head's update, the rows and the notification (`WriteBatch`).
        try await WriteBatch().run(on: connection, appending: events)
    }
}

extension PostgresBookingStore {
    /// Calls `changed` each time any daemon on this database appends events (`LISTEN slotd_events`), and once
    /// after every (re)subscription, since appends made while not listening were not announced; runs until
    /// cancelled. A lost connection is logged and subscribed again after `retryDelay`.
    public func followEventLog(
        retryDelay: Duration = .seconds(1), _ changed: @escaping @Sendable () async -> Void
    ) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.eventChannel) { notifications in
                        await changed()
                        for try await _ in notifications { await changed() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "lost the event log's notifications; subscribing again",
                    metadata: ["error": "\(Self.describe(error))"])
                try? await Task.sleep(for: retryDelay)
            }
        }
    }
}
