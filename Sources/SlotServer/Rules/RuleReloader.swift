import Foundation
import Logging
import SlotAPI
import SlotEngine
import SlotStore
import Synchronization

/// The one way rules are reloaded after start: SIGHUP, `POST /v1/rules/reload`, and the directory watcher all call
/// `reload(_:)`. Reloads run one at a time, in the order asked.
///
/// A valid rule set is swapped in atomically (`RuleHolder`); an invalid one keeps the old rules. Either way the
/// outcome is logged, appended to the event log (`rules.reloaded` / `rules.rejected`) and published live; after a
/// change, each active future booking the new rules no longer allow gets a `booking.conflicts_rules` event.
///
/// `hooks` wrap every reload (systemd's `RELOADING=1` … `READY=1`, for one): set them once at start.
public final class RuleReloader: Sendable {
    /// What asked for a reload (a label on the metrics and the events).
    public enum Trigger: String, Sendable {
        case start, signal, api, watch
    }

    /// One reload's outcome, kept as the last one for `/v1/status`.
    public struct Report: Sendable {
        public var trigger: Trigger
        /// Seconds since the epoch.
        public var at: Int64
        public var outcome: RuleHolder.ReloadOutcome
        /// Bookings the new rules no longer allow (only computed after a change).
        public var conflicts: [RuleConflict]

        public var accepted: Bool {
            if case .loaded = outcome { return true }
            return false
        }
    }

    /// Called around every reload: `willReload` before reading the files, `didReload` with the report.
    public struct Hooks: Sendable {
        public var willReload: @Sendable (Trigger) -> Void
        public var didReload: @Sendable (Report) -> Void

        public init(
            willReload: @escaping @Sendable (Trigger) -> Void = { _ in },
            didReload: @escaping @Sendable (Report) -> Void = { _ in }
        ) {
            self.willReload = willReload
            self.didReload = didReload
        }
    }

    let rules: RuleHolder
    let store: any BookingStore & OperationsStore
    let bus: EventBus
    let metrics: DaemonMetrics
    let clock: WallClock
    let logger: Logger
    private let hooks = Mutex(Hooks())
    /// The last reload asked for: each new one waits for it, so reloads run one at a time in the order asked (the
    /// one serialisation; `RuleHolder` keeps none of its own).
    private let tail = Mutex<Task<Void, Never>?>(nil)
    private let last = Mutex<Report?>(nil)

    init(
        rules: RuleHolder, store: any BookingStore & OperationsStore, bus: EventBus, metrics: DaemonMetrics,
        clock: WallClock, logger: Logger
    ) {
        self.rules = rules
        self.store = store
        self.bus = bus
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        if let current = rules.current {
            last.withLock {
                $0 = Report(
                    trigger: .start, at: current.loadedAt,
                    outcome: .loaded(current, previousVersion: "", changed: true), conflicts: [])
            }
            metrics.recordReload(trigger: Trigger.start.rawValue)
        }
    }

    /// Replaces the hooks (the composition root sets them once).
    public func setHooks(_ hooks: Hooks) { self.hooks.withLock { $0 = hooks } }

    /// The last reload's report (the start's load until the first reload).
    public var lastReport: Report? { last.withLock { $0 } }

    /// Reloads the rules, after any reload already running; returns what happened.
    @discardableResult
    public func reload(_ trigger: Trigger) async -> Report {
        let task = tail.withLock { tail -> Task<Report, Never> in
            let previous = tail
            let task = Task { () -> Report in
                await previous?.value
                return await self.perform(trigger)
            }
            tail = Task { _ = await task.value }
            return task
        }
        return await task.value
    }

    private func perform(_ trigger: Trigger) async -> Report {
        let hooks = self.hooks.withLock { $0 }
        hooks.willReload(trigger)
        // Reloads are serialised, so the rules in force now are the ones this reload replaces.
        let previousRules = rules.current
        let outcome = await rules.reload()
        let now = clock.now()
        var report = Report(trigger: trigger, at: now, outcome: outcome, conflicts: [])
        var events: [NewEvent] = []
        switch outcome {
        case .loaded(let loaded, let previousVersion, let changed):
            metrics.recordReload(trigger: trigger.rawValue)
            if changed {
                events.append(
                    NewEvent(
                        type: "rules.reloaded", at: now,
                        data: StoreJSON.encode(
                            RulesReloadedEventData(
                                version: loaded.version, previousVersion: previousVersion,
                                files: loaded.ruleSet.files, trigger: trigger.rawValue,
                                warnings: loaded.warnings.count))))
                do {
                    report.conflicts = try await RuleConflicts.find(in: store, rules: loaded, now: now)
                        .filter { conflict in
                            // Announce a conflict when this reload caused it (or changed why), not again on every
                            // unrelated edit; the on-demand list always has them all.
                            guard let previousRules else { return true }
                            let before = RuleConflicts.check(conflict.booking, rules: previousRules, now: now)
                            return before.map(\.code) != conflict.reasons.map(\.code)
                        }
                } catch {
                    logger.error("cannot check bookings against the new rules", metadata: ["error": "\(error)"])
                }
                for conflict in report.conflicts {
                    events.append(NewEvent(type: "booking.conflicts_rules", at: now, data: conflict.eventData))
                    logger.warning(
                        "booking conflicts with the new rules",
                        metadata: [
                            "booking": "\(conflict.booking.id)",
                            "reasons": "\(conflict.reasons.map(\.message).joined(separator: "; "))",
                        ])
                }
                metrics.recordConflicts(report.conflicts.count)
                await askWaitlist(at: now)
            } else {
                logger.info("rules unchanged", metadata: ["version": "\(loaded.version)", "trigger": "\(trigger)"])
            }
        case .rejected(let diagnostics, let message):
            metrics.recordRejection()
            let errors = diagnostics.filter { $0.severity == .error }
            logger.error(
                "reload rejected; the old rules stay in force",
                metadata: [
                    "trigger": "\(trigger)", "reason": "\(message)",
                    "errors": "\(errors.map(\.text).joined(separator: " | "))",
                ])
            let problems = errors.map { diagnostic in
                RulesRejectedEventData.Problem(
                    file: diagnostic.file, line: diagnostic.line, column: diagnostic.column,
                    message: diagnostic.message, fix: diagnostic.fix, text: diagnostic.text)
            }
            events.append(
                NewEvent(
                    type: "rules.rejected", at: now,
                    data: StoreJSON.encode(
                        RulesRejectedEventData(
                            message: message, errors: problems, trigger: trigger.rawValue,
                            version: rules.current?.version ?? ""))))
        }
        do {
            bus.publish(try await store.appendEvents(events))
        } catch {
            logger.error("cannot record the reload in the event log", metadata: ["error": "\(error)"])
        }
        if case .loaded(_, _, true) = outcome { bus.publishRulesChanged() }
        last.withLock { $0 = report }
        hooks.didReload(report)
        return report
    }

    /// New rules may open starts: when anyone waits, a `waitlist.match` job offers them (one pending at a time).
    private func askWaitlist(at now: Int64) async {
        guard let waitlist = store as? any WaitlistStore & OutboxStore else { return }
        do {
            let waiting = try await waitlist.waitlistEntries(WaitlistQuery(states: [.waiting], limit: 1))
            guard !waiting.isEmpty else { return }
            let job = Job.waitlist(.match(WaitlistMatchPayload(reason: "rules.reloaded")))
            try await waitlist.ensurePendingJob(OutboxEnqueue(job, dueAt: now), at: now)
        } catch {
            logger.error("cannot ask the waitlist about the new rules", metadata: ["error": "\(error)"])
        }
    }
}
