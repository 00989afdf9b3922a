import SlotProviders
import SlotStore

/// Runs `booking.expire_hold` jobs, due at a hold's expiry: expires every hold that is due by now (that one, and any
/// other that is), publishing their events. A hold confirmed or cancelled meanwhile is no longer held, so the job
/// finds nothing to do; running it twice changes nothing.
struct HoldExpiryJobs: OutboxJobHandler {
    let service: BookingService

    var kindPrefix: String { "booking.expire_hold" }

    func run(_ job: OutboxJob) async throws(ProviderError) -> OutboxCompletion {
        do {
            try await service.expireHolds()
        } catch {
            throw .temporary("expiring holds failed: \(error)")
        }
        return .done
    }
}
