import Foundation

/// A calendar feed: a subscribable `.ics` of one staff member's bookings or of the whole shop's, revocable on its
/// own. The feed's URL carries a token signed over its id (the server signs it); the store keeps only the record.
public struct StoredFeed: Hashable, Sendable {
    /// `fd_` and 16 random base-32 characters.
    public var id: String
    /// The staff member whose bookings the feed shows; nil for the whole shop.
    public var staffID: String?
    /// What the shop calls it (`Mehmet's phone`); may be empty.
    public var label: String
    public var createdAt: Int64
    /// Set once revoked: from then on its URL answers 404.
    public var revokedAt: Int64?

    public init(id: String, staffID: String?, label: String, createdAt: Int64, revokedAt: Int64?) {
        self.id = id
        self.staffID = staffID
        self.label = label
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// Whether its URL still works.
    public var isActive: Bool { revokedAt == nil }
}

/// The calendar feeds' records.
public protocol FeedStore: Sendable {
    /// Records a new feed of `staffID`'s bookings (nil: the whole shop's).
    func createFeed(staffID: String?, label: String, at now: Int64) async throws(StoreError) -> StoredFeed
    /// The feed with that id, revoked or not, or nil.
    func feed(id: String) async throws(StoreError) -> StoredFeed?
    /// Every feed, oldest first; revoked ones only when asked.
    func feeds(includingRevoked: Bool) async throws(StoreError) -> [StoredFeed]
    /// Revokes a feed (a feed revoked before keeps its first revocation time); `notFound` for an unknown id.
    func revokeFeed(_ id: String, at now: Int64) async throws(StoreError) -> StoredFeed
}

package enum FeedPlanner {
    /// A new random feed id: `fd_` and 16 base-32 characters (80 bits).
    package static func newFeedID() -> String { "fd_" + BookingPlanner.randomToken(16) }

    /// Checks what the schema would refuse, so both stores refuse it with the same message.
    package static func validate(staffID: String?, label: String) -> StoreError? {
        if staffID?.isEmpty == true {
            return StoreError(.constraintViolation, "a staff member's feed needs the staff member's id")
        }
        if label.count > 200 { return StoreError(.constraintViolation, "a feed's label has at most 200 characters") }
        return nil
    }

    package static func notFound(_ id: String) -> StoreError {
        StoreError(.notFound, "no calendar feed with id '\(id)' — `slotctl feed list --all` lists them")
    }
}

extension StoreSchema {
    // Each booking counts its changes (`revision`), for the calendar's SEQUENCE. Rows already there start from what
    // the one-booking .ics used to send (seconds from creation to the last change), so a calendar that imported
    // one never sees the number go down. Feed records: the token in a feed's URL is signed over the id; revoking
    // sets `revoked_at`, and the URL answers 404 from then on.
    static let v7CalendarFeeds = """
        ALTER TABLE bookings ADD COLUMN revision INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0);
        UPDATE bookings SET revision = updated_at - created_at;
        CREATE TABLE calendar_feeds (
            id TEXT PRIMARY KEY NOT NULL CHECK (id GLOB 'fd_?*'),
            staff_id TEXT CHECK (staff_id IS NULL OR length(staff_id) > 0),
            label TEXT NOT NULL DEFAULT '' CHECK (length(label) <= 200),
            created_at INTEGER NOT NULL,
            revoked_at INTEGER CHECK (revoked_at IS NULL OR revoked_at >= created_at)
        ) WITHOUT ROWID;
        """
}
