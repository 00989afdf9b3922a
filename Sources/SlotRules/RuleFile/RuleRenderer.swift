import SlotCore

/// Prints a rule set in canonical form: one YAML rule file with every value normalised and every default spelt
/// out (durations by `Minutes.format`, money with its currency, holidays by their rule, `.ics` imports resolved).
///
/// Loading the output again and rendering it gives the same text (apart from the header comment).
public enum RuleRenderer {
    /// The canonical text; `header` adds comment lines naming the version and the source files.
    public static func render(_ rules: RuleSet, header: Bool = true) -> String {
        var out: [String] = []
        if header {
            out.append("# slotd rules, canonical form — version \(rules.version)")
            if !rules.files.isEmpty { out.append("# from: \(rules.files.joined(separator: ", "))") }
        }
        let shop = rules.shop
        out.append("shop:")
        out.append("  name: \(quote(shop.name))")
        out.append("  timezone: \(shop.timeZone.identifier)")
        out.append("  currency: \(shop.currency)")
        out.append("  slot_step: \(Minutes.format(shop.slotStepMinutes))")
        out.append("  min_notice: \(Minutes.format(shop.minNoticeMinutes))")
        out.append("  horizon: \(Minutes.format(shop.horizonMinutes))")
        out.append("hours: \(quote(rules.hours.text, always: true))")
        out.append(list("breaks", rules.breaks.map { "- \(quote($0.text, always: true))" }))
        out.append(
            list(
                "holidays",
                rules.holidays.map { holiday in
                    let date = ruleText(holiday.rule)
                    return holiday.name.isEmpty
                        ? "- \(quote(date))" : "- {date: \(quote(date)), name: \(quote(holiday.name))}"
                }))
        out.append(list("overrides", rules.overrides.flatMap(overrideLines)))
        out.append(
            list(
                "resources",
                rules.resources.map { "- {id: \($0.id), name: \(quote($0.name)), count: \($0.count)}" }))
        out.append(list("services", rules.services.flatMap(serviceLines)))
        out.append(list("staff", rules.staff.flatMap { staffLines($0, services: rules.services) }))
        let policies = rules.policies
        out.append("policies:")
        out.append("  hold: \(Minutes.format(policies.holdMinutes))")
        out.append("  cancellation:")
        out.append("    window: \(Minutes.format(policies.cancellationWindowMinutes))")
        switch policies.cancellationFee {
        case .none: out.append("    fee: none")
        case .percent(let value): out.append("    fee: \(value)%")
        case .amount(let money): out.append("    fee: \(money)")
        }
        let reminders = policies.remindersMinutesBefore.map { Minutes.format($0) }
        out.append("  reminders: [\(reminders.joined(separator: ", "))]")
        out.append("  assign: \(policies.assign.rawValue)")
        // Only when on, so the canonical form of rules that never mention it stays as it was.
        if policies.cardOnFile { out.append("  card_on_file: true") }
        if policies.waitlistOfferHoldMinutes != Policies().waitlistOfferHoldMinutes {
            out.append("  waitlist:")
            out.append("    offer_hold: \(Minutes.format(policies.waitlistOfferHoldMinutes))")
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// `2026-12-24`, `2026-12-24..2026-12-26`, `Dec 25`, `easter-2`.
    public static func ruleText(_ rule: Holiday.Rule) -> String {
        switch rule {
        case .date(let date): return date.description
        case .range(let first, let last): return "\(first)..\(last)"
        case .yearly(let month, let day): return RuleValues.yearlyText(month: month, day: day)
        case .easter(let offset): return offset == 0 ? "easter" : "easter\(offset > 0 ? "+" : "")\(offset)"
        }
    }

    private static func list(_ key: String, _ lines: [String]) -> String {
        lines.isEmpty ? "\(key): []" : (["\(key):"] + lines.map { "  " + $0 }).joined(separator: "\n")
    }

    private static func dates(_ first: LocalDate, _ last: LocalDate) -> String {
        first == last ? first.description : "\(first)..\(last)"
    }

    private static func overrideLines(_ override: Override) -> [String] {
        let when =
            override.repeatsYearly
            ? Set([override.first, override.last]).sorted().map {
                RuleValues.yearlyText(month: $0.month, day: $0.day)
            }.joined(separator: "..")
            : dates(override.first, override.last)
        var lines = ["- date: \(when)"]
        if let staff = override.staff { lines.append("  staff: \(staff)") }
        if let hours = override.hours {
            lines.append("  hours: \(quote(hours.text, always: true))")
        } else {
            lines.append("  closed: true")
        }
        if !override.note.isEmpty { lines.append("  note: \(quote(override.note))") }
        return lines
    }

    private static func segmentsText(_ segments: [Segment]) -> String {
        segments.map { "\($0.kind.rawValue) \(Minutes.format($0.minutes))" }.joined(separator: ", ")
    }

    private static func lengthLine(_ segments: [Segment]) -> String {
        if segments.count == 1,
            segments[0].kind == .active { return "duration: \(Minutes.format(segments[0].minutes))" }
        return "segments: \(segmentsText(segments))"
    }

    private static func serviceLines(_ service: Service) -> [String] {
        var lines = ["- id: \(service.id)", "  name: \(quote(service.name))", "  \(lengthLine(service.segments))"]
        lines.append("  price: \(service.price)")
        if let deposit = service.deposit { lines.append("  deposit: \(deposit)") }
        lines.append("  buffer_before: \(Minutes.format(service.bufferBeforeMinutes))")
        lines.append("  buffer_after: \(Minutes.format(service.bufferAfterMinutes))")
        let needs = service.resources.map { "{id: \($0.resource), count: \($0.count)}" }
        lines.append("  resources: [\(needs.joined(separator: ", "))]")
        if let available = service.available { lines.append("  available: \(quote(available.text, always: true))") }
        if !service.variants.isEmpty {
            lines.append("  variants:")
            for variant in service.variants {
                lines.append("    - id: \(variant.id)")
                lines.append("      name: \(quote(variant.name))")
                lines.append("      \(lengthLine(variant.segments))")
                lines.append("      price: \(variant.price)")
                if let deposit = variant.deposit { lines.append("      deposit: \(deposit)") }
            }
        }
        return lines
    }

    private static func staffLines(_ member: StaffMember, services: [Service]) -> [String] {
        var lines = ["- id: \(member.id)", "  name: \(quote(member.name))"]
        if let hours = member.hours {
            lines.append("  hours: \(quote(hours.text, always: true))")
        } else if let rotation = member.rotation {
            lines.append("  rotation:")
            lines.append("    start: \(rotation.start)")
            lines.append("    weeks: [\(rotation.weeks.map { quote($0.text, always: true) }.joined(separator: ", "))]")
        } else {
            lines.append("  # hours: the shop's hours")
        }
        lines.append("  breaks: [\(member.breaks.map { quote($0.text, always: true) }.joined(separator: ", "))]")
        func termFields(_ terms: StaffTerms) -> [String] {
            var fields: [String] = []
            if let price = terms.price { fields.append("price: \(price)") }
            if let deposit = terms.deposit { fields.append("deposit: \(deposit)") }
            if let minutes = terms.durationMinutes { fields.append("duration: \(Minutes.format(minutes))") }
            return fields
        }
        let offered = member.services.map { id in
            guard let service = services.first(where: { $0.id == id }), let terms = service.staffTerms[member.id]
            else { return id }
            var fields = ["id: \(id)"] + termFields(terms)
            // Variants in the service's order.
            let variants = service.variants.compactMap { variant in
                terms.variants[variant.id].map { "\(variant.id): {\(termFields($0).joined(separator: ", "))}" }
            }
            if !variants.isEmpty { fields.append("variants: {\(variants.joined(separator: ", "))}") }
            return "{\(fields.joined(separator: ", "))}"
        }
        lines.append("  services: [\(offered.joined(separator: ", "))]")
        let timeOff = member.timeOff.map { entry in
            entry.note.isEmpty
                ? dates(entry.first, entry.last)
                : "{date: \(dates(entry.first, entry.last)), note: \(quote(entry.note))}"
        }
        lines.append("  time_off: [\(timeOff.joined(separator: ", "))]")
        var limits: [String] = []
        if let bookings = member.maxBookingsPerDay { limits.append("max_bookings: \(bookings)") }
        if let minutes = member.maxMinutesPerDay { limits.append("max_hours: \(Minutes.format(minutes))") }
        if !limits.isEmpty { lines.append("  limits: {\(limits.joined(separator: ", "))}") }
        return lines
    }

    /// The text as a YAML scalar: plain when that reads back the same, double-quoted otherwise.
    static func quote(_ text: String, always: Bool = false) -> String {
        let special: Set<Character> = [
            ":", "#", "{", "}", "[", "]", ",", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`", "\\",
        ]
        let reserved = ["", "~", "null", "true", "false", "yes", "no", "on", "off"]
        let plain = !always && !text.contains(where: { special.contains($0) || $0.isNewline })
            && !reserved.contains(text.lowercased()) && text.trimmingSpaces == text
            && !(text.first.map { "-?".contains($0) || $0.isNumber } ?? true)
        if plain { return text }
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
