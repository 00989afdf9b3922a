import Foundation
import Logging
import SlotAPI
import SlotCore
import SlotEngine
import SlotRules
import SlotStore

/// The API's use cases: slots, explanations, bookings and their transitions, over the store, the rules in force,
/// the event bus and the clock. HTTP-free, so the routes stay thin.
final class BookingService: Sendable {
    let store: any BookingStore
    let rules: RuleHolder
    let bus: EventBus
    let clock: WallClock
    let logger: Logger
    /// The payment provider in force and the deposits' records, for holds and the bookings' `payment`.
    let payments: PaymentDirectory
    /// The default country of customers' phone numbers (ISO 3166, `country:` in slotd.yaml).
    let phoneCountry: String

    init(
        store: any BookingStore, rules: RuleHolder, bus: EventBus, clock: WallClock, logger: Logger,
        payments: PaymentDirectory = .manual, phoneCountry: String = "DE"
    ) {
        self.store = store
        self.phoneCountry = phoneCountry
        self.payments = payments
        self.rules = rules
        self.bus = bus
        self.clock = clock
        self.logger = logger
    }

    /// The rules in force, or `503` when none are loaded.
    func loaded() throws(APIError) -> LoadedRules {
        guard let loaded = rules.current else {
            throw APIError(.unavailable, "no rules are loaded — fix the rule files and reload")
        }
        return loaded
    }

    // MARK: - Inputs

    /// The offering for one or several services (back to back) and a variant (of the first service).
    func offering(_ ids: [String], variant: String?, in loaded: LoadedRules, field: String = "service")
        throws(APIError) -> ServiceOffering
    {
        guard !ids.isEmpty, !ids.contains(where: { $0.isEmpty }) else {
            throw APIError.invalid(field, "name a service id (GET /v1/services lists them)")
        }
        var parts: [ServiceOffering] = []
        for (index, id) in ids.enumerated() {
            switch loaded.engine.offering(service: id, variant: index == 0 ? variant : nil) {
            case .success(let part):
                parts.append(part)
            case .failure(let reason):
                let name = reason.code == "unknown_variant" ? "variant" : (ids.count > 1 ? "\(field)[\(index)]" : field)
                throw APIError.invalid(name, reason.message)
            }
        }
        guard let combined = ServiceOffering.backToBack(parts) else {
            throw APIError.invalid(field, "name a service id")
        }
        return combined
    }

    /// `any` (or nothing) for a free staff member picked by the assign policy, else a known staff id.
    func staffChoice(_ text: String?, in loaded: LoadedRules) throws(APIError) -> StaffChoice {
        guard let text, !text.isEmpty, text != "any" else { return .any }
        guard loaded.ruleSet.staffMember(text) != nil else {
            let suggestion = Suggestion.closest(to: text, among: loaded.ruleSet.staff.map(\.id))
            throw APIError.invalid(
                "staff", "unknown staff member '\(text)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? ""))
        }
        return .member(text)
    }

    /// A named staff member who does not do the service is a wrong `staff`, not a taken or closed `start`.
    func performerProblem(_ choice: StaffChoice, offering: ServiceOffering, in loaded: LoadedRules) -> FieldProblem? {
        guard case .member(let id) = choice, let member = loaded.ruleSet.staffMember(id), !member.performs(offering)
        else { return nil }
        let missing = offering.serviceIDs.filter { !member.services.contains($0) }
        let who = loaded.ruleSet.staff.filter { $0.performs(offering) }.map(\.id)
        return FieldProblem(
            field: "staff",
            reason: "\(id) does not perform " + missing.map { "'\($0)'" }.joined(separator: ", ")
                + (who.isEmpty ? "" : " — ask for " + who.joined(separator: ", ") + " or any"))
    }

    /// A start: ISO 8601 with an offset, or a shop-local wall time (a wall time in a DST gap is refused).
    func instant(_ text: String, in loaded: LoadedRules, field: String) throws(APIError) -> Int64 {
        let zone = loaded.ruleSet.shop.timeZone
        let trimmed = text.trimmingWhitespace()
        if !Self.hasOffset(trimmed), let wall = LocalDateTime(iso: trimmed) {
            if case .skipped(let gapEnd) = zone.resolve(wallMinute: wall.wallMinute) {
                throw APIError.invalid(
                    field,
                    "\(wall) does not exist in \(zone.identifier) (DST gap; it ends at "
                        + "\(zone.iso8601(instant: gapEnd)))"
                )
            }
            return zone.instant(atWallMinute: wall.wallMinute)
        }
        guard let instant = zone.parseInstant(trimmed) else {
            throw APIError.invalid(
                field, "'\(text)' is not a time — use ISO 8601 like 2026-03-02T09:00:00+01:00 or 2026-03-02T09:00")
        }
        return instant
    }

    static func hasOffset(_ text: String) -> Bool {
        if text.hasSuffix("Z") || text.hasSuffix("z") { return true }
        guard text.count > 16, let sign = text.lastIndex(where: { $0 == "+" || $0 == "-" }) else { return false }
        return text.distance(from: text.startIndex, to: sign) > 10
    }

    /// A shop-local date.
    func date(_ text: String?, field: String) throws(APIError) -> LocalDate? {
        guard let text else { return nil }
        guard let date = LocalDate(iso: text) else {
            throw APIError.invalid(field, "'\(text)' is not a date — use YYYY-MM-DD")
        }
        return date
    }

    /// The instant of a local date's midnight.
    func midnight(_ date: LocalDate, in loaded: LoadedRules) -> Int64 {
        loaded.ruleSet.shop.timeZone.instant(atWallMinute: date.startWallMinute)
    }

    /// Where a booking of `offering` at `start` by `staff` sits: the schedule around it, and its times with the
    /// conflict window the store's check reads.
    func placement(of offering: ServiceOffering, at start: Int64, by staff: String, in loaded: LoadedRules)
        -> (schedule: Schedule, times: BookingTimes)
    {
        let (date, schedule) = loaded.schedule(around: start)
        let footprint = BookingFootprint(offering)
        let end = start + footprint.durationSeconds
        var times = BookingTimes(start: start, end: end, footprint: footprint)
        // For a staff member with a daily limit the check sees the whole local day too, so the limit counts every
        // booking of that day. Anyone else's check needs only what overlaps the booking's busy span (their
        // bookings, and the resources' it uses): the day's other bookings were read and decoded inside the staff
        // member's lock for nothing (about nine rows a booking in Benchmarks/postgres_bookings.py).
        if loaded.ruleSet.staffMember(staff)?.hasDailyLimit == true {
            let day = Interval(midnight(date, in: loaded), midnight(date.adding(days: 1), in: loaded))
            let busy = times.busy
            times.conflictWindow = Interval(min(day.lower, busy.lower), max(day.upper, busy.upper))
        }
        times.reminderMinutesBefore = loaded.ruleSet.policies.remindersMinutesBefore
        return (schedule, times)
    }

    /// The active bookings that can change the answer for starts of `offering` by `choice` on `first` through
    /// `last` (`SpanQuery` says which).
    func bookedSpans(
        for offering: ServiceOffering, choice: StaffChoice, from first: LocalDate, through last: LocalDate,
        in loaded: LoadedRules
    ) async throws -> [BookedSpan] {
        try await store.bookedSpans(
            SpanQuery(for: offering, by: choice, from: first, through: last, engine: loaded.engine))
    }

    // MARK: - Slots

    func slots(service: String?, variant: String?, staff: String?, from: String?, to: String?) async throws
        -> SlotList
    {
        let loaded = try loaded()
        let query = try slotQuery(service: service, variant: variant, staff: staff, from: from, to: to, in: loaded)
        return try await slotList(
            offering: query.offering, choice: query.choice, from: query.first, through: query.last, loaded: loaded,
            service: query.service)
    }

    /// A slot query's parameters (`GET /v1/slots`, a slot watch) checked against the rules: the offering, the
    /// staff choice and the dates, or the `422` naming what is wrong. No I/O (the request fuzzer drives it).
    func slotQuery(
        service: String?, variant: String?, staff: String?, from: String?, to: String?, in loaded: LoadedRules
    ) throws(APIError) -> SlotQuery {
        var problems: [FieldProblem] = []
        if service == nil { problems.append(FieldProblem(field: "service", reason: "is required")) }
        if from == nil { problems.append(FieldProblem(field: "from", reason: "is required (YYYY-MM-DD)")) }
        if !problems.isEmpty { throw APIError.missingQuery(problems) }
        let ids = (service ?? "").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let offering = try offering(ids, variant: variant, in: loaded)
        let choice = try staffChoice(staff, in: loaded)
        guard let first = try date(from, field: "from") else { throw APIError.invalid("from", "is required") }
        let last = try date(to, field: "to") ?? first
        guard first <= last else { throw APIError.invalid("to", "must not be before from") }
        guard last.daysSinceEpoch - first.daysSinceEpoch <= 92 else {
            throw APIError.invalid("to", "at most 92 days from `from` per query")
        }
        return SlotQuery(service: service ?? "", offering: offering, choice: choice, first: first, last: last)
    }

    /// The slot answer for a validated query (also what a watch recomputes).
    func slotList(
        offering: ServiceOffering, choice: StaffChoice, from first: LocalDate, through last: LocalDate,
        loaded: LoadedRules, service: String
    ) async throws -> SlotList {
        let bookings = try await bookedSpans(for: offering, choice: choice, from: first, through: last, in: loaded)
        let schedule = loaded.schedule(around: first, through: last)
        let found = loaded.engine.slots(
            for: offering, staff: choice, from: first, through: last, now: clock.now(), bookings: bookings,
            schedule: schedule)
        let wire = WireMapping(zone: loaded.ruleSet.shop.timeZone)
        return SlotList(
            service: service, staff: choice.description, from: first.description, to: last.description,
            rulesVersion: loaded.version, slots: found.map(wire.slot))
    }

    func explain(service: String?, variant: String?, staff: String?, at: String?) async throws -> Explanation {
        let loaded = try loaded()
        var problems: [FieldProblem] = []
        if service == nil { problems.append(FieldProblem(field: "service", reason: "is required")) }
        if staff == nil { problems.append(FieldProblem(field: "staff", reason: "is required (a staff id or any)")) }
        if at == nil { problems.append(FieldProblem(field: "at", reason: "is required (ISO 8601)")) }
        if !problems.isEmpty { throw APIError.missingQuery(problems) }
        let ids = (service ?? "").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let offering = try offering(ids, variant: variant, in: loaded)
        let choice = try staffChoice(staff, in: loaded)
        let zone = loaded.ruleSet.shop.timeZone
        let text = (at ?? "").trimmingCharacters(in: .whitespaces)
        let now = clock.now()
        let decision: Decision
        let start: Int64
        if !Self.hasOffset(text), let wall = LocalDateTime(iso: text) {
            start = zone.instant(atWallMinute: wall.wallMinute)
            let date = wall.date
            let bookings = try await bookedSpans(for: offering, choice: choice, from: date, through: date, in: loaded)
            decision = loaded.engine.decide(
                offering: offering, staff: choice, wallTime: wall, now: now, bookings: bookings,
                schedule: loaded.schedule(around: date, through: date))
        } else {
            start = try instant(text, in: loaded, field: "at")
            let date = zone.localDateTime(atInstant: start).date
            let bookings = try await bookedSpans(for: offering, choice: choice, from: date, through: date, in: loaded)
            decision = loaded.engine.decide(
                offering: offering, staff: choice, start: start, now: now, bookings: bookings,
                schedule: loaded.schedule(around: date, through: date))
        }
        let wire = WireMapping(zone: zone)
        var nearest: [SlotOffer] = []
        if !decision.isBookable {
            nearest = try await alternatives(offering: offering, choice: choice, around: start, loaded: loaded)
        }
        return Explanation(
            service: service ?? "", staff: decision.slot?.staff ?? choice.description, at: wire.time(start),
            bookable: decision.isBookable,
            reasons: decision.reasons.map(ExplainReason.init), nearest: nearest,
            end: decision.slot.map { wire.time($0.end) },
            price: decision.slot.map { wire.price(offering.performed(by: $0.staff).price) })
    }

    /// The nearest offered starts around `start`.
    func alternatives(offering: ServiceOffering, choice: StaffChoice, around start: Int64, loaded: LoadedRules)
        async throws -> [SlotOffer]
    {
        let date = loaded.ruleSet.shop.timeZone.localDateTime(atInstant: start).date
        let bookings = try await bookedSpans(
            for: offering, choice: choice, from: date.adding(days: -14), through: date.adding(days: 14), in: loaded)
        let wire = WireMapping(zone: loaded.ruleSet.shop.timeZone)
        return loaded.engine.nearestSlots(
            for: offering, staff: choice, around: start, now: clock.now(), bookings: bookings
        ).map(wire.slot)
    }

    // MARK: - Booking

    /// The answer to `POST /v1/bookings`: status and body bytes (a replay returns the stored ones).
    struct Answer: Sendable {
        var status: Int
        var body: Data
    }

    /// A create request's fields, checked against the rules in force.
    struct CheckedCreate {
        var offering: ServiceOffering
        var choice: StaffChoice
        var start: Int64
        /// The customer's name, trimmed.
        var name: String
        /// What a walk-in or forced booking sets aside (`none` for a customer's booking).
        var waiver: Waiver
        /// Why a forced booking is forced, trimmed.
        var forceReason: String?
        /// The customer's e-mail, trimmed (nil when not given).
        var email: String?
        /// The customer's phone in E.164 (nil when not given).
        var phone: String?
    }

    /// Checks every field of a create request (no store involved), so one `422` names every problem; a walk-in or
    /// forced booking by a requester who may not make one is a `403` first.
    func check(
        _ request: CreateBookingRequest, idempotencyKey: String?, in loaded: LoadedRules, now: Int64,
        requester: BookingRequester = .customer
    ) throws(APIError) -> CheckedCreate {
        let zone = loaded.ruleSet.shop.timeZone
        let waiver: Waiver = request.force != nil ? .forced : (request.walkIn == true ? .walkIn : .none)
        if waiver != .none && !requester.mayOverride {
            throw requester.overrideRefusal(waiver == .forced ? "a forced booking" : "a walk-in")
        }
        // Validate every field first, so one answer names every problem.
        var problems: [FieldProblem] = []
        func check(_ body: () throws(APIError) -> Void) {
            do { try body() } catch { problems += error.problem.fields ?? [] }
        }
        var ids: [String] = []
        if let services = request.services {
            ids = services
            if services.isEmpty {
                problems.append(FieldProblem(field: "services", reason: "name at least one service id"))
            }
            if request.service != nil && services.first != request.service {
                problems.append(FieldProblem(field: "services", reason: "give `service` or `services`, not both"))
            }
        } else if let service = request.service {
            ids = [service]
        } else {
            problems.append(FieldProblem(field: "service", reason: "is required (or `services` for several)"))
        }
        var offering: ServiceOffering?
        if !ids.isEmpty {
            check { () throws(APIError) in
                offering = try self.offering(
                    ids, variant: request.variant, in: loaded, field: request.services == nil ? "service" : "services")
            }
        }
        var choice = StaffChoice.any
        check { () throws(APIError) in choice = try staffChoice(request.staff, in: loaded) }
        if let offering, let problem = performerProblem(choice, offering: offering, in: loaded) {
            problems.append(problem)
        }
        var start: Int64?
        if let text = request.start {
            check { () throws(APIError) in start = try instant(text, in: loaded, field: "start") }
        } else if waiver != .none {
            // A walk-in without a time starts now: at the current minute.
            start = now - now.floorMod(60)
        } else {
            problems.append(
                FieldProblem(field: "start", reason: "is required (or `walk_in: true` to start a walk-in now)"))
        }
        // A walk-in's earliest start is the engine's to judge (`decide` with the waiver).
        if let value = start, value < now, waiver == .none {
            problems.append(
                FieldProblem(field: "start", reason: "is in the past (now is \(zone.iso8601(instant: now)))"))
        }
        var forceReason: String?
        if let force = request.force {
            let reason = force.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            forceReason = reason
            if reason.isEmpty {
                problems.append(
                    FieldProblem(field: "force.reason", reason: "say why the rules are set aside (it is recorded)"))
            }
            if reason.count > 500 {
                problems.append(FieldProblem(field: "force.reason", reason: "at most 500 characters"))
            }
            if let problem = Self.controlCharacterProblem(reason, field: "force.reason", allowingLineBreaks: false) {
                problems.append(problem)
            }
        }
        let name = request.customer.name.trimmingWhitespace(andNewlines: true)
        if name.isEmpty { problems.append(FieldProblem(field: "customer.name", reason: "must not be empty")) }
        if name.count > 200 { problems.append(FieldProblem(field: "customer.name", reason: "at most 200 characters")) }
        if let email = request.customer.email, !email.isEmpty,
            // (`utf8.contains`: with Foundation imported, `contains("@")` is a locale-aware search.)
            !(email.utf8.contains(UInt8(ascii: "@")) && !email.hasPrefix("@") && !email.hasSuffix("@")
                && email.count <= 254)
        {
            problems.append(FieldProblem(field: "customer.email", reason: "is not an email address"))
        }
        var phone: String?
        if let text = request.customer.phone, !text.trimmingWhitespace().isEmpty {
            if text.count > 40 {
                problems.append(FieldProblem(field: "customer.phone", reason: "at most 40 characters"))
            } else if Self.controlCharacterProblem(text, field: "customer.phone", allowingLineBreaks: false) == nil {
                // (A control character is reported once, below, with the other fields'.)
                switch Self.phoneNumber(text, country: phoneCountry) {
                case .success(let number): phone = number
                case .failure(let problem): problems.append(problem.field)
                }
            }
        }
        problems += Self.notesProblems(request.notes ?? "")
        for (field, text, lineBreaks) in [
            ("customer.name", name, false), ("customer.email", request.customer.email ?? "", false),
            ("customer.phone", request.customer.phone ?? "", false),
        ] {
            if let problem = Self.controlCharacterProblem(text, field: field, allowingLineBreaks: lineBreaks) {
                problems.append(problem)
            }
        }
        if let key = idempotencyKey, key.isEmpty || key.count > 200 {
            problems.append(FieldProblem(field: "Idempotency-Key", reason: "must be 1 to 200 characters"))
        }
        guard problems.isEmpty, let offering, let start else { throw APIError.invalid(problems) }
        let email = request.customer.email.map { $0.trimmingWhitespace() }.flatMap {
            $0.isEmpty ? nil : $0
        }
        return CheckedCreate(
            offering: offering, choice: choice, start: start, name: name, waiver: waiver, forceReason: forceReason,
            email: email, phone: phone)
    }

    /// A typed phone number in E.164, or the problem saying how to write it (`country` gives numbers without `+`
    /// their calling code).
    static func phoneNumber(_ text: String, country: String) -> Result<String, PhoneProblem> {
        switch PhoneNumber.normalise(text, defaultCountry: country) {
        case .success(let number):
            return .success(number.e164)
        case .failure(let problem):
            return .failure(PhoneProblem(field: FieldProblem(
                field: "customer.phone",
                reason: "'\(text)' is not a phone number: it \(problem) (e.g. +49 151 12345678, or 0151 12345678 "
                    + "for a number in \(country))")))
        }
    }

    /// A phone number that is not one, as the field problem to answer with.
    struct PhoneProblem: Error {
        var field: FieldProblem
    }

    /// Creates a booking; `requester` decides whether a walk-in or forced booking may be made, and is recorded in
    /// its event.
    func create(
        _ request: CreateBookingRequest, idempotencyKey: String?, fingerprint: String,
        requester: BookingRequester = .customer
    ) async throws -> Answer {
        let loaded = try loaded()
        let zone = loaded.ruleSet.shop.timeZone
        let now = clock.now()
        let checked = try check(request, idempotencyKey: idempotencyKey, in: loaded, now: now, requester: requester)
        let (offering, choice, start, name) = (checked.offering, checked.choice, checked.start, checked.name)
        let waiver = checked.waiver
        let override =
            waiver == .none
            ? nil
            : BookingOverride(
                waiver: waiver, reason: checked.forceReason, uid: requester.uid, user: requester.user)

        let wire = WireMapping(zone: zone)
        let (date, schedule) = loaded.schedule(around: start)
        let payments = self.payments
        let idempotency = idempotencyKey.map { key in
            IdempotencyRequest(key: key, fingerprint: fingerprint) { booking in
                let body = (try? JSONCoding.encoder.encode(payments.created(booking, wire: wire))) ?? Data()
                return IdempotentResponse(status: 201, body: body)
            }
        }

        let engine = loaded.engine
        return try await write(
            choice, offering: offering, start: start, loaded: loaded, waiving: waiver,
            pick: {
                let bookings = try await bookedSpans(
                    for: offering, choice: .any, from: date, through: date, in: loaded)
                return engine.decide(
                    offering: offering, staff: .any, start: start, now: now, bookings: bookings, schedule: schedule,
                    waiving: waiver)
            },
            noneFree: { try await replay(idempotencyKey, fingerprint: fingerprint) }
        ) { staffID in
            // The staff member's own price, deposit and duration, where they have them.
            let terms = offering.performed(by: staffID)
            let times = self.placement(of: terms, at: start, by: staffID, in: loaded).times
            let deposit = (terms.deposit?.minorUnits ?? 0) > 0 ? terms.deposit : nil
            // With `card_on_file`, a booking without a deposit is held until the customer's card is saved; not a
            // walk-in or forced booking: the customer is at the counter.
            let savesCard =
                deposit == nil && loaded.ruleSet.policies.cardOnFile && payments.savesCards && waiver == .none
            // Held until paid (or the card saved) only when the provider collects online; with `manual` the deposit
            // is due at the shop, and so it is for a walk-in or forced booking.
            let holdExpiresAt =
                (deposit == nil && !savesCard) || !payments.collectsOnline || waiver != .none
                ? nil : min(now + Int64(loaded.ruleSet.policies.holdMinutes) * 60, start)
            // The booking keeps which rule checks staff set aside, so later checks against the rules (the conflict
            // list, a reload's events, a rule preview) do not count them, and do count any other.
            let recorded = override.map { override in
                override.recording(
                    engine.ruleReasons(
                        staff: staffID, services: offering.serviceIDs, variant: request.variant, start: start,
                        now: now, schedule: schedule))
            }
            let new = NewBooking(
                staffID: staffID, services: offering.serviceIDs, variant: request.variant,
                times: times,
                price: terms.price, deposit: deposit,
                customer: CustomerInfo(name: name, email: checked.email, phone: checked.phone),
                notes: request.notes ?? "", holdExpiresAt: holdExpiresAt, override: recorded, savesCard: savesCard)
            let creation = try await store.createBooking(new, at: now, idempotency: idempotency) { conflicting in
                // The one decision function, run inside the store's write transaction.
                let decision = engine.decide(
                    offering: offering, staff: .member(staffID), start: start, now: now,
                    bookings: conflicting, schedule: schedule, waiving: waiver)
                return decision.isBookable ? nil : decision.reasons
            }
            switch creation {
            case .created(let booking, let events, let response):
                bus.publish(events)
                var metadata: Logger.Metadata = [
                    "booking": "\(booking.id)", "staff": "\(staffID)", "start": "\(wire.time(start))",
                ]
                if let override {
                    metadata["override"] = "\(override.waiver.rawValue)"
                    metadata["by"] = "\(override.who)"
                }
                logger.info("booking created", metadata: metadata)
                let body = try response?.body ?? JSONCoding.encoder.encode(payments.created(booking, wire: wire))
                return .done(Answer(status: 201, body: body))
            case .replayed(let record):
                return .done(Answer(status: record.response.status, body: record.response.body))
            case .rejected(let reasons):
                return .refused(reasons)
            }
        }
    }

    /// One try of a write for one staff member: its result, or the reasons the check in its transaction refused.
    enum Attempt<Success: Sendable>: Sendable {
        case done(Success)
        case refused([Reason])
    }

    /// Runs `attempt` for the staff member `choice` names, or with `.any` for the one `pick` finds free now (when
    /// none is, `noneFree`'s answer or the refusal); the check inside the write transaction confirms the pick, and
    /// when a racing write took that member meanwhile it picks again (three tries in all).
    func write<Success: Sendable>(
        _ choice: StaffChoice, offering: ServiceOffering, start: Int64, loaded: LoadedRules,
        waiving waiver: Waiver = .none, pick: () async throws -> Decision,
        noneFree: () async throws -> Success? = { nil },
        attempt: (String) async throws -> Attempt<Success>
    ) async throws -> Success {
        var lastReasons: [Reason] = []
        for _ in 0..<3 {
            let staffID: String
            switch choice {
            case .member(let id):
                staffID = id
            case .any:
                let decision = try await pick()
                guard let slot = decision.slot else {
                    if let answer = try await noneFree() { return answer }
                    throw try await refusal(
                        decision.reasons, offering: offering, choice: choice, start: start, loaded: loaded,
                        waiving: waiver)
                }
                staffID = slot.staff
            }
            switch try await attempt(staffID) {
            case .done(let success):
                return success
            case .refused(let reasons):
                lastReasons = reasons
            }
            if case .member = choice { break }
        }
        throw try await refusal(
            lastReasons, offering: offering, choice: choice, start: start, loaded: loaded, waiving: waiver)
    }

    /// A field holding a control character (U+0000–U+001F, U+007F; a note may break lines with tabs, CR and LF):
    /// refused rather than stripped, so what is stored is what the client sent, and a NUL never reaches a
    /// message, a calendar or another program.
    static func controlCharacterProblem(_ text: String, field: String, allowingLineBreaks: Bool) -> FieldProblem? {
        let allowed: Set<UInt32> = allowingLineBreaks ? [0x09, 0x0A, 0x0D] : []
        let isRefused = { (scalar: Unicode.Scalar) in
            (scalar.value < 0x20 || scalar.value == 0x7F) && !allowed.contains(scalar.value)
        }
        guard let bad = text.unicodeScalars.first(where: isRefused) else { return nil }
        let code = "U+" + String(bad.value, radix: 16, uppercase: true).leftPadded(to: 4)
        return FieldProblem(
            field: field,
            reason: "contains the control character \(code); remove it"
                + (allowingLineBreaks ? " (line breaks and tabs are fine)" : ""))
    }

    /// The problem for a refused start: `409` when it would be bookable but for other bookings, else `422`.
    func refusal(
        _ reasons: [Reason], offering: ServiceOffering, choice: StaffChoice, start: Int64, loaded: LoadedRules,
        waiving waiver: Waiver = .none
    ) async throws -> APIError {
        let withoutBookings = loaded.engine.decide(
            offering: offering, staff: choice, start: start, now: clock.now(), bookings: [],
            schedule: loaded.schedule(around: start).schedule,
            waiving: waiver)
        return APIError.notBookable(
            reasons, taken: withoutBookings.isBookable,
            alternatives: try await alternatives(offering: offering, choice: choice, around: start, loaded: loaded))
    }

    /// The stored answer for a key already used with this very request, if any.
    private func replay(_ key: String?, fingerprint: String) async throws -> Answer? {
        guard let key, let record = try await store.idempotencyRecord(key: key) else { return nil }
        guard record.fingerprint == fingerprint else {
            throw StoreError(
                .idempotencyKeyReused,
                "idempotency key '\(key)' was already used with a different request; use a new key for a new request")
        }
        return Answer(status: record.response.status, body: record.response.body)
    }

    func booking(id: String) async throws -> BookingDetails {
        let loaded = try loaded()
        guard let booking = try await store.booking(id: id) else {
            throw APIError(.bookingNotFound, "no booking with id or code '\(id)'")
        }
        return try await payments.booking(booking, wire: WireMapping(zone: loaded.ruleSet.shop.timeZone))
    }

    func list(from: String?, to: String?, staff: String?, status: String?) async throws -> BookingList {
        let loaded = try loaded()
        var problems: [FieldProblem] = []
        func bound(_ text: String?, field: String, end: Bool) -> Int64? {
            guard let text, !text.isEmpty else { return nil }
            if let date = LocalDate(iso: text) { return midnight(end ? date.adding(days: 1) : date, in: loaded) }
            do {
                return try instant(text, in: loaded, field: field)
            } catch {
                problems += error.problem.fields ?? []
                return nil
            }
        }
        let lower = bound(from, field: "from", end: false)
        let upper = bound(to, field: "to", end: true)
        var statuses: [BookingState] = []
        for part in (status ?? "").split(separator: ",") {
            if let state = BookingState(rawValue: String(part)) {
                statuses.append(state)
            } else {
                let known = BookingState.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append(FieldProblem(field: "status", reason: "unknown status '\(part)' — use \(known)"))
            }
        }
        if !problems.isEmpty { throw APIError.invalid(problems) }
        let found = try await store.bookings(
            matching: BookingQuery(
                from: lower, to: upper, staffID: staff.flatMap { $0.isEmpty ? nil : $0 }, statuses: statuses))
        let wire = WireMapping(zone: loaded.ruleSet.shop.timeZone)
        return BookingList(bookings: try await payments.bookings(found, wire: wire))
    }

    /// What cancelling booking `id` now would cost, or what its cancellation cost; changes nothing.
    func cancellationQuote(id: String) async throws -> CancellationQuoteDetails {
        let loaded = try loaded()
        guard let booking = try await store.booking(id: id) else {
            throw APIError(.bookingNotFound, "no booking with id '\(id)'")
        }
        let policies = loaded.ruleSet.policies
        switch booking.lifecycle.cancellationQuote(at: clock.now(), policy: policies) {
        case .failure(let error):
            throw APIError(.invalidTransition, error.message)
        case .success(let quote):
            let wire = WireMapping(zone: loaded.ruleSet.shop.timeZone)
            let deposit: String? =
                switch quote.deposit {
                case .refund?: "refund"
                case .keepDeposit?: "keep"
                case .cancelDeposit?: "cancel"
                case .createDeposit?, nil: nil
                }
            return CancellationQuoteDetails(
                booking: booking.id, cancelled: quote.applied, late: quote.terms.isLate,
                fee: quote.terms.fee.map(wire.price), minutesBeforeStart: quote.terms.minutesBeforeStart,
                windowMinutes: policies.cancellationWindowMinutes, deposit: booking.deposit == nil ? nil : deposit)
        }
    }

    /// Applies a transition and publishes its events.
    func transition(_ id: String, _ input: BookingInput, reason: String = "") async throws -> BookingDetails {
        let loaded = try loaded()
        let outcome = try await store.transition(
            id, input, at: clock.now(), policy: loaded.ruleSet.policies, reason: reason)
        bus.publish(outcome.events)
        logger.info("booking \(input)", metadata: ["booking": "\(id)", "status": "\(outcome.booking.status)"])
        return try await payments.booking(outcome.booking, wire: WireMapping(zone: loaded.ruleSet.shop.timeZone))
    }

    /// Moves a booking to the start `text` and to the staff member `staff` (an id, `any` for whoever is free there
    /// (the current one first), nil or empty to keep the current one), atomically.
    func reschedule(_ id: String, to text: String, staff: String? = nil) async throws -> BookingDetails {
        let loaded = try loaded()
        guard let booking = try await store.booking(id: id) else {
            throw APIError(.bookingNotFound, "no booking with id or code '\(id)'")
        }
        // The id, also when `id` is the booking's code: the move must not see the booking as its own obstacle.
        let id = booking.id
        let zone = loaded.ruleSet.shop.timeZone
        let now = clock.now()
        var problems: [FieldProblem] = []
        var start: Int64?
        do { start = try instant(text, in: loaded, field: "start") } catch { problems += error.problem.fields ?? [] }
        if let value = start, value < now {
            problems.append(
                FieldProblem(field: "start", reason: "is in the past (now is \(zone.iso8601(instant: now)))"))
        }
        let offering = try offering(booking.services, variant: booking.variant, in: loaded, field: "services")
        var choice = StaffChoice.member(booking.staffID)
        if let staff, !staff.isEmpty {
            do { choice = try staffChoice(staff, in: loaded) } catch { problems += error.problem.fields ?? [] }
            if let problem = performerProblem(choice, offering: offering, in: loaded) { problems.append(problem) }
        }
        guard problems.isEmpty, let start else { throw APIError.invalid(problems) }

        let (date, schedule) = loaded.schedule(around: start)
        let engine = loaded.engine
        return try await write(
            choice, offering: offering, start: start, loaded: loaded,
            pick: {
                let bookings = try await bookedSpans(for: offering, choice: .any, from: date, through: date, in: loaded)
                return engine.decideMove(
                    id, from: booking.staffID, offering: offering, staff: .any, start: start, now: now,
                    bookings: bookings, schedule: schedule)
            }
        ) { staffID in
            // The new staff member's own duration; the price stays what was agreed when booking.
            let times = self.placement(of: offering.performed(by: staffID), at: start, by: staffID, in: loaded).times
            let outcome = try await store.reschedule(id, to: times, staff: staffID, at: now) { conflicting in
                let decision = engine.decideMove(
                    id, from: booking.staffID, offering: offering, staff: .member(staffID), start: start, now: now,
                    bookings: conflicting, schedule: schedule)
                return decision.isBookable ? nil : decision.reasons
            }
            switch outcome {
            case .rescheduled(let outcome):
                bus.publish(outcome.events)
                logger.info(
                    "booking rescheduled",
                    metadata: [
                        "booking": "\(id)", "staff": "\(booking.staffID) -> \(staffID)",
                        "start": "\(zone.iso8601(instant: start))",
                    ])
                return .done(try await payments.booking(outcome.booking, wire: WireMapping(zone: zone)))
            case .rejected(let reasons):
                return .refused(reasons)
            }
        }
    }

    /// The longest notes a booking may carry.
    static let maximumNotesLength = 2000

    /// What is wrong with a booking's notes, for a new booking and a change alike: too long, or a control character
    /// other than a line break or a tab.
    static func notesProblems(_ notes: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if notes.count > maximumNotesLength {
            problems.append(FieldProblem(field: "notes", reason: "at most \(maximumNotesLength) characters"))
        }
        if let problem = controlCharacterProblem(notes, field: "notes", allowingLineBreaks: true) {
            problems.append(problem)
        }
        return problems
    }

    /// `PATCH /v1/bookings/{id}`: replaces the booking's notes (empty removes them) in any state, and publishes
    /// `booking.noted`; the same notes again change nothing.
    func setNotes(_ id: String, _ request: BookingUpdateRequest) async throws -> BookingDetails {
        let loaded = try loaded()
        guard let notes = request.notes else {
            throw APIError.invalid("notes", "is required: the booking's new notes (an empty string removes them)")
        }
        let problems = Self.notesProblems(notes)
        if !problems.isEmpty { throw APIError.invalid(problems) }
        let outcome = try await store.setNotes(id, to: notes, at: clock.now())
        bus.publish(outcome.events)
        if !outcome.events.isEmpty {
            logger.info("booking noted", metadata: ["booking": "\(outcome.booking.id)"])
        }
        return try await payments.booking(outcome.booking, wire: WireMapping(zone: loaded.ruleSet.shop.timeZone))
    }

    /// Expires due holds and publishes their events; returns how many expired.
    @discardableResult
    func expireHolds() async throws -> Int {
        let outcomes = try await store.expireHolds(at: clock.now())
        for outcome in outcomes {
            bus.publish(outcome.events)
            logger.info("hold expired", metadata: ["booking": "\(outcome.booking.id)"])
        }
        return outcomes.count
    }
}

/// A checked slot query: what `BookingService.slotQuery` makes of the parameters.
struct SlotQuery: Sendable {
    /// The `service` parameter as given (the answer repeats it).
    var service: String
    var offering: ServiceOffering
    var choice: StaffChoice
    var first: LocalDate
    var last: LocalDate
}

extension APIError {
    /// `400 bad_request` naming the missing query parameters: a request that leaves out a required parameter is
    /// malformed (`ProblemCode.badRequest`), unlike a present value that is wrong (`422 validation_failed`).
    static func missingQuery(_ fields: [FieldProblem]) -> APIError {
        let names = fields.map(\.field)
        let detail =
            "missing query parameter\(names.count == 1 ? "" : "s") "
            + names.joined(separator: ", ") + ": "
            + fields.map { "\($0.field) \($0.reason)" }.joined(separator: "; ")
        return APIError(.badRequest, detail, fields: fields)
    }
}

extension String {
    /// The string with zeros in front up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
