import Foundation
import SlotCore

/// One message template: a subject and a body with `{{field}}` placeholders.
public struct MessageTemplate: Sendable, Hashable {
    public var subject: String
    public var body: String

    public init(subject: String, body: String) {
        self.subject = subject
        self.body = body
    }

    /// Every field a template may name. A field without a value for an event renders empty.
    public static let fields: Set<String> = [
        "booking", "customer", "email", "phone", "service", "services", "staff", "date", "time", "end_time",
        "start", "price", "deposit", "shop", "status", "reason", "fee", "minutes_before", "reminder", "cancel_link", "completed", "no_show", "cancelled", "open_count", "open_bookings", "notes",
        // Only with a `web:` section (empty otherwise): the customer's self-service link and calendar file.
        "manage_url", "ics_url",
        // A waitlist offer: the booking's short code and when the offer lapses (the shop's clock).
        "code", "offer_expires",
    ]

    /// The placeholders a text names, in order.
    static func placeholders(in text: String) -> [String] {
        var names: [String] = []
        scan(text, literal: { _ in }, field: { names.append($0) })
        return names
    }

    /// The fields named that do not exist.
    var unknownFields: [String] {
        (Self.placeholders(in: subject) + Self.placeholders(in: body)).filter { !Self.fields.contains($0) }
    }

    /// The message with every placeholder replaced by its value (empty when the event has none).
    func render(_ values: [String: String]) -> (subject: String, body: String) {
        (Self.fill(subject, values), Self.fill(body, values))
    }

    static func fill(_ text: String, _ values: [String: String]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 64)
        scan(text, literal: { out.append(contentsOf: $0) }, field: { out.append(contentsOf: (values[$0] ?? "").utf8) })
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads `text` once, the one reading of `{{field}}`: `literal` gets each run of text outside placeholders,
    /// `field` each placeholder's name, trimmed. A `{{` with no `}}` after it is text. Scans UTF-8 bytes:
    /// Foundation's `range(of:)` bridged every search through NSString, the costliest step of a fan-out.
    private static func scan(
        _ text: String, literal: (ArraySlice<UInt8>) -> Void, field: (String) -> Void
    ) {
        let bytes = Array(text.utf8)
        var runStart = 0
        var index = 0
        while index + 1 < bytes.count {
            guard bytes[index] == UInt8(ascii: "{"), bytes[index + 1] == UInt8(ascii: "{"),
                let close = closing(bytes, from: index + 2)
            else {
                index += 1
                continue
            }
            literal(bytes[runStart..<index])
            field(String(decoding: bytes[(index + 2)..<close], as: UTF8.self).trimmingCharacters(in: .whitespaces))
            index = close + 2
            runStart = index
        }
        literal(bytes[runStart...])
    }

    /// Where the next `}}` starts at or after `start`.
    private static func closing(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "}"), bytes[index + 1] == UInt8(ascii: "}") { return index }
            index += 1
        }
        return nil
    }
}

/// The shop's language for dates, prices and the built-in templates.
public enum MessageLanguage: String, Sendable, Hashable, CaseIterable {
    case de
    case en

    /// `Montag, 2. März 2026` / `Monday, 2 March 2026`.
    func date(_ date: LocalDate) -> String {
        let weekday = weekdays[date.weekday.rawValue]
        let month = months[date.month - 1]
        switch self {
        case .de: return "\(weekday), \(date.day). \(month) \(date.year)"
        case .en: return "\(weekday), \(date.day) \(month) \(date.year)"
        }
    }

    /// `09:30` (24-hour clock in both languages: what a barbershop's card says).
    func time(minuteOfDay: Int) -> String {
        String(format: "%02d:%02d", minuteOfDay / 60, minuteOfDay % 60)
    }

    /// `25,00 EUR` / `EUR 25.00` (two minor digits; currencies without them are rare for a barbershop).
    func money(minorUnits: Int, currency: String) -> String {
        let sign = minorUnits < 0 ? "-" : ""
        let whole = abs(minorUnits) / 100
        let cents = String(format: "%02d", abs(minorUnits) % 100)
        switch self {
        case .de: return "\(sign)\(whole),\(cents) \(currency)"
        case .en: return "\(sign)\(currency) \(whole).\(cents)"
        }
    }

    /// `24 Stunden` / `24 hours`, for a reminder's offset.
    func duration(minutes: Int) -> String {
        let (hours, rest) = (minutes / 60, minutes % 60)
        switch self {
        case .de:
            if rest == 0 { return hours == 1 ? "1 Stunde" : "\(hours) Stunden" }
            return hours == 0 ? "\(rest) Minuten" : "\(hours) Std. \(rest) Min."
        case .en:
            if rest == 0 { return hours == 1 ? "1 hour" : "\(hours) hours" }
            return hours == 0 ? "\(rest) minutes" : "\(hours) h \(rest) min"
        }
    }

    private var weekdays: [String] {
        switch self {
        case .de: return ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
        case .en: return ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        }
    }

    private var months: [String] {
        switch self {
        case .de:
            return ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
                    "November", "Dezember"]
        case .en:
            return ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                    "November", "December"]
        }
    }

    /// The built-in template of every event in this language.
    public var defaultTemplates: [String: MessageTemplate] {
        switch self {
        case .de:
            return [
                "booking.created": MessageTemplate(
                    subject: "Termin gebucht: {{service}} am {{date}} um {{time}}",
                    body: "Hallo {{customer}},\n\nIhr Termin bei {{shop}} ist gebucht: {{service}} mit {{staff}} am "
                        + "{{date}} um {{time}} Uhr (bis {{end_time}} Uhr). Preis: {{price}}.\n\nBuchung: {{booking}}\n"),
                "booking.confirmed": MessageTemplate(
                    subject: "Termin bestätigt: {{service}} am {{date}} um {{time}}",
                    body: "Hallo {{customer}},\n\nIhre Anzahlung ist eingegangen, Ihr Termin bei {{shop}} ist "
                        + "bestätigt: {{service}} mit {{staff}} am {{date}} um {{time}} Uhr.\n\nBuchung: {{booking}}\n"),
                "booking.cancelled": MessageTemplate(
                    subject: "Termin storniert: {{service}} am {{date}}",
                    body: "Hallo {{customer}},\n\nIhr Termin bei {{shop}} am {{date}} um {{time}} Uhr ist "
                        + "storniert.\n\nBuchung: {{booking}}\n"),
                "booking.rescheduled": MessageTemplate(
                    subject: "Termin verschoben: {{service}} jetzt am {{date}} um {{time}}",
                    body: "Hallo {{customer}},\n\nIhr Termin bei {{shop}} wurde verschoben auf {{date}} um {{time}} "
                        + "Uhr.\n\nBuchung: {{booking}}\n"),
                "booking.reminder": MessageTemplate(
                    subject: "Erinnerung: {{service}} am {{date}} um {{time}}",
                    body: "Hallo {{customer}},\n\nzur Erinnerung: in {{reminder}} haben Sie Ihren Termin bei {{shop}}: "
                        + "{{service}} mit {{staff}} am {{date}} um {{time}} Uhr.\n\nBuchung: {{booking}}\n"),
                "booking.completed": MessageTemplate(
                    subject: "Danke für Ihren Besuch bei {{shop}}",
                    body: "Hallo {{customer}},\n\nvielen Dank für Ihren Besuch am {{date}}.\n"),
                "booking.no_show": MessageTemplate(
                    subject: "Verpasster Termin am {{date}}",
                    body: "Hallo {{customer}},\n\nSie haben Ihren Termin bei {{shop}} am {{date}} um {{time}} Uhr "
                        + "verpasst.\n\nBuchung: {{booking}}\n"),
                "booking.expired": MessageTemplate(
                    subject: "Reservierung abgelaufen: {{service}} am {{date}}",
                    body: "Hallo {{customer}},\n\nIhre Reservierung bei {{shop}} für {{date}} um {{time}} Uhr ist "
                        + "abgelaufen, weil keine Anzahlung einging.\n"),
                "waitlist.offered": MessageTemplate(
                    subject: "Ein Termin ist frei geworden: {{service}} am {{date}} um {{time}}",
                    body: "Hallo {{customer}},\n\nauf der Warteliste bei {{shop}} ist ein Termin für Sie frei "
                        + "geworden: {{service}} mit {{staff}} am {{date}} um {{time}} Uhr. Wir halten ihn bis "
                        + "{{offer_expires}} Uhr für Sie. Nennen Sie den Code {{code}}, um ihn anzunehmen oder "
                        + "abzulehnen.\n{{manage_url}}\n"),
                "day.summary": MessageTemplate(
                    subject: "Tagesabschluss {{date}}: {{completed}} erledigt, {{no_show}} nicht erschienen",
                    body: "{{shop}}, {{date}}\n\nErledigt: {{completed}}\nNicht erschienen: {{no_show}}\n"
                        + "Storniert: {{cancelled}}\nOffen (weder erledigt noch nicht erschienen): {{open_count}} "
                        + "{{open_bookings}}\n"),
            ]
        case .en:
            return [
                "booking.created": MessageTemplate(
                    subject: "Booked: {{service}} on {{date}} at {{time}}",
                    body: "Hello {{customer}},\n\nyour appointment at {{shop}} is booked: {{service}} with {{staff}} on "
                        + "{{date}} at {{time}} (until {{end_time}}). Price: {{price}}.\n\nBooking: {{booking}}\n"),
                "booking.confirmed": MessageTemplate(
                    subject: "Confirmed: {{service}} on {{date}} at {{time}}",
                    body: "Hello {{customer}},\n\nyour deposit arrived and your appointment at {{shop}} is confirmed: "
                        + "{{service}} with {{staff}} on {{date}} at {{time}}.\n\nBooking: {{booking}}\n"),
                "booking.cancelled": MessageTemplate(
                    subject: "Cancelled: {{service}} on {{date}}",
                    body: "Hello {{customer}},\n\nyour appointment at {{shop}} on {{date}} at {{time}} is cancelled."
                        + "\n\nBooking: {{booking}}\n"),
                "booking.rescheduled": MessageTemplate(
                    subject: "Moved: {{service}} now on {{date}} at {{time}}",
                    body: "Hello {{customer}},\n\nyour appointment at {{shop}} moved to {{date}} at {{time}}."
                        + "\n\nBooking: {{booking}}\n"),
                "booking.reminder": MessageTemplate(
                    subject: "Reminder: {{service}} on {{date}} at {{time}}",
                    body: "Hello {{customer}},\n\na reminder: in {{reminder}} you have your appointment at {{shop}}: "
                        + "{{service}} with {{staff}} on {{date}} at {{time}}.\n\nBooking: {{booking}}\n"),
                "booking.completed": MessageTemplate(
                    subject: "Thank you for visiting {{shop}}",
                    body: "Hello {{customer}},\n\nthank you for your visit on {{date}}.\n"),
                "booking.no_show": MessageTemplate(
                    subject: "Missed appointment on {{date}}",
                    body: "Hello {{customer}},\n\nyou missed your appointment at {{shop}} on {{date}} at {{time}}."
                        + "\n\nBooking: {{booking}}\n"),
                "booking.expired": MessageTemplate(
                    subject: "Reservation lapsed: {{service}} on {{date}}",
                    body: "Hello {{customer}},\n\nyour reservation at {{shop}} for {{date}} at {{time}} lapsed because "
                        + "no deposit arrived.\n"),
                "waitlist.offered": MessageTemplate(
                    subject: "A start came free: {{service}} on {{date}} at {{time}}",
                    body: "Hello {{customer}},\n\na start you were waiting for at {{shop}} came free: {{service}} with "
                        + "{{staff}} on {{date}} at {{time}}. We hold it for you until {{offer_expires}}. Quote the "
                        + "code {{code}} to accept or decline it.\n{{manage_url}}\n"),
                "day.summary": MessageTemplate(
                    subject: "Day closed {{date}}: {{completed}} completed, {{no_show}} no-shows",
                    body: "{{shop}}, {{date}}\n\nCompleted: {{completed}}\nNo-shows: {{no_show}}\n"
                        + "Cancelled: {{cancelled}}\nOpen (neither completed nor no-show): {{open_count}} "
                        + "{{open_bookings}}\n"),
            ]
        }
    }
}
