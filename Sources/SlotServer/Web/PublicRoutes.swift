import Foundation
import Hummingbird
import Logging
import NIOCore
import SlotAPI
import SlotCore
import SlotEngine
import SlotStore

/// The request context of the public listener: the connection, for the client's address and stalled streams.
struct PublicRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Bodies are collected explicitly with the listener's own cap (`web.limits.max_body_bytes`).
    var maxUploadSize: Int { APIVersion.maxBodyBytes }
}

/// The routes of the public listener (`web:`): the booking page and its assets, `/public/v1/…` and the Stripe
/// webhook. Nothing of the socket's control API is here; everything else is 404.
struct PublicRoutes: Sendable {
    let service: BookingService
    let streams: StreamRoutes
    let settings: WebSettings
    let links: CustomerLinks
    let assets: WebAssets
    /// The calendar feeds' records (`/calendar/{token}.ics`).
    let feeds: any FeedStore
    var webhooks: PaymentWebhooks?
    /// The payment provider's name (`stripe` shows the page Stripe.js).
    var paymentProvider: String
    let bookingLimiter: RateLimiter
    let lookupLimiter: RateLimiter
    /// The admin page (`/admin/`), when `web.users` names at least one login.
    let admin: AdminRoutes?

    init(
        service: BookingService, streams: StreamRoutes, settings: WebSettings, links: CustomerLinks,
        feeds: any FeedStore, webhooks: PaymentWebhooks?, paymentProvider: String, assets: WebAssets = WebAssets(),
        reloader: RuleReloader? = nil, rulesDirectory: String = ""
    ) {
        self.service = service
        self.feeds = feeds
        self.streams = streams
        self.settings = settings
        self.links = links
        self.assets = assets
        self.webhooks = webhooks
        self.paymentProvider = paymentProvider
        let clock = service.clock
        let seconds: @Sendable () -> Double = {
            let (whole, fraction) = clock.monotonic().components
            return Double(whole) + Double(fraction) / 1e18
        }
        bookingLimiter = RateLimiter(perMinute: settings.bookingsPerMinutePerIP, now: seconds)
        lookupLimiter = RateLimiter(perMinute: settings.tokenLookupsPerMinutePerIP, now: seconds)
        admin = settings.users.isEmpty
            ? nil
            : AdminRoutes(
                service: service, streams: streams, settings: settings, assets: assets,
                access: AdminAccess(settings: settings),
                rules: reloader.map {
                    AdminRuleEditor(
                        service: service, reloader: $0, directory: rulesDirectory, enabled: settings.rulesEditing)
                })
    }

    func router() -> Router<PublicRequestContext> {
        let router = Router(context: PublicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.middlewares.add(PublicProblemMiddleware(maxHeaderBytes: settings.maxHeaderBytes))

        // MARK: Pages and assets
        router.get("/") { request, _ in
            try page("index.html", request: request, status: .ok)
        }
        router.get("/b/:token") { request, context in
            try limit(lookupLimiter, request, context)
            let valid = bookingID(context.parameters.get("token") ?? "") != nil
            // The page shows the booking or, for a bad link, says so: the status tells crawlers and scripts too.
            return try page(assets.asset("manage.html") == nil ? "index.html" : "manage.html", request: request,
                            status: valid ? .ok : .notFound)
        }
        router.get("/assets/:file") { request, context in
            let file = context.parameters.get("file") ?? ""
            guard let response = assets.response(file, request: request, cacheControl: "public, max-age=3600")
                ?? assets.response("assets/" + file, request: request, cacheControl: "public, max-age=3600")
            else { throw APIError(.notFound, "no such file") }
            return response
        }

        // MARK: Catalog
        router.get("/public/v1/shop") { _, _ in try json(try shop()) }
        router.get("/public/v1/services") { _, _ in try json(try service.serviceList()) }
        router.get("/public/v1/staff") { _, _ in try json(try service.staffList()) }
        router.get("/public/v1/days") { request, _ in
            let query = request.uri.queryParameters
            return try json(
                try await days(
                    service: query.get("service"), variant: query.get("variant"), staff: query.get("staff"),
                    month: query.get("month")))
        }
        router.get("/public/v1/slots") { request, context in
            let query = request.uri.queryParameters
            if ["true", "1"].contains(query.get("watch")) {
                return try await streams.watchSlots(
                    service: query.get("service"), variant: query.get("variant"), staff: query.get("staff"),
                    from: query.get("from"), to: query.get("to"), channel: context.channel,
                    framing: .serverSentEvents(event: "slots"))
            }
            return try await service.slotsResponse(query)
        }

        // MARK: Bookings
        router.post("/public/v1/bookings") { request, context in
            try limit(bookingLimiter, request, context)
            return try await create(request)
        }
        router.get("/public/v1/bookings/:token") { request, context in
            try limit(lookupLimiter, request, context)
            let token = context.parameters.get("token") ?? ""
            if token.hasSuffix(".ics") { return try await calendar(token: String(token.dropLast(4))) }
            let booking = try await storedBooking(token)
            return try json(try await answer(booking, token: token, cancellation: true))
        }
        router.post("/public/v1/bookings/:token/cancel") { request, context in
            try limit(lookupLimiter, request, context)
            let token = context.parameters.get("token") ?? ""
            let booking = try await storedBooking(token)
            let data = try await collectBody(request, limit: settings.maxBodyBytes)
            let cancel = data.isEmpty ? CancelRequest() : try decode(CancelRequest.self, from: data)
            let reason = cancel.reason ?? ""
            if let problem = BookingService.controlCharacterProblem(reason, field: "reason", allowingLineBreaks: true) {
                throw APIError.invalid([problem])
            }
            guard reason.count <= 500 else { throw APIError.invalid("reason", "at most 500 characters") }
            try requireActive(booking, to: "cancel")
            _ = try await service.transition(booking.id, .cancel, reason: reason.isEmpty ? "cancelled online" : reason)
            return try json(try await answer(try await storedBooking(token), token: token, cancellation: true))
        }
        router.post("/public/v1/bookings/:token/reschedule") { request, context in
            try limit(lookupLimiter, request, context)
            let token = context.parameters.get("token") ?? ""
            let booking = try await storedBooking(token)
            let move = try decode(
                PublicRescheduleRequest.self, from: try await collectBody(request, limit: settings.maxBodyBytes))
            try requireActive(booking, to: "move")
            _ = try await service.reschedule(booking.id, to: move.start, staff: move.staff)
            // A moved booking ends later: its new link lasts longer; the old one keeps working until it expires.
            let moved = try await storedBooking(token)
            return try json(try await answer(moved, token: links.token(for: moved), cancellation: true))
        }
        // A waitlist offer's answers from the customer's own link (the offer's message carries it).
        router.post("/public/v1/bookings/:token/accept") { request, context in
            try limit(lookupLimiter, request, context)
            return try await answerOffer(token: context.parameters.get("token") ?? "", accept: true)
        }
        router.post("/public/v1/bookings/:token/decline") { request, context in
            try limit(lookupLimiter, request, context)
            return try await answerOffer(token: context.parameters.get("token") ?? "", accept: false)
        }
        router.get("/public/v1/bookings/:token/events") { request, context in
            try limit(lookupLimiter, request, context)
            let token = context.parameters.get("token") ?? ""
            let id = try await storedBooking(token).id
            let service = self.service
            return try await streams.watch(
                channel: context.channel, framing: .serverSentEvents(event: "booking"), what: "a booking watcher"
            ) { () async throws -> JSONValue? in
                guard let booking = try await service.store.booking(id: id) else { return nil }
                let zone = try service.loaded().ruleSet.shop.timeZone
                return try PublicBookingAnswer.customerView(
                    try await service.payments.booking(booking, wire: WireMapping(zone: zone)))
            }
        }

        // MARK: Calendar feeds
        router.get("/calendar/:file") { request, context in
            try limit(lookupLimiter, request, context)
            return try await feed(file: context.parameters.get("file") ?? "", logger: context.logger)
        }

        // MARK: Payments
        router.post("/public/v1/payments/stripe/webhook") { request, _ in
            guard let webhooks, paymentProvider == "stripe" else { throw APIError(.notFound, "no such page") }
            let data = try await collectBody(request, limit: max(settings.maxBodyBytes, 256 * 1024))
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            return try json(try await webhooks.receive(headers: headers, body: data))
        }
        admin?.register(on: router)
        return router
    }

    // MARK: - Pages

    func page(_ name: String, request: Request, status: HTTPResponse.Status) throws -> Response {
        guard var response = assets.response(name, request: request, cacheControl: "no-cache") else {
            throw APIError(.notFound, "the booking page is missing from this build")
        }
        if response.status == .ok { response.status = status }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy(stripeJSURL: settings.stripeJSURL)
        response.headers[HTTPFields.Element.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }

    /// Scripts, frames and calls only to here and Stripe (the customer's link is in the path: no referrer).
    ///
    /// Stripe.js from `js.stripe.com` calls `api.stripe.com` and opens its card and 3-D Secure frames from
    /// `js.stripe.com`, its subdomains and `hooks.stripe.com` (Stripe's security guide); a Stripe.js served from
    /// elsewhere (localstripe in the tests) talks to its own origin only.
    static func contentSecurityPolicy(stripeJSURL: String) -> String {
        let origin = URL(string: stripeJSURL).flatMap { url in
            url.scheme.flatMap { scheme in url.host.map { "\(scheme)://\($0)" + (url.port.map { ":\($0)" } ?? "") } }
        }
        var scripts = origin ?? "", frames = origin ?? "", calls = origin ?? ""
        if origin == "https://js.stripe.com" {
            scripts = "https://js.stripe.com https://*.js.stripe.com"
            frames = "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"
            calls = "https://api.stripe.com"
        }
        let frameSource = frames.isEmpty ? "'none'" : frames
        return "default-src 'self'; script-src 'self' \(scripts); frame-src \(frameSource); "
            + "connect-src 'self' \(calls); img-src 'self' data: https:; style-src 'self' 'unsafe-inline'"
    }

    // MARK: - Catalog

    func shop() throws -> PublicShop {
        let loaded = try service.loaded()
        let rules = loaded.ruleSet
        let policies = rules.policies
        var feeCents: Int?
        var feePercent: Int?
        switch policies.cancellationFee {
        case .none: feeCents = 0
        case .amount(let money): feeCents = money.minorUnits
        case .percent(let percent): feePercent = percent
        }
        let stripe = paymentProvider == "stripe"
            ? settings.stripePublishableKey.map { PublicShop.Stripe(publishableKey: $0, jsURL: settings.stripeJSURL) }
            : nil
        return PublicShop(
            title: settings.title.isEmpty ? rules.shop.name : settings.title, locale: settings.locale,
            accentColour: settings.accentColour, logoURL: settings.logo,
            legal: .init(imprint: settings.imprintURL, privacy: settings.privacyURL),
            timeZone: rules.shop.timeZone.identifier, currency: rules.shop.currency, country: settings.country,
            policies: .init(
                cancellationWindowMinutes: policies.cancellationWindowMinutes, cancellationFeeCents: feeCents,
                cancellationFeePercent: feePercent,
                cardOnFile: policies.cardOnFile && service.payments.savesCards, holdMinutes: policies.holdMinutes),
            stripe: stripe)
    }

    /// Which days of `month` have at least one free start: one engine pass over the month.
    func days(service id: String?, variant: String?, staff: String?, month: String?) async throws -> PublicDays {
        let loaded = try service.loaded()
        var missing: [FieldProblem] = []
        if id == nil { missing.append(FieldProblem(field: "service", reason: "is required")) }
        if month == nil { missing.append(FieldProblem(field: "month", reason: "is required (YYYY-MM)")) }
        if !missing.isEmpty { throw APIError.missingQuery(missing) }
        guard let month, let first = LocalDate(iso: month + "-01"), month.count == 7 else {
            throw APIError.invalid("month", "'\(month ?? "")' is not a month — use YYYY-MM")
        }
        let (year, number, _) = first.parts
        let last = LocalDate(year: year, month: number, day: LocalDate.daysIn(month: number, year: year)) ?? first
        let ids = (id ?? "").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let offering = try service.offering(ids, variant: variant, in: loaded)
        let choice = try service.staffChoice(staff, in: loaded)
        let bookings = try await service.bookedSpans(
            for: offering, choice: choice, from: first, through: last, in: loaded)
        let slots = loaded.engine.slots(
            for: offering, staff: choice, from: first, through: last, now: service.clock.now(), bookings: bookings,
            schedule: loaded.schedule(around: first, through: last))
        let zone = loaded.ruleSet.shop.timeZone
        let free = Set(slots.map { zone.localDateTime(atInstant: $0.start).date })
        let days = (first.daysSinceEpoch...last.daysSinceEpoch).map { day in
            let date = LocalDate(daysSinceEpoch: day)
            return PublicDays.Day(date: date.description, free: free.contains(date))
        }
        return PublicDays(month: month, days: days)
    }

    // MARK: - Bookings

    func create(_ request: Request) async throws -> Response {
        guard let key = request.headers[HTTPFields.Element.Name(APIVersion.idempotencyKeyHeader)!], !key.isEmpty else {
            throw APIError(
                .badRequest, "the Idempotency-Key header is required — send a new random key with each booking attempt",
                fields: [FieldProblem(field: "Idempotency-Key", reason: "is required")])
        }
        let data = try await collectBody(request, limit: settings.maxBodyBytes)
        var create = try decode(CreateBookingRequest.self, from: data)
        let consent = try decode(PublicConsent.self, from: data)
        var problems: [FieldProblem] = []
        if consent.consent != true {
            problems.append(FieldProblem(field: "consent", reason: "must be true: agree to the shop's policies"))
        }
        if let phone = create.customer.phone, !phone.isEmpty {
            switch PhoneNumber.normalise(phone, defaultCountry: settings.country) {
            case .success(let number): create.customer.phone = number.e164
            case .failure(let problem): problems.append(FieldProblem(field: "customer.phone", reason: "\(problem)"))
            }
        }
        if (create.customer.phone ?? "").isEmpty && (create.customer.email ?? "").isEmpty {
            problems.append(
                FieldProblem(field: "customer", reason: "give a phone number or an e-mail address, so the shop can reach you"))
        }
        if !problems.isEmpty { throw APIError.invalid(problems) }
        let fingerprint = Fingerprint.of("POST /public/v1/bookings", try JSONCoding.encoder.encode(create))
        // Subscribed before creating, so the deposit's arrival (a bus wake-up) cannot be missed.
        let subscription = service.bus.subscribe(bufferSize: 64)
        defer { subscription.cancel() }
        // The page's keys live in their own namespace, so they never meet the socket's clients' keys.
        let outcome = try await service.create(create, idempotencyKey: "web:" + key, fingerprint: fingerprint)
        guard outcome.status == 201 else {
            // A replay of a refused attempt is stored as what it was.
            return Response(
                status: HTTPResponse.Status(code: outcome.status), headers: [.contentType: APIVersion.problemMediaType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: outcome.body)))
        }
        let created = try JSONCoding.decoder.decode(BookingDetails.self, from: outcome.body)
        guard let booking = try await service.store.booking(id: created.id) else {
            throw APIError(.internalError, "the booking was created but cannot be read back")
        }
        var body = try await answer(booking, token: links.token(for: booking), cancellation: false)
        let payment: PublicBookingAnswer.PaymentStart? = try await awaitPaymentStart(booking, subscription: subscription)
        body.payment = .some(payment)
        return try json(body, status: .created)
    }

    /// How long the answer to a booking with a deposit waits for the provider's PaymentIntent (made by an outbox
    /// job right after the commit). Without it in time the answer has `payment: null` and the page follows the
    /// booking's feed, which carries the client secret once it is there.
    static let paymentWait: Duration = .seconds(10)

    /// The deposit's client secret: at once when it is recorded, else when the bus wakes us and it is, else nil
    /// after `paymentWait` (or for a booking that is not held for an online deposit).
    func awaitPaymentStart(_ booking: StoredBooking, subscription: EventBus.Subscription) async throws
        -> PublicBookingAnswer.PaymentStart?
    {
        guard booking.status == .held, service.payments.collectsOnline else { return nil }
        if let start = try await paymentStart(booking) { return start }
        let clock = service.clock
        return try await withThrowingTaskGroup(of: PublicBookingAnswer.PaymentStart?.self) { group in
            group.addTask {
                for await _ in subscription.stream {
                    if let start = try await paymentStart(booking) { return start }
                }
                return nil
            }
            group.addTask {
                try await clock.sleep(for: Self.paymentWait)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// The client secret the page confirms the deposit (or saves the card) with, once the provider has made the
    /// PaymentIntent (or SetupIntent).
    func paymentStart(_ booking: StoredBooking) async throws -> PublicBookingAnswer.PaymentStart? {
        guard booking.status == .held, let store = service.payments.store else { return nil }
        if booking.deposit == nil {
            guard let stored = try await store.card(bookingID: booking.id), stored.card.state == .pending,
                let secret = stored.card.clientSecret
            else { return nil }
            return .init(clientSecret: secret, kind: "setup")
        }
        guard let payment = try await store.payment(bookingID: booking.id), payment.status == .pending,
            let secret = payment.clientSecret
        else { return nil }
        return .init(clientSecret: secret, kind: "deposit")
    }

    /// A booking as the customer sees it, with its links (and what cancelling would cost).
    func answer(_ booking: StoredBooking, token: String, cancellation: Bool) async throws -> PublicBookingAnswer {
        let loaded = try service.loaded()
        let wire = WireMapping(zone: loaded.ruleSet.shop.timeZone)
        let details = try await service.payments.booking(booking, wire: wire)
        var answer = PublicBookingAnswer(
            booking: try PublicBookingAnswer.customerView(details), token: token,
            manageURL: links.manageURL(token), icsURL: links.icsURL(token))
        if cancellation, booking.status == .held, let waitlist = WaitlistService(service: service),
            let offer = try await waitlist.openOffer(booking: booking.id)
        {
            answer.offer = .init(expiresAt: wire.time(offer.expiresAt))
        }
        if cancellation {
            let possible = booking.status.isActive
            let (fee, late) = service.cancellationQuote(booking, policy: loaded.ruleSet.policies)
            let paid = details.payment?.status == "succeeded"
            let refund = possible && paid && !late ? (booking.deposit?.minorUnits ?? 0) : 0
            answer.cancellation = .init(feeCents: fee, refundCents: refund, insideWindow: late, possible: possible)
        }
        return answer
    }

    /// Accepts or declines the waitlist offer the token's booking holds; 409 for a booking that holds none.
    func answerOffer(token: String, accept: Bool) async throws -> Response {
        let booking = try await storedBooking(token)
        guard let waitlist = WaitlistService(service: service) else {
            throw APIError(.invalidTransition, "this booking is not a waitlist offer")
        }
        try await waitlist.answerOffer(booking: booking.id, accept: accept)
        return try json(try await answer(try await storedBooking(token), token: token, cancellation: true))
    }

    func bookingID(_ token: String) -> String? { links.signer.bookingID(of: token, now: service.clock.now()) }

    /// The booking a token names; a bad, forged or expired token is 404 (which of these is not said).
    func storedBooking(_ token: String) async throws -> StoredBooking {
        guard let id = bookingID(token), let booking = try await service.store.booking(id: id) else {
            throw APIError(.notFound, "this booking link is not valid (any more) — ask the shop for a new one")
        }
        return booking
    }

    func requireActive(_ booking: StoredBooking, to verb: String) throws(APIError) {
        guard booking.status.isActive else {
            throw APIError(
                .invalidTransition, "this booking is \(BookingStatus(booking.status)) and cannot \(verb) any more")
        }
    }

    // MARK: - Calendar

    func calendar(token: String) async throws -> Response {
        let booking = try await storedBooking(token)
        let calendar = BookingCalendar(rules: try service.loaded().ruleSet, settings: settings)
        let text = ICalendar.document(
            events: [calendar.customerEvent(booking, manageURL: links.manageURL(token))],
            productID: BookingCalendar.productID)
        return Self.calendarResponse(text, headers: [.contentDisposition: "attachment; filename=\"booking.ics\""])
    }

    /// `GET /calendar/{token}.ics`: the feed a token names, unless it is forged or the feed revoked (404 alike).
    func feed(file: String, logger: Logger) async throws -> Response {
        guard file.hasSuffix(".ics"), let id = links.signer.feedID(of: String(file.dropLast(4))),
            let feed = try await feeds.feed(id: id), feed.isActive
        else {
            throw APIError(.notFound, "this calendar feed does not exist (any more) — ask the shop for a new address")
        }
        let calendar = BookingCalendar(rules: try service.loaded().ruleSet, settings: settings)
        let now = service.clock.now()
        let window = BookingCalendar.window(at: now, settings: settings.calendar)
        let bookings = try await service.store.bookings(
            matching: BookingQuery(
                from: window.from, to: window.to, staffID: feed.staffID, limit: BookingCalendar.feedLimit))
        if bookings.count == BookingCalendar.feedLimit {
            logger.warning(
                "a calendar feed holds only its first bookings: shorten web.calendar.past or future",
                metadata: ["feed": "\(feed.id)", "limit": "\(BookingCalendar.feedLimit)"])
        }
        let text = calendar.feedDocument(
            BookingCalendar.feedBookings(bookings, at: now, settings: settings.calendar), staffID: feed.staffID,
            settings: settings.calendar)
        return Self.calendarResponse(text, headers: [.contentDisposition: "inline; filename=\"calendar.ics\""])
    }

    /// A `text/calendar` answer that no cache keeps: a revoked feed or a cancelled booking shows at the next fetch.
    static func calendarResponse(_ text: String, headers: HTTPFields) -> Response {
        var fields: HTTPFields = [.contentType: "text/calendar; charset=utf-8", .cacheControl: "no-store"]
        fields.append(contentsOf: headers)
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: - Limits

    func limit(_ limiter: RateLimiter, _ request: Request, _ context: PublicRequestContext) throws {
        let client = ClientAddress.resolve(
            peer: context.channel.remoteAddress?.ipAddress,
            forwardedFor: request.headers[values: HTTPFields.Element.Name("X-Forwarded-For")!],
            trustedProxies: settings.trustedProxies)
        if case .refused(let seconds) = limiter.take(client) { throw RateLimited(retryAfterSeconds: seconds) }
    }
}

extension PublicProblemMiddleware {
    /// The problem with other bookings' ids (the engine's "overlaps booking bk_…") replaced by words: a customer
    /// learns that a start is taken, not by which booking.
    static func withoutBookingIDs(_ problem: Problem) -> Problem {
        func scrub(_ text: String) -> String {
            text.replacing(/booking bk_[A-Za-z0-9]+/, with: "another booking")
                .replacing(/bk_[A-Za-z0-9]+/, with: "another booking")
        }
        var problem = problem
        problem.detail = scrub(problem.detail)
        problem.fields = problem.fields?.map { FieldProblem(field: $0.field, reason: scrub($0.reason)) }
        problem.reasons = problem.reasons?.map { ExplainReason(code: $0.code, message: scrub($0.message)) }
        return problem
    }
}

/// Too many requests from one client; the answer carries `Retry-After`.
struct RateLimited: Error, Sendable {
    let retryAfterSeconds: Int
}

/// The public listener's error answers: problem+json like the socket's, without anything internal (a 500 says
/// only that it failed), `429` with `Retry-After`, and `431` for an oversized header section.
struct PublicProblemMiddleware: RouterMiddleware {
    typealias Context = PublicRequestContext
    let maxHeaderBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var headerBytes = (request.uri.description.utf8.count)
        for field in request.headers { headerBytes += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        if headerBytes > maxHeaderBytes {
            return ProblemMapping.response(
                Problem(
                    code: .headersTooLarge,
                    detail: "the request's headers are larger than \(maxHeaderBytes) bytes — send fewer or shorter"))
        }
        do {
            return try await next(request, context)
        } catch let limited as RateLimited {
            var response = ProblemMapping.response(
                Problem(
                    code: .rateLimited,
                    detail: "too many requests from this address — try again in \(limited.retryAfterSeconds) s"))
            response.headers[.retryAfter] = "\(limited.retryAfterSeconds)"
            return response
        } catch {
            var problem = ProblemMapping.problem(for: error, logger: context.logger)
            switch ProblemCode(rawValue: problem.code) {
            case .notFound, .bookingNotFound:
                // Never the socket's hints (its routes, ids); one wording for every missing thing.
                problem = Problem(
                    code: .notFound,
                    detail: (error as? APIError)?.problem.detail ?? "no such page")
            case .internalError:
                problem = Problem(code: .internalError, detail: "the booking service failed; please try again later")
            default:
                break
            }
            if problem.status >= 500 {
                context.logger.error(
                    "public request failed", metadata: ["path": "\(request.uri.path)", "code": "\(problem.code)"])
            }
            return ProblemMapping.response(Self.withoutBookingIDs(problem))
        }
    }
}
