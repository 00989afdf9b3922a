import SlotProviders
import SlotStore

/// Runs the outbox jobs of one family of kinds (`notify.`, `payment.`), outside every database transaction.
///
/// The worker claims a due job, calls `run` with a timeout, and marks the job done when it returns; a thrown
/// `.temporary` error retries with backoff, `.permanent` parks the job as `failed`. A crash between the provider
/// call and the job's record runs it again, so `run` must be idempotent: it passes an idempotency key derived from
/// the job to the provider and records its effects so that a second run changes nothing.
protocol OutboxJobHandler: Sendable {
    /// The kinds this handler runs: every kind that starts with this prefix.
    var kindPrefix: String { get }
    /// Does the job's work and records its effects.
    func run(_ job: OutboxJob) async throws(ProviderError)
}
