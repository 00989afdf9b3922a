import SlotEngine
import SlotProviders
import SlotStore

/// Runs `booking.expire_hold` jobs, due at a hold's expiry: expires every hold that is due by now (that one, and any
/// other that is), publishing their events. A hold confirmed or cancelled meanwhile is no longer held, so the job
/// finds nothing to do; running it twice changes nothing.
struct HoldExpiryJobs: OutboxJobHandler {
    let service: BookingService

    var family: JobFamily { .hold }

    func run(_ job: OutboxJob) async throws(ProviderError) -> OutboxCompletion {
        guard case .hold(let hold) = try job.typed() else {
            throw .permanent("job \(job.id) (\(job.kind)) is not a hold job")
        }
        // One pass expires every due hold, so the job's own booking needs no special treatment.
        switch hold {
        case .expire: break
        }
        do {
            try await service.expireHolds()
        } catch {
            throw .temporary("expiring holds failed: \(error)")
        }
        return .done
    }
}
