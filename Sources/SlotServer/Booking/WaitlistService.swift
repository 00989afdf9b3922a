import Foundation
import Logging
import SlotAPI
import SlotCore
import SlotEngine
import SlotRules
import SlotStore

/// The waitlist's use cases: join, list, leave, accept and decline an offer, and offer freed starts to the first in
/// line (the `waitlist.match` job). HTTP-free, like `BookingService`, whose rules, clock, bus and store it shares.
/// Who is offered what is `WaitlistMatcher`'s decision; an offer is a held booking the store makes with the entry's
/// `offered` state, and its answers are that booking's transitions.
struct WaitlistService: Sendable {
    let service: BookingService
    let store: any WaitlistStore

    init?(service: BookingService) {
        guard let store = service.store as? any WaitlistStore else { return nil }
        self.service = service
        self.store = store
    }

    /// The most entries one list answers with.
    static let maximumLimit = 1000

    // MARK: - Requests

    /// `POST /v1/waitlist`: checks every field (one `422` names them all), then joins the line.
    func join(_ request: JoinWaitlistRequest) async throws -> WaitlistEntryInfo {
        let loaded = try service.loaded()
        let now = service.clock.now()
        let zone = loaded.ruleSet.shop.timeZone
        let today = zone.localDateTime(atInstant: now).date
        var problems: [FieldProblem] = []
        func check(_ body: () throws(APIError) -> Void) {
            do { try body() } catch { problems += error.problem.fields ?? [] }
        }
        var offering: ServiceOffering?
        if let id = request.service {
            check { () throws(APIError) in offering = try service.offering([id], variant: request.variant, in: loaded) }
        } else {
            problems.append(FieldProblem(field: "service", reason: "is required (GET /v1/services lists them)"))
        }
        var choice = StaffChoice.any
        check { () throws(APIError) in choice = try service.staffChoice(request.staff, in: loaded) }
        if let offering, let problem = service.performerProblem(choice, offering: offering, in: loaded) {
            problems.append(problem)
        }
        var first: LocalDate?
        var last: LocalDate?
        if request.from == nil { problems.append(FieldProblem(field: "from", reason: "is required (YYYY-MM-DD)")) }
        check { () throws(APIError) in first = try service.date(request.from, field: "from") }
        check { () throws(APIError) in last = try service.date(request.to, field: "to") ?? first }
        if let first, let last {
            if last < first { problems.append(FieldProblem(field: "to", reason: "must not be before from")) }
            if last < today {
                problems.append(
                    FieldProblem(field: last == first ? "from" : "to", reason: "is in the past (today is \(today))"))
            }
            if last.daysSinceEpoch - max(first, today).daysSinceEpoch > WaitlistMatcher.maxRangeDays {
                problems.append(
                    FieldProblem(field: "to", reason: "at most \(WaitlistMatcher.maxRangeDays) days ahead of from"))
            }
        }
        let after = Self.minute(request.after, field: "after", problems: &problems)
        let before = Self.minute(request.before, field: "before", problems: &problems)
        if let after, let before, after >= before {
            problems.append(FieldProblem(field: "before", reason: "must be later than after"))
        }
        let name = request.customer.name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty { problems.append(FieldProblem(field: "customer.name", reason: "must not be empty")) }
        if name.count > 200 { problems.append(FieldProblem(field: "customer.name", reason: "at most 200 characters")) }
        let email = request.customer.email?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        if let email, !(email.contains("@") && !email.hasPrefix("@") && !email.hasSuffix("@") && email.count <= 254) {
            problems.append(FieldProblem(field: "customer.email", reason: "is not an email address"))
        }
        var phone: String?
        if let text = request.customer.phone?.trimmingCharacters(in: .whitespaces).nilIfEmpty {
            switch BookingService.phoneNumber(text, country: service.phoneCountry) {
            case .success(let number): phone = number
            case .failure(let problem): problems.append(problem.field)
            }
        }
        if email == nil && request.customer.phone?.trimmingCharacters(in: .whitespaces).nilIfEmpty == nil {
            problems.append(
                FieldProblem(field: "customer", reason: "give an email or a phone: the offer is sent there"))
        }
        if let notes = request.notes, notes.count > 2000 {
            problems.append(FieldProblem(field: "notes", reason: "at most 2000 characters"))
        }
        for (field, text, lineBreaks) in [
            ("customer.name", name, false), ("customer.email", email ?? "", false),
            ("notes", request.notes ?? "", true),
        ] {
            let problem = BookingService.controlCharacterProblem(text, field: field, allowingLineBreaks: lineBreaks)
            if let problem { problems.append(problem) }
        }
        guard problems.isEmpty, let offering, let first, let last else { throw APIError.invalid(problems) }
        let wish = WaitlistWish(
            service: offering.serviceIDs[0], variant: request.variant, staff: choice, first: first, last: last,
            fromMinute: after, toMinute: before)
        let change = try await store.joinWaitlist(
            NewWaitlistEntry(
                wish: wish, customer: CustomerInfo(name: name, email: email, phone: phone), notes: request.notes ?? ""),
            at: now)
        service.bus.publish(change.events)
        service.logger.info(
            "waitlist joined", metadata: ["entry": "\(change.entry.id)", "service": "\(wish.service)"])
        return try await info(change.entry, zone: zone)
    }

    /// `HH:MM` as a minute of the day, or nil (a problem recorded when it is not one).
    static func minute(_ text: String?, field: String, problems: inout [FieldProblem]) -> Int? {
        guard let text else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hours = Int(parts[0]),
            let minutes = Int(parts[1]), (0...24).contains(hours), (0..<60).contains(minutes),
            hours * 60 + minutes <= 1440
        else {
            problems.append(
                FieldProblem(field: field, reason: "'\(text)' is not a time of day — use HH:MM like 14:30"))
            return nil
        }
        return hours * 60 + minutes
    }

    /// `GET /v1/waitlist?status=&service=&staff=&date=&limit=`.
    func list(status: String?, service serviceID: String?, staff: String?, date: String?, limit: String?)
        async throws -> WaitlistList
    {
        let loaded = try service.loaded()
        var problems: [FieldProblem] = []
        var states: [WaitlistState] = []
        for name in (status ?? "").split(separator: ",") {
            if let state = WaitlistState(rawValue: String(name)) {
                states.append(state)
            } else {
                let all = WaitlistState.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append(FieldProblem(field: "status", reason: "unknown status '\(name)' — use \(all)"))
            }
        }
        var day: LocalDate?
        do { day = try service.date(date, field: "date") } catch { problems += error.problem.fields ?? [] }
        var count = 100
        if let limit {
            if let value = Int(limit), (1...Self.maximumLimit).contains(value) {
                count = value
            } else {
                problems.append(FieldProblem(field: "limit", reason: "a whole number from 1 to \(Self.maximumLimit)"))
            }
        }
        if !problems.isEmpty { throw APIError.invalid(problems) }
        let entries = try await store.waitlistEntries(
            WaitlistQuery(states: states, service: serviceID, staff: staff, date: day, limit: count))
        var infos: [WaitlistEntryInfo] = []
        for entry in entries { infos.append(try await info(entry, zone: loaded.ruleSet.shop.timeZone)) }
        return WaitlistList(entries: infos)
    }

    /// `GET /v1/waitlist/{id}`.
    func entry(id: String) async throws -> WaitlistEntryInfo {
        let loaded = try service.loaded()
        return try await info(try await stored(id), zone: loaded.ruleSet.shop.timeZone)
    }

    /// `DELETE /v1/waitlist/{id}`: the customer leaves the line (an entry holding an offer declines it).
    func leave(id: String) async throws -> WaitlistEntryInfo {
        let entry = try await stored(id)
        if entry.state == .offered { return try await decline(id: id) }
        let loaded = try service.loaded()
        let change = try await store.changeWaitlistEntry(entry.id, .leave, at: service.clock.now())
        service.bus.publish(change.events)
        return try await info(change.entry, zone: loaded.ruleSet.shop.timeZone)
    }

    /// `POST /v1/waitlist/{id}/accept`: confirms the offer's held booking.
    func accept(id: String) async throws -> WaitlistEntryInfo {
        try await answer(id, verb: "accept", input: .confirm, reason: "")
    }

    /// `POST /v1/waitlist/{id}/decline`: cancels the offer's held booking; the start goes to the next in line.
    func decline(id: String) async throws -> WaitlistEntryInfo {
        try await answer(id, verb: "decline", input: .cancel, reason: "declined the waitlist offer")
    }

    /// The open offer `booking` holds (a held booking made for someone in line), or nil.
    func openOffer(booking id: String) async throws -> WaitlistOffer? {
        try await offeredEntry(booking: id)?.offer
    }

    /// The customer's answer from the booking's own link: accepts or declines the offer `booking` holds.
    func answerOffer(booking id: String, accept: Bool) async throws {
        guard let entry = try await offeredEntry(booking: id) else {
            throw APIError(
                .invalidTransition,
                "this booking is not a waitlist offer waiting for an answer (it was answered, or it lapsed)")
        }
        _ = accept ? try await self.accept(id: entry.id) : try await decline(id: entry.id)
    }

    private func offeredEntry(booking id: String) async throws -> StoredWaitlistEntry? {
        try await store.waitlistEntries(WaitlistQuery(states: [.offered], offerBooking: id, limit: 1)).first
    }

    private func answer(_ id: String, verb: String, input: BookingInput, reason: String) async throws
        -> WaitlistEntryInfo
    {
        let entry = try await stored(id)
        guard entry.state == .offered, let offer = entry.offer else {
            throw APIError(.invalidTransition, "the entry has no offer to \(verb) (it is \(entry.state))")
        }
        _ = try await service.transition(offer.booking, input, reason: reason)
        return try await self.entry(id: entry.id)
    }

    private func stored(_ id: String) async throws -> StoredWaitlistEntry {
        guard let entry = try await store.waitlistEntry(id: id) else {
            throw APIError(.notFound, "no waitlist entry with id '\(id)' (GET /v1/waitlist lists them)")
        }
        return entry
    }

    // MARK: - Offers

    /// Offers freed starts to those in line until none fits (the `waitlist.match` job); closes entries whose dates
    /// are over. Returns a note for the job. Each round reads the bookings again, so an offer just made (a held
    /// booking) is seen by the next: one start is never offered twice.
    func offerFreedStarts() async throws -> String {
        let loaded = try service.loaded()
        let engine = loaded.engine
        let zone = loaded.ruleSet.shop.timeZone
        var offered: [String] = []
        var closed = 0
        for _ in 0..<64 {
            let now = service.clock.now()
            let waiting = try await store.waitlistEntries(WaitlistQuery(states: [.waiting]))
            guard !waiting.isEmpty else { break }
            let today = zone.localDateTime(atInstant: now).date
            let first = max(today, waiting.map(\.wish.first).min() ?? today)
            let last = min(first.adding(days: WaitlistMatcher.maxRangeDays), waiting.map(\.wish.last).max() ?? today)
            let window = Interval(
                service.midnight(first.adding(days: -2), in: loaded),
                service.midnight(last.adding(days: 3), in: loaded))
            let bookings = try await service.store.bookedSpans(SpanQuery(window: window))
            let decisions = WaitlistMatcher.decide(
                entries: waiting.map(\.waiting), engine: engine, bookings: bookings, now: now,
                offerHoldMinutes: loaded.ruleSet.policies.waitlistOfferHoldMinutes)
            var progressed = false
            for decision in decisions {
                switch decision {
                case .close(let id):
                    if let change = try? await store.changeWaitlistEntry(id, .close, at: now) {
                        service.bus.publish(change.events)
                        closed += 1
                        progressed = true
                    }
                case .offer(let id, let slot, let expiresAt):
                    guard let entry = waiting.first(where: { $0.id == id }) else { continue }
                    if try await offer(entry, slot: slot, expiresAt: expiresAt, loaded: loaded, now: now) {
                        offered.append(id)
                    }
                    // Refused or not, the next round sees the bookings as they are now.
                    progressed = true
                }
            }
            if !progressed { break }
        }
        return offered.isEmpty && closed == 0
            ? "no start to offer" : "offered to \(offered.count), closed \(closed)"
    }

    /// Makes one offer: the held booking for `slot`, checked again inside the store's transaction. False when
    /// someone took the start meanwhile or the entry no longer waits.
    private func offer(
        _ entry: StoredWaitlistEntry, slot: SlotEngine.Slot, expiresAt: Int64, loaded: LoadedRules, now: Int64
    ) async throws -> Bool {
        let wish = entry.wish
        guard case .success(let offering) = loaded.engine.offering(service: wish.service, variant: wish.variant)
        else { return false }
        let terms = offering.performed(by: slot.staff)
        let placement = service.placement(of: terms, at: slot.start, by: slot.staff, in: loaded)
        let new = NewBooking(
            staffID: slot.staff, services: offering.serviceIDs, variant: entry.wish.variant, times: placement.times,
            price: terms.price, customer: entry.customer, notes: entry.notes, holdExpiresAt: expiresAt)
        let engine = loaded.engine
        let schedule = placement.schedule
        let outcome: WaitlistOfferOutcome<[Reason]>
        do {
            outcome = try await store.offerWaitlistEntry(entry.id, booking: new, at: now) { conflicting in
                // The one decision function, run inside the store's write transaction.
                let decision = engine.decide(
                    offering: terms, staff: .member(slot.staff), start: slot.start, now: now,
                    bookings: conflicting, schedule: schedule)
                return decision.isBookable ? nil : decision.reasons
            }
        } catch {
            // Another worker answered for this entry first: nothing to offer it.
            guard error.code == .illegalTransition || error.code == .notFound else { throw error }
            return false
        }
        switch outcome {
        case .offered(let change, let booking):
            service.bus.publish(change.events)
            service.logger.info(
                "waitlist offer made",
                metadata: [
                    "entry": "\(entry.id)", "booking": "\(booking.id)", "staff": "\(slot.staff)",
                    "start": "\(zone(loaded).iso8601(instant: slot.start))",
                ])
            return true
        case .rejected:
            return false
        }
    }

    private func zone(_ loaded: LoadedRules) -> ShopTimeZone { loaded.ruleSet.shop.timeZone }

    // MARK: - Wire

    func info(_ entry: StoredWaitlistEntry, zone: ShopTimeZone) async throws -> WaitlistEntryInfo {
        let wire = WireMapping(zone: zone)
        var offer: WaitlistOfferInfo?
        if let made = entry.offer {
            let code = try await service.store.booking(id: made.booking)?.code
            offer = WaitlistOfferInfo(
                booking: made.booking, code: code?.nilIfEmpty, staff: made.staff, start: wire.time(made.start),
                expiresAt: wire.time(made.expiresAt))
        }
        return WaitlistEntryInfo(
            id: entry.id, position: entry.position, status: entry.state.rawValue, service: entry.wish.service,
            variant: entry.wish.variant, staff: entry.wish.staff.description, from: entry.wish.first.description,
            to: entry.wish.last.description, after: entry.wish.fromMinute.map(Self.clock),
            before: entry.wish.toMinute.map(Self.clock),
            customer: CustomerDetails(
                name: entry.customer.name, email: entry.customer.email, phone: entry.customer.phone),
            notes: entry.notes, offer: offer, createdAt: wire.time(entry.createdAt),
            updatedAt: wire.time(entry.updatedAt))
    }

    /// `14:30`.
    static func clock(_ minute: Int) -> String { String(format: "%02d:%02d", minute / 60, minute % 60) }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
