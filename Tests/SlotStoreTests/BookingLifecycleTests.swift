import SlotCore
import SlotEngine
import SlotRules
import Testing

/// The booking state machine, table-driven: every (state, input) pair is either a listed legal transition or an
/// illegal one with a message naming it.
struct BookingLifecycleTests {
    static let start: Int64 = 1_800_000_000
    static let price = Money(minorUnits: 2_500, currency: "EUR")

    static func lifecycle(_ state: BookingState) -> BookingLifecycle {
        BookingLifecycle(
            state: state, start: start, end: start + 1_800, price: price,
            holdExpiresAt: state == .held ? start - 3_600 : nil)
    }

    /// The legal transitions: state, input → next state and event type.
    static let legal: [(BookingState, BookingInput, BookingState, String)] = [
        (.held, .confirm, .confirmed, "booking.confirmed"),
        (.held, .cancel, .cancelled, "booking.cancelled"),
        (.held, .expire, .expired, "booking.expired"),
        (.held, .reschedule, .held, "booking.rescheduled"),
        (.confirmed, .cancel, .cancelled, "booking.cancelled"),
        (.confirmed, .complete, .completed, "booking.completed"),
        (.confirmed, .markNoShow, .noShow, "booking.no_show"),
        (.confirmed, .reschedule, .confirmed, "booking.rescheduled"),
    ]

    struct Case: CustomTestStringConvertible, Sendable {
        var state: BookingState
        var input: BookingInput
        var testDescription: String { "\(input) on \(state)" }
    }

    static var allPairs: [Case] {
        BookingState.allCases.flatMap { state in BookingInput.allCases.map { Case(state: state, input: $0) } }
    }

    /// Applies an input at a time when every time-dependent guard passes (after the start and the hold expiry).
    static func apply(_ input: BookingInput, to lifecycle: inout BookingLifecycle) -> Result<
        [BookingAction], BookingTransitionError
    > {
        let now = start + 60
        if input == .reschedule { return lifecycle.reschedule(start: start + 3_600, end: start + 5_400, at: now) }
        return lifecycle.apply(input, at: now, policy: Policies())
    }

    @Test(arguments: allPairs)
    func everyPairIsLegalOrNamedIllegal(_ pair: Case) {
        var lifecycle = Self.lifecycle(pair.state)
        let result = Self.apply(pair.input, to: &lifecycle)
        if let expected = Self.legal.first(where: { $0.0 == pair.state && $0.1 == pair.input }) {
            guard case .success(let actions) = result else {
                Issue.record("expected \(pair.input) on \(pair.state) to be legal, got \(result)")
                return
            }
            #expect(lifecycle.state == expected.2)
            #expect(BookingAction.event(in: actions)?.type == expected.3)
        } else {
            guard case .failure(let error) = result else {
                Issue.record("expected \(pair.input) on \(pair.state) to be illegal")
                return
            }
            #expect(error.code == .illegalTransition)
            #expect(error.state == pair.state)
            #expect(error.input == pair.input)
            #expect(lifecycle == Self.lifecycle(pair.state), "a refused input must not change the value")
        }
    }

    @Test(arguments: [
        (BookingState.cancelled, BookingInput.complete, "cannot complete a cancelled booking"),
        (.completed, .cancel, "cannot cancel a completed booking"),
        (.expired, .confirm, "cannot confirm an expired booking"),
        (.confirmed, .confirm, "the booking is already confirmed"),
        (.held, .complete, "cannot complete a held booking (confirm it first)"),
        (.confirmed, .expire, "cannot expire a confirmed booking (only holds expire)"),
        (.noShow, .reschedule, "cannot reschedule a booking marked as no-show"),
    ])
    func illegalTransitionsSayWhat(_ state: BookingState, _ input: BookingInput, _ message: String) {
        var lifecycle = Self.lifecycle(state)
        guard case .failure(let error) = Self.apply(input, to: &lifecycle) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(error.message == message)
    }

    @Test func finalStatesAreExactlyTheInactiveOnes() {
        #expect(BookingState.allCases.filter(\.isActive) == [.held, .confirmed])
        #expect(Set(BookingState.allCases.filter(\.isFinal)) == [.completed, .noShow, .cancelled, .expired])
    }

    // MARK: - Cancellation window

    struct CancelCase: Sendable, CustomTestStringConvertible {
        var state: BookingState
        var minutesBefore: Int64
        var fee: Policies.Fee
        var late: Bool
        var expectedFee: Int?
        var testDescription: String { "\(state) \(minutesBefore) min before, \(fee)" }
    }

    @Test(arguments: [
        // The window is 24 h; at exactly 24 h before it is still free.
        CancelCase(state: .confirmed, minutesBefore: 1_440, fee: .percent(50), late: false, expectedFee: nil),
        CancelCase(state: .confirmed, minutesBefore: 1_439, fee: .percent(50), late: true, expectedFee: 1_250),
        CancelCase(state: .confirmed, minutesBefore: 10, fee: .amount(Money(minorUnits: 500, currency: "EUR")),
                   late: true, expectedFee: 500),
        CancelCase(state: .confirmed, minutesBefore: 10, fee: .none, late: true, expectedFee: nil),
        CancelCase(state: .confirmed, minutesBefore: -30, fee: .percent(100), late: true, expectedFee: 2_500),
        // A hold took no deposit: late or not, it costs nothing.
        CancelCase(state: .held, minutesBefore: 10, fee: .percent(100), late: true, expectedFee: nil),
    ])
    func cancellationInsideTheWindowCostsTheFee(_ test: CancelCase) {
        var lifecycle = BookingLifecycle(
            state: test.state, start: Self.start, end: Self.start + 1_800, price: Self.price,
            holdExpiresAt: test.state == .held ? Self.start : nil)
        let policy = Policies(cancellationWindowMinutes: 1_440, cancellationFee: test.fee)
        let result = lifecycle.cancel(at: Self.start - test.minutesBefore * 60, policy: policy, reason: "flu")
        guard case .success(let actions) = result, case .cancelled(let terms)? = BookingAction.event(in: actions) else {
            Issue.record("expected a cancellation, got \(result)")
            return
        }
        #expect(terms.isLate == test.late)
        #expect(terms.fee?.minorUnits == test.expectedFee)
        #expect(terms.feeApplies == (test.expectedFee != nil))
        #expect(terms.minutesBeforeStart == test.minutesBefore)
        #expect(terms.reason == "flu")
        #expect(actions.contains(.releaseSlot))
        let chargesFee = actions.contains { if case .enqueue(.chargeFee) = $0 { true } else { false } }
        #expect(chargesFee == (test.expectedFee != nil))
        #expect(lifecycle.cancellation == terms)
    }

    // MARK: - Time guards

    @Test func aHoldExpiresOnlyOnceItsTimeHasCome() {
        var lifecycle = BookingLifecycle(
            state: .held, start: Self.start, end: Self.start + 1_800, price: Self.price,
            holdExpiresAt: Self.start - 600)
        guard case .failure(let early) = lifecycle.expire(at: Self.start - 601) else {
            Issue.record("expired too early")
            return
        }
        #expect(early.code == .tooEarly)
        #expect(lifecycle.state == .held)
        #expect((try? lifecycle.expire(at: Self.start - 600).get()) != nil)
        #expect(lifecycle.state == .expired)
        #expect(lifecycle.holdExpiresAt == nil)
    }

    @Test func aNoShowNeedsTheStartToHavePassed() {
        var lifecycle = Self.lifecycle(.confirmed)
        guard case .failure(let early) = lifecycle.markNoShow(at: Self.start - 1) else {
            Issue.record("no-show before the start")
            return
        }
        #expect(early.code == .tooEarly)
        #expect((try? lifecycle.markNoShow(at: Self.start).get()) != nil)
        #expect(lifecycle.state == .noShow)
    }

    @Test func completingNeedsTheStartToHavePassed() {
        var lifecycle = Self.lifecycle(.confirmed)
        guard case .failure(let early) = lifecycle.complete(at: Self.start - 1) else {
            Issue.record("completed before the start")
            return
        }
        #expect(early.code == .tooEarly)
        #expect(early.input == .complete)
        #expect(early.message.hasPrefix("cannot complete a booking before it starts"))
        #expect(lifecycle == Self.lifecycle(.confirmed), "a refused completion must not change the value")
        guard case .success(let actions) = lifecycle.complete(at: Self.start) else {
            Issue.record("not completed at the start")
            return
        }
        #expect(BookingAction.event(in: actions)?.type == "booking.completed")
        #expect(lifecycle.state == .completed)
    }

    @Test func rescheduleKeepsTheStateAndMovesTheTimes() throws {
        var lifecycle = Self.lifecycle(.confirmed)
        let actions = try lifecycle.reschedule(start: Self.start + 7_200, end: Self.start + 9_000, at: Self.start).get()
        #expect(lifecycle.state == .confirmed)
        #expect(lifecycle.start == Self.start + 7_200 && lifecycle.end == Self.start + 9_000)
        let event = BookingAction.event(in: actions)
        let expected = BookingEvent.rescheduled(
            from: Interval(Self.start, Self.start + 1_800), to: Interval(Self.start + 7_200, Self.start + 9_000))
        #expect(event == expected)
        guard case .failure(let error) = lifecycle.reschedule(start: 10, end: 10, at: Self.start) else {
            Issue.record("empty span accepted")
            return
        }
        #expect(error.code == .invalidTimes)
    }

    @Test func rescheduleToAnotherStaffMemberRecordsBothInTheEvent() throws {
        var lifecycle = Self.lifecycle(.held)
        let change = StaffChange(from: "ana", to: "bo")
        let actions = try lifecycle.reschedule(
            start: Self.start + 3_600, end: Self.start + 5_400, staff: change, at: Self.start
        ).get()
        #expect(lifecycle.state == .held)
        let event = try #require(BookingAction.event(in: actions))
        #expect(
            event == .rescheduled(
                from: Interval(Self.start, Self.start + 1_800), to: Interval(Self.start + 3_600, Self.start + 5_400),
                staff: change))
        let facts = BookingFacts(
            booking: "bk_1", status: .held, staff: "bo", services: ["cut"], start: Self.start + 3_600,
            end: Self.start + 5_400, customer: "cu_1", price: Money(minorUnits: 100, currency: "EUR"), deposit: nil,
            holdExpiresAt: nil)
        let data = BookingEventData(event, of: facts)
        #expect(data.fromStaff == "ana" && data.toStaff == "bo" && data.staff == "bo")
        #expect(data.from?.start == Self.start && data.to?.start == Self.start + 3_600)
    }

    @Test func creationIsHeldWithAnExpiryAndConfirmedWithout() throws {
        let (held, heldActions) = try BookingLifecycle.create(
            start: Self.start, end: Self.start + 60, price: Self.price, holdExpiresAt: Self.start - 60
        ).get()
        #expect(held.state == .held)
        #expect(BookingAction.event(in: heldActions) == .created(.held))
        let (confirmed, _) = try BookingLifecycle.create(
            start: Self.start, end: Self.start + 60, price: Self.price, holdExpiresAt: nil
        ).get()
        #expect(confirmed.state == .confirmed)
        let empty = BookingLifecycle.create(start: Self.start, end: Self.start, price: Self.price, holdExpiresAt: nil)
        #expect((try? empty.get()) == nil)
    }

    @Test func aCardOnFileHoldAsksForTheCardNotADeposit() throws {
        let (held, actions) = try BookingLifecycle.create(
            start: Self.start, end: Self.start + 60, price: Self.price, holdExpiresAt: Self.start - 60,
            savesCard: true
        ).get()
        #expect(held.state == .held)
        #expect(actions.contains(.enqueue(.saveCard)) && !actions.contains(.enqueue(.deposit(.createDeposit))))
    }

    @Test func aNoShowOwesTheLateCancellationFee() throws {
        var lifecycle = Self.lifecycle(.confirmed)
        let policy = Policies(cancellationFee: .percent(50))
        let actions = try lifecycle.markNoShow(at: Self.start + 60, policy: policy).get()
        #expect(actions.contains(.enqueue(.chargeFee(Money(minorUnits: 1_250, currency: "EUR")))))
        var free = Self.lifecycle(.confirmed)
        let none = try free.markNoShow(at: Self.start + 60, policy: Policies()).get()
        #expect(!none.contains { if case .enqueue(.chargeFee) = $0 { true } else { false } })
    }
}
