import Foundation
import Hummingbird
import NIOCore
import SlotAPI
import SlotAuth
import SlotCore
import SlotEngine
import SlotStore
import Synchronization

/// The barber's admin page on the web listener (`/admin/`, only with `web.users`): a login, then the day and week
/// per chair, live from the event stream, and the booking actions. Every action is the socket API's operation on
/// the same `BookingService`, allowed by the same `Authorisation` decision for the user's role.
struct AdminRoutes: Sendable {
    let service: BookingService
    let streams: StreamRoutes
    let settings: WebSettings
    let assets: WebAssets
    let access: AdminAccess
    /// The rule editor (nil when the daemon gave no reloader, e.g. in tests of the routes alone).
    let rules: AdminRuleEditor?
    /// Day answers shared by the pages that ask at once.
    let dayAnswers = DayAnswers()

    static let csrfHeader = HTTPFields.Element.Name("X-CSRF-Token")!
    static let lastEventIDHeader = HTTPFields.Element.Name("Last-Event-ID")!

    func register(on router: Router<PublicRequestContext>) {
        // `/admin` and `/admin/` are one route (the router ignores a trailing slash).
        router.get("/admin") { request, _ in
            guard var response = assets.response("admin.html", request: request, cacheControl: "no-cache") else {
                throw APIError(.notFound, "the admin page is missing from this build")
            }
            response.headers[.contentSecurityPolicy] =
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
            response.headers[HTTPFields.Element.Name("Referrer-Policy")!] = "same-origin"
            return response
        }

        // MARK: Login
        router.post("/admin/api/login") { request, context in
            if let refusal = CSRFCheck.refusal(
                method: "POST", origin: request.headers[.origin],
                allowedOrigins: access.allowedOrigins(host: request.head.authority), sentToken: nil, sessionToken: nil)
            {
                throw APIError(.forbidden, refusal.description)
            }
            let login = try decode(AdminLoginRequest.self, from: try await collectBody(request, limit: 4_096))
            let address = ClientAddress.resolve(
                peer: context.channel.remoteAddress?.ipAddress,
                forwardedFor: request.headers[values: HTTPFields.Element.Name("X-Forwarded-For")!],
                trustedProxies: settings.trustedProxies)
            switch await access.login(
                name: login.name, password: login.password, address: address, now: service.clock.now())
            {
            case .locked(let seconds):
                throw RateLimited(retryAfterSeconds: seconds)
            case .failed:
                throw APIError(.unauthenticated, "wrong name or password")
            case .success(let session, let user):
                var response = try json(try me(session, user))
                response.headers[.setCookie] = access.cookie(
                    for: session, maxAge: settings.sessionPolicy.lifetimeSeconds)
                response.headers[.cacheControl] = "no-store"
                return response
            }
        }
        router.post("/admin/api/logout") { request, _ in
            let (session, _) = try authorised(request, .read)
            access.logout(session)
            var response = Response(status: .noContent)
            response.headers[.setCookie] = access.clearingCookie
            return response
        }
        router.get("/admin/api/me") { request, _ in
            let (session, user) = try authorised(request, .read)
            return try json(try me(session, user))
        }

        // MARK: Views
        router.get("/admin/api/day") { request, _ in
            _ = try authorised(request, .read)
            let query = request.uri.queryParameters
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(bytes: try await days(from: query.get("date"), count: query.get("days")))))
        }
        router.get("/admin/api/day/live") { request, context in
            _ = try authorised(request, .read)
            let query = request.uri.queryParameters
            let (date, count) = (query.get("date"), query.get("days"))
            // The day itself, pushed after every change: an open page redraws from it without asking back (one
            // request per open page per event was most of the live delay with many pages open). Each message is
            // the whole current day, so a page that reconnects after sleeping misses nothing.
            return try await streams.watch(
                channel: context.channel, framing: .serverSentEvents(event: "day"), what: "an admin page"
            ) { DayJSON(json: try await days(from: date, count: count)) }
        }
        router.get("/admin/api/events") { request, context in
            _ = try authorised(request, .read)
            // A reconnecting EventSource sends the last id it saw; the first connection names the day view's cursor.
            let since = request.headers[Self.lastEventIDHeader] ?? request.uri.queryParameters.get("since")
            return try await streams.events(
                since: since, type: nil, follow: "true", channel: context.channel,
                framing: .serverSentEvents(event: "event"))
        }
        router.get("/admin/api/find") { request, _ in
            _ = try authorised(request, .read)
            return try json(try await find(request.uri.queryParameters.get("q") ?? ""))
        }
        router.get("/admin/api/bookings/:id") { request, context in
            _ = try authorised(request, .read)
            return try json(try await bookingAnswer(try bookingID(context)))
        }

        // MARK: Actions (the socket's operations, the socket's permissions)
        router.post("/admin/api/bookings") { request, _ in
            let (_, user) = try authorised(request, .book)
            let create = try decode(CreateBookingRequest.self, from: try await collectBody(request, limit: 16_384))
            let key = request.headers[HTTPFields.Element.Name(APIVersion.idempotencyKeyHeader)!]
            let fingerprint =
                key == nil ? "" : Fingerprint.of("POST /admin/api/bookings", try JSONCoding.encoder.encode(create))
            // A walk-in or forced booking is decided by the login's role, and its event names the login.
            let answer = try await service.create(
                create, idempotencyKey: key.map { "admin:" + $0 }, fingerprint: fingerprint,
                requester: BookingRequester(role: user.role, uid: nil, user: user.name))
            return Response(
                status: HTTPResponse.Status(code: answer.status),
                headers: [.contentType: answer.status < 300 ? "application/json" : APIVersion.problemMediaType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        router.post("/admin/api/bookings/:id/cancel") { request, context in
            _ = try authorised(request, .cancel)
            let reason = try cancelReason(from: try await collectBody(request, limit: 4_096))
            return try json(try await service.transition(try bookingID(context), .cancel, reason: reason))
        }
        router.post("/admin/api/bookings/:id/reschedule") { request, context in
            _ = try authorised(request, .transition)
            let move = try decode(RescheduleRequest.self, from: try await collectBody(request, limit: 4_096))
            return try json(try await service.reschedule(try bookingID(context), to: move.start, staff: move.staff))
        }
        router.post("/admin/api/bookings/:id/notes") { request, context in
            _ = try authorised(request, .transition)
            let update = try bookingUpdate(from: try await collectBody(request, limit: 16_384))
            return try json(try await service.setNotes(try bookingID(context), update))
        }
        router.post("/admin/api/bookings/:id/complete") { request, context in
            _ = try authorised(request, .transition)
            return try json(try await service.transition(try bookingID(context), .complete))
        }
        router.post("/admin/api/bookings/:id/no-show") { request, context in
            _ = try authorised(request, .transition)
            return try json(try await service.transition(try bookingID(context), .markNoShow))
        }

        // MARK: Rule editor (admin only, like the socket's rule routes)
        router.get("/admin/api/rules") { request, _ in
            _ = try authorised(request, .admin)
            return try json(try await ruleEditor().files())
        }
        router.post("/admin/api/rules/check") { request, _ in
            _ = try authorised(request, .admin)
            let (name, text) = try await ruleText(request)
            return try json(await service.rules.check(candidate: text, name: name))
        }
        router.post("/admin/api/rules/preview") { request, _ in
            _ = try authorised(request, .admin)
            let (name, text) = try await ruleText(request)
            let days = try previewDays(request.uri.queryParameters.get("days"))
            return try json(try await service.preview(.file(name: name, text: text), days: days))
        }
        router.post("/admin/api/rules/save") { request, _ in
            _ = try authorised(request, .admin)
            let (name, text) = try await ruleText(request)
            return try json(try await ruleEditor().save(name: name, text: text))
        }
        router.get("/admin/api/rules/history") { request, _ in
            _ = try authorised(request, .admin)
            return try json(try await ruleEditor().history(name: request.uri.queryParameters.get("name") ?? ""))
        }
        router.post("/admin/api/rules/restore") { request, _ in
            _ = try authorised(request, .admin)
            let query = request.uri.queryParameters
            return try json(
                try await ruleEditor().restore(name: query.get("name") ?? "", version: query.get("version") ?? ""))
        }
    }

    func ruleEditor() throws(APIError) -> AdminRuleEditor {
        guard let rules else { throw APIError(.notFound, "the rule editor is not available here") }
        return rules
    }

    /// `?name=` (a plain rule file name) and the body's `text`.
    func ruleText(_ request: Request) async throws -> (name: String, text: String) {
        let name = request.uri.queryParameters.get("name") ?? ""
        try AdminRuleEditor.requirePlainName(name)
        let body = try decode(AdminRuleText.self, from: try await collectBody(request, limit: 1 << 20))
        return (name, body.text)
    }

    // MARK: - Access

    /// The request's session and user, when the user's role allows `permission` and (for a change) the request
    /// passes the CSRF check; else `401` (no session) or `403`.
    func authorised(_ request: Request, _ permission: Permission) throws -> (AdminSession, WebUser) {
        guard let (session, user) = access.session(cookieHeader: request.headers[.cookie], now: service.clock.now())
        else {
            throw APIError(.unauthenticated, "log in first — there is no session, or it has ended")
        }
        if let refusal = CSRFCheck.refusal(
            method: request.method.rawValue, origin: request.headers[.origin],
            allowedOrigins: access.allowedOrigins(host: request.head.authority),
            sentToken: request.headers[Self.csrfHeader], sessionToken: session.csrfToken)
        {
            throw APIError(.forbidden, refusal.description)
        }
        try Authorisation.require(permission, role: user.role, principal: .webUser(user.name))
        return (session, user)
    }

    func me(_ session: AdminSession, _ user: WebUser) throws -> AdminMe {
        let shop = try service.loaded().ruleSet.shop
        let zone = shop.timeZone
        return AdminMe(
            user: user.name, role: user.role.rawValue, staff: user.staff, csrfToken: session.csrfToken,
            timeZone: zone.identifier, today: zone.localDateTime(atInstant: service.clock.now()).date.description,
            slotStepMinutes: shop.slotStepMinutes)
    }

    func bookingID(_ context: PublicRequestContext) throws(APIError) -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty else { throw APIError(.notFound, "no such booking") }
        return id
    }

    // MARK: - Views

    /// `count` days (1 to 7) from `date` (today when absent), a column per staff member, as JSON.
    func days(from date: String?, count: String?) async throws -> Data {
        // Read first: every change committed after this reaches the page through the live feed.
        let cursor = try await service.store.latestCursor()
        let loaded = try service.loaded()
        let rules = loaded.ruleSet
        let zone = rules.shop.timeZone
        let now = service.clock.now()
        let first: LocalDate
        if let date {
            guard let parsed = LocalDate(iso: date) else {
                throw APIError.invalid("date", "'\(date)' is not a date — use YYYY-MM-DD")
            }
            first = parsed
        } else {
            first = zone.localDateTime(atInstant: now).date
        }
        let length: Int
        if let count {
            guard let number = Int(count), (1...7).contains(number) else {
                throw APIError.invalid("days", "a whole number from 1 to 7")
            }
            length = number
        } else {
            length = 1
        }
        // Every open page asks for the same day right after the same event: the first computes it, the others
        // share that answer (same days, same last event, same rules, same minute).
        let key = DayAnswers.Key(
            first: first.daysSinceEpoch, length: length, cursor: cursor, rules: loaded.version, minute: now / 60)
        return try await dayAnswers.answer(for: key) {
            // Encoded once for every page that shares the answer: encoding a day of bookings costs more than
            // computing it, and 50 open pages ask right after the same event.
            try JSONCoding.encoder.encode(
                try await computeDays(first: first, length: length, cursor: cursor, loaded: loaded, now: now))
        }
    }

    func computeDays(first: LocalDate, length: Int, cursor: Int64, loaded: LoadedRules, now: Int64) async throws
        -> AdminDays
    {
        let store = service.store
        let rules = loaded.ruleSet
        let zone = rules.shop.timeZone
        let last = first.adding(days: length - 1)
        func midnight(_ day: LocalDate) -> Int64 { zone.instant(atWallMinute: Int64(day.daysSinceEpoch) * 1440) }
        let window = Interval(midnight(first), midnight(last.adding(days: 1)))
        let schedule = loaded.schedule(from: first.adding(days: -1), through: last.adding(days: 1))
        let stored = try await store.bookings(
            matching: BookingQuery(from: window.lower, to: window.upper, limit: 5_000))
        // The conflict check of `booking.conflicts_rules`, for the shown bookings only (held or confirmed, from now).
        var conflicts: [String: [ExplainReason]] = [:]
        for booking in stored where booking.status.isActive && booking.start >= now {
            let reasons = RuleConflicts.check(booking, rules: loaded, now: now)
            if !reasons.isEmpty { conflicts[booking.id] = reasons }
        }
        let wire = WireMapping(zone: zone)
        // The payments and cards of all of them in two queries, not two per booking.
        let described = try await service.payments.bookings(stored, wire: wire)
        let details = Dictionary(zip(stored.map(\.id), described), uniquingKeysWith: { first, _ in first })

        func minute(_ instant: Int64, of day: LocalDate) -> Int {
            let local = zone.localDateTime(atInstant: instant)
            if local.date < day { return 0 }
            if local.date > day { return 1440 }
            return local.minuteOfDay
        }
        // A no-show's chair stayed free; a completed booking used it (held and confirmed ones hold it).
        let occupying = stored.filter { $0.status.isActive || $0.status == .completed }.map(\.bookedSpan)
        var firstMinute = 1440, lastMinute = 0
        var result: [AdminDays.Day] = []
        for offset in 0..<length {
            let day = first.adding(days: offset)
            let dayWindow = Interval(midnight(day), midnight(day.adding(days: 1)))
            let columns = rules.staff.map { member -> AdminDays.Column in
                let free = (schedule.freeTime(staff: member.id) ?? IntervalSet()).clamped(to: dayWindow)
                let open = free.intervals.map {
                    AdminDays.Span(start: minute($0.lower, of: day), end: minute($0.upper, of: day))
                }
                for span in open {
                    firstMinute = min(firstMinute, span.start)
                    lastMinute = max(lastMinute, span.end)
                }
                let blocks = stored.filter { $0.staffID == member.id && dayWindow.overlaps(Interval($0.start, $0.end)) }
                    .sorted { $0.start < $1.start }
                    .compactMap { booking -> AdminDays.Block? in
                        guard let detail = details[booking.id] else { return nil }
                        let start = minute(booking.start, of: day), end = minute(booking.end, of: day)
                        firstMinute = min(firstMinute, start)
                        lastMinute = max(lastMinute, end)
                        return AdminDays.Block(
                            booking: detail, start: start, end: end,
                            bufferBefore: booking.footprint.bufferBeforeMinutes,
                            bufferAfter: booking.footprint.bufferAfterMinutes, conflicts: conflicts[booking.id])
                    }
                return AdminDays.Column(staff: member.id, name: member.name, open: open, bookings: blocks)
            }
            let occupancy = rules.resources.map { resource -> AdminDays.Occupancy in
                let usage = ResourceUsage(resource: resource.id, bookings: occupying, within: dayWindow)
                let levels = usage.levels.compactMap { level -> AdminDays.Level? in
                    let shown = Interval(
                        max(level.span.lower, dayWindow.lower), min(level.span.upper, dayWindow.upper))
                    guard !shown.isEmpty else { return nil }
                    return AdminDays.Level(
                        start: minute(shown.lower, of: day), end: minute(shown.upper, of: day), units: level.units)
                }
                return AdminDays.Occupancy(
                    resource: resource.id, name: resource.name, capacity: resource.count, levels: levels)
            }
            result.append(AdminDays.Day(date: day.description, columns: columns, occupancy: occupancy))
        }
        if firstMinute >= lastMinute { (firstMinute, lastMinute) = (9 * 60, 18 * 60) }
        return AdminDays(
            from: first.description, timeZone: zone.identifier, cursor: cursor,
            firstMinute: firstMinute / 60 * 60, lastMinute: min(1440, (lastMinute + 59) / 60 * 60),
            staff: try service.staffList().staff, services: try service.serviceList().services, days: result)
    }

    /// Bookings from 90 days back to a year ahead whose id, customer name, phone or e-mail contains `text`.
    func find(_ text: String) async throws -> AdminFindAnswer {
        let needle = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard needle.count >= 2 else {
            throw APIError.invalid("q", "type at least two characters of a name, phone number or booking id")
        }
        let digits = needle.filter(\.isNumber)
        let now = service.clock.now()
        let stored = try await service.store.bookings(
            matching: BookingQuery(from: now - 90 * 86_400, to: now + 366 * 86_400, limit: 20_000))
        let zone = try service.loaded().ruleSet.shop.timeZone
        let wire = WireMapping(zone: zone)
        var found: [BookingDetails] = []
        for booking in stored {
            let customer = booking.customer
            let phoneDigits = (customer.phone ?? "").filter(\.isNumber)
            let hit = booking.id.lowercased().contains(needle) || customer.name.lowercased().contains(needle)
                || (customer.email ?? "").lowercased().contains(needle)
                || (digits.count >= 3 && phoneDigits.contains(digits))
            if hit { found.append(try await service.payments.booking(booking, wire: wire)) }
            if found.count >= 50 { break }
        }
        return AdminFindAnswer(bookings: found)
    }

    func bookingAnswer(_ id: String) async throws -> AdminBookingAnswer {
        let loaded = try service.loaded()
        guard let booking = try await service.store.booking(id: id) else {
            throw APIError(.bookingNotFound, "no booking with id '\(id)'")
        }
        let details = try await service.payments.booking(booking, wire: WireMapping(zone: loaded.ruleSet.shop.timeZone))
        let (fee, late) = service.cancellationQuote(booking, policy: loaded.ruleSet.policies)
        let reasons = booking.status.isActive && booking.start >= service.clock.now()
            ? RuleConflicts.check(booking, rules: loaded, now: service.clock.now()) : []
        return AdminBookingAnswer(booking: details, cancelFeeCents: fee, cancelInsideWindow: late, conflicts: reasons)
    }
}

/// A day answer's JSON as the live day stream sends it (the shared bytes, not encoded again per page): equal when
/// the bytes are, so a heartbeat that finds the day unchanged sends nothing.
struct DayJSON: Encodable, Equatable, Sendable, JSONWrittenOnce {
    let json: Data

    func encode(to encoder: any Encoder) throws {
        try JSONCoding.decoder.decode(JSONValue.self, from: json).encode(to: encoder)
    }
}

/// A few recent day answers (JSON), each computed once however many pages ask for it at the same time (single
/// flight).
final class DayAnswers: Sendable {
    struct Key: Hashable, Sendable {
        var first: Int
        var length: Int
        var cursor: Int64
        var rules: String
        var minute: Int64
    }

    private let tasks = Mutex<[(key: Key, task: Task<Data, any Error>)]>([])
    /// Enough for a shop's pages looking at a few different days.
    static let capacity = 16

    func answer(for key: Key, compute: @escaping @Sendable () async throws -> Data) async throws -> Data {
        let task = tasks.withLock { entries -> Task<Data, any Error> in
            if let found = entries.first(where: { $0.key == key }) { return found.task }
            let task = Task { try await compute() }
            entries.append((key, task))
            if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
            return task
        }
        do {
            return try await task.value
        } catch {
            // A failed answer is not kept: the next request tries again.
            tasks.withLock { entries in entries.removeAll { $0.key == key } }
            throw error
        }
    }
}
