import Foundation
import PostgresNIO
import SlotStore

extension PostgresBookingStore: FeedStore {
    public func createFeed(staffID: String?, label: String, at now: Int64) async throws(StoreError) -> StoredFeed {
        if let error = FeedPlanner.validate(staffID: staffID, label: label) { throw error }
        let feed = StoredFeed(
            id: FeedPlanner.newFeedID(), staffID: staffID, label: label, createdAt: now, revokedAt: nil)
        return try await write { connection in
            try await connection.query(
                """
                INSERT INTO calendar_feeds (id, staff_id, label, created_at)
                VALUES (\(feed.id), \(feed.staffID), \(feed.label), \(feed.createdAt))
                """, logger: queryLogger)
            return feed
        }
    }

    public func feed(id: String) async throws(StoreError) -> StoredFeed? {
        try await read { connection in
            try await Self.fetchFeeds(
                connection, "SELECT \(unescaped: Self.feedColumns) FROM calendar_feeds WHERE id = \(id)"
            ).first
        }
    }

    public func feeds(includingRevoked: Bool) async throws(StoreError) -> [StoredFeed] {
        let statement: PostgresQuery = """
            SELECT \(unescaped: Self.feedColumns) FROM calendar_feeds
            \(unescaped: includingRevoked ? "" : "WHERE revoked_at IS NULL") ORDER BY created_at, id
            """
        return try await read { connection in try await Self.fetchFeeds(connection, statement) }
    }

    public func revokeFeed(_ id: String, at now: Int64) async throws(StoreError) -> StoredFeed {
        try await write { connection in
            guard
                var feed = try await Self.fetchFeeds(
                    connection, "SELECT \(unescaped: Self.feedColumns) FROM calendar_feeds WHERE id = \(id) FOR UPDATE"
                ).first
            else { throw FeedPlanner.notFound(id) }
            if feed.revokedAt == nil {
                let revokedAt = max(now, feed.createdAt)
                feed.revokedAt = revokedAt
                try await connection.query(
                    "UPDATE calendar_feeds SET revoked_at = \(revokedAt) WHERE id = \(id)", logger: queryLogger)
            }
            return feed
        }
    }

    static let feedColumns = "id, staff_id, label, created_at, revoked_at"

    static func fetchFeeds(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [StoredFeed] {
        var feeds: [StoredFeed] = []
        let rows = try await connection.query(query, logger: queryLogger)
        for try await (id, staffID, label, createdAt, revokedAt) in rows.decode(
            (String, String?, String, Int64, Int64?).self)
        {
            feeds.append(
                StoredFeed(id: id, staffID: staffID, label: label, createdAt: createdAt, revokedAt: revokedAt))
        }
        return feeds
    }
}
