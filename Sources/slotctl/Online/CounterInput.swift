import Foundation
import SlotAPI
import SlotCore

/// Dates and times as typed at the counter (`tomorrow`, `tue 10:00`, `10:00`), turned into what the API takes.
/// The shop's today is asked of slotd only when a word needs it; dates, wall times and instants go as typed.
struct CounterInput {
    let client: SlotdClient

    /// A local date `YYYY-MM-DD` from `--option`'s text (`CalendarWords.dateHelp`).
    func date(_ text: String, option: String) throws(OnlineFailure) -> String {
        if LocalDate(iso: text) != nil { return text }
        guard let date = CalendarWords.date(text, today: try today()) else {
            throw .usage("\(option) '\(text)' is not a date: write \(CalendarWords.dateHelp)")
        }
        return date.description
    }

    /// A start from `--option`'s text (`CalendarWords.timeHelp`): a wall time `YYYY-MM-DDTHH:MM`, or an ISO 8601
    /// instant as typed (slotd judges it).
    func start(_ text: String, option: String) throws(OnlineFailure) -> String {
        if Self.isISO(text) { return text }
        guard let wall = CalendarWords.wallTime(text, today: try today()) else {
            throw .usage(
                "\(option) '\(text)' is not a time: write \(CalendarWords.timeHelp), or ISO 8601 with an offset")
        }
        return wall.description
    }

    /// Whether `text` starts with an ISO date and a `T` (a wall time or an instant): the API reads it as is.
    static func isISO(_ text: String) -> Bool {
        let characters = Array(text)
        return characters.count >= 16 && LocalDate(iso: String(characters[0..<10])) != nil && characters[10] == "T"
    }

    /// The shop's today, from the zone slotd reports.
    private func today() throws(OnlineFailure) -> LocalDate {
        let text = try shopToday(client)
        guard let date = LocalDate(iso: text) else {
            throw .unexpected(status: 200, body: "slotd's rules name a time zone slotctl cannot read (today: \(text))")
        }
        return date
    }
}

/// The names of services, variants and staff, for messages people read ("Haircut, long hair with Lena").
struct CatalogNames {
    var services: [ServiceInfo]
    var staff: [StaffInfo]

    /// Asks slotd for both lists; a failure leaves the ids to speak for themselves.
    static func fetch(_ client: SlotdClient) -> CatalogNames {
        let services = (try? client.call("GET", "/v1/services", as: ServiceList.self).value.services) ?? []
        let staff = (try? client.call("GET", "/v1/staff", as: StaffList.self).value.staff) ?? []
        return CatalogNames(services: services, staff: staff)
    }

    /// `Haircut, long hair`, `Haircut + Beard trim`: the services by name, the variant after the first.
    func services(_ ids: [String], variant: String?) -> String {
        var names = ids.map { id in services.first { $0.id == id }?.name ?? id }
        if let variant, let first = ids.first, !names.isEmpty {
            let variantName = services.first { $0.id == first }?.variants.first { $0.id == variant }?.name ?? variant
            names[0] += ", " + Self.inSentence(variantName)
        }
        return names.joined(separator: " + ")
    }

    /// The staff member's name, or the id when slotd did not say.
    func staffName(_ id: String) -> String { staff.first { $0.id == id }?.name ?? id }

    /// `long hair` from `Long hair` (a name inside a sentence), but `XL cut` stays as it is.
    static func inSentence(_ name: String) -> String {
        let characters = Array(name)
        guard characters.count > 1, characters[0].isUppercase, !characters[1].isUppercase else { return name }
        return characters[0].lowercased() + String(characters[1...])
    }
}
