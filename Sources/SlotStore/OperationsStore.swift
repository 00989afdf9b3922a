import Foundation

/// One customer row, for exports.
public struct StoredCustomer: Hashable, Sendable {
    public var id: String
    public var name: String
    public var email: String?
    public var phone: String?
    public var createdAt: Int64
    public var updatedAt: Int64

    /// A row as read (the stores outside this module build it too).
    package init(id: String, name: String, email: String?, phone: String?, createdAt: Int64, updatedAt: Int64) {
        self.id = id
        self.name = name
        self.email = email
        self.phone = phone
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A new event that belongs to no booking transition (rule reloads, rule conflicts).
public struct NewEvent: Hashable, Sendable {
    public var type: String
    public var at: Int64
    /// A JSON object.
    public var data: Data

    public init(type: String, at: Int64, data: Data) {
        self.type = type
        self.at = at
        self.data = data
    }
}

/// What operations (reload events, metrics, backups, exports, health checks) need of the store beyond bookings.
public protocol OperationsStore: Sendable {
    /// Appends events to the durable log in one transaction; returns them with their cursors.
    func appendEvents(_ events: [NewEvent]) async throws(StoreError) -> [StoredEvent]
    /// The number of bookings in each state (states with none are left out).
    func bookingCountsByState() async throws(StoreError) -> [String: Int]
    /// The number of outbox jobs in each state (states with none are left out).
    func outboxCountsByState() async throws(StoreError) -> [String: Int]
    /// Every customer, oldest first.
    func customers() async throws(StoreError) -> [StoredCustomer]
    /// Proves the database file takes a write (a no-op write transaction that touches the file).
    func checkWritable() async throws(StoreError)
    /// `PRAGMA quick_check` of the database (`ok` when sound).
    func quickCheck() async throws(StoreError) -> String
    /// Copies the whole database to `destination` with SQLite's online backup API. Blocking: call it off the
    /// cooperative pool. A store without a file to copy throws `StoreError.unavailable`.
    func backup(to destination: String) throws(StoreError)
}
