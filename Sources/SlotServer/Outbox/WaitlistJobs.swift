import SlotEngine
import SlotProviders
import SlotStore

/// Runs `waitlist.match` jobs, written with every booking change that frees time while someone waits, with every
/// join and after a rules reload that changed the rules: offers the freed starts to the first in line
/// (`WaitlistService.offerFreedStarts`). Running it twice changes nothing: an offer is a held booking, seen by the
/// next run.
struct WaitlistJobs: OutboxJobHandler {
    /// Nil for a store without a waitlist: the job then has nothing to do.
    let waitlist: WaitlistService?

    var family: JobFamily { .waitlist }

    func run(_ job: OutboxJob) async throws(ProviderError) -> OutboxCompletion {
        guard case .waitlist(let waitlistJob) = try job.typed() else {
            throw .permanent("job \(job.id) (\(job.kind)) is not a waitlist job")
        }
        // One pass looks at everyone waiting, whatever freed the time.
        switch waitlistJob {
        case .match: break
        }
        guard let waitlist else { return .done("skipped: this store keeps no waitlist") }
        do {
            return .done(try await waitlist.offerFreedStarts())
        } catch {
            throw .temporary("offering freed starts failed: \(error)")
        }
    }
}
