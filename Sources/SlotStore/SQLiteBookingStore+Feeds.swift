import Foundation
import GRDB

extension SQLiteBookingStore: FeedStore {
    public func createFeed(staffID: String?, label: String, at now: Int64) async throws(StoreError) -> StoredFeed {
        if let error = FeedPlanner.validate(staffID: staffID, label: label) { throw error }
        let feed = StoredFeed(
            id: FeedPlanner.newFeedID(), staffID: staffID, label: label, createdAt: now, revokedAt: nil)
        return try await run {
            try await self.write { db in
                try db.execute(
                    sql: "INSERT INTO calendar_feeds (id, staff_id, label, created_at) VALUES (?, ?, ?, ?)",
                    arguments: [feed.id, feed.staffID, feed.label, feed.createdAt])
                return feed
            }
        }
    }

    public func feed(id: String) async throws(StoreError) -> StoredFeed? {
        try await run {
            try await self.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM calendar_feeds WHERE id = ?", arguments: [id])
                    .map(Self.decodeFeed)
            }
        }
    }

    public func feeds(includingRevoked: Bool) async throws(StoreError) -> [StoredFeed] {
        let sql = "SELECT * FROM calendar_feeds" + (includingRevoked ? "" : " WHERE revoked_at IS NULL")
            + " ORDER BY created_at, id"
        return try await run {
            try await self.read { db in try Row.fetchAll(db, sql: sql).map(Self.decodeFeed) }
        }
    }

    public func revokeFeed(_ id: String, at now: Int64) async throws(StoreError) -> StoredFeed {
        try await run {
            try await self.write { db in
                guard var feed = try Row.fetchOne(db, sql: "SELECT * FROM calendar_feeds WHERE id = ?", arguments: [id])
                    .map(Self.decodeFeed)
                else { throw FeedPlanner.notFound(id) }
                if feed.revokedAt == nil {
                    feed.revokedAt = max(now, feed.createdAt)
                    try db.execute(
                        sql: "UPDATE calendar_feeds SET revoked_at = ? WHERE id = ?", arguments: [feed.revokedAt, id])
                }
                return feed
            }
        }
    }

    static func decodeFeed(_ row: Row) -> StoredFeed {
        StoredFeed(
            id: row["id"], staffID: row["staff_id"], label: row["label"], createdAt: row["created_at"],
            revokedAt: row["revoked_at"])
    }
}
