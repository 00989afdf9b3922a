import SlotEngine
import SlotRules
import SlotStore

extension BookingService {
    /// What cancelling `booking` now would cost: the lifecycle's own rule, run on a copy (the same rule the cancel
    /// applies). The fee in minor units, and whether it is inside the policy's late window.
    func cancellationQuote(_ booking: StoredBooking, policy: Policies) -> (feeCents: Int, late: Bool) {
        var lifecycle = booking.lifecycle
        guard case .success = lifecycle.cancel(at: clock.now(), policy: policy), let terms = lifecycle.cancellation
        else { return (0, false) }
        return (terms.fee?.minorUnits ?? 0, terms.isLate)
    }
}
