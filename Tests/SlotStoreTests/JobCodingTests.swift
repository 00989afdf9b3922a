import Foundation
import SlotCore
import SlotEngine
import SlotRules
import Testing

@testable import SlotStore

/// Outbox rows and event data as the first release wrote them (by hand, sorted keys): they must still decode to the
/// same jobs, and the typed values must write the same bytes, so no stored row needs a migration.
@Suite("job and event coding")
struct JobCodingTests {
    struct StoredRow: Sendable, CustomTestStringConvertible {
        var kind: String
        var payload: String
        var job: Job

        var testDescription: String { kind }
    }

    static let rows: [StoredRow] = [
        StoredRow(
            kind: "booking.expire_hold", payload: #"{"booking":"bk_1"}"#,
            job: .hold(.expire(BookingJobPayload(booking: "bk_1")))),
        StoredRow(
            kind: "payment.create_deposit", payload: #"{"booking":"bk_1"}"#,
            job: .payment(.deposit(.createDeposit, BookingJobPayload(booking: "bk_1")))),
        StoredRow(
            kind: "payment.cancel_deposit", payload: #"{"booking":"bk_1"}"#,
            job: .payment(.deposit(.cancelDeposit, BookingJobPayload(booking: "bk_1")))),
        StoredRow(
            kind: "payment.refund", payload: #"{"booking":"bk_1"}"#,
            job: .payment(.deposit(.refund, BookingJobPayload(booking: "bk_1")))),
        StoredRow(
            kind: "payment.keep_deposit", payload: #"{"booking":"bk_1"}"#,
            job: .payment(.deposit(.keepDeposit, BookingJobPayload(booking: "bk_1")))),
        StoredRow(
            kind: "payment.charge_fee", payload: #"{"amount":1000,"booking":"bk_1","currency":"EUR"}"#,
            job: .payment(
                .chargeFee(FeeChargePayload(booking: "bk_1", fee: Money(minorUnits: 1000, currency: "EUR"))))),
        StoredRow(
            kind: "payment.save_card", payload: #"{"booking":"bk_1"}"#,
            job: .payment(.saveCard(BookingJobPayload(booking: "bk_1")))),
        StoredRow(
            kind: "notify.booking_no_show", payload: #"{"booking":"bk_1"}"#,
            job: .notification(.booking(.noShow, BookingJobPayload(booking: "bk_1")))),
        StoredRow(
            kind: "notify.booking_reminder", payload: #"{"booking":"bk_1","minutes_before":120,"start":1800000000}"#,
            job: .notification(.reminder(ReminderPayload(booking: "bk_1", start: 1_800_000_000, minutesBefore: 120)))),
        StoredRow(
            kind: "notify.day_summary",
            payload: #"{"cancelled":0,"completed":2,"date":"2027-01-15","no_show":1,"#
                + #""open_bookings":"bk_1, bk_2","open_count":2}"#,
            job: .notification(
                .daySummary(
                    DaySummaryPayload(
                        date: "2027-01-15", completed: 2, noShow: 1, cancelled: 0, openCount: 2,
                        openBookings: "bk_1, bk_2")))),
        StoredRow(
            kind: "notify.send.mail",
            payload: #"{"body":"See you","booking":"bk_1","data":{"customer":"Ann","time":"10:00"},"#
                + #""event":"booking.created","message_id":"slotd-7-mail","provider":"mail","subject":"Booked","#
                + #""to":{"email":"ann@example.com","name":"Ann"}}"#,
            job: .notification(
                .delivery(
                    provider: "mail",
                    DeliveryPayload(
                        provider: "mail", messageID: "slotd-7-mail", event: "booking.created",
                        to: .init(name: "Ann", email: "ann@example.com", phone: nil), subject: "Booked",
                        body: "See you", data: ["customer": "Ann", "time": "10:00"], booking: "bk_1")))),
        StoredRow(
            kind: "sweep.end_of_day", payload: #"{"date":"2027-01-15"}"#,
            job: .sweep(.endOfDay(EndOfDayPayload(date: "2027-01-15")))),
        StoredRow(
            kind: "waitlist.match", payload: #"{"booking":"bk_1","reason":"booking.cancelled"}"#,
            job: .waitlist(.match(WaitlistMatchPayload(reason: "booking.cancelled", booking: "bk_1")))),
        StoredRow(
            kind: "notify.waitlist_offered", payload: #"{"booking":"bk_1"}"#,
            job: .notification(.booking(.waitlistOffered, BookingJobPayload(booking: "bk_1")))),
    ]

    static func stored(_ kind: String, _ payload: String) -> OutboxJob {
        OutboxJob(
            id: 1, kind: kind, payload: Data(payload.utf8), dueAt: 0, attempts: 0, state: .pending, lastError: nil,
            createdAt: 0)
    }

    @Test("a row in today's JSON decodes to its job and encodes back to the same bytes", arguments: rows)
    func storedRowsRoundTrip(_ row: StoredRow) throws {
        #expect(try Self.stored(row.kind, row.payload).job == row.job)
        let written = OutboxEnqueue(row.job, dueAt: 0)
        #expect(written.kind == row.kind)
        #expect(String(decoding: written.payload, as: UTF8.self) == row.payload)
        #expect(JobFamily(kind: row.kind) == row.job.family, "the handler that runs a stored row is its job's family's")
    }

    @Test func aKindOfNoFamilyHasNoHandler() {
        #expect(JobFamily(kind: "invoice.send") == nil)
        #expect(JobFamily(kind: "booking.created") == nil, "an event type is not a job kind")
    }

    @Test func aKindFromANewerVersionIsRefusedByName() {
        #expect(throws: JobDecodingError.self) { try Self.stored("payment.split_bill", #"{"booking":"bk_1"}"#).job }
        #expect(throws: JobDecodingError.self) { try Self.stored("notify.send.", "{}").job }
    }

    @Test func aPayloadOfTheWrongShapeIsRefused() {
        #expect(throws: JobDecodingError.self) { try Self.stored("payment.refund", #"{"id":"bk_1"}"#).job }
    }

    @Test func bookingEventDataIsTodaysJSON() {
        let booking = StoredBooking(
            id: "bk_1", status: .cancelled, staffID: "ann", services: ["cut"], variant: nil, start: 100, end: 200,
            footprint: BookingFootprint(segments: []), price: Money(minorUnits: 3000, currency: "EUR"),
            deposit: Money(minorUnits: 500, currency: "EUR"), customerID: "cu_1",
            customer: CustomerInfo(name: "Bo"), notes: "", holdExpiresAt: nil, createdAt: 0, updatedAt: 0,
            cancellation: nil)
        let terms = CancellationTerms(
            minutesBeforeStart: 10, isLate: true, fee: Money(minorUnits: 1000, currency: "EUR"), reason: "sick")
        let cancelled = BookingPlanner.eventData(booking, .cancelled(terms))
        #expect(
            String(decoding: cancelled, as: UTF8.self)
                == #"{"booking":"bk_1","end":200,"fee":{"amount":1000,"currency":"EUR"},"fee_applies":true,"#
                + #""late":true,"minutes_before_start":10,"reason":"sick","services":["cut"],"staff":"ann","#
                + #""start":100,"status":"cancelled"}"#)
        let created = BookingPlanner.eventData(booking, .created(.held))
        #expect(
            String(decoding: created, as: UTF8.self)
                == #"{"booking":"bk_1","customer":"cu_1","deposit":{"amount":500,"currency":"EUR"},"end":200,"#
                + #""price":{"amount":3000,"currency":"EUR"},"services":["cut"],"staff":"ann","start":100,"#
                + #""status":"cancelled"}"#)
    }
}
