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
}

extension OutboxJobHandler {
    /// One budget for all of this handler's kinds.
    func budget(for kind: String) -> String { family.kindPrefix }
}

/// What finishing a job records, in the one transaction that marks it done: a note for `slotctl outbox show`, the
/// jobs it fans out to and the events it appends (published after commit).
struct OutboxCompletion: Sendable {
    var note: String?
    var enqueue: [OutboxEnqueue] = []
    var events: [OutboxEvent] = []

    /// Done, nothing more to record.
    static let done = OutboxCompletion(note: nil)

    /// Done, with a note saying what happened (or why nothing did).
    static func done(_ note: String) -> OutboxCompletion { OutboxCompletion(note: note) }
}

extension OutboxJob {
    /// The job as a typed value; one this version cannot read (an unknown kind, written by a newer slotd, or a
    /// payload of the wrong shape) fails for good, since no retry can change it.
    func typed() throws(ProviderError) -> Job {
        do { return try job } catch { throw .permanent("job \(id): \(error)") }
    }
}
