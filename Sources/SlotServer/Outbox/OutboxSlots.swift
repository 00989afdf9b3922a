import SlotStore

/// Which claimed outbox jobs run now and which wait: `workers` slots in all, and at most `familyShare` of them for
/// the jobs of one family (one budget: `payment.`, `notify.send.hook`, …; see `OutboxJobHandler.budget(for:)`), so a
/// provider that hangs leaves the others a slot.
///
/// A value state machine: the worker keeps it under a mutex, calls one `mutating func` per event (a claim wanted, a
/// claim answered, a job recorded) and does the I/O the returned `Next` asks for. A job's slot is held until its
/// outcome is recorded, so "idle" means every claimed job is recorded.
struct OutboxSlots {
    /// What the slot (or the dispatcher) that asked does next.
    enum Next: Equatable {
        /// Run this job in the slot.
        case run(OutboxJob)
        /// A slot is reserved for a claim: claim one job and hand the answer to `admit`.
        case claim
        /// Nothing to do: the slot is free.
        case idle
    }

    /// All slots.
    let workers: Int
    /// The most slots one family's jobs may hold: all but one, so the other families always keep one (with one
    /// worker, that worker runs everything in turn).
    let familyShare: Int
    /// Jobs running (or being recorded), by handler family.
    private(set) var running: [String: Int] = [:]
    private(set) var runningCount = 0
    /// Slots reserved for a claim in flight.
    private(set) var claiming = 0
    /// Claimed jobs whose family has used its share, oldest claim first. The store claims the oldest due job of any
    /// kind, so the jobs behind a hung provider's backlog are reached only by claiming past that backlog and keeping
    /// it here; at most `waitingLimit` wait.
    private(set) var waiting: [(family: String, job: OutboxJob)] = []
    /// How many claimed jobs may wait for a slot: enough to reach past a burst of one handler's jobs (a booking
    /// fans out to a few deliveries), few enough that a job rarely waits past its lease.
    var waitingLimit: Int { 8 * workers }
    /// Every job running or waiting: a claim returning one of them again (it waited past its lease, and the claim
    /// counted one more attempt) is dropped; the copy held here runs once.
    private var held: Set<Int64> = []
    private(set) var stopping = false

    /// The family of a job kind: the budget its handler names for it.
    let familyOf: @Sendable (String) -> String

    init(workers: Int, familyOf: @escaping @Sendable (String) -> String) {
        self.workers = max(1, workers)
        familyShare = max(1, self.workers - 1)
        self.familyOf = familyOf
    }

    /// No job runs, waits or is being claimed.
    var isIdle: Bool { runningCount == 0 && claiming == 0 && waiting.isEmpty }

    /// Whether a job of `family` may start in a free slot.
    private func hasRoom(for family: String) -> Bool {
        runningCount + claiming < workers && running[family, default: 0] < familyShare
    }

    /// A dispatcher wants work: reserves a slot for one claim, unless stopping, every slot is taken, or
    /// `waitingLimit` claimed jobs wait already.
    mutating func reserveClaim() -> Bool {
        guard !stopping, runningCount + claiming < workers, waiting.count < waitingLimit else { return false }
        claiming += 1
        return true
    }

    /// Whether a slot whose job just ran should claim the next job in the write that records this one: only when
    /// no claimed job waits for a slot (that one comes first) and the worker is not stopping.
    func claimsWithRecord() -> Bool { !stopping && waiting.isEmpty }

    /// The answer to a claim made in a reserved slot: the slot runs the job if its family has room, else the job
    /// waits and the slot takes a waiting job, claims again, or frees.
    mutating func admit(_ claimed: OutboxJob?) -> Next {
        claiming -= 1
        guard let job = claimed else { return takeWaiting() ?? .idle }  // Nothing due: claiming again finds nothing.
        let family = familyOf(job.kind)
        if held.insert(job.id).inserted {
            if hasRoom(for: family) {
                start(family: family)
                return .run(job)
            }
            waiting.append((family, job))
        }
        return takeWaiting() ?? (reserveClaim() ? .claim : .idle)
    }

    /// The answer to a claim that may hand out several jobs (this daemon's own, leased by their write): the first as
    /// `admit` takes one, the others wait for a slot.
    mutating func admit(_ claimed: [OutboxJob]) -> Next {
        let next = admit(claimed.first)
        guard !stopping, claimed.count > 1 else { return next }
        for job in claimed.dropFirst() where held.insert(job.id).inserted {
            waiting.append((familyOf(job.kind), job))
        }
        if next == .idle, let waiter = takeWaiting() { return waiter }
        return next
    }

    /// How a job's outcome was recorded: alone, or with the claim of the next job in the same write.
    enum Record {
        case alone
        case withClaim(OutboxJob?)
    }

    /// A job's outcome is recorded: its slot takes the job claimed with the record, else a waiting job, else claims
    /// again or frees.
    mutating func finish(_ job: OutboxJob, _ record: Record) -> Next {
        runningCount -= 1
        running[familyOf(job.kind), default: 1] -= 1
        held.remove(job.id)
        if case .withClaim(let claimed) = record {
            claiming += 1
            return admit(claimed)
        }
        return takeWaiting() ?? (reserveClaim() ? .claim : .idle)
    }

    /// Claim nothing more; jobs still waiting are let go (their lease lapses and they run after a restart).
    mutating func stop() -> [OutboxJob] {
        stopping = true
        let dropped = waiting.map(\.job)
        for job in dropped { held.remove(job.id) }
        waiting.removeAll()
        return dropped
    }

    private mutating func takeWaiting() -> Next? {
        guard !stopping, let index = waiting.firstIndex(where: { hasRoom(for: $0.family) }) else { return nil }
        let (family, job) = waiting.remove(at: index)
        start(family: family)
        return .run(job)
    }

    private mutating func start(family: String) {
        runningCount += 1
        running[family, default: 0] += 1
    }
}
