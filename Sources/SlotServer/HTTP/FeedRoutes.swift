import Foundation
import Hummingbird
import SlotAPI
import SlotCore
import SlotStore

/// `/v1/feeds`: make, list and revoke the calendar feeds' addresses (admin only: an address lets anyone read the
/// bookings in it). The feeds themselves are served by the public listener, so without `web:` these answer 404.
struct FeedRoutes: Sendable {
    let service: BookingService
    let store: any FeedStore
    /// The public listener's links (its secret signs the feed tokens); nil without `web:`.
    let links: CustomerLinks?

    func register(on router: Router<SlotRequestContext>) {
        router.get("/v1/feeds") { request, context in
            try context.require(.admin)
            let links = try requireLinks()
            let all = ["true", "1"].contains(request.uri.queryParameters.get("all"))
            let feeds = try await store.feeds(includingRevoked: all)
            return try json(FeedList(feeds: feeds.map { info($0, links: links) }))
        }
        router.post("/v1/feeds") { request, context in
            try context.require(.admin)
            let links = try requireLinks()
            let create = try decode(CreateFeedRequest.self, from: try await collectBody(request, limit: 16_384))
            let staffID = try staff(of: create)
            let label = create.label ?? ""
            if let problem = BookingService.controlCharacterProblem(label, field: "label", allowingLineBreaks: false) {
                throw APIError.invalid([problem])
            }
            guard label.count <= 200 else { throw APIError.invalid("label", "at most 200 characters") }
            let feed = try await store.createFeed(staffID: staffID, label: label, at: service.clock.now())
            return try json(info(feed, links: links), status: .created)
        }
        router.post("/v1/feeds/:id/revoke") { _, context in
            try context.require(.admin)
            let links = try requireLinks()
            let id = context.parameters.get("id") ?? ""
            do {
                return try json(info(try await store.revokeFeed(id, at: service.clock.now()), links: links))
            } catch let error as StoreError where error.code == .notFound {
                throw APIError(.notFound, error.message)
            }
        }
    }

    func requireLinks() throws(APIError) -> CustomerLinks {
        guard let links else {
            throw APIError(
                .notFound,
                "calendar feeds are served by the public listener — add a `web:` section (listen, public_url, "
                    + "secret_file) to slotd.yaml")
        }
        return links
    }

    /// The staff member a request names (nil: the whole shop); exactly one of `staff` and `shop: true`, and the
    /// staff member must be in the current rules.
    func staff(of create: CreateFeedRequest) throws -> String? {
        switch (create.staff, create.shop ?? false) {
        case (nil, true):
            return nil
        case (let id?, false):
            let staff = try service.loaded().ruleSet.staff.map(\.id)
            guard staff.contains(id) else {
                throw APIError.invalid(
                    "staff", "no staff member '\(id)' — use one of: \(staff.joined(separator: ", "))")
            }
            return id
        case (.some, true):
            throw APIError.invalid("shop", "give either `staff` (one barber's feed) or `shop: true`, not both")
        case (nil, false):
            throw APIError.invalid("staff", "give `staff` (one barber's feed) or `shop: true` (the whole shop's)")
        }
    }

    func info(_ feed: StoredFeed, links: CustomerLinks) -> FeedInfo {
        let wire = OutboxWire(zone: service.rules.current?.ruleSet.shop.timeZone)
        let url = links.feedURL(feedID: feed.id)
        let webcal = url.replacing(/^https?:/, with: "webcal:")
        return FeedInfo(
            id: feed.id, scope: feed.staffID == nil ? "shop" : "staff", staff: feed.staffID, label: feed.label,
            url: url, webcal: webcal, created: wire.time(feed.createdAt), revoked: feed.revokedAt.map(wire.time))
    }
}
