import SlotEngine
import SlotProviders
import SlotStore

/// Runs the outbox jobs of one family of kinds (`notify.`, `payment.`), outside every database transaction.
///
/// The worker claims a due job, calls `run` with a timeout, and records the returned completion (the job done, its
/// follow-up jobs and events) in one transaction; a thrown `.temporary` error retries with backoff, `.permanent`
/// parks the job as `failed`. A crash between the provider call and the job's record runs it again, so `run` must
/// be idempotent: it passes an idempotency key derived from the job to the provider and records its effects so
/// that a second run changes nothing.
protocol OutboxJobHandler: Sendable {
    /// The family of kinds this handler runs.
    var family: JobFamily { get }
    /// Does the job's work; returns what the worker records with the job's completion.
    func run(_ job: OutboxJob) async throws(ProviderError) -> OutboxCompletion
    /// The concurrency budget `kind` counts against: the kinds that name one budget hold at most `workers − 1` of
    /// the worker's slots together, so a provider that hangs cannot take them all.
    func budget(for kind: String) -> String
    /// The completion of a job that calls no provider, decided from the job and its booking as the claim's own
    /// transaction reads it (`booking`): the store records it with the claim, so the job costs no transaction and
    /// no slot of its own. Nil: the job runs in a lane through `run`. Runs inside the store's write: pure work only
    /// (and log lines: a `log` delivery is one).
    func completeInClaim(_ job: OutboxJob, booking: (String) throws -> StoredBooking?) -> OutboxCompletion?
}

extension OutboxJobHandler {
    /// One budget for all of this handler's kinds.
    func budget(for kind: String) -> String { family.kindPrefix }

    /// Every job runs in a lane: what a handler does unless it can finish some jobs without a call.
    func completeInClaim(_ job: OutboxJob, booking: (String) throws -> StoredBooking?) -> OutboxCompletion? { nil }
}

extension OutboxJob {
    /// The job as a typed value; one this version cannot read (an unknown kind, written by a newer slotd, or a
    /// payload of the wrong shape) fails for good, since no retry can change it.
    func typed() throws(ProviderError) -> Job {
        do { return try job } catch { throw .permanent("job \(id): \(error)") }
    }
}
