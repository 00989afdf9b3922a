import ArgumentParser
import Foundation
import SlotAPI

/// `slotctl feed create --staff ID|--shop`, `slotctl feed list [--all]`, `slotctl feed revoke ID`.
struct FeedCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed", abstract: "Make, list and revoke calendar feed addresses (subscribed by phones).",
        discussion: """
            A feed is an .ics address on the public listener (`web:` in
            slotd.yaml) that a phone calendar subscribes to: one barber's
            bookings (--staff ID) or the whole shop's (--shop). The address
            holds a token signed with the web secret; anyone with it can read
            the bookings it shows, so hand it only to the person it is for,
            and revoke it when the phone is lost or the person leaves: the
            address answers 404 at once. All three actions need the admin role.
              create --staff ID | --shop [--label TEXT]
                          print the new address (webcal:// and https://)
              list [--all]
                          active feeds (--all: revoked ones too)
              revoke ID   the address stops working
            \(OnlineExit.help(examples:
                "slotctl feed create --staff mehmet --label 'Mehmet, mobile'", "slotctl feed create --shop",
                "slotctl feed list", "slotctl feed revoke fd_0123456789abcdef"))
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Argument(help: "create, list or revoke ID.") var action: [String] = []
    @Option(help: "create: the feed of this staff member's bookings.") var staff: String?
    @Flag(help: "create: the feed of the whole shop's bookings.") var shop = false
    @Option(help: "create: what to call it, e.g. \"Mehmet's phone\".") var label: String?
    @Flag(help: "list: revoked feeds too.") var all = false

    func validate() throws {
        switch action.first {
        case "create":
            guard action.count == 1 else {
                throw ValidationError("`create` takes no argument — use --staff or --shop")
            }
            guard (staff != nil) != shop else {
                throw ValidationError("`create` needs exactly one of --staff ID (one barber) and --shop (everyone)")
            }
            if all { throw ValidationError("--all is for `list`") }
        case "list":
            guard action.count == 1, staff == nil, !shop, label == nil else {
                throw ValidationError("`list` takes only --all")
            }
        case "revoke":
            guard action.count == 2, action[1].hasPrefix("fd_") else {
                throw ValidationError("`revoke` takes one feed id (fd_…, from `slotctl feed list`)")
            }
            guard staff == nil, !shop, label == nil, !all else { throw ValidationError("`revoke` takes only the id") }
        case nil:
            throw ValidationError("say what to do: create, list or revoke ID (see `slotctl feed --help`)")
        default:
            throw ValidationError("unknown action '\(action[0])' — use create, list or revoke ID")
        }
    }

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        switch action[0] {
        case "create":
            let request = CreateFeedRequest(staff: staff, shop: shop ? true : nil, label: label)
            let (feed, raw) = try client.call(
                "POST", "/v1/feeds", body: SlotdClient.encode(request), as: FeedInfo.self)
            if connection.json { return emitJSON(raw) }
            emit("feed \(feed.id) (\(Self.scope(feed))) — subscribe on the phone to:")
            emit("  \(feed.webcal)")
            emit("  \(feed.url)")
        case "revoke":
            let (feed, raw) = try client.call(
                "POST", "/v1/feeds/\(SlotdClient.segment(action[1]))/revoke", as: FeedInfo.self)
            if connection.json { return emitJSON(raw) }
            emit("feed \(feed.id) (\(Self.scope(feed))) is revoked: its address answers 404")
        default:
            let query: [(String, String?)] = [("all", all ? "true" : nil)]
            let (list, raw) = try client.call("GET", "/v1/feeds", query: query, as: FeedList.self)
            if connection.json { return emitJSON(raw) }
            guard !list.feeds.isEmpty else { return emit(all ? "no feeds" : "no active feeds") }
            var table = TextTable("ID", "FOR", "LABEL", "CREATED", "REVOKED", "URL")
            for feed in list.feeds {
                table.add(
                    feed.id, Self.scope(feed), feed.label, TimeText.dayAndTime(feed.created),
                    feed.revoked.map(TimeText.dayAndTime) ?? "", feed.url)
            }
            emit(table.rendered)
        }
    }

    static func scope(_ feed: FeedInfo) -> String { feed.staff.map { "staff \($0)" } ?? "whole shop" }
}
