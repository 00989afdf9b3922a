import SlotCore

/// A value and the node it was read from, for diagnostics found after reading.
struct Located<Value> {
    var value: Value
    var node: YNode
}

/// Reads rule files into a `RuleSet`: sections merged across files, every value checked, then cross-checked.
///
/// Sections `shop`, `hours` and `policies` may appear in one file only; the list sections (`breaks`, `holidays`,
/// `overrides`, `resources`, `services`, `staff`) may appear in several files and are joined in file order.
struct RuleCompiler {
    static let sections = ["shop", "hours", "breaks", "holidays", "overrides", "resources", "services", "staff",
        "policies"]
    static let singleSections: Set<String> = ["shop", "hours", "policies"]
    /// The representative window breaks are checked over: two years from Monday 2026-01-05.
    static let checkStart = LocalDate(daysSinceEpoch: 20458)
    static let checkDays = 731

    var reader = RuleReader()
    let attachments: [String: String]
    var usedAttachments: Set<String> = []
    var currency = "EUR"

    /// Set when a file could not be read as sections: what seems missing may be in that file.
    var unreadableFile = false
    var single: [String: (key: YNode, value: YNode)] = [:]
    var lists: [String: [(key: YNode, value: YNode)]] = [:]

    init(attachments: [String: String]) {
        self.attachments = attachments
    }

    // MARK: - Entry

    mutating func compile(_ files: [RuleSource]) -> RuleLoadResult {
        guard !files.isEmpty else {
            reader.error(
                .init(file: "rules", line: 1, column: 1), "no rule files given",
                fix: "pass a directory holding *.yaml rule files")
            return RuleLoadResult(ruleSet: nil, diagnostics: reader.diagnostics)
        }
        var sources: [SourceText] = []
        var syntaxErrors: [Diagnostic] = []
        for file in files {
            let source = SourceText(name: file.name, text: file.text)
            sources.append(source)
            // With the rules when the file reads, with its syntax error (the only diagnostics then kept) when not.
            let breakWarning = source.unusualBreakWarning
            if let breakWarning { reader.diagnostics.append(breakWarning) }
            switch YAMLSource.compose(source, text: file.text) {
            case .failure(let diagnostic):
                syntaxErrors.append(diagnostic)
                if let breakWarning { syntaxErrors.append(breakWarning) }
            case .success(nil):
                reader.warning(
                    .init(file: file.name, line: 1, column: 1), "the file holds no rules",
                    fix: "add sections such as `shop:` or remove the file")
            case .success(let root?):
                collectSections(root)
            }
        }
        // A file that is not YAML hides sections the others refer to: anything else found now would mislead.
        guard syntaxErrors.isEmpty else { return RuleLoadResult(ruleSet: nil, diagnostics: syntaxErrors) }
        let firstFile = Diagnostic.Location(file: files[0].name, line: 1, column: 1)
        let shop = single["shop"].flatMap { readShop($0.value) }
        let resources = readList("resources", example: "{id: chair, name: Chair, count: 2}") {
            $0.readResource($1)
        }
        let holidayItems = readList("holidays", example: "2026-12-25") { $0.readHoliday($1) }
        let holidays = holidayItems.flatMap(\.value)
        let holidayDates = holidayDatesInCheckWindow(holidays)
        var hours: Located<HoursExpression>?
        if let entry = single["hours"], let expression = reader.hours(entry.value, "hours") {
            hours = Located(value: expression, node: entry.value)
        }
        let breaks = readList("breaks", example: "Mo-Fr 12:00-13:00") { compiler, node in
            compiler.reader.hours(node, "a break")
        }
        // Ids are collected before the items are read, so a broken item still counts as defined and does not
        // cause a second, misleading "unknown id" error where it is used.
        let resourceIDs = declaredIDs("resources")
        let serviceIDs = declaredIDs("services")
        let staffIDs = declaredIDs("staff")
        var services = readList("services", example: "{id: haircut, name: Haircut, duration: 30m, price: 25}") {
            $0.readService($1, resources: resources.map(\.value), declared: resourceIDs.map(\.value))
        }
        let errorsBeforeStaff = reader.diagnostics.count { $0.severity == .error }
        let staff = readList("staff", example: "{id: ana, name: Ana, services: [haircut]}") {
            $0.readStaff($1, services: serviceIDs.map(\.value))
        }
        let staffComplete = reader.diagnostics.count { $0.severity == .error } == errorsBeforeStaff
        attachStaffTerms(staff, to: &services)
        let overrides = readList("overrides", example: "{date: 2026-12-24, hours: 09:00-13:00}") {
            $0.readOverride($1, staff: staffIDs.map(\.value))
        }
        let policies = single["policies"].flatMap { readPolicies($0.value) } ?? Policies()

        if single["shop"] == nil && !unreadableFile {
            reader.error(
                firstFile, "no `shop` section",
                fix: "add `shop:` with `name:` and `timezone:` (e.g. Europe/Berlin) to one file")
        }
        if single["hours"] == nil && !unreadableFile {
            reader.error(firstFile, "no `hours` section", fix: "add the opening hours, e.g. `hours: Mo-Fr 09:00-18:00`")
        }
        checkDuplicates(resourceIDs, "resource")
        checkDuplicates(serviceIDs, "service")
        checkDuplicates(staffIDs, "staff member")
        if lists["services"] == nil && !unreadableFile {
            reader.warning(firstFile, "no services are defined",
                fix: "add a `services` list so there is something to book")
        }
        if lists["staff"] == nil && !unreadableFile {
            reader.warning(firstFile, "no staff are defined", fix: "add a `staff` list so someone can be booked")
        }
        // Only when every staff member was read: a broken one may well offer the service.
        for service in services where staffComplete
            && !staff.contains(where: { $0.value.member.services.contains(service.value.service.id) })
        {
            reader.warning(
                service.value.idNode.location, "nobody offers service '\(service.value.service.id)'",
                fix: "add it to a staff member's services, or remove it")
        }
        checkOverlaps(overrides)
        checkDuplicateHolidays(holidayItems)
        checkOverridesOnHolidays(overrides, holidays: holidays)
        checkDuplicateBreaks(breaks, owner: "the shop")
        for member in staff { checkDuplicateBreaks(member.value.breaks, owner: member.value.member.id) }
        if let hours {
            checkHours(hours, breaks: breaks, staff: staff.map(\.value), overrides: overrides, holidays: holidayDates)
        }

        let diagnostics = Self.ordered(reader.diagnostics)
        guard !diagnostics.hasErrors, let shop, let hours else {
            return RuleLoadResult(ruleSet: nil, diagnostics: diagnostics)
        }
        let ruleSet = RuleSet(
            shop: shop, hours: hours.value, breaks: breaks.map(\.value), holidays: holidays,
            overrides: overrides.map(\.value), services: services.map(\.value.service),
            resources: resources.map(\.value), staff: staff.map(\.value.member), policies: policies,
            files: files.map(\.name), version: version(files))
        return RuleLoadResult(ruleSet: ruleSet, diagnostics: diagnostics)
    }

    static var checkWindow: Interval {
        Interval(checkStart.startWallMinute, checkStart.adding(days: checkDays).startWallMinute)
    }

    /// Sorted by location (stable, so diagnostics at one place keep the order they were found in), duplicates dropped.
    static func ordered(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        var seen = Set<Diagnostic>()
        let unique = diagnostics.filter { seen.insert($0).inserted }
        return unique.enumerated().sorted { a, b in
            a.element.location == b.element.location ? a.offset < b.offset : a.element.location < b.element.location
        }.map(\.element)
    }

    // MARK: - Sections

    mutating func collectSections(_ root: YNode) {
        guard let pairs = root.pairs else {
            unreadableFile = true
            reader.error(
                root.location, "a rule file must be a mapping of sections, found \(root.kindDescription)",
                fix: "start lines with a section name such as `shop:`, `hours:` or `services:`")
            return
        }
        for (key, value) in pairs {
            guard let name = key.scalar?.string, !key.isNull else {
                reader.error(key.location, "a section name must be a name, found \(key.kindDescription)",
                    fix: "write `section: …`")
                continue
            }
            guard Self.sections.contains(name) else {
                let fix = Suggest.closest(to: name, in: Self.sections, caseInsensitive: true).map {
                    "did you mean '\($0)'?"
                } ?? "sections are \(Self.sections.joined(separator: ", "))"
                reader.error(key.location, "unknown section '\(name)'", fix: fix)
                continue
            }
            if Self.singleSections.contains(name) {
                if let first = single[name] {
                    let at = first.key.location
                    reader.error(
                        key.location, "`\(name)` is already defined at \(at.file):\(at.line):\(at.column)",
                        fix: "keep one `\(name)` section across all rule files")
                } else {
                    single[name] = (key, value)
                }
            } else {
                lists[name, default: []].append((key, value))
            }
        }
    }

    /// The ids written in a list section's items, whether or not the rest of the item is valid.
    func declaredIDs(_ section: String) -> [Located<String>] {
        var result: [Located<String>] = []
        for entry in lists[section] ?? [] {
            for item in entry.value.items ?? [] {
                guard let id = item.pairs?.first(where: { $0.key.scalar?.string == "id" })?.value,
                    let text = id.scalar?.string, !id.isNull, RuleValues.id(text) == nil
                else { continue }
                result.append(Located(value: text, node: id))
            }
        }
        return result
    }

    /// The items of a list section across all files, each read by `read`.
    mutating func readList<T>(
        _ section: String, example: String, _ read: (inout RuleCompiler, YNode) -> T?
    ) -> [Located<T>] {
        var result: [Located<T>] = []
        for entry in lists[section] ?? [] {
            guard let items = reader.list(entry.value, "`\(section)`", example: example) else { continue }
            for item in items {
                if let value = read(&self, item) { result.append(Located(value: value, node: item)) }
            }
        }
        return result
    }

    mutating func readShop(_ node: YNode) -> Shop? {
        let keys = ["name", "timezone", "currency", "slot_step", "min_notice", "horizon"]
        guard let fields = reader.mapping(node, "`shop`", keys: keys, required: ["name", "timezone"]) else {
            return nil
        }
        if let value = fields["currency"], let code = reader.text(value, "the currency") {
            if code.count == 3 && code.allSatisfy({ $0.isASCII && $0.isUppercase }) {
                currency = code
            } else if code.count == 3 && code.allSatisfy({ $0.isASCII && $0.isLetter }) {
                reader.error(value.location, "currency '\(code)' must be upper case", fix: "write \(code.uppercased())")
                currency = code.uppercased()
            } else {
                reader.error(value.location, "'\(code)' is not an ISO 4217 currency code", fix: "write e.g. EUR")
            }
        }
        let name = fields["name"].flatMap { reader.text($0, "the shop name") }
        var zone: ShopTimeZone?
        if let value = fields["timezone"], let identifier = reader.text(value, "the time zone") {
            zone = ShopTimeZone(identifier: identifier)
            if zone == nil {
                let fix = Suggest.timeZone(for: identifier).map { "did you mean \($0)?" }
                    ?? "use an IANA name such as Europe/Berlin"
                reader.error(value.location, "unknown time zone '\(identifier)'", fix: fix)
            }
        }
        let step = fields["slot_step"].map { reader.duration($0, "slot_step", positive: true) } ?? 15
        if let step, let value = fields["slot_step"], step > 0 && 1440 % step != 0 || step > 1440 {
            reader.warning(
                value.location, "slot_step \(Minutes.format(step)) does not divide a day evenly",
                fix: "the grid restarts at midnight; steps like 10m, 15m, 20m or 30m divide a day")
        }
        let notice = fields["min_notice"].map { reader.duration($0, "min_notice") } ?? 0
        let horizon = fields["horizon"].map { reader.duration($0, "horizon", positive: true) } ?? 60 * 1440
        guard let name, let zone, let step, let notice, let horizon else { return nil }
        return Shop(
            name: name, timeZone: zone, slotStepMinutes: step, minNoticeMinutes: notice, horizonMinutes: horizon,
            currency: currency)
    }

    mutating func readResource(_ node: YNode) -> Resource? {
        guard let fields = reader.mapping(node, "a resource", keys: ["id", "name", "count"], required: ["id"]) else {
            return nil
        }
        let id = fields["id"].flatMap { reader.id($0, "the resource id") }
        let name = fields["name"].map { reader.text($0, "the resource name") } ?? id
        let count = fields["count"].map { reader.count($0, "the resource count", minimum: 1) } ?? 1
        guard let id, let name, let count else { return nil }
        return Resource(id: id, name: name, count: count)
    }

    // MARK: - Holidays

    mutating func readHoliday(_ node: YNode) -> [Holiday]? {
        if node.scalar != nil {
            guard let text = reader.text(node, "a holiday") else { return nil }
            return dateSpec(text, node: node).map { holidays(from: $0, name: "") }
        }
        guard let fields = reader.mapping(node, "a holiday", keys: ["date", "name", "ics"]) else { return nil }
        if let ics = fields["ics"] {
            if let other = fields["date"] ?? fields["name"] {
                reader.error(other.location, "a holiday imports a calendar (`ics`) or names a date, not both",
                    fix: "write `- ics: file.ics` as its own item")
            }
            return importCalendar(ics)
        }
        guard let dateNode = fields["date"] else {
            reader.error(node.location, "a holiday is missing 'date'",
                fix: "add `date: 2026-12-25` (or `ics: file.ics`)")
            return nil
        }
        let name = fields["name"].map { reader.text($0, "the holiday name") } ?? ""
        guard let text = reader.text(dateNode, "the holiday date"), let spec = dateSpec(text, node: dateNode),
            let name
        else { return nil }
        return holidays(from: spec, name: name)
    }

    mutating func dateSpec(_ text: String, node: YNode) -> RuleValues.DateSpec? {
        switch RuleValues.dateSpec(text) {
        case .failure(let problem):
            reader.report(problem, in: node)
            return nil
        case .success(let spec):
            return spec
        }
    }

    func holidays(from spec: RuleValues.DateSpec, name: String) -> [Holiday] {
        switch spec {
        case .date(let date): return [Holiday(name: name, rule: .date(date))]
        case .range(let first, let last): return [Holiday(name: name, rule: .range(first, last))]
        case .yearly(let month, let day): return [Holiday(name: name, rule: .yearly(month: month, day: day))]
        case .easter(let offset): return [Holiday(name: name, rule: .easter(offsetDays: offset))]
        case .yearlyRange(let month, let day, let month2, let day2):
            // Expanded day by day over a leap year, so Feb 29 is kept when the range spans it.
            guard let start = LocalDate(year: 2024, month: month, day: day),
                let end = LocalDate(year: 2024, month: month2, day: day2)
            else { return [] }
            var result: [Holiday] = []
            var date = start
            while date <= end {
                result.append(Holiday(name: name, rule: .yearly(month: date.month, day: date.day)))
                date = date.adding(days: 1)
            }
            return result
        }
    }

    mutating func importCalendar(_ node: YNode) -> [Holiday]? {
        guard let name = reader.text(node, "the calendar file") else { return nil }
        guard let text = attachments[name] else {
            let known = attachments.keys.sorted()
            let fix = Suggest.closest(to: name, in: known).map { "did you mean '\($0)'?" }
                ?? (known.isEmpty
                    ? "put the .ics file beside the rule files" : "found: \(known.joined(separator: ", "))")
            reader.error(node.location, "holiday calendar '\(name)' not found", fix: fix)
            return nil
        }
        usedAttachments.insert(name)
        let file = node.source.name
        let directory = file.lastIndex(of: "/").map { String(file[...$0]) } ?? ""
        let calendarFile = name.contains("/") ? name : directory + name
        let result = HolidayCalendar.parse(text)
        for problem in result.problems {
            reader.diagnostics.append(
                Diagnostic(
                    problem.severity, at: .init(file: calendarFile, line: problem.line, column: 1),
                    problem.message, fix: problem.fix))
        }
        if result.holidays.isEmpty && !result.problems.contains(where: { $0.severity == .error }) {
            reader.warning(node.location, "holiday calendar '\(name)' holds no all-day events",
                fix: "check the file, or remove this item")
        }
        return result.holidays
    }

    func holidayDatesInCheckWindow(_ holidays: [Holiday]) -> Set<LocalDate> {
        var dates = Set<LocalDate>()
        let last = Self.checkStart.adding(days: Self.checkDays)
        for holiday in holidays {
            for date in holiday.dates(from: Self.checkStart.adding(days: -2), through: last) { dates.insert(date) }
        }
        return dates
    }

    // MARK: - Services

    struct ReadService {
        var service: Service
        var idNode: YNode
    }

    mutating func readService(_ node: YNode, resources: [Resource], declared: [String]) -> ReadService? {
        let keys = ["id", "name", "duration", "segments", "price", "deposit", "buffer_before", "buffer_after",
            "resources", "variants", "available"]
        guard let fields = reader.mapping(node, "a service", keys: keys, required: ["id", "name", "price"]) else {
            return nil
        }
        let id = fields["id"].flatMap { reader.id($0, "the service id") }
        let what = "service '\(id ?? "?")'"
        let name = fields["name"].flatMap { reader.text($0, "the service name") }
        let segments = readSegments(fields, what: what, required: true)
        let price = fields["price"].flatMap { reader.money($0, "the price", currency: currency) }
        let deposit = fields["deposit"].map { reader.money($0, "the deposit", currency: currency) }
        if let price, let deposit = deposit ?? nil, let node = fields["deposit"] {
            checkDeposit(deposit, price: price, node: node, what: what)
        }
        let before = fields["buffer_before"].map { reader.duration($0, "buffer_before") } ?? 0
        let after = fields["buffer_after"].map { reader.duration($0, "buffer_after") } ?? 0
        var needs: [ResourceNeed] = []
        if let list = fields["resources"].flatMap({ reader.list($0, "the resources", example: "chair") }) {
            for item in list {
                if let need = readNeed(item, resources: resources, declared: declared) {
                    if needs.contains(where: { $0.resource == need.resource }) {
                        reader.error(item.location, "resource '\(need.resource)' is listed twice",
                            fix: "list it once with a count: {id: \(need.resource), count: 2}")
                    } else {
                        needs.append(need)
                    }
                }
            }
        }
        var variants: [ServiceVariant] = []
        let variantList = fields["variants"].flatMap { reader.list($0, "the variants", example: "{id: long, name: Long}") }
        if let list = variantList {
            for item in list {
                guard let variant = readVariant(item, service: what, price: price, segments: segments, deposit: deposit)
                else { continue }
                if variants.contains(where: { $0.id == variant.id }) {
                    reader.error(item.location, "variant '\(variant.id)' of \(what) is defined twice",
                        fix: "give each variant its own id")
                } else {
                    variants.append(variant)
                }
            }
        }
        let available = fields["available"].map { reader.hours($0, "the service's available hours") }
        if let available, available == nil { return nil }
        guard let id, let name, let segments, let price, let before, let after, let idNode = fields["id"] else {
            return nil
        }
        let service = Service(
            id: id, name: name, segments: segments, price: price, deposit: deposit ?? nil,
            bufferBeforeMinutes: before, bufferAfterMinutes: after, resources: needs, variants: variants,
            available: available ?? nil)
        return ReadService(service: service, idNode: idNode)
    }

    mutating func checkDeposit(_ deposit: Money, price: Money, node: YNode, what: String) {
        if deposit.minorUnits > price.minorUnits {
            reader.error(
                node.location, "the deposit \(deposit) of \(what) is more than its price \(price)",
                fix: "make the deposit at most the price")
        }
    }

    /// `duration: 30m` or `segments: active 20m, processing 30m, active 15m` (a text or a list).
    mutating func readSegments(_ fields: Fields, what: String, required: Bool) -> [Segment]? {
        switch (fields["duration"], fields["segments"]) {
        case (let duration?, let segments?):
            reader.error(
                segments.location, "\(what) has both `duration` and `segments`",
                fix: "keep one: segments already give the length")
            _ = duration
            return nil
        case (let duration?, nil):
            return reader.duration(duration, "the duration", positive: true).map { [Segment(.active, minutes: $0)] }
        case (nil, let segments?):
            return readSegmentList(segments, what: what)
        case (nil, nil):
            if required {
                reader.error(fields.node.location, "\(what) is missing 'duration'",
                    fix: "add `duration: 30m` (or `segments: active 20m, processing 30m, active 15m`)")
            }
            return nil
        }
    }

    mutating func readSegmentList(_ node: YNode, what: String) -> [Segment]? {
        // Each part: its text, the node holding it, and its offset inside that node's value.
        var parts: [(text: String, node: YNode, offset: Int)] = []
        if let items = node.items {
            for item in items {
                if let text = reader.text(item, "a segment") { parts.append((text, item, 0)) }
            }
        } else if let text = reader.text(node, "the segments") {
            var offset = 0
            for piece in text.split(separator: ",", omittingEmptySubsequences: false) {
                parts.append((String(piece), node, offset))
                offset += piece.unicodeScalars.count + 1
            }
        } else {
            return nil
        }
        var segments: [Segment] = []
        var failed = false
        for part in parts {
            let lead = part.text.unicodeScalars.prefix { $0 == " " }.count
            let words = part.text.split(separator: " ", maxSplits: 1).map { String($0).trimmingSpaces }
            guard words.count == 2, let kind = Segment.Kind(rawValue: words[0].lowercased()) else {
                let word = words.first ?? ""
                let fix = Suggest.closest(to: word, in: ["active", "processing"], caseInsensitive: true).map {
                    "did you mean '\($0)'?"
                } ?? "write each segment as `active 20m` or `processing 30m`, separated by commas"
                reader.report(
                    ValueProblem(
                        at: part.offset + lead,
                        words.count == 2
                            ? "unknown segment kind '\(word)'" : "'\(part.text.trimmingSpaces)' is not a segment",
                        fix: fix), in: part.node)
                failed = true
                continue
            }
            let durationOffset = part.offset + lead + words[0].unicodeScalars.count + 1
            switch RuleValues.duration(words[1]) {
            case .failure(var problem):
                problem.offset += durationOffset
                reader.report(problem, in: part.node)
                failed = true
            case .success(0):
                reader.report(ValueProblem(at: durationOffset, "a segment of 0m", fix: "remove it"), in: part.node)
                failed = true
            case .success(let minutes):
                segments.append(Segment(kind, minutes: minutes))
            }
        }
        if !failed && segments.isEmpty {
            reader.error(node.location, "\(what) has no segments", fix: "write e.g. active 20m, processing 30m")
            return nil
        }
        if !failed && !segments.contains(where: { $0.kind == .active }) {
            reader.error(node.location, "\(what) has only processing segments",
                fix: "a service needs at least one active segment")
            return nil
        }
        return failed ? nil : segments
    }

    mutating func readNeed(_ node: YNode, resources: [Resource], declared: [String]) -> ResourceNeed? {
        var idNode = node
        var count = 1
        if node.scalar == nil {
            guard let fields = reader.mapping(node, "a resource need", keys: ["id", "count"], required: ["id"]),
                let id = fields["id"]
            else { return nil }
            idNode = id
            if let value = fields["count"] {
                guard let parsed = reader.count(value, "the resource count", minimum: 1) else { return nil }
                count = parsed
            }
        }
        guard let id = reader.id(idNode, "the resource id") else { return nil }
        guard declared.contains(id) else {
            reader.error(
                idNode.location, "unknown resource '\(id)'",
                fix: declared.isEmpty
                    ? "define it under `resources:` first"
                    : Suggest.fix(for: id, in: declared, noun: "resource"))
            return nil
        }
        if let resource = resources.first(where: { $0.id == id }), count > resource.count {
            reader.error(
                node.location, "needs \(count) of resource '\(id)', the shop has \(resource.count)",
                fix: "lower the count or raise the resource's count")
            return nil
        }
        return ResourceNeed(resource: id, count: count)
    }

    mutating func readVariant(
        _ node: YNode, service: String, price: Money?, segments: [Segment]?, deposit: Money??
    ) -> ServiceVariant? {
        let keys = ["id", "name", "duration", "segments", "price", "deposit"]
        guard let fields = reader.mapping(node, "a variant", keys: keys, required: ["id", "name"]) else { return nil }
        let id = fields["id"].flatMap { reader.id($0, "the variant id") }
        let what = "variant '\(id ?? "?")' of \(service)"
        let name = fields["name"].flatMap { reader.text($0, "the variant name") }
        let ownSegments = readSegments(fields, what: what, required: false)
        if (fields["duration"] != nil || fields["segments"] != nil) && ownSegments == nil { return nil }
        let ownPrice = fields["price"].map { reader.money($0, "the price", currency: currency) }
        if let ownPrice, ownPrice == nil { return nil }
        let ownDeposit = fields["deposit"].map { reader.money($0, "the deposit", currency: currency) }
        if let ownDeposit, ownDeposit == nil { return nil }
        // A variant takes what it does not say from its service.
        let variantPrice = (ownPrice ?? nil) ?? price
        let variantDeposit = ownDeposit ?? deposit ?? nil
        if let variantPrice, let variantDeposit {
            checkDeposit(variantDeposit, price: variantPrice, node: fields["deposit"] ?? node, what: what)
        }
        guard let id, let name, let variantSegments = ownSegments ?? segments, let variantPrice else { return nil }
        return ServiceVariant(id: id, name: name, segments: variantSegments, price: variantPrice,
            deposit: variantDeposit)
    }

    // MARK: - Staff

    struct ReadStaff {
        var member: StaffMember
        var idNode: YNode
        var hoursNode: YNode?
        var breaks: [Located<HoursExpression>]
        /// Their own terms for services they perform.
        var terms: [Located<ReadTerms>] = []
    }

    /// A staff member's own terms for a service as read, with the nodes later checks point at.
    struct ReadTerms {
        var service: String
        var terms: StaffTerms
        /// The key of each variant's terms (`long:` under `variants:`), by variant id.
        var variantKeys: [String: YNode] = [:]
        /// The `variants` key, when given.
        var variantsKey: YNode?
    }

    mutating func readStaff(_ node: YNode, services: [String]) -> ReadStaff? {
        let keys = ["id", "name", "hours", "rotation", "breaks", "services", "time_off", "limits"]
        guard let fields = reader.mapping(node, "a staff member", keys: keys, required: ["id", "name", "services"])
        else { return nil }
        let id = fields["id"].flatMap { reader.id($0, "the staff id") }
        let name = fields["name"].flatMap { reader.text($0, "the staff name") }
        let hours = fields["hours"].map { reader.hours($0, "their hours") }
        let rotation = fields["rotation"].map { readRotation($0, staff: id ?? "?") }
        var breaks: [Located<HoursExpression>] = []
        var failed = hours.map { $0 == nil } ?? false
        if let rotation, rotation == nil { failed = true }
        if fields["hours"] != nil, let rotationKey = fields.keys["rotation"] {
            reader.error(
                rotationKey.location, "staff member '\(id ?? "?")' has both `hours` and `rotation`",
                fix: "keep one: a rotation gives the hours of every week of its cycle")
            failed = true
        }
        if let list = fields["breaks"].flatMap({ reader.list($0, "the breaks", example: "Mo-Fr 12:00-13:00") }) {
            for item in list {
                if let expression = reader.hours(item, "a break") {
                    breaks.append(Located(value: expression, node: item))
                } else {
                    failed = true
                }
            }
        }
        var offered: [String] = []
        var terms: [Located<ReadTerms>] = []
        if let servicesNode = fields["services"],
            let list = reader.list(servicesNode, "the services", example: "haircut")
        {
            if list.isEmpty {
                reader.error(
                    servicesNode.location, "staff member '\(id ?? "?")' offers no services",
                    fix: "list the ids of the services they perform, e.g. [haircut]")
            }
            for item in list {
                var idNode = item
                if item.scalar == nil {
                    guard let own = readStaffTerms(item) else { continue }
                    idNode = own.idNode
                    if let read = own.read { terms.append(Located(value: read, node: item)) }
                }
                guard let serviceID = reader.id(idNode, "a service id") else { continue }
                if !services.contains(serviceID) {
                    reader.error(
                        item.location, "staff member '\(id ?? "?")' offers unknown service '\(serviceID)'",
                        fix: Suggest.fix(for: serviceID, in: services, noun: "service"))
                } else if offered.contains(serviceID) {
                    reader.warning(item.location, "service '\(serviceID)' is listed twice", fix: "list it once")
                } else {
                    offered.append(serviceID)
                }
            }
        }
        var timeOff: [TimeOff] = []
        let timeOffList = fields["time_off"].flatMap {
            reader.list($0, "the time off", example: "2026-08-03..2026-08-14")
        }
        if let list = timeOffList {
            for item in list {
                if let entry = readDates(item, what: "time off", noteKey: "note") {
                    timeOff.append(TimeOff(first: entry.first, last: entry.last, note: entry.note))
                }
            }
        }
        var maxBookings: Int?
        var maxMinutes: Int?
        if let limits = fields["limits"],
            let limitFields = reader.mapping(limits, "the limits", keys: ["max_bookings", "max_hours"])
        {
            maxBookings = limitFields["max_bookings"].flatMap { reader.count($0, "max_bookings", minimum: 1) }
            maxMinutes = limitFields["max_hours"].flatMap { reader.duration($0, "max_hours", positive: true) }
        }
        guard let id, let name, !failed, let idNode = fields["id"] else { return nil }
        let member = StaffMember(
            id: id, name: name, hours: hours ?? nil, breaks: breaks.map(\.value), services: offered,
            timeOff: timeOff, maxBookingsPerDay: maxBookings, maxMinutesPerDay: maxMinutes, rotation: rotation ?? nil)
        return ReadStaff(member: member, idNode: idNode, hoursNode: fields["hours"] ?? fields["rotation"],
            breaks: breaks, terms: terms.filter { offered.contains($0.value.service) })
    }

    /// `{id: colour, price: 60, duration: 1h15m}` in a staff member's services: their own terms for a service;
    /// `{id: haircut, variants: {long: {price: 45, duration: 40m}}}` for variants of one.
    mutating func readStaffTerms(_ node: YNode) -> (read: ReadTerms?, idNode: YNode)? {
        let keys = ["id", "price", "deposit", "duration", "variants"]
        guard let fields = reader.mapping(node, "a service of a staff member", keys: keys, required: ["id"]),
            let idNode = fields["id"]
        else { return nil }
        let base = readTermValues(fields)
        var terms = base ?? StaffTerms()
        var read = ReadTerms(service: "", terms: terms, variantsKey: fields.keys["variants"])
        var failed = base == nil
        if let variants = fields["variants"] {
            if let pairs = variants.pairs {
                for (key, value) in pairs {
                    guard let variantID = key.scalar?.string, !key.isNull else {
                        reader.error(
                            key.location, "a key under `variants` must be a variant id, found \(key.kindDescription)",
                            fix: "write `long: {price: 45}`")
                        failed = true
                        continue
                    }
                    let what = "their terms for variant '\(variantID)'"
                    guard
                        let variantFields = reader.mapping(value, what, keys: ["price", "deposit", "duration"]),
                        let own = readTermValues(variantFields)
                    else {
                        failed = true
                        continue
                    }
                    if own == StaffTerms() {
                        reader.warning(value.location, "variant '\(variantID)' names no terms of its own",
                            fix: "add `price`, `deposit` or `duration`, or leave the variant out")
                    }
                    terms.variants[variantID] = own
                    read.variantKeys[variantID] = key
                }
            } else {
                reader.error(
                    variants.location, "`variants` in a staff member's terms must be a mapping of variant ids to "
                        + "terms, found \(variants.kindDescription)",
                    fix: "write e.g. `variants: {long: {price: 45, duration: 40m}}`")
                failed = true
            }
        }
        if fields["price"] == nil && fields["deposit"] == nil && fields["duration"] == nil
            && fields["variants"] == nil
        {
            reader.warning(node.location, "this service names no terms of its own",
                fix: "add `price`, `deposit` or `duration`, or write just the id")
        }
        guard !failed, idNode.scalar != nil, !idNode.isNull, let service = idNode.scalar?.string else {
            return (nil, idNode)
        }
        read.service = service
        read.terms = terms
        return (read, idNode)
    }

    /// `price`, `deposit` and `duration` of a staff member's terms (for a service or one of its variants).
    mutating func readTermValues(_ fields: Fields) -> StaffTerms? {
        var terms = StaffTerms()
        var failed = false
        if let value = fields["price"] {
            terms.price = reader.money(value, "their price", currency: currency)
            failed = failed || terms.price == nil
        }
        if let value = fields["deposit"] {
            terms.deposit = reader.money(value, "their deposit", currency: currency)
            failed = failed || terms.deposit == nil
        }
        if let value = fields["duration"] {
            terms.durationMinutes = reader.duration(value, "their duration", positive: true)
            failed = failed || terms.durationMinutes == nil
        }
        return failed ? nil : terms
    }

    /// Attaches each staff member's own terms to the services, checking they fit the service: one length (no
    /// segments), per variant for a service with variants (each naming one of its variants), and a deposit no more
    /// than the price.
    mutating func attachStaffTerms(_ staff: [Located<ReadStaff>], to services: inout [Located<ReadService>]) {
        for member in staff {
            for entry in member.value.terms {
                let read = entry.value
                let (serviceID, terms) = (read.service, read.terms)
                guard let index = services.firstIndex(where: { $0.value.service.id == serviceID }) else { continue }
                let service = services[index].value.service
                let what = "\(member.value.member.id)'s terms for service '\(serviceID)'"
                let own = StaffTerms(price: terms.price, deposit: terms.deposit, durationMinutes: terms.durationMinutes)
                if service.variants.isEmpty {
                    if let key = read.variantsKey {
                        reader.error(
                            key.location, "\(what): the service has no variants",
                            fix: "give `price`, `deposit` or `duration` directly, e.g. {id: \(serviceID), price: 30}")
                        continue
                    }
                    guard checkTerms(own, segments: service.segments, price: service.price,
                        deposit: service.deposit, node: entry.node, what: what)
                    else { continue }
                } else {
                    if own != StaffTerms() {
                        reader.error(
                            entry.node.location, "\(what): the service has variants, each with its own price and "
                                + "duration",
                            fix: "give their terms per variant, e.g. {id: \(serviceID), variants: "
                                + "{\(service.variants[0].id): {price: 30}}}")
                        continue
                    }
                    var fits = true
                    for (variantID, variantTerms) in terms.variants.sorted(by: { $0.key < $1.key }) {
                        let key = read.variantKeys[variantID] ?? entry.node
                        guard let variant = service.variants.first(where: { $0.id == variantID }) else {
                            reader.error(
                                key.location, "\(what): service '\(serviceID)' has no variant '\(variantID)'",
                                fix: Suggest.fix(for: variantID, in: service.variants.map(\.id), noun: "variant"))
                            fits = false
                            continue
                        }
                        fits = checkTerms(
                            variantTerms, segments: variant.segments, price: variant.price, deposit: variant.deposit,
                            node: key, what: "\(what), variant '\(variantID)'") && fits
                    }
                    guard fits else { continue }
                }
                services[index].value.service.staffTerms[member.value.member.id] = terms
            }
        }
    }

    /// Whether `terms` fit a service or variant of `segments`, `price` and `deposit`; reports at `node` why not.
    mutating func checkTerms(
        _ terms: StaffTerms, segments: [Segment], price: Money, deposit: Money?, node: YNode, what: String
    ) -> Bool {
        if terms.durationMinutes != nil && segments.count > 1 {
            reader.error(
                node.location, "\(what): the service is made of segments, a duration cannot replace them",
                fix: "remove `duration` here, or make it a plain service with `duration:`")
            return false
        }
        if let deposit = terms.deposit ?? deposit {
            checkDeposit(deposit, price: terms.price ?? price, node: node, what: what)
        }
        return true
    }

    /// The longest rotation: a year of weeks.
    static let maximumRotationWeeks = 53

    /// `rotation: {start: 2026-11-07, weeks: ["Sa 09:00-14:00", "off"]}`: hours as a cycle of weeks from a date.
    mutating func readRotation(_ node: YNode, staff: String) -> Rotation? {
        let example = "rotation: {start: 2026-11-07, weeks: [\"Sa 09:00-14:00\", \"off\"]}"
        guard let fields = reader.mapping(node, "the rotation", keys: ["start", "weeks"], required: ["start", "weeks"])
        else { return nil }
        var start: LocalDate?
        if let startNode = fields["start"], let text = reader.text(startNode, "the rotation start"),
            let spec = dateSpec(text, node: startNode)
        {
            if case .date(let date) = spec {
                start = date
            } else {
                reader.error(
                    startNode.location, "a rotation starts on one date with a year",
                    fix: "write the first day of its first week, e.g. `start: 2026-11-07`")
            }
        }
        guard let weeksNode = fields["weeks"],
            let items = reader.list(weeksNode, "the rotation's weeks", example: "Sa 09:00-14:00")
        else { return nil }
        var weeks: [HoursExpression] = []
        var failed = false
        for (index, item) in items.enumerated() {
            if let expression = reader.hours(item, "week \(index + 1) of the rotation") {
                weeks.append(expression)
            } else {
                failed = true
            }
        }
        if items.isEmpty {
            reader.error(weeksNode.location, "the rotation of '\(staff)' has no weeks",
                fix: "list one hour expression per week, e.g. \(example)")
            return nil
        }
        if items.count > Self.maximumRotationWeeks {
            reader.error(
                weeksNode.location, "the rotation of '\(staff)' has \(items.count) weeks",
                fix: "a rotation repeats after at most \(Self.maximumRotationWeeks) weeks; use overrides for dates")
            return nil
        }
        guard let start, !failed else { return nil }
        if Set(weeks.map(\.text)).count == 1 {
            let what = weeks.count == 1 ? "a rotation of one week" : "every week of the rotation is the same, so it"
            reader.warning(
                weeksNode.location, "\(what) repeats every week",
                fix: "write `hours: \(RuleRenderer.quote(weeks[0].text, always: true))` instead")
        }
        return Rotation(start: start, weeks: weeks)
    }

    /// A concrete date or range: `2026-08-03`, `2026-08-03..2026-08-14`, or `{date: …, note: …}`.
    mutating func readDates(
        _ node: YNode, what: String, noteKey: String
    ) -> (first: LocalDate, last: LocalDate, note: String)? {
        var dateNode = node
        var note = ""
        if node.scalar == nil {
            guard let fields = reader.mapping(node, what, keys: ["date", noteKey], required: ["date"]),
                let date = fields["date"]
            else { return nil }
            dateNode = date
            if let value = fields[noteKey] { note = reader.text(value, "the \(noteKey)") ?? "" }
        }
        guard let text = reader.text(dateNode, "the date"), let spec = dateSpec(text, node: dateNode) else {
            return nil
        }
        return concrete(spec, node: dateNode, what: what).map { ($0.0, $0.1, note) }
    }

    mutating func concrete(_ spec: RuleValues.DateSpec, node: YNode, what: String) -> (LocalDate, LocalDate)? {
        switch spec {
        case .date(let date): return (date, date)
        case .range(let first, let last): return (first, last)
        default:
            reader.error(
                node.location, "\(what) needs dates with a year",
                fix: "write e.g. 2026-12-24 or 2026-12-24..2026-12-26 (yearly and Easter dates are for holidays)")
            return nil
        }
    }

    // MARK: - Overrides

    mutating func readOverride(_ node: YNode, staff: [String]) -> Override? {
        let keys = ["date", "hours", "closed", "staff", "note"]
        guard let fields = reader.mapping(node, "an override", keys: keys, required: ["date"]) else { return nil }
        var yearly: (from: (month: Int, day: Int), through: (month: Int, day: Int))?
        let dates = fields["date"].flatMap { dateNode -> (LocalDate, LocalDate)? in
            guard let text = reader.text(dateNode, "the date"), let spec = dateSpec(text, node: dateNode) else {
                return nil
            }
            // `Dec 24` or `Dec 24..Dec 26`: every year.
            switch spec {
            case .yearly(let month, let day):
                yearly = ((month, day), (month, day))
                return (Self.checkStart, Self.checkStart)
            case .yearlyRange(let month, let day, let month2, let day2):
                yearly = ((month, day), (month2, day2))
                return (Self.checkStart, Self.checkStart)
            case .easter:
                reader.error(
                    dateNode.location, "an override cannot be relative to Easter",
                    fix: "write the date (2027-03-29) or a yearly date (Dec 24); Easter days off go in `holidays`")
                return nil
            default:
                return concrete(spec, node: dateNode, what: "an override")
            }
        }
        var hours: HoursExpression?
        var valid = true
        switch (fields["hours"], fields["closed"]) {
        case (_?, let closed?):
            reader.error(closed.location, "an override has both `hours` and `closed`", fix: "keep one of them")
            valid = false
        case (let value?, nil):
            hours = reader.hours(value, "the override hours")
            valid = hours != nil
        case (nil, let closed?):
            if let flag = reader.bool(closed, "closed") {
                if !flag {
                    reader.error(closed.location, "`closed: false` says nothing", fix: "give the `hours` instead")
                    valid = false
                }
            } else {
                valid = false
            }
        case (nil, nil):
            reader.error(node.location, "an override needs `hours` or `closed: true`",
                fix: "add e.g. `hours: 09:00-13:00`")
            valid = false
        }
        var member: String?
        if let value = fields["staff"], let id = reader.id(value, "the staff id") {
            if staff.contains(id) {
                member = id
            } else {
                reader.error(value.location, "unknown staff member '\(id)'",
                    fix: Suggest.fix(for: id, in: staff, noun: "staff member"))
                valid = false
            }
        }
        let note = fields["note"].map { reader.text($0, "the note") ?? "" } ?? ""
        guard let dates, valid else { return nil }
        if let yearly {
            return Override(yearlyFrom: yearly.from, through: yearly.through, hours: hours, staff: member, note: note)
        }
        return Override(first: dates.0, last: dates.1, hours: hours, staff: member, note: note)
    }

    // MARK: - Policies

    mutating func readPolicies(_ node: YNode) -> Policies? {
        let keys = ["hold", "cancellation", "reminders", "assign", "card_on_file", "waitlist"]
        guard let fields = reader.mapping(node, "`policies`", keys: keys) else {
            return nil
        }
        var policies = Policies()
        if let value = fields["hold"], let minutes = reader.duration(value, "hold", positive: true) {
            policies.holdMinutes = minutes
        }
        if let value = fields["cancellation"],
            let cancellation = reader.mapping(value, "the cancellation policy", keys: ["window", "fee"])
        {
            if let window = cancellation["window"], let minutes = reader.duration(window, "the cancellation window") {
                policies.cancellationWindowMinutes = minutes
            }
            if let fee = cancellation["fee"], let text = reader.text(fee, "the cancellation fee") {
                if let percent = RuleValues.percent(text) {
                    switch percent {
                    case .success(let value): policies.cancellationFee = value == 0 ? .none : .percent(value)
                    case .failure(let problem): reader.report(problem, in: fee)
                    }
                } else if text.lowercased() == "none" {
                    policies.cancellationFee = .none
                } else if let money = reader.money(fee, "the cancellation fee", currency: currency) {
                    policies.cancellationFee = money.minorUnits == 0 ? .none : .amount(money)
                }
            }
        }
        if let value = fields["reminders"], let list = reader.list(value, "the reminders", example: "24h") {
            var reminders: [Int] = []
            for item in list {
                if let minutes = reader.duration(item, "a reminder", positive: true) {
                    if reminders.contains(minutes) {
                        reader.warning(item.location, "reminder \(Minutes.format(minutes)) is listed twice",
                            fix: "list it once")
                    } else {
                        reminders.append(minutes)
                    }
                }
            }
            policies.remindersMinutesBefore = reminders.sorted(by: >)
        }
        if let value = fields["card_on_file"], let flag = reader.bool(value, "card_on_file") {
            policies.cardOnFile = flag
        }
        if let value = fields["waitlist"],
            let waitlist = reader.mapping(value, "the waitlist policy", keys: ["offer_hold"]),
            let hold = waitlist["offer_hold"],
            let minutes = reader.duration(hold, "waitlist.offer_hold", positive: true)
        {
            policies.waitlistOfferHoldMinutes = minutes
        }
        if let value = fields["assign"], let text = reader.text(value, "the assign policy") {
            if let assign = StaffAssignment(rawValue: text) {
                policies.assign = assign
            } else {
                let choices = StaffAssignment.allCases.map(\.rawValue)
                reader.error(
                    value.location, "unknown assign policy '\(text)'",
                    fix: Suggest.closest(to: text, in: choices, caseInsensitive: true).map { "did you mean '\($0)'?" }
                        ?? "use balanced (the least booked staff member that day) or in_order (the first listed)")
            }
        }
        return policies
    }

    // MARK: - Cross-checks

    mutating func checkDuplicates(_ ids: [Located<String>], _ noun: String) {
        var first: [String: YNode] = [:]
        for id in ids {
            if let earlier = first[id.value] {
                let at = earlier.location
                reader.error(
                    id.node.location, "\(noun) id '\(id.value)' is already used at \(at.file):\(at.line):\(at.column)",
                    fix: "give each \(noun) its own id")
            } else {
                first[id.value] = id.node
            }
        }
    }

    mutating func checkOverlaps(_ overrides: [Located<Override>]) {
        for (index, later) in overrides.enumerated() {
            for earlier in overrides[..<index]
            where earlier.value.staff == later.value.staff && earlier.value.overlaps(later.value) {
                let at = earlier.node.location
                let whose = later.value.staff.map { "staff member '\($0)'" } ?? "the shop"
                let shared = max(earlier.value.first, later.value.first)
                let when = later.value.repeatsYearly
                    ? RuleValues.yearlyText(month: shared.month, day: shared.day) : shared.description
                reader.error(
                    later.node.location,
                    "this override for \(whose) overlaps the one at \(at.file):\(at.line):\(at.column) "
                        + "(\(when))",
                    fix: "give each date one override; merge the two or split their dates")
                break
            }
        }
    }

    /// Warns about hours that never take a booking: breaks outside the hours (they do not apply there), staff
    /// hours outside the shop's, and shop overrides open when no staff member works. Overrides in the check window
    /// count, so a short Christmas Eve is seen.
    mutating func checkHours(
        _ hours: Located<HoursExpression>, breaks: [Located<HoursExpression>], staff: [ReadStaff],
        overrides: [Located<Override>], holidays: Set<LocalDate>
    ) {
        let window = Self.checkWindow
        let holidayDays = IntervalSet(holidays.map(Self.wallDay))
        let shopOverrides = overrides.filter { $0.value.staff == nil }.map(\.value)
        let shopOpen = Self.applying(
            shopOverrides, to: hours.value.openIntervals(in: window, holidays: holidays), holidays: holidays)
        let shopOverrideDays = IntervalSet(Self.dates(of: shopOverrides).map(Self.wallDay))
        var overrideDates = Self.dates(of: shopOverrides)
        // Whole days closed (holidays, `closed: true` overrides) need no break: a break there is no slip.
        let shopClosedDays = holidayDays.union(IntervalSet(Self.dates(of: shopOverrides.filter { $0.hours == nil })
            .map(Self.wallDay)))
        checkBreaks(breaks, within: shopOpen, owner: "the shop's hours", closedDays: shopClosedDays,
            overrideDates: overrideDates, holidays: holidays)
        var staffOpen = IntervalSet()
        for member in staff {
            let own = overrides.filter { $0.value.staff == member.member.id }.map(\.value)
            overrideDates.formUnion(Self.dates(of: own))
            let ownHours = member.member.ownHours(in: window, holidays: holidays)
            let base = ownHours ?? IntervalSet(window)
            let memberHours = Self.applying(own, to: base, holidays: holidays)
            staffOpen = staffOpen.union(memberHours)
            checkBreaks(
                member.breaks, within: shopOpen.intersection(memberHours), owner: "\(member.member.id)'s hours",
                closedDays: shopClosedDays.union(IntervalSet(Self.dates(of: own.filter { $0.hours == nil })
                    .map(Self.wallDay))),
                overrideDates: overrideDates, holidays: holidays)
            guard let node = member.hoursNode, let ownHours else { continue }
            // Days a shop override covers are left out: the override decides those, not the weekly hours.
            let outside = ownHours.subtracting(holidayDays)
                .subtracting(shopOverrideDays).subtracting(shopOpen)
            guard !outside.isEmpty else { continue }
            reader.warning(
                node.location,
                "\(member.member.id)'s hours reach outside the shop's hours "
                    + "\(Self.whereText(outside, overrideDates: overrideDates)): they are never bookable",
                fix: "limit their hours to the shop's, or widen the shop's hours")
        }
        for override in overrides where override.value.staff == nil && override.value.hours != nil {
            let dates = Self.dates(of: [override.value])
            let idle = shopOpen.intersection(IntervalSet(dates.map(Self.wallDay))).subtracting(staffOpen)
            guard !idle.isEmpty else { continue }
            reader.warning(
                override.node.location,
                "this override opens the shop when no staff member works "
                    + "\(Self.whereText(idle, overrideDates: dates)): those hours are never bookable",
                fix: "add an override for a staff member that day (`staff: id`), or shorten the override's hours")
        }
    }

    /// Warns about breaks with time outside `hours` on days that are not holidays: the break does not apply there.
    mutating func checkBreaks(
        _ breaks: [Located<HoursExpression>], within hours: IntervalSet, owner: String, closedDays: IntervalSet,
        overrideDates: Set<LocalDate>, holidays: Set<LocalDate>
    ) {
        for item in breaks {
            let open = item.value.openIntervals(in: Self.checkWindow, holidays: holidays).subtracting(closedDays)
            let outside = open.subtracting(hours)
            guard !outside.isEmpty else { continue }
            let applied = open.intersection(hours)
            guard !applied.isEmpty else {
                reader.warning(
                    item.node.location,
                    "break '\(item.value.text)' lies wholly outside \(owner) "
                        + "\(Self.whereText(outside, overrideDates: overrideDates)): it never applies",
                    fix: "correct its days or times, or remove it")
                continue
            }
            let fix = Self.breakWithout(outside, of: item.value, applied: applied,
                overrideDates: overrideDates, holidays: holidays, closedDays: closedDays)
                .map { "nothing to do if that is meant; to say so, write '\($0)'" }
                ?? "nothing to do if that is meant; otherwise limit the break to the days and times it is for"
            reader.warning(
                item.node.location,
                "break '\(item.value.text)' lies outside \(owner) "
                    + "\(Self.whereText(outside, overrideDates: overrideDates)): it does not apply there",
                fix: fix)
        }
    }

    /// The break expression with the days it does not apply on turned `off` (`Tu-Sa 13:00-13:45; Sa off;
    /// 2026 Dec 24 off`), when that expression gives exactly the break as it applies; nil otherwise.
    static func breakWithout(
        _ outside: IntervalSet, of expression: HoursExpression, applied: IntervalSet, overrideDates: Set<LocalDate>,
        holidays: Set<LocalDate>, closedDays: IntervalSet
    ) -> String? {
        let (weekdays, dates) = days(of: outside, overrideDates: overrideDates)
        var text = expression.text
        if !weekdays.isEmpty { text += "; " + weekdayList(weekdays) + " off" }
        for date in dates.sorted() {
            text += "; \(date.year) \(RuleValues.yearlyText(month: date.month, day: date.day)) off"
        }
        guard case .success(let candidate) = HoursExpression.parse(text),
            candidate.openIntervals(in: checkWindow, holidays: holidays).subtracting(closedDays) == applied
        else { return nil }
        return text
    }

    /// Warns about a break listed twice and breaks that overlap one another (one of them suffices there).
    mutating func checkDuplicateBreaks(_ breaks: [Located<HoursExpression>], owner: String) {
        var open: [IntervalSet] = []
        for (index, item) in breaks.enumerated() {
            let intervals = item.value.openIntervals(in: Self.checkWindow, holidays: [])
            open.append(intervals)
            for earlier in 0..<index {
                let other = breaks[earlier]
                let at = other.node.location
                if other.value.text == item.value.text {
                    reader.warning(
                        item.node.location,
                        "break '\(item.value.text)' of \(owner) is listed twice (also at \(at.line):\(at.column))",
                        fix: "list it once")
                    break
                }
                let common = open[earlier].intersection(intervals)
                if !common.isEmpty {
                    reader.warning(
                        item.node.location,
                        "break '\(item.value.text)' of \(owner) overlaps break '\(other.value.text)' "
                            + "\(Self.whereText(common, overrideDates: []))",
                        fix: "merge them into one break, e.g. one span from the earlier start to the later end")
                    break
                }
            }
        }
    }

    /// Warns about a holiday listed twice (the same date, range, yearly date or Easter offset).
    mutating func checkDuplicateHolidays(_ items: [Located<[Holiday]>]) {
        var seen: [Holiday.Rule: YNode] = [:]
        // Imported calendars are left out: they often repeat a holiday also written by hand, harmlessly.
        for item in items where item.node.pairs?.contains(where: { $0.key.scalar?.string == "ics" }) != true {
            for holiday in item.value {
                if let earlier = seen[holiday.rule] {
                    let at = earlier.location
                    reader.warning(
                        item.node.location, "this holiday is already listed at \(at.file):\(at.line):\(at.column)",
                        fix: "list it once")
                    break
                }
                seen[holiday.rule] = item.node
            }
        }
    }

    /// Warns about a shop override that opens on a holiday: it lifts the holiday, and the shop opens that day.
    mutating func checkOverridesOnHolidays(_ overrides: [Located<Override>], holidays: [Holiday]) {
        for override in overrides where override.value.hours != nil {
            // A yearly override is looked at over the check window (two years).
            let first = override.value.repeatsYearly ? Self.checkStart : override.value.first
            let last = override.value.repeatsYearly
                ? Self.checkStart.adding(days: Self.checkDays - 1)
                : min(override.value.last, override.value.first.adding(days: 366))
            let covered = Set(override.value.dates(from: first, through: last))
            let dates = holidays.flatMap { $0.dates(from: first, through: last) }.filter(covered.contains)
            guard let date = dates.min() else { continue }
            let names = holidays.filter { $0.dates(from: date, through: date).contains(date) }.map(\.name)
                .filter { !$0.isEmpty }
            let whose = override.value.staff.map { "staff member '\($0)' works" } ?? "the shop opens"
            reader.warning(
                override.node.location,
                "this override reopens a holiday: \(whose) on \(date.weekday) \(date)"
                    + (names.isEmpty ? "" : " (\(names.joined(separator: ", ")))"),
                fix: "keep it if that is meant; otherwise remove the override or write `closed: true`")
        }
    }

    // MARK: - Hours over the check window

    static func wallDay(_ date: LocalDate) -> Interval {
        Interval(date.startWallMinute, date.adding(days: 1).startWallMinute)
    }

    /// The dates in the check window that `overrides` cover.
    static func dates(of overrides: [Override]) -> Set<LocalDate> {
        let last = checkStart.adding(days: checkDays - 1)
        return Set(overrides.flatMap { $0.dates(from: checkStart, through: last) })
    }

    /// `hours` with each day an override covers replaced by the override's hours (none when closed), as the
    /// engine does: a dated override before a yearly one.
    /// The days are replaced all at once: one subtraction and one union, not one of each per day, which made a
    /// season of time off cost as many passes over two years of hours as it has days.
    static func applying(_ overrides: [Override], to hours: IntervalSet, holidays: Set<LocalDate>) -> IntervalSet {
        var replacedDays: [Interval] = []
        var replacement: [Interval] = []
        for date in dates(of: overrides) {
            guard let override = Override.effective(overrides, on: date) else { continue }
            let day = wallDay(date)
            replacedDays.append(day)
            if let own = override.hours { replacement += own.openIntervals(in: day, holidays: holidays).intervals }
        }
        return hours.subtracting(IntervalSet(replacedDays)).union(IntervalSet(replacement))
    }

    /// The days `intervals` start on: weekdays of regular days, and the dates an override covers in order.
    static func days(
        of intervals: IntervalSet, overrideDates: Set<LocalDate>
    ) -> (weekdays: Set<Weekday>, dates: [LocalDate]) {
        var weekdays = Set<Weekday>()
        var dates: [LocalDate] = []
        for interval in intervals.intervals {
            let date = LocalDateTime(wallMinute: interval.lower).date
            if overrideDates.contains(date) {
                if !dates.contains(date) { dates.append(date) }
            } else {
                weekdays.insert(date.weekday)
            }
        }
        return (weekdays, dates)
    }

    /// Weekdays as an hour expression writes them, runs of three or more as ranges: `Mo-We,Sa`.
    static func weekdayList(_ weekdays: Set<Weekday>) -> String {
        var parts: [String] = []
        var run: [Weekday] = []
        func flush() {
            guard let first = run.first, let last = run.last else { return }
            parts.append(run.count >= 3 ? "\(first)-\(last)" : run.map(\.description).joined(separator: ","))
            run = []
        }
        for day in weekdays.sorted() {
            if let last = run.last, last.rawValue + 1 != day.rawValue { flush() }
            run.append(day)
        }
        flush()
        return parts.joined(separator: ",")
    }

    /// Where `intervals` lie, for a message: `on Sa (e.g. Sa 2026-01-10T13:00–13:45)`, naming weekdays for regular
    /// days and dates for days an override covers.
    static func whereText(_ intervals: IntervalSet, overrideDates: Set<LocalDate>) -> String {
        let (weekdays, dates) = days(of: intervals, overrideDates: overrideDates)
        var places: [String] = []
        if !weekdays.isEmpty { places.append(weekdayList(weekdays)) }
        if !dates.isEmpty {
            let shown = dates.prefix(3).map(\.description).joined(separator: ", ")
            places.append("the override of \(shown)\(dates.count > 3 ? ", …" : "")")
        }
        guard let first = intervals.intervals.first else { return "" }
        let start = LocalDateTime(wallMinute: first.lower)
        let end = LocalDateTime(wallMinute: first.upper)
        let endText = end.date == start.date ? String(end.description.suffix(5)) : end.description
        return "on \(places.joined(separator: " and on ")) (e.g. \(start.date.weekday) \(start)–\(endText))"
    }

    // MARK: - Version

    /// FNV-1a 64 over the file names and texts and the calendars they import, as 16 hex digits. Each text is
    /// followed by a 0xff byte (never in UTF-8), so moving text from one file to the next changes the version.
    /// A name counts without its directory: `rules/shop.yaml`, `./rules/shop.yaml`, an absolute path and the
    /// daemon's `shop.yaml` are one file, so the version depends on the files' names and contents only.
    func version(_ files: [RuleSource]) -> String {
        var hash = FNV1a64()
        func mix(_ text: String) {
            hash.combine(text.utf8)
            hash.combine(byte: 0xff)
        }
        for file in files {
            mix(String(file.name.split(separator: "/", omittingEmptySubsequences: false).last ?? ""))
            mix(file.text)
        }
        for name in usedAttachments.sorted() {
            mix(name)
            mix(attachments[name] ?? "")
        }
        return hash.paddedHex
    }
}
