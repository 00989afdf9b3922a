import Foundation
import SlotCore
import SlotEngine
import SlotRules
import SlotStore

/// Bookings as calendar events: the one place that decides what a booking's event says, for the customer's "add to
/// calendar" `.ics` and for the shop's subscribed feeds alike. Both are written by `ICalendar` (UTC times).
///
/// - UID: the booking's id at the public host, the same in every file and every version of the booking.
/// - SEQUENCE: the booking's durable `revision`, raised by every transition and move.
/// - DTSTAMP: the booking's last change.
/// - STATUS: held → TENTATIVE (the time is taken while the deposit is awaited), confirmed, completed and no-show →
///   CONFIRMED (it took place, or was meant to), cancelled and expired → CANCELLED.
struct BookingCalendar: Sendable {
    let rules: RuleSet
    /// The shop's name as customers see it (`web.title`, else the rules' shop name).
    let shopName: String
    /// The domain part of every UID.
    let host: String

    init(rules: RuleSet, settings: WebSettings) {
        self.rules = rules
        shopName = settings.title.isEmpty ? rules.shop.name : settings.title
        host = URL(string: settings.publicURL)?.host ?? "slotd"
    }

    static let productID = "-//slotd//calendar \(SlotdVersion.current)//EN"
    /// The most bookings one feed reads (a busy shop's 13 months hold a few thousand).
    static let feedLimit = 20_000

    /// The customer's event of `booking`, linking to its manage page.
    func customerEvent(_ booking: StoredBooking, manageURL: String) -> ICalendarEvent {
        let names = serviceNames(booking)
        return event(
            booking, summary: "\(names) — \(shopName)",
            description: "\(names) with \(staffName(booking))\n\(manageURL)", url: manageURL)
    }

    /// The shop's event of `booking` in a feed: the service, the customer's name as `names` allows, and in the whole
    /// shop's feed (`showingStaff`) who does it. No contact details, prices or notes.
    func feedEvent(_ booking: StoredBooking, names: CalendarFeedSettings.Names, showingStaff: Bool) -> ICalendarEvent {
        let services = serviceNames(booking)
        let customer = Self.customerName(booking.customer.name, names)
        var summary = customer.isEmpty ? services : "\(services) — \(customer)"
        if showingStaff { summary += " (\(staffName(booking)))" }
        var description = "\(services) with \(staffName(booking))"
        if !customer.isEmpty { description += "\nCustomer: \(customer)" }
        switch booking.status {
        case .held: description += "\nHeld: waiting for the deposit"
        case .noShow: description += "\nNo-show"
        case .cancelled: description += "\nCancelled"
        case .expired: description += "\nExpired: the deposit was not paid in time"
        case .confirmed, .completed: break
        }
        return event(booking, summary: summary, description: description, url: nil)
    }

    func event(_ booking: StoredBooking, summary: String, description: String, url: String?) -> ICalendarEvent {
        ICalendarEvent(
            uid: booking.id + "@" + host, sequence: booking.revision, stamp: booking.updatedAt, start: booking.start,
            end: booking.end, summary: summary, description: description, location: shopName, url: url,
            status: Self.status(booking.status))
    }

    static func status(_ state: BookingState) -> ICalendarEvent.Status {
        switch state {
        case .held: .tentative
        case .cancelled, .expired: .cancelled
        case .confirmed, .completed, .noShow: .confirmed
        }
    }

    func serviceNames(_ booking: StoredBooking) -> String {
        booking.services.map { rules.service($0)?.name ?? $0 }.joined(separator: " + ")
    }

    func staffName(_ booking: StoredBooking) -> String { rules.staffMember(booking.staffID)?.name ?? booking.staffID }

    /// As much of `name` as the setting allows: nothing, its first word, or all of it (without surrounding space).
    static func customerName(_ name: String, _ names: CalendarFeedSettings.Names) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        switch names {
        case .none: return ""
        case .full: return trimmed
        case .first: return trimmed.split(whereSeparator: { $0.isWhitespace }).first.map(String.init) ?? ""
        }
    }

    // MARK: - Feeds

    /// The bookings a feed shows at `now`, out of those starting in its window (`window(at:)`): every held,
    /// confirmed, completed and no-show booking, and a cancelled or expired one only until `keep_cancelled` after
    /// its last change (its cancellation), so subscribed calendars see it cancelled before it disappears.
    static func feedBookings(
        _ bookings: [StoredBooking], at now: Int64, settings: CalendarFeedSettings
    ) -> [StoredBooking] {
        bookings.filter { booking in
            switch booking.status {
            case .cancelled, .expired: now - booking.updatedAt < settings.keepCancelledSeconds
            case .held, .confirmed, .completed, .noShow: true
            }
        }
    }

    /// The starts a feed holds: from `past` before `now` to `future` after it.
    static func window(at now: Int64, settings: CalendarFeedSettings) -> (from: Int64, to: Int64) {
        (now - settings.pastSeconds, now + settings.futureSeconds)
    }

    /// The feed's whole text: its name, refresh interval, the shop's zone as a hint, and one event per booking.
    func feedDocument(
        _ bookings: [StoredBooking], staffID: String?, settings: CalendarFeedSettings
    ) -> String {
        let events = bookings.map { feedEvent($0, names: settings.names, showingStaff: staffID == nil) }
        let name = staffID.map { "\(shopName) — \(rules.staffMember($0)?.name ?? $0)" } ?? shopName
        return ICalendar.document(
            events: events, productID: Self.productID, name: name, refreshSeconds: settings.refreshSeconds,
            timeZoneHint: rules.shop.timeZone.identifier)
    }
}
