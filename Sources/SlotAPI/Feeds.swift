/// `POST /v1/feeds`: a calendar feed of one staff member's bookings (`staff`) or of the whole shop's (`shop: true`).
public struct CreateFeedRequest: Codable, Hashable, Sendable {
    /// The staff member's id, for their feed.
    public var staff: String?
    /// True for the whole shop's feed.
    public var shop: Bool?
    /// What the shop calls it (`Mehmet's phone`), at most 200 characters.
    public var label: String?

    public init(staff: String? = nil, shop: Bool? = nil, label: String? = nil) {
        self.staff = staff
        self.shop = shop
        self.label = label
    }
}

/// One calendar feed as `GET /v1/feeds` and `POST /v1/feeds` show it.
public struct FeedInfo: Codable, Hashable, Sendable {
    /// `fd_…`: what `POST /v1/feeds/{id}/revoke` takes.
    public var id: String
    /// `staff` or `shop`.
    public var scope: String
    /// The staff member, for a staff feed.
    public var staff: String?
    public var label: String
    /// The address a phone calendar subscribes to (`public_url/calendar/{token}.ics`).
    public var url: String
    /// The same address with the `webcal://` scheme, which opens the phone's "subscribe" dialog.
    public var webcal: String
    public var created: String
    /// When it was revoked; its URL answers 404 since.
    public var revoked: String?

    public init(
        id: String, scope: String, staff: String?, label: String, url: String, webcal: String, created: String,
        revoked: String?
    ) {
        self.id = id
        self.scope = scope
        self.staff = staff
        self.label = label
        self.url = url
        self.webcal = webcal
        self.created = created
        self.revoked = revoked
    }
}

/// `GET /v1/feeds`: the calendar feeds, oldest first (revoked ones only with `?all=true`).
public struct FeedList: Codable, Hashable, Sendable {
    public var feeds: [FeedInfo]

    public init(feeds: [FeedInfo]) { self.feeds = feeds }
}
