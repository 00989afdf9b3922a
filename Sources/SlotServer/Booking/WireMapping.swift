import Foundation
import SlotAPI
import SlotCore
import SlotEngine
import SlotRules
import SlotStore

/// Conversions from the daemon's values to the wire types of `SlotAPI`, with instants in the shop's zone.
struct WireMapping {
    let zone: ShopTimeZone

    func time(_ instant: Int64) -> String { zone.iso8601(instant: instant) }

    func price(_ money: Money) -> Price {
        Price(amount: money.minorUnits, currency: money.currency, display: money.description)
    }

    func slot(_ slot: SlotEngine.Slot) -> SlotOffer {
        SlotOffer(start: time(slot.start), end: time(slot.end), staff: slot.staff)
    }

    func booking(_ booking: StoredBooking) -> BookingDetails {
        BookingDetails(
            id: booking.id, status: BookingStatus(booking.status), service: booking.services.first ?? "",
            services: booking.services, variant: booking.variant, staff: booking.staffID, start: time(booking.start),
            end: time(booking.end), price: price(booking.price), deposit: booking.deposit.map(price),
            customer: CustomerDetails(
                name: booking.customer.name, email: booking.customer.email, phone: booking.customer.phone),
            notes: booking.notes.isEmpty ? nil : booking.notes, holdExpiresAt: booking.holdExpiresAt.map(time),
            cancelReason: booking.cancellation.flatMap { $0.reason.isEmpty ? nil : $0.reason },
            createdAt: time(booking.createdAt), updatedAt: time(booking.updatedAt),
            code: booking.code.isEmpty ? nil : booking.code, customerID: booking.customerID,
            override: booking.override.map { override in
                BookingOverrideDetails(
                    kind: override.waiver.rawValue, reason: override.reason, by: override.who, uid: override.uid,
                    user: override.user, waived: override.waived)
            })
    }

    func service(_ service: Service, staff: [StaffMember]) -> ServiceInfo {
        // The offering as each staff member with terms of their own for it (`has`) performs it.
        func ownTerms(_ offering: ServiceOffering, _ has: (StaffTerms) -> Bool) -> [StaffTermsInfo] {
            staff.filter { service.staffTerms[$0.id].map(has) ?? false }.map { member in
                let own = offering.performed(by: member.id)
                return StaffTermsInfo(
                    staff: member.id, durationMinutes: own.durationMinutes, price: price(own.price),
                    deposit: own.deposit.map(price))
            }
        }
        let terms = ownTerms(ServiceOffering(service)) { $0.variants.isEmpty }
        return ServiceInfo(
            id: service.id, name: service.name, durationMinutes: service.durationMinutes, price: price(service.price),
            deposit: service.deposit.map(price), bufferBeforeMinutes: service.bufferBeforeMinutes,
            bufferAfterMinutes: service.bufferAfterMinutes,
            variants: service.variants.map { variant in
                let variantTerms = ownTerms(ServiceOffering(service, variant: variant)) {
                    $0.variants[variant.id] != nil
                }
                return VariantInfo(
                    id: variant.id, name: variant.name,
                    durationMinutes: variant.segments.reduce(0) { $0 + $1.minutes }, price: price(variant.price),
                    deposit: variant.deposit.map(price), staffTerms: variantTerms.isEmpty ? nil : variantTerms)
            }, available: service.available?.text, staffTerms: terms)
    }

    /// A durable event as a stream line; epoch-second times in its data become ISO 8601 strings.
    func event(_ event: StoredEvent) -> EventLine {
        var data = (try? JSONCoding.decoder.decode(JSONValue.self, from: event.data)) ?? .object([:])
        data = isoTimes(data)
        return EventLine(cursor: event.cursor, type: event.type, at: time(event.at), data: data)
    }

    private static let timeKeys: Set<String> = ["start", "end", "hold_expires_at", "offer_expires_at"]

    private func isoTimes(_ value: JSONValue) -> JSONValue {
        guard case .object(var members) = value else { return value }
        for (key, member) in members {
            if Self.timeKeys.contains(key), let seconds = member.intValue {
                members[key] = .string(time(Int64(seconds)))
            } else if key == "from" || key == "to", case .object = member {
                members[key] = isoTimes(member)
            }
        }
        return .object(members)
    }

    /// A control line (heartbeat, overflow) carrying the last cursor sent.
    func control(_ type: String, cursor: Int64, at now: Int64, detail: String? = nil) -> EventLine {
        EventLine(
            cursor: cursor, type: type, at: time(now),
            data: .object(detail.map { ["detail": .string($0)] } ?? [:]))
    }
}

// MARK: - Engine values on the wire

extension BookingStatus {
    /// The wire status of a booking state.
    init(_ state: BookingState) {
        switch state {
        case .held: self = .held
        case .confirmed: self = .confirmed
        case .completed: self = .completed
        case .noShow: self = .noShow
        case .cancelled: self = .cancelled
        case .expired: self = .expired
        }
    }
}

extension RuleDiagnosticSeverity {
    /// The wire severity of a rule diagnostic.
    init(_ severity: Diagnostic.Severity) {
        switch severity {
        case .error: self = .error
        case .warning: self = .warning
        }
    }
}

extension ExplainReasonCode {
    /// The wire code of a reason the engine gives.
    init(_ kind: Reason.Kind) {
        switch kind {
        case .unknownService: self = .unknownService
        case .unknownVariant: self = .unknownVariant
        case .unknownStaff: self = .unknownStaff
        case .noStaff: self = .noStaff
        case .staffDoesNotPerform: self = .staffDoesNotPerform
        case .wallTimeDoesNotExist: self = .wallTimeDoesNotExist
        case .notOnGrid: self = .notOnGrid
        case .tooSoon, .startsInThePast: self = .tooSoon
        case .beyondHorizon: self = .beyondHorizon
        case .shopClosed: self = .shopClosed
        case .closedByOverride: self = .closedByOverride
        case .outsideStaffHours: self = .outsideStaffHours
        case .serviceNotAvailable: self = .serviceNotAvailable
        case .shopBreak: self = .shopBreak
        case .staffBreak: self = .staffBreak
        case .holiday: self = .holiday
        case .timeOff: self = .timeOff
        case .overlapsBooking: self = .overlapsBooking
        case .insideBufferOfBooking: self = .insideBufferOfBooking
        case .resourceBusy: self = .resourceBusy
        case .dailyBookingLimit, .dailyMinutesLimit: self = .dailyLimitReached
        }
    }
}

extension ExplainReason {
    /// A reason the engine gives, with its text (the staff member first when it is about one).
    init(_ reason: Reason) {
        self.init(code: ExplainReasonCode(reason.kind), message: reason.description)
    }
}
