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
/// (measured in the README's figures). With the append, `pg_notify('slotd_events', …)` tells every daemon
/// listening that the log moved (`EventLogNotice`: the new head, how many events, whether jobs were enqueued, which
/// store wrote them); PostgreSQL delivers it at commit, in commit order. The head's update, the event rows and the
/// notification are one statement, usually together with the transaction's other writes (`WriteBatch`).
extension PostgresBookingStore {
    /// The NOTIFY channel the log's head is announced on.
    public static let eventChannel = "slotd_events"

    /// Appends events (the transaction's last write); returns them with their cursors. The transaction may have
    /// enqueued jobs in statements of its own, so the notice says it did (other daemons' workers look).
    static func appendEvents(_ connection: PostgresConnection, _ events: [PendingEvent]) async throws
        -> [StoredEvent]
    {
        try await WriteBatch(enqueuesJobs: true).run(on: connection, appending: events)
    }

    static func appendEvents(_ connection: PostgresConnection, _ events: [WriteBatch.EventRow]) async throws
        -> [StoredEvent]
    {
        // One statement: the head's update, the rows and the notification (`WriteBatch`).
        try await WriteBatch(enqueuesJobs: true).run(on: connection, appending: events)
    }
}

/// What a daemon learns from one `NOTIFY slotd_events`: a committed transaction appended `count` events, the last
/// under cursor `head`, and whether it enqueued outbox jobs and was this store's own (its payload is
/// `"<head> <count> <0|1> <writer>"`, the writer a store's `application_name`).
public struct EventLogNotice: Sendable, Hashable {
    /// The log's head after the append: the last appended event's cursor.
    public var head: Int64
    /// How many events the transaction appended (cursors `head - count + 1 ... head`).
    public var count: Int64
    /// Whether the transaction enqueued outbox jobs.
    public var enqueuedJobs: Bool
    /// Whether this store (this process's connections) wrote it.
    public var isOwn: Bool

    /// The first appended event's cursor.
    public var first: Int64 { head - count + 1 }

    public init(head: Int64, count: Int64, enqueuedJobs: Bool, isOwn: Bool) {
        self.head = head
        self.count = count
        self.enqueuedJobs = enqueuedJobs
        self.isOwn = isOwn
    }

    /// The notice in `payload`, `isOwn` when its writer is `writer`; nil for a payload of another form (a slotd
    /// from before the notice had its parts, whose head alone says nothing of who wrote what).
    init?(payload: String, writer: String) {
        let parts = payload.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, let head = Int64(parts[0]), let count = Int64(parts[1]), count > 0,
            parts[2] == "0" || parts[2] == "1"
        else { return nil }
        self.init(head: head, count: count, enqueuedJobs: parts[2] == "1", isOwn: parts[3] == writer)
    }
}

extension PostgresBookingStore {
    /// Calls `changed` each time any daemon on this database appends events (`LISTEN slotd_events`), with what the
    /// notification says (nil when it cannot be read), and with nil once after every (re)subscription, since
    /// appends made while not listening were not announced; runs until cancelled. A lost connection is logged and
    /// subscribed again after `retryDelay`.
    public func followEventLog(
        retryDelay: Duration = .seconds(1), _ changed: @escaping @Sendable (EventLogNotice?) async -> Void
    ) async {
        let writer = writer
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.eventChannel) { notifications in
                        await changed(nil)
                        for try await notification in notifications {
                            await changed(EventLogNotice(payload: notification.payload, writer: writer))
                        }
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
