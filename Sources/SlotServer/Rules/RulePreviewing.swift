import SlotAPI
import SlotBlocking
import SlotEngine
import SlotRules
import SlotStore

extension BookingService {
    /// The most days a preview compares (a year: the longest horizon worth asking about).
    static let previewMaximumDays = 366

    /// `POST /v1/rules/preview`: what `candidate` would change against the rules in force; nothing is loaded.
    ///
    /// A candidate with errors is a `rules_invalid` problem with every diagnostic, and nothing is computed.
    func preview(_ candidate: RuleCandidate, days: Int) async throws -> RulePreviewResult {
        let running = try loaded()
        let now = clock.now()
        let active = try await store.bookings(
            matching: BookingQuery(from: now, statuses: [.held, .confirmed], limit: 100_000))
        let bookings = active.map {
            ActiveBooking(
                span: $0.bookedSpan, services: $0.services, variant: $0.variant, customer: $0.customer.name,
                override: $0.override)
        }
        let holder = rules
        // Reading the directory blocks, and comparing two rule sets over weeks is a burst of CPU work.
        let (ruleSet, preview, diagnostics) = try await BlockingWork.run {
            () throws(APIError) -> (RuleSet, RulePreview, [Diagnostic]) in
            let result = holder.load(candidate)
            guard let ruleSet = result.ruleSet, !result.diagnostics.hasErrors else {
                let errors = result.diagnostics.filter { $0.severity == .error }.count
                let problem = Problem(
                    code: .rulesInvalid,
                    detail: "the candidate rules have \(errors) error(s); fix them and preview again",
                    diagnostics: result.diagnostics.map(RuleHolder.wire))
                throw APIError(problem: problem)
            }
            let preview = RulePreview.compare(
                running: running.engine, candidate: AvailabilityEngine(rules: ruleSet), bookings: bookings, now: now,
                days: days)
            return (ruleSet, preview, result.diagnostics)
        }
        let zone = ruleSet.shop.timeZone
        func start(_ start: RulePreview.Start) -> PreviewStart {
            PreviewStart(staff: start.staff, service: start.service, start: zone.iso8601(instant: start.start))
        }
        return RulePreviewResult(
            rulesVersionBefore: running.version, rulesVersionAfter: ruleSet.version, days: days,
            from: preview.from.description, to: preview.through.description,
            diagnostics: diagnostics.map(RuleHolder.wire), gained: preview.gained.map(start),
            lost: preview.lost.map(start),
            noLongerAllowed: preview.noLongerAllowed.map { refused in
                PreviewRefusedBooking(
                    id: refused.booking.span.id, customer: refused.booking.customer,
                    start: zone.iso8601(instant: refused.booking.span.start), staff: refused.booking.span.staff,
                    service: refused.booking.services.joined(separator: "+"),
                    reasons: refused.reasons.map(ExplainReason.init))
            })
    }
}
