import Foundation
import SlotEngine
import SlotRules
import Testing

@testable import SlotStore

/// Calendar feed records and the booking revision the feeds' SEQUENCE comes from, on both stores.
struct FeedStoreTests {
    @Test(arguments: StoreKind.tested)
    func feedsAreMadeListedAndRevokedOneByOne(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let anna = try await store.createFeed(staffID: "anna", label: "Anna's phone", at: Fixture.now)
        let shop = try await store.createFeed(staffID: nil, label: "", at: Fixture.now + 1)
        #expect(anna.id.hasPrefix("fd_") && anna.id.count == 19 && anna.id != shop.id)
        #expect(try await store.feed(id: anna.id) == anna)
        #expect(try await store.feeds(includingRevoked: false).map(\.id) == [anna.id, shop.id])

        let revoked = try await store.revokeFeed(anna.id, at: Fixture.now + 10)
        #expect(revoked.revokedAt == Fixture.now + 10 && !revoked.isActive)
        #expect(try await store.revokeFeed(anna.id, at: Fixture.now + 20) == revoked, "the first revocation stays")
        #expect(try await store.feed(id: anna.id) == revoked)
        #expect(try await store.feeds(includingRevoked: false).map(\.id) == [shop.id])
        #expect(try await store.feeds(includingRevoked: true).map(\.id) == [anna.id, shop.id])
        #expect(try await store.feed(id: "fd_missing") == nil)
        await #expect(throws: StoreError.self) { try await store.revokeFeed("fd_missing", at: Fixture.now) }
        await #expect(throws: StoreError.self) { try await store.createFeed(staffID: "", label: "", at: 0) }
        let long = String(repeating: "x", count: 201)
        await #expect(throws: StoreError.self) { try await store.createFeed(staffID: nil, label: long, at: 0) }
    }

    @Test(arguments: StoreKind.tested)
    func everyChangeOfABookingRaisesItsRevision(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Fixture.book(store, Fixture.booking())
        #expect(booking.revision == 0)
        let later = Fixture.times(Fixture.day + 60 * 60)
        let moved = try #require(
            try await store.reschedule(booking.id, to: later, at: Fixture.now, check: Fixture.noOverlap(later)).outcome)
        #expect(moved.booking.revision == 1)
        // The same second as the move: a clock-derived number would not rise, the counter does.
        let cancelled = try await store.cancel(booking.id, at: Fixture.now, policy: Policies())
        #expect(cancelled.booking.revision == 2)
        #expect(try await store.booking(id: booking.id)?.revision == 2, "the counter is stored")
    }
}
