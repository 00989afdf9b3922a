import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import SlotAPI
import SlotCore
import SlotEngine
import SlotStore

/// The HTTP routes of the API; handlers are thin: parse, check the role, call `BookingService`, encode.
struct Routes: Sendable {
    let service: BookingService
    let streams: StreamRoutes
    let startedAt: Int64
    let version: String
    let maxBodyBytes: Int
    /// The payment provider's webhook receiver.
    var webhooks: PaymentWebhooks? = nil
    /// The outbox routes (`/v1/outbox`), when the daemon runs a worker.
    var outbox: OutboxRoutes? = nil
    /// Reload, status, metrics, conflicts, backup and export (`OperationsRoutes`).
    var operations: OperationsRoutes? = nil
    /// The calendar feeds' tokens (`/v1/feeds`).
    var feeds: FeedRoutes? = nil

    func router(roles: [UInt32: Role]) -> Router<SlotRequestContext> {
        // HEAD on every GET route answers the GET's status and headers without its body.
        let router = Router(context: SlotRequestContext.self, options: .autoGenerateHeadEndpoints)
        let allowed = AllowedMethods()
        if let operations { router.middlewares.add(RequestMetricsMiddleware(metrics: operations.metrics)) }
        router.middlewares.add(ProblemMiddleware<SlotRequestContext>())
        router.middlewares.add(MethodNotAllowedMiddleware<SlotRequestContext>(allowed: allowed))
        router.middlewares.add(AccessMiddleware(roles: roles))

        router.get("/_ping") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "OK")))
        }
        router.get("/v1/health") { _, context in
            try context.require(.read)
            let rules = try service.loaded()
            return try json(
                Health(
                    status: "ok", version: version, apiVersion: APIVersion.current, rulesVersion: rules.version,
                    uptimeSeconds: Int(service.clock.now() - startedAt), role: context.role?.rawValue ?? ""))
        }
        router.get("/v1/openapi.yaml") { _, context in
            try context.require(.read)
            return Response(
                status: .ok, headers: [.contentType: "application/yaml"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }

        // MARK: Rules
        router.get("/v1/rules") { _, context in
            try context.require(.read)
            let loaded = try service.loaded()
            let shop = loaded.ruleSet.shop
            let zone = shop.timeZone
            return try json(
                RulesSummary(
                    version: loaded.version, files: loaded.ruleSet.files,
                    shop: ShopInfo(
                        name: shop.name, timezone: zone.identifier, currency: shop.currency,
                        slotStepMinutes: shop.slotStepMinutes, minNoticeMinutes: shop.minNoticeMinutes,
                        horizonMinutes: shop.horizonMinutes),
                    services: loaded.ruleSet.services.count, staff: loaded.ruleSet.staff.count,
                    loadedAt: zone.iso8601(instant: loaded.loadedAt), warnings: loaded.warnings.map(RuleHolder.wire)))
        }
        router.post("/v1/rules/check") { request, context in
            try context.require(.admin)
            let file = try candidateFile(try await body(request), name: request.uri.queryParameters.get("name"))
            return try json(await service.rules.check(candidate: file.text, name: file.name))
        }
        router.post("/v1/rules/preview") { request, context in
            try context.require(.admin)
            let data = try await body(request)
            let query = request.uri.queryParameters
            let days = try previewDays(query.get("days"))
            let candidate = try previewCandidate(
                data, contentType: request.headers[.contentType] ?? "", name: query.get("name"))
            return try json(try await service.preview(candidate, days: days))
        }
        // MARK: Catalog
        router.get("/v1/services") { _, context in
            try context.require(.read)
            return try json(try service.serviceList())
        }
        router.get("/v1/staff") { _, context in
            try context.require(.read)
            return try json(try service.staffList())
        }

        // MARK: Slots
        router.get("/v1/slots") { request, context in
            try context.require(.read)
            let query = request.uri.queryParameters
            let watch = query.get("watch").map { $0 == "true" || $0 == "1" } ?? false
            if watch {
                return try await streams.watchSlots(
                    service: query.get("service"), variant: query.get("variant"), staff: query.get("staff"),
                    from: query.get("from"), to: query.get("to"), channel: context.channel)
            }
            return try await service.slotsResponse(query)
        }
        router.get("/v1/slots/explain") { request, context in
            try context.require(.read)
            let query = request.uri.queryParameters
            return try json(
                try await service.explain(
                    service: query.get("service"), variant: query.get("variant"), staff: query.get("staff"),
                    at: query.get("at")))
        }

        // MARK: Bookings
        router.get("/v1/bookings") { request, context in
            try context.require(.read)
            let query = request.uri.queryParameters
            if let operations, ["true", "1"].contains(query.get("conflicts")) {
                return try json(try await operations.conflictList())
            }
            return try json(
                try await service.list(
                    from: query.get("from"), to: query.get("to"), staff: query.get("staff"),
                    status: query.get("status")))
        }
        router.post("/v1/bookings") { request, context in
            try context.require(.book)
            let data = try await body(request)
            let create = try decode(CreateBookingRequest.self, from: data)
            let headerName = APIVersion.idempotencyKeyHeader.lowercased()
            let key = request.headers.first { $0.name.canonicalName == headerName }?.value
            // The fingerprint is of the decoded request, so the same JSON formatted differently still matches. Only
            // a request with a key needs one (it is an encoding pass per booking).
            let fingerprint =
                key == nil
                ? "" : Fingerprint.of("POST /v1/bookings", try JSONCoding.encoder.encode(create))
            // Who made a walk-in or forced booking is recorded with the user name of the peer's uid.
            let requester = await BookingRequester.peer(
                context, needsName: create.walkIn == true || create.force != nil)
            let answer = try await service.create(
                create, idempotencyKey: key, fingerprint: fingerprint, requester: requester)
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        router.get("/v1/bookings/:id") { _, context in
            try context.require(.read)
            return try json(try await service.booking(id: try bookingID(context)))
        }
        router.get("/v1/bookings/:id/cancellation") { _, context in
            try context.require(.read)
            return try json(try await service.cancellationQuote(id: try bookingID(context)))
        }
        router.patch("/v1/bookings/:id") { request, context in
            try context.require(.transition)
            let update = try bookingUpdate(from: try await collectBody(request, limit: 16_384))
            return try json(try await service.setNotes(try bookingID(context), update))
        }
        router.post("/v1/bookings/:id/cancel") { request, context in
            try context.require(.cancel)
            let reason = try cancelReason(from: try await body(request))
            return try json(try await service.transition(try bookingID(context), .cancel, reason: reason))
        }
        router.post("/v1/bookings/:id/reschedule") { request, context in
            try context.require(.transition)
            let move = try decode(RescheduleRequest.self, from: try await body(request))
            return try json(try await service.reschedule(try bookingID(context), to: move.start, staff: move.staff))
        }
        router.post("/v1/bookings/:id/confirm") { _, context in
            try context.require(.transition)
            return try json(try await service.transition(try bookingID(context), .confirm))
        }
        router.post("/v1/bookings/:id/complete") { _, context in
            try context.require(.transition)
            return try json(try await service.transition(try bookingID(context), .complete))
        }
        router.post("/v1/bookings/:id/no-show") { _, context in
            try context.require(.transition)
            return try json(try await service.transition(try bookingID(context), .markNoShow))
        }

        // MARK: Payments
        // No role check: the payment provider reaches this route through a reverse proxy, so the peer is the
        // proxy's uid, not a person's. The request authenticates itself with its signature (HMAC with the webhook
        // secret, timestamp within the tolerance); anything else is 400 and changes nothing.
        router.post("/v1/payments/stripe/webhook") { request, _ in
            guard let webhooks else {
                throw APIError(.notFound, "payments are not configured to take webhooks — set `payments:` to stripe")
            }
            let data = try await body(request)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            return try json(try await webhooks.receive(headers: headers, body: data))
        }

        // MARK: Events
        router.get("/v1/events") { request, context in
            try context.require(.read)
            let query = request.uri.queryParameters
            return try await streams.events(
                since: query.get("since"), type: query.get("type"), follow: query.get("follow"),
                channel: context.channel)
        }
        outbox?.register(on: router)
        operations?.register(on: router)
        feeds?.register(on: router)
        CustomerRoutes(customers: CustomerService(service: service)).register(on: router)
        WaitlistService(service: service).map(WaitlistRoutes.init).map { $0.register(on: router) }
        allowed.load(router.routes.map { ($0.method.rawValue, $0.path.description) })
        return router
    }

    /// The request body, at most `maxBodyBytes` (else `413`).
    func body(_ request: Request) async throws -> Data { try await collectBody(request, limit: maxBodyBytes) }

    /// How much of an oversized body is read and dropped before giving up on the connection.
    static let discardLimit = 64 << 20

    func bookingID(_ context: SlotRequestContext) throws(APIError) -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty else {
            throw APIError(.notFound, "no such route")
        }
        return id
    }
}

extension BookingService {
    /// `GET /v1/services` (and the public listener's).
    func serviceList() throws(APIError) -> ServiceList {
        let loaded = try loaded()
        let wire = WireMapping(zone: loaded.ruleSet.shop.timeZone)
        return ServiceList(services: loaded.ruleSet.services.map { wire.service($0, staff: loaded.ruleSet.staff) })
    }

    /// `GET /v1/staff` (and the public listener's).
    func staffList() throws(APIError) -> StaffList {
        StaffList(staff: try loaded().ruleSet.staff.map { StaffInfo(id: $0.id, name: $0.name, services: $0.services) })
    }

    /// `GET /v1/slots` without `watch` (and the public listener's), encoded by the fast slot-list writer.
    func slotsResponse(_ query: FlatDictionary<Substring, Substring>) async throws -> Response {
        let list = try await slots(
            service: query.get("service"), variant: query.get("variant"), staff: query.get("staff"),
            from: query.get("from"), to: query.get("to"))
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try SlotListJSON.encode(list))))
    }
}

/// The request body, at most `limit` bytes (else `413`).
///
/// An oversized body is still read (and dropped) up to `Routes.discardLimit`, so a client that sends the whole body
/// before reading gets its 413 instead of stalling against a server that stopped reading.
func collectBody(_ request: Request, limit: Int) async throws -> Data {
    var data = Data()
    var total = 0
    for try await buffer in request.body {
        total += buffer.readableBytes
        if total > limit {
            if total > Routes.discardLimit { break }
            continue
        }
        data.append(contentsOf: buffer.readableBytesView)
    }
    if total > limit {
        throw APIError(.payloadTooLarge, "the request body is larger than \(limit) bytes — send a smaller request")
    }
    return data
}

/// Decodes a JSON request body; an empty body is malformed.
func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
    guard !data.isEmpty else { throw APIError(.malformedJSON, "the body is empty — send a JSON object") }
    return try JSONCoding.decoder.decode(type, from: data)
}

/// A cancel body's reason: the body may be empty; a control character is refused (line breaks and tabs are fine).
func cancelReason(from data: Data) throws -> String {
    let cancel = data.isEmpty ? CancelRequest() : try decode(CancelRequest.self, from: data)
    let reason = cancel.reason ?? ""
    if let problem = BookingService.controlCharacterProblem(reason, field: "reason", allowingLineBreaks: true) {
        throw APIError.invalid([problem])
    }
    return reason
}

/// A `PATCH /v1/bookings/{id}` body: a JSON object whose only field is `notes`; another field (a start, a status)
/// is a `422` that names the operation that changes it, rather than a change silently not made.
func bookingUpdate(from data: Data) throws -> BookingUpdateRequest {
    guard case .object(let fields) = try decode(JSONValue.self, from: data) else {
        throw APIError(.malformedJSON, "the body must be a JSON object like {\"notes\": \"…\"}")
    }
    let refused = fields.keys.filter { !BookingUpdateRequest.fields.contains($0) }.sorted()
    if !refused.isEmpty {
        throw APIError.invalid(
            refused.map {
                FieldProblem(
                    field: $0,
                    reason: "cannot be changed here: PATCH changes only notes — move a booking with POST "
                        + "/v1/bookings/{id}/reschedule, change its state with cancel, confirm, complete or no-show")
            })
    }
    return try decode(BookingUpdateRequest.self, from: data)
}

/// A `200` (or other) JSON response.
func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try JSONCoding.encoder.encode(value)
    return Response(
        status: status, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

/// A stable fingerprint of a request (FNV-1a, 64 bits), so a reused idempotency key with another body is caught.
/// Stored with each key: its bytes (head, a 0 byte, body; unpadded hex) must not change, or replays look reused.
enum Fingerprint {
    static func of(_ head: String, _ body: Data) -> String {
        var hash = FNV1a64()
        hash.combine(head.utf8)
        hash.combine(byte: 0)
        hash.combine(body)
        return String(hash.value, radix: 16)
    }
}

/// The `days` of a rules preview: 1 through a year, 28 when not given.
func previewDays(_ text: String?) throws(APIError) -> Int {
    guard let text else { return RulePreview.defaultDays }
    guard let days = Int(text), (1...BookingService.previewMaximumDays).contains(days) else {
        throw APIError.invalid("days", "a whole number of days from 1 to \(BookingService.previewMaximumDays)")
    }
    return days
}

/// The candidate of `POST /v1/rules/preview`: a JSON body (`application/json`) is a whole directory, anything
/// else one file named by `?name=`.
func previewCandidate(_ data: Data, contentType: String, name: String?) throws -> RuleCandidate {
    guard contentType.lowercased().hasPrefix("application/json") else {
        let file = try candidateFile(data, name: name)
        return .file(name: file.name, text: file.text)
    }
    // A whole candidate directory; `?name=` would be ambiguous with it.
    guard name == nil else {
        throw APIError.invalid("name", "leave out ?name= with a JSON body: its `files` name every file")
    }
    let files = try decode(RulePreviewRequest.self, from: data).files
    if let bad = files.keys.sorted().first(where: { !RuleCandidate.isAcceptedName($0) }) {
        throw APIError.invalid(
            "files", "'\(bad)' is not a rule file name: use plain names like shop.yaml (or holidays.ics)")
    }
    guard files.keys.contains(where: { !RuleCandidate.isCalendar($0) }) else {
        throw APIError.invalid("files", "name at least one rule file (*.yaml) and its text")
    }
    return .directory(files)
}

/// A candidate rule file as `POST /v1/rules/check` and `/v1/rules/preview` take it: the body's text, named by
/// `?name=` (`candidate.yaml` when not given).
func candidateFile(_ data: Data, name: String?) throws(APIError) -> (name: String, text: String) {
    guard let text = String(data: data, encoding: .utf8) else {
        throw APIError(.badRequest, "the rule file must be UTF-8 text")
    }
    let name = name ?? "candidate.yaml"
    guard !name.isEmpty, !name.contains("/") else {
        throw APIError.invalid("name", "a plain file name like shop.yaml")
    }
    return (name, text)
}
