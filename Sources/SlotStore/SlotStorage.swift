import Foundation
import SlotBlocking

/// Everything the daemon needs of a store: bookings, the outbox, payments, operations and calendar feeds. The
/// in-memory twin (tests and demos) and SQLite (the embedded default) implement it; the PostgreSQL store is the next
/// implementation.
public protocol SlotStorage: BookingStore, OutboxStore, PaymentStore, OperationsStore, FeedStore, WaitlistStore {
    /// Closes the store once its last write has committed, without blocking the caller's thread; the daemon calls it
    /// last when it stops.
    func shutDown() async throws(StoreError)
}

/// Which store a `database` setting (`--db`, `database:` in slotd.yaml) names.
public enum StoreLocation {
    /// The setting that runs on the in-memory store: nothing survives a restart.
    public static let inMemory = ":memory:"

    /// Whether `path` names the in-memory store rather than a file.
    public static func isInMemory(_ path: String) -> Bool { path == inMemory }

    /// Opens the store `path` names: the in-memory store for `:memory:`, else the SQLite file (created if needed).
    public static func open(_ path: String) async throws(StoreError) -> any SlotStorage {
        if isInMemory(path) { return MemoryBookingStore() }
        return try await SQLiteBookingStore.open(path: path)
    }
}

extension SQLiteBookingStore: SlotStorage {
    public func shutDown() async throws(StoreError) {
        try await BlockingWork.run { () throws(StoreError) in try self.close() }
    }
}
