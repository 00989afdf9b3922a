import Foundation
import SlotCore
import SlotEngine
import SlotRules
import SlotStore
import Testing

@testable import SlotServer

@Suite("Calendar feeds: which bookings, what each event says, their tokens")
struct CalendarFeedTests {
    let signer = WebTokenSigner(secret: Data(repeating: 7, count: 32))

    static func calendar(names: CalendarFeedSettings.Names = .first) throws -> (BookingCalendar, WebSettings) {
        let rules = try #require(RuleLoader.load([RuleSource(name: "shop.yaml", text: TestDaemon.rules)]).ruleSet)
        var settings = WebSettings()
        settings.publicURL = "https://shop.example/"
        settings.title = "Salon Test"
        settings.calendar.names = names
        return (BookingCalendar(rules: rules, settings: settings), settings)
    }

    static func booking(
        _ id: String = "bk_1", status: BookingState = .confirmed, start: Int64 = 1_774_771_200, minutes: Int64 = 30,
        name: String = "Ayşe Ünal", revision: Int = 0, updatedAt: Int64 = 1_774_700_000
    ) -> StoredBooking {
        StoredBooking(
            id: id, status: status, staffID: "alice", services: ["haircut"], variant: nil, start: start,
            end: start + minutes * 60, footprint: BookingFootprint(segments: []),
            price: Money(minorUnits: 2000, currency: "EUR"), deposit: nil, customerID: "cu_1",
            customer: CustomerInfo(name: name, phone: "+4915112345678"), notes: "private note",
            holdExpiresAt: status == .held ? start - 3600 : nil, createdAt: 1_774_600_000, updatedAt: updatedAt,
            cancellation: nil, revision: revision)
    }

    @Test("feed tokens name their feed, are not booking links, and die with the secret")
    func feedTokens() {
        let token = signer.issue(feedID: "fd_1")
        #expect(signer.feedID(of: token) == "fd_1")
        #expect(signer.bookingID(of: token, now: 0) == nil, "a feed token is no booking link")
        #expect(signer.feedID(of: signer.issue(bookingID: "fd_1", expiresAt: .max)) == nil, "nor the reverse")
        let parts = token.split(separator: ".").map(String.init)
        let forged = WebTokenSigner.base64url(Data("feed1|fd_2".utf8)) + "." + parts[1]
        #expect(signer.feedID(of: forged) == nil)
        #expect(WebTokenSigner(secret: Data(repeating: 8, count: 32)).feedID(of: token) == nil)
        let links = CustomerLinks(signer: signer, baseURL: "https://shop.example", lifetimeSeconds: 60)
        #expect(links.feedURL(feedID: "fd_1") == "https://shop.example/calendar/\(token).ics")
    }

    @Test(
        "customer names as the setting allows",
        arguments: [
            (CalendarFeedSettings.Names.none, "Haircut", false), (.first, "Haircut — Ayşe", true),
            (.full, "Haircut — Ayşe Ünal", true),
        ])
    func names(names: CalendarFeedSettings.Names, summary: String, describesCustomer: Bool) throws {
        let (calendar, _) = try Self.calendar(names: names)
        let event = calendar.feedEvent(Self.booking(), names: names, showingStaff: false)
        #expect(event.summary == summary)
        #expect((event.description ?? "").contains("Customer:") == describesCustomer)
        #expect(!(event.description ?? "").contains("+49"), "no contact details")
        #expect(!(event.description ?? "").contains("private note"), "no notes")
        let shop = calendar.feedEvent(Self.booking(), names: names, showingStaff: true)
        #expect(shop.summary == summary + " (Alice)")
    }

    @Test("UID is stable, SEQUENCE is the booking's revision, DTSTAMP its last change, STATUS follows the state")
    func eventIdentity() throws {
        let (calendar, _) = try Self.calendar()
        let first = calendar.feedEvent(Self.booking(), names: .first, showingStaff: false)
        var moved = Self.booking(start: 1_774_774_800, revision: 1, updatedAt: 1_774_710_000)
        let second = calendar.feedEvent(moved, names: .first, showingStaff: false)
        #expect(first.uid == "bk_1@shop.example" && second.uid == first.uid)
        #expect((first.sequence, second.sequence) == (0, 1))
        #expect(second.stamp == 1_774_710_000)
        moved.status = .cancelled
        #expect(calendar.feedEvent(moved, names: .first, showingStaff: false).status == .cancelled)
        let expected: [BookingState: ICalendarEvent.Status] = [
            .held: .tentative, .confirmed: .confirmed, .completed: .confirmed, .noShow: .confirmed,
            .cancelled: .cancelled, .expired: .cancelled,
        ]
        for state in BookingState.allCases { #expect(BookingCalendar.status(state) == expected[state]) }
        // The customer's own file names the same event.
        #expect(calendar.customerEvent(Self.booking(), manageURL: "https://shop.example/b/t").uid == first.uid)
    }

    @Test("a cancelled or expired booking stays in the feed for keep_cancelled after its cancellation, then leaves")
    func cancelledBookingsStayAWhile() {
        var settings = CalendarFeedSettings()
        settings.keepCancelledSeconds = 7 * 86_400
        let cancelledAt: Int64 = 1_774_700_000
        let bookings = [
            Self.booking("bk_a", status: .cancelled, updatedAt: cancelledAt),
            Self.booking("bk_b", status: .expired, updatedAt: cancelledAt),
            Self.booking("bk_c", status: .held), Self.booking("bk_d", status: .completed),
            Self.booking("bk_e", status: .noShow),
        ]
        let soon = BookingCalendar.feedBookings(bookings, at: cancelledAt + 7 * 86_400 - 1, settings: settings)
        #expect(soon.map(\.id) == ["bk_a", "bk_b", "bk_c", "bk_d", "bk_e"])
        let later = BookingCalendar.feedBookings(bookings, at: cancelledAt + 7 * 86_400, settings: settings)
        #expect(later.map(\.id) == ["bk_c", "bk_d", "bk_e"])
        settings.keepCancelledSeconds = 0
        #expect(BookingCalendar.feedBookings(bookings, at: cancelledAt, settings: settings).count == 3)
    }

    @Test(
        "bookings across a DST change keep their real length: UTC times in the file, the zone as a hint",
        arguments: [
            // 2026-03-29, Europe/Berlin springs forward 02:00 → 03:00: 01:30 to 04:30 on the wall is 2 real hours.
            ("2026-03-29T01:30", "2026-03-29T04:30", "20260329T003000Z", "20260329T023000Z"),
            // 2026-10-25 falls back 03:00 → 02:00: 01:30 to 02:30 (first occurrence) is 1 hour, to 03:30 is 3.
            ("2026-10-25T01:30", "2026-10-25T03:30", "20261024T233000Z", "20261025T023000Z"),
        ])
    func daylightSavingTime(start: String, end: String, utcStart: String, utcEnd: String) throws {
        let (calendar, settings) = try Self.calendar()
        let zone = calendar.rules.shop.timeZone
        let startInstant = zone.instant(atWallMinute: try #require(LocalDateTime(iso: start)).wallMinute)
        let endInstant = zone.instant(atWallMinute: try #require(LocalDateTime(iso: end)).wallMinute)
        var booking = Self.booking(start: startInstant)
        booking.end = endInstant
        let text = calendar.feedDocument([booking], staffID: "alice", settings: settings.calendar)
        #expect(text.contains("\r\nDTSTART:\(utcStart)\r\n"), "\(text)")
        #expect(text.contains("\r\nDTEND:\(utcEnd)\r\n"))
        #expect(text.contains("\r\nX-WR-TIMEZONE:Europe/Berlin\r\n"))
        #expect(text.contains("\r\nX-WR-CALNAME:Salon Test — Alice\r\n"))
        #expect(text.contains("\r\nREFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n"))
    }

    @Test("web.calendar is read with its defaults, and every mistake in it is reported with its line")
    func settings() throws {
        let base = "web:\n  listen: 127.0.0.1:8080\n  public_url: https://shop.example\n  secret_file: web.secret\n"
        let defaults = try #require(
            try ConfigurationFile.parse(base, file: "slotd.yaml", relativeTo: "/", over: .development(directory: "/"))
                .web)
        #expect(defaults.calendar == CalendarFeedSettings())
        #expect(defaults.calendar.names == .first && defaults.calendar.keepCancelledSeconds == 7 * 86_400)
        let custom = try #require(
            try ConfigurationFile.parse(
                base + "  calendar: { names: none, keep_cancelled: 2d, past: 0, future: 90d, refresh: 1h }\n",
                file: "slotd.yaml", relativeTo: "/", over: .development(directory: "/")
            ).web)
        #expect(custom.calendar.names == CalendarFeedSettings.Names.none)
        #expect(custom.calendar.keepCancelledSeconds == 2 * 86_400 && custom.calendar.pastSeconds == 0)
        #expect(custom.calendar.futureSeconds == 90 * 86_400 && custom.calendar.refreshSeconds == 3_600)
        let mistakes = base + """
              calendar:
                names: everything
                refresh: 1m
                future: 5y
                colour: red
            """
        do {
            _ = try ConfigurationFile.parse(
                mistakes, file: "slotd.yaml", relativeTo: "/", over: .development(directory: "/"))
            Issue.record("mistakes must be refused")
        } catch {
            #expect(error.problems.compactMap(\.line) == [6, 7, 8, 9], "\(error)")
            #expect(error.description.contains("`calendar.names` must be none, first or full"), "\(error)")
            #expect(error.description.contains("`calendar.refresh` must be a duration from 5m"), "\(error)")
            #expect(error.description.contains("unknown key 'colour' in `calendar`"), "\(error)")
        }
    }
}

