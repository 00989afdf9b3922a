import Foundation

/// One customer record: matched by phone or e-mail, never renamed by a booking (see `CustomerMatching`).
public struct StoredCustomer: Hashable, Sendable {
    /// `cu_` and 16 random base-32 characters.
    public var id: String
    /// The name of the first booking, or `(erased)`.
    public var name: String
    public var email: String?
    /// E.164 (`+4915112345678`) for records made since phones are normalised; older ones as typed.
    public var phone: String?
    public var createdAt: Int64
    public var updatedAt: Int64
    /// The desk's note about the customer.
    public var note: String = ""
    /// When the customer's personal data was erased on request.
    public var erasedAt: Int64? = nil

    public init(id: String, name: String, email: String?, phone: String?, createdAt: Int64, updatedAt: Int64) {
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
