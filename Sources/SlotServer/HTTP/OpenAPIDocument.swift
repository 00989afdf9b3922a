/// The OpenAPI document of the v1 API, served at `GET /v1/openapi.yaml`.
///
/// It lives here, in one place, as a Swift string so the binary needs no resource bundle beside it; a test checks
/// that every route the router serves is described here and vice versa.
public enum OpenAPIDocument {
    /// The YAML text.
    public static let yaml = #"""
        openapi: 3.1.0
        info:
          title: slotd
          version: "1"
          description: |
            The scheduling daemon's API: HTTP/1.1 + JSON over a Unix socket
            (`curl --unix-socket state/slotd.sock http://localhost/v1/health`).
            Access: the socket file's mode and group decide who may connect; the peer's uid (SO_PEERCRED) maps to a
            role from the configuration. Roles: `admin` (everything), `staff` (reads, bookings and every transition),
            `booking` (reads, creating and cancelling bookings), `read` (GETs only). A uid with no role gets 403 on
            everything but `GET /_ping`.
            Errors are RFC 9457 `application/problem+json` with a stable `code` (see the Problem schema).
            Times: ISO 8601 with the shop's offset at each instant; inputs also accept a shop-local wall time
            `YYYY-MM-DDTHH:MM`. Dates are shop-local `YYYY-MM-DD`.
        servers:
          - url: http://localhost
        paths:
          /_ping:
            get:
              operationId: ping
              summary: Liveness and API version negotiation (no role needed).
              responses:
                "200":
                  description: "`OK`, with the `API-Version` header."
                  headers:
                    API-Version:
                      schema: { type: string, example: "1" }
                  content:
                    text/plain:
                      schema: { type: string, example: OK }
          /v1/health:
            get:
              operationId: health
              summary: Status, daemon version and rules version.
              responses:
                "200":
                  description: Healthy.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/Health" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/openapi.yaml:
            get:
              operationId: openapi
              summary: This document.
              responses:
                "200":
                  description: The OpenAPI document.
                  content:
                    application/yaml:
                      schema: { type: string }
                default: { $ref: "#/components/responses/Problem" }
          /v1/rules:
            get:
              operationId: getRules
              summary: The rules in force (summary, version hash, loaded files).
              responses:
                "200":
                  description: Summary.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/RulesSummary" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/rules/check:
            post:
              operationId: checkRules
              summary: Validate a candidate rule file sent as the body (admin). The rules in force are not changed.
              description: >
                The body is the YAML text of one rule file; `?name=FILE` sets the name diagnostics report (default
                `candidate.yaml`). The other files of the rules directory are loaded beside it, the candidate replacing
                the file of the same name, so cross-file references are checked too.
              parameters:
                - { name: name, in: query, required: false, schema: { type: string } }
              requestBody:
                required: true
                content:
                  application/yaml:
                    schema: { type: string }
              responses:
                "200":
                  description: The verdict (`ok` false when there are errors) and every diagnostic.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/RuleCheckResult" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/rules/reload:
            post:
              operationId: reloadRules
              summary: Reload the rules directory (admin); a bad rule set is rejected and the old rules keep serving.
              responses:
                "200":
                  description: Reloaded (or unchanged).
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/RuleReloadResult" }
                "422":
                  description: "`rules_invalid`, with `diagnostics`; the old rules stay in force."
                  content:
                    application/problem+json:
                      schema: { $ref: "#/components/schemas/Problem" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/status:
            get:
              operationId: getStatus
              summary: Operations status (read) — rules, last reload, bookings, outbox, a database write check, providers.
              responses:
                "200":
                  description: Status.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/DaemonStatus" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/metrics:
            get:
              operationId: getMetrics
              summary: Prometheus text format (read) — requests, latency, bookings, outbox, reloads, subscribers.
              responses:
                "200":
                  description: Metrics in the Prometheus text exposition format 0.0.4.
                  content:
                    text/plain:
                      schema: { type: string }
                default: { $ref: "#/components/responses/Problem" }
          /v1/backup:
            get:
              operationId: getBackup
              summary: A consistent copy of the database (admin), made with SQLite's online backup API and integrity checked.
              responses:
                "200":
                  description: The SQLite database file.
                  content:
                    application/vnd.sqlite3:
                      schema: { type: string, format: binary }
                default: { $ref: "#/components/responses/Problem" }
          /v1/export:
            get:
              operationId: getExport
              summary: Services, staff, customers and bookings as one JSON document (admin), for other software.
              responses:
                "200":
                  description: The export (format `slotd-export`, format_version 1; see the README).
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/Export" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/services:
            get:
              operationId: listServices
              summary: The services the shop sells.
              responses:
                "200":
                  description: Services.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/ServiceList" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/staff:
            get:
              operationId: listStaff
              summary: The staff, in declared order.
              responses:
                "200":
                  description: Staff.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/StaffList" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/slots:
            get:
              operationId: listSlots
              summary: Bookable starts; with `watch=true` a stream of answers, a new line each time the answer changes.
              parameters:
                - { name: service, in: query, required: true, schema: { type: string },
                    description: "A service id, or several joined by `,` (back to back)." }
                - { name: variant, in: query, required: false, schema: { type: string } }
                - { name: from, in: query, required: true, schema: { type: string, format: date } }
                - { name: to, in: query, required: false, schema: { type: string, format: date },
                    description: "Last date, inclusive; default `from`. At most 92 days." }
                - { name: staff, in: query, required: false, schema: { type: string },
                    description: "A staff id, or `any` (default)." }
                - { name: watch, in: query, required: false, schema: { type: boolean } }
              responses:
                "200":
                  description: >
                    The slots. With `watch=true`: `application/x-ndjson`, the current answer as the first line and then a
                    new line (the whole answer) each time it changes (bookings, cancellations, expiries, rule reloads).
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/SlotList" }
                    application/x-ndjson:
                      schema: { $ref: "#/components/schemas/SlotList" }
                "400":
                  description: "`bad_request`: `service` or `from` is missing; `fields` names each missing parameter."
                  content:
                    application/problem+json:
                      schema: { $ref: "#/components/schemas/Problem" }
                "422":
                  description: >
                    `validation_failed`: a parameter is present but wrong (an unknown service or staff member, a bad
                    date, `to` before `from`); `fields` names it.
                  content:
                    application/problem+json:
                      schema: { $ref: "#/components/schemas/Problem" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/slots/explain:
            get:
              operationId: explainSlot
              summary: Why a start is or is not bookable (the same function the booking check uses).
              parameters:
                - { name: service, in: query, required: true, schema: { type: string } }
                - { name: variant, in: query, required: false, schema: { type: string } }
                - { name: staff, in: query, required: true, schema: { type: string } }
                - { name: at, in: query, required: true, schema: { type: string, format: date-time } }
              responses:
                "200":
                  description: The verdict with every reason.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/Explanation" }
                "400":
                  description: "`bad_request`: `service`, `staff` or `at` is missing; `fields` names each one."
                  content:
                    application/problem+json:
                      schema: { $ref: "#/components/schemas/Problem" }
                "422":
                  description: "`validation_failed`: a parameter is present but wrong; `fields` names it."
                  content:
                    application/problem+json:
                      schema: { $ref: "#/components/schemas/Problem" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/bookings:
            get:
              operationId: listBookings
              summary: Bookings, filtered; sorted by start.
              parameters:
                - { name: from, in: query, required: false, schema: { type: string },
                    description: "A date (its local midnight) or an instant; bookings starting at or after it." }
                - { name: to, in: query, required: false, schema: { type: string },
                    description: "A date (inclusive) or an instant (exclusive)." }
                - { name: staff, in: query, required: false, schema: { type: string } }
                - { name: status, in: query, required: false, schema: { type: string },
                    description: "One status or several joined by `,`." }
                - { name: conflicts, in: query, required: false, schema: { type: boolean },
                    description: "`true`: held/confirmed future bookings the rules in force no longer allow." }
              responses:
                "200":
                  description: Bookings (a BookingConflictList with `conflicts=true`).
                  content:
                    application/json:
                      schema:
                        oneOf:
                          - { $ref: "#/components/schemas/BookingList" }
                          - { $ref: "#/components/schemas/BookingConflictList" }
                default: { $ref: "#/components/responses/Problem" }
            post:
              operationId: createBooking
              summary: Book a start (admin, staff, booking). Repeating the same `Idempotency-Key` returns the first answer.
              parameters:
                - { name: Idempotency-Key, in: header, required: false, schema: { type: string, maxLength: 200 } }
              requestBody:
                required: true
                content:
                  application/json:
                    schema: { $ref: "#/components/schemas/CreateBookingRequest" }
              responses:
                "201":
                  description: Booked (`confirmed`, or `held` until its deposit arrives).
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/Booking" }
                "409":
                  description: "`slot_unavailable`: the start is taken or not bookable; `alternatives` lists free starts."
                  content:
                    application/problem+json:
                      schema: { $ref: "#/components/schemas/Problem" }
                "422":
                  description: >
                    `validation_failed` (see `fields`: e.g. `service` for an unknown service, `staff` for an unknown
                    staff member or one who does not perform the service, `start` for a closed or past start) or
                    `idempotency_key_reused`.
                  content:
                    application/problem+json:
                      schema: { $ref: "#/components/schemas/Problem" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/bookings/{id}:
            get:
              operationId: getBooking
              parameters:
                - { $ref: "#/components/parameters/BookingID" }
              responses:
                "200":
                  description: The booking.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/Booking" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/bookings/{id}/cancel:
            post:
              operationId: cancelBooking
              summary: Cancel a held or confirmed booking (admin, staff, booking).
              parameters:
                - { $ref: "#/components/parameters/BookingID" }
              requestBody:
                required: false
                content:
                  application/json:
                    schema: { $ref: "#/components/schemas/CancelRequest" }
              responses:
                "200": { $ref: "#/components/responses/Booking" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/bookings/{id}/reschedule:
            post:
              operationId: rescheduleBooking
              summary: Move a booking to a new start, atomically (admin, staff); 409 with alternatives when taken.
              parameters:
                - { $ref: "#/components/parameters/BookingID" }
              requestBody:
                required: true
                content:
                  application/json:
                    schema: { $ref: "#/components/schemas/RescheduleRequest" }
              responses:
                "200": { $ref: "#/components/responses/Booking" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/bookings/{id}/confirm:
            post:
              operationId: confirmBooking
              summary: Confirm a held booking by hand, e.g. a deposit paid in cash (admin, staff).
              parameters:
                - { $ref: "#/components/parameters/BookingID" }
              responses:
                "200": { $ref: "#/components/responses/Booking" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/bookings/{id}/complete:
            post:
              operationId: completeBooking
              summary: Mark a confirmed booking completed (admin, staff).
              parameters:
                - { $ref: "#/components/parameters/BookingID" }
              responses:
                "200": { $ref: "#/components/responses/Booking" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/bookings/{id}/no-show:
            post:
              operationId: noShowBooking
              summary: Mark a confirmed booking as a no-show (admin, staff).
              parameters:
                - { $ref: "#/components/parameters/BookingID" }
              responses:
                "200": { $ref: "#/components/responses/Booking" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/payments/stripe/webhook:
            post:
              operationId: stripeWebhook
              summary: Stripe's webhook (through a reverse proxy); authenticated by its signature, not by role.
              description: >
                The only route without a role check: Stripe reaches it through a reverse proxy, so the peer is the
                proxy, not a person. The raw body must carry a `Stripe-Signature` (`t=…,v1=…`): HMAC-SHA256 of
                `<t>.<body>` under the webhook secret, with `t` within the tolerance (300 s by default). A forged,
                stale or malformed request is 400 and changes nothing. `payment_intent.succeeded` confirms the held
                booking (events `payment.succeeded`, `booking.confirmed`); an event id already applied is answered
                200 with `outcome: duplicate` and changes nothing.
              parameters:
                - { name: Stripe-Signature, in: header, required: true, schema: { type: string } }
              requestBody:
                required: true
                content:
                  application/json:
                    schema: { type: object, description: "A Stripe event, byte for byte as signed." }
              responses:
                "200":
                  description: Applied, a duplicate, or nothing to change.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/WebhookReceipt" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/events:
            get:
              operationId: streamEvents
              summary: The event stream; replays the durable log after `since`, then live.
              description: >
                Chunked `application/x-ndjson`, one EventLine a line. A `heartbeat` line is sent when idle (every 15 s by
                default). A subscriber that does not read is sent an `overflow` line once its buffer is full and the
                stream is closed; reconnect with `since=<cursor of the last line read>` to miss nothing.
                `follow=false` ends the stream after the replay.
              parameters:
                - { name: since, in: query, required: false, schema: { type: integer, minimum: 0 },
                    description: "The last cursor seen; default 0 (the whole log)." }
                - { name: type, in: query, required: false, schema: { type: string },
                    description: "An event type, or a prefix ending in `*` (`booking.*`)." }
                - { name: follow, in: query, required: false, schema: { type: boolean, default: true } }
              responses:
                "200":
                  description: Event lines.
                  content:
                    application/x-ndjson:
                      schema: { $ref: "#/components/schemas/EventLine" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/outbox:
            get:
              operationId: listOutbox
              summary: Outbox jobs, newest first, with counts by state (admin, staff).
              parameters:
                - { name: state, in: query, required: false, schema: { type: string, enum: [pending, done, failed] } }
                - { name: limit, in: query, required: false, schema: { type: integer, minimum: 1, maximum: 1000, default: 100 } }
              responses:
                "200":
                  description: Jobs and counts.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/OutboxJobList" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/outbox/{id}:
            get:
              operationId: getOutboxJob
              summary: One outbox job (admin, staff).
              parameters:
                - { $ref: "#/components/parameters/OutboxJobID" }
              responses:
                "200":
                  description: The job.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/OutboxJob" }
                default: { $ref: "#/components/responses/Problem" }
          /v1/outbox/{id}/retry:
            post:
              operationId: retryOutboxJob
              summary: Puts a failed job back to pending, due now, attempts reset (admin); 409 unless it is failed.
              parameters:
                - { $ref: "#/components/parameters/OutboxJobID" }
              responses:
                "200":
                  description: The job, pending again.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/OutboxJob" }
                default: { $ref: "#/components/responses/Problem" }
        components:
          parameters:
            OutboxJobID:
              { name: id, in: path, required: true, schema: { type: integer, minimum: 1, example: 42 } }
            BookingID:
              { name: id, in: path, required: true, schema: { type: string, example: bk_3f2a9c0d1e } }
          responses:
            Booking:
              description: The booking after the transition.
              content:
                application/json:
                  schema: { $ref: "#/components/schemas/Booking" }
            Problem:
              description: An error (400, 403, 404, 405, 409, 413, 422, 500, 503).
              content:
                application/problem+json:
                  schema: { $ref: "#/components/schemas/Problem" }
          schemas:
            Problem:
              type: object
              required: [type, title, status, detail, code]
              properties:
                type: { type: string, example: "urn:slotd:problem:slot_unavailable" }
                title: { type: string }
                status: { type: integer }
                detail: { type: string }
                code:
                  type: string
                  description: >
                    Stable and machine-readable. `malformed_json` (400): the body is not JSON; `bad_request` (400): a
                    required query parameter is missing or a header is unreadable (`fields` names it);
                    `validation_failed` (422): a value is present but invalid (`fields` names it).
                  enum: [malformed_json, bad_request, validation_failed, slot_unavailable, invalid_transition,
                         idempotency_key_reused, rules_invalid, not_found, method_not_allowed, booking_not_found,
                         forbidden, payload_too_large, unavailable, internal_error]
                fields:
                  type: array
                  items:
                    type: object
                    required: [field, reason]
                    properties:
                      field: { type: string, example: customer.name }
                      reason: { type: string }
                alternatives:
                  type: array
                  items: { $ref: "#/components/schemas/SlotOffer" }
                diagnostics:
                  type: array
                  items: { $ref: "#/components/schemas/RuleDiagnostic" }
                reasons:
                  type: array
                  items: { $ref: "#/components/schemas/ExplainReason" }
            ExplainReason:
              type: object
              required: [code, message]
              properties:
                code: { type: string, example: overlaps_booking }
                message: { type: string }
            Health:
              type: object
              required: [status, version, api_version, rules_version, uptime_seconds, role]
              properties:
                status: { type: string, example: ok }
                version: { type: string }
                api_version: { type: string, example: "1" }
                rules_version: { type: string }
                uptime_seconds: { type: integer }
                role: { type: string, enum: [admin, staff, booking, read] }
            ShopInfo:
              type: object
              required: [name, timezone, currency, slot_step_minutes, min_notice_minutes, horizon_minutes]
              properties:
                name: { type: string }
                timezone: { type: string, example: Europe/Berlin }
                currency: { type: string, example: EUR }
                slot_step_minutes: { type: integer }
                min_notice_minutes: { type: integer }
                horizon_minutes: { type: integer }
            RulesSummary:
              type: object
              required: [version, files, shop, services, staff, loaded_at]
              properties:
                version: { type: string }
                files: { type: array, items: { type: string } }
                shop: { $ref: "#/components/schemas/ShopInfo" }
                services: { type: integer }
                staff: { type: integer }
                loaded_at: { type: string, format: date-time }
            RuleDiagnostic:
              type: object
              required: [severity, file, line, column, message, fix, text]
              properties:
                severity: { type: string, enum: [error, warning] }
                file: { type: string }
                line: { type: integer }
                column: { type: integer }
                message: { type: string }
                fix: { type: string }
                text: { type: string, example: "shop.yaml:3:9: error: unknown weekday 'Tue' — use Tu" }
            RuleCheckResult:
              type: object
              required: [ok, diagnostics]
              properties:
                ok: { type: boolean }
                diagnostics: { type: array, items: { $ref: "#/components/schemas/RuleDiagnostic" } }
            DaemonStatus:
              type: object
              required: [version, uptime_seconds, role, socket, database, rules_directory, rules, bookings_today,
                bookings_by_state, outbox_by_state, conflicts, subscribers, store, providers]
              properties:
                version: { type: string }
                uptime_seconds: { type: integer }
                role: { type: string }
                socket: { type: string }
                database: { type: string }
                rules_directory: { type: string }
                rules:
                  type: object
                  properties:
                    version: { type: string }
                    files: { type: array, items: { type: string } }
                    loaded_at: { type: string, format: date-time }
                    timezone: { type: string }
                last_reload:
                  type: object
                  properties:
                    at: { type: string, format: date-time }
                    trigger: { type: string, enum: [start, signal, api, watch] }
                    outcome: { type: string, enum: [loaded, unchanged, rejected] }
                    message: { type: string }
                    errors: { type: array, items: { $ref: "#/components/schemas/RuleDiagnostic" } }
                bookings_today: { type: integer }
                bookings_by_state: { type: object, additionalProperties: { type: integer } }
                outbox_by_state: { type: object, additionalProperties: { type: integer } }
                conflicts: { type: integer }
                subscribers: { type: integer }
                store:
                  type: object
                  properties:
                    writable: { type: boolean }
                    detail: { type: string }
                    schema_version: { type: integer }
                providers:
                  type: object
                  properties:
                    payment: { type: string }
                    payment_collects_online: { type: boolean }
                    notifications: { type: array, items: { type: string } }
            BookingConflictList:
              type: object
              required: [rules_version, bookings, conflicts]
              properties:
                rules_version: { type: string }
                bookings: { type: array, items: { $ref: "#/components/schemas/Booking" } }
                conflicts:
                  type: array
                  items:
                    type: object
                    required: [booking, reasons]
                    properties:
                      booking: { type: string }
                      reasons:
                        type: array
                        items:
                          type: object
                          properties: { code: { type: string }, message: { type: string } }
            Export:
              type: object
              required: [format, format_version, slotd_version, exported_at, rules_version, shop, services, staff,
                customers, bookings]
              properties:
                format: { type: string, enum: [slotd-export] }
                format_version: { type: integer, enum: [1] }
                slotd_version: { type: string }
                exported_at: { type: string, format: date-time }
                rules_version: { type: string }
                shop: { type: object }
                services: { type: array, items: { type: object } }
                staff: { type: array, items: { type: object } }
                customers:
                  type: array
                  items:
                    type: object
                    required: [id, name, created_at, updated_at]
                    properties:
                      id: { type: string }
                      name: { type: string }
                      email: { type: string }
                      phone: { type: string }
                      created_at: { type: string, format: date-time }
                      updated_at: { type: string, format: date-time }
                bookings:
                  type: array
                  items:
                    allOf:
                      - { $ref: "#/components/schemas/Booking" }
                      - { type: object, required: [customer_id], properties: { customer_id: { type: string } } }
            RuleReloadResult:
              type: object
              required: [changed, previous_version, version, diagnostics]
              properties:
                changed: { type: boolean }
                previous_version: { type: string }
                version: { type: string }
                diagnostics: { type: array, items: { $ref: "#/components/schemas/RuleDiagnostic" } }
            Price:
              type: object
              required: [amount, currency, display]
              properties:
                amount: { type: integer, description: Minor units (cents). }
                currency: { type: string }
                display: { type: string, example: 25.00 EUR }
            Variant:
              type: object
              required: [id, name, duration_minutes, price]
              properties:
                id: { type: string }
                name: { type: string }
                duration_minutes: { type: integer }
                price: { $ref: "#/components/schemas/Price" }
                deposit: { $ref: "#/components/schemas/Price" }
            Service:
              type: object
              required: [id, name, duration_minutes, price, buffer_before_minutes, buffer_after_minutes, variants]
              properties:
                id: { type: string }
                name: { type: string }
                duration_minutes: { type: integer }
                price: { $ref: "#/components/schemas/Price" }
                deposit: { $ref: "#/components/schemas/Price" }
                buffer_before_minutes: { type: integer }
                buffer_after_minutes: { type: integer }
                variants: { type: array, items: { $ref: "#/components/schemas/Variant" } }
            ServiceList:
              type: object
              required: [services]
              properties:
                services: { type: array, items: { $ref: "#/components/schemas/Service" } }
            Staff:
              type: object
              required: [id, name, services]
              properties:
                id: { type: string }
                name: { type: string }
                services: { type: array, items: { type: string } }
            StaffList:
              type: object
              required: [staff]
              properties:
                staff: { type: array, items: { $ref: "#/components/schemas/Staff" } }
            SlotOffer:
              type: object
              required: [start, end, staff]
              properties:
                start: { type: string, format: date-time, example: "2026-03-02T09:00:00+01:00" }
                end: { type: string, format: date-time }
                staff: { type: string }
            SlotList:
              type: object
              required: [service, staff, from, to, rules_version, slots]
              properties:
                service: { type: string }
                staff: { type: string }
                from: { type: string, format: date }
                to: { type: string, format: date }
                rules_version: { type: string }
                slots: { type: array, items: { $ref: "#/components/schemas/SlotOffer" } }
            Explanation:
              type: object
              required: [service, staff, at, bookable, reasons, nearest]
              properties:
                service: { type: string }
                staff: { type: string }
                at: { type: string, format: date-time }
                bookable: { type: boolean }
                reasons:
                  type: array
                  items: { $ref: "#/components/schemas/ExplainReason" }
                nearest: { type: array, items: { $ref: "#/components/schemas/SlotOffer" } }
            Customer:
              type: object
              required: [name]
              properties:
                name: { type: string, minLength: 1, maxLength: 200 }
                email: { type: string }
                phone: { type: string }
            CreateBookingRequest:
              type: object
              required: [start, customer]
              description: Give `service` or `services` (several back to back, as one booking).
              properties:
                service: { type: string }
                services: { type: array, items: { type: string } }
                variant: { type: string }
                staff: { type: string, description: "A staff id, or `any` (default)." }
                start: { type: string, description: "ISO 8601 with offset, or shop-local `YYYY-MM-DDTHH:MM`." }
                customer: { $ref: "#/components/schemas/Customer" }
                notes: { type: string, maxLength: 2000 }
            RescheduleRequest:
              type: object
              required: [start]
              properties:
                start: { type: string, description: "ISO 8601 with offset, or shop-local `YYYY-MM-DDTHH:MM`." }
            CancelRequest:
              type: object
              properties:
                reason: { type: string }
            Booking:
              type: object
              required: [id, status, service, services, staff, start, end, price, customer, created_at, updated_at]
              properties:
                id: { type: string, example: bk_3f2a9c0d1e }
                status: { type: string, enum: [held, confirmed, completed, no_show, cancelled, expired] }
                service: { type: string }
                services: { type: array, items: { type: string } }
                variant: { type: string }
                staff: { type: string }
                start: { type: string, format: date-time }
                end: { type: string, format: date-time }
                price: { $ref: "#/components/schemas/Price" }
                deposit: { $ref: "#/components/schemas/Price" }
                customer: { $ref: "#/components/schemas/Customer" }
                notes: { type: string }
                hold_expires_at: { type: string, format: date-time }
                cancel_reason: { type: string }
                created_at: { type: string, format: date-time }
                updated_at: { type: string, format: date-time }
                payment: { $ref: "#/components/schemas/Payment" }
            Payment:
              type: object
              description: The deposit's payment; absent for a booking without a deposit.
              required: [provider, status, amount]
              properties:
                provider:
                  type: string
                  example: stripe
                  description: "`manual` when the deposit is due at the shop."
                status:
                  type: string
                  enum: [pending, succeeded, cancelled, refunded, kept, failed, due_at_shop]
                amount: { $ref: "#/components/schemas/Price" }
                reference: { type: string, example: pi_3P2a9c0d1e, description: "The provider's payment id." }
                client_secret:
                  type: string
                  description: "For Stripe.js `confirmCardPayment`; only while `pending`."
            WebhookReceipt:
              type: object
              required: [event, outcome]
              properties:
                event: { type: string, example: evt_1P2a9c }
                outcome: { type: string, enum: [applied, duplicate, ignored] }
                booking: { type: string }
            BookingList:
              type: object
              required: [bookings]
              properties:
                bookings: { type: array, items: { $ref: "#/components/schemas/Booking" } }
            EventLine:
              type: object
              required: [cursor, type, at, data]
              properties:
                cursor: { type: integer, description: "Resume with since=<cursor>." }
                type:
                  type: string
                  example: booking.created
                  description: >
                    booking.created, booking.confirmed, booking.cancelled, booking.rescheduled, booking.completed,
                    booking.no_show, booking.expired; payment.succeeded, payment.cancelled, payment.refunded,
                    payment.kept, payment.failed; control lines heartbeat and overflow carry the cursor of the
                    last event sent. Times in `data` (start, end, hold_expires_at, from/to) are ISO 8601 strings.
                at: { type: string, format: date-time }
                data: { type: object }
            OutboxJob:
              type: object
              required: [id, kind, state, attempts, due, created]
              properties:
                id: { type: integer }
                kind: { type: string, example: notify.send.mail }
                state: { type: string, enum: [pending, done, failed] }
                attempts: { type: integer }
                due: { type: string, format: date-time }
                created: { type: string, format: date-time }
                finished: { type: string, format: date-time }
                booking: { type: string }
                last_error: { type: string }
                note: { type: string, description: "Why a done job sent nothing, or where it fanned out to." }
                payload: { type: object }
            OutboxJobList:
              type: object
              required: [jobs, counts]
              properties:
                jobs: { type: array, items: { $ref: "#/components/schemas/OutboxJob" } }
                counts: { type: object, additionalProperties: { type: integer } }
        """#
}
