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
/// (measured in the README's figures). After the append, `pg_notify('slotd_events', head)` tells every daemon
/// listening that the log moved; PostgreSQL delivers it at commit.
extension PostgresBookingStore {
    /// The NOTIFY channel the log's head is announced on.
    public static let eventChannel = "slotd_events"

    /// Appends events (the transaction's last write); returns them with their cursors.
    static func appendEvents(_ connection: PostgresConnection, _ events: [PendingEvent]) async throws
        -> [StoredEvent]
    {
        try await appendEvents(connection, events.map { ($0.type, $0.at, $0.data) })
    }

    static func appendEvents(_ connection: PostgresConnection, _ events: [(type: String, at: Int64, data: Data)])
        async throws -> [StoredEvent]
    {
        guard !events.isEmpty else { return [] }
        let count = Int64(events.count)
        let head: Int64? = try await single(
            connection, "UPDATE event_log_head SET last_cursor = last_cursor + \(count) RETURNING last_cursor")
        guard let head else { throw StoreError(.database, "the event log's head row is missing") }
        let first = head - count + 1
        let cursors = (0..<count).map { first + $0 }
        let types = events.map(\.type)
        let ats = events.map(\.at)
        let texts = events.map { String(decoding: $0.data, as: UTF8.self) }
        try await connection.query(
            """
            INSERT INTO events (cursor, type, at, data)
            SELECT * FROM unnest(\(cursors)::int8[], \(types)::text[], \(ats)::int8[], \(texts)::json[])
            """, logger: queryLogger)
        try await connection.query(
            "SELECT pg_notify(\(eventChannel), \(String(head)))", logger: queryLogger)
        return events.enumerated().map { index, event in
            StoredEvent(cursor: first + Int64(index), type: event.type, at: event.at, data: event.data)
        }
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
