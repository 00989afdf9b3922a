import Logging
import SlotBlocking
import SlotAPI
import SlotCore
import SlotEngine
import SlotRuleFiles
import SlotRules
import Synchronization

/// One loaded rule set with its engine and a cache of compiled free time.
public final class LoadedRules: Sendable {
    public let ruleSet: RuleSet
    public let engine: AvailabilityEngine
    /// Warnings found while loading.
    public let warnings: [Diagnostic]
    /// When it was loaded (seconds since the epoch).
    public let loadedAt: Int64
    private let cachedSchedule = Mutex<Schedule?>(nil)

    init(ruleSet: RuleSet, warnings: [Diagnostic], loadedAt: Int64) {
        self.ruleSet = ruleSet
        self.engine = AvailabilityEngine(rules: ruleSet)
        self.warnings = warnings
        self.loadedAt = loadedAt
    }

    public var version: String { ruleSet.version }

    /// The compiled free time a decision or slot search about `first` through `last` reads: those days and two
    /// days either side, which a booking's buffers and long services can reach.
    func schedule(around first: LocalDate, through last: LocalDate) -> Schedule {
        schedule(from: first.adding(days: -2), through: last.adding(days: 2))
    }

    /// The local date of the instant `start`, and the compiled free time around it (`schedule(around:through:)`).
    func schedule(around start: Int64) -> (date: LocalDate, schedule: Schedule) {
        let date = ruleSet.shop.timeZone.localDateTime(atInstant: start).date
        return (date, schedule(around: date, through: date))
    }

    /// Compiled free time covering `first` through `last` with room around them, reused while it covers them.
    func schedule(from first: LocalDate, through last: LocalDate) -> Schedule {
        if let cached = cachedSchedule.withLock({ $0 }), cached.covers(from: first, through: last) { return cached }
        // Compile generously (the whole horizon around today) so most queries reuse it.
        let horizonDays = ruleSet.shop.horizonMinutes / 1440 + 1
        let from = first.adding(days: -3)
        let through = max(last, first.adding(days: horizonDays)).adding(days: 3)
        let schedule = engine.schedule(from: from, through: through)
        cachedSchedule.withLock { $0 = schedule }
        return schedule
    }
}

/// The rules in force, swapped atomically on reload; a bad reload keeps the old rules.
///
/// Reloads are serialised by their one caller, `RuleReloader` (the composition root's first load runs before it
/// exists), so this type only guards the swap.
public final class RuleHolder: Sendable {
    public let directory: String
    private let clock: WallClock
    private let logger: Logger
    private let state = Mutex<LoadedRules?>(nil)

    init(directory: String, clock: WallClock, logger: Logger) {
        self.directory = directory
        self.clock = clock
        self.logger = logger
    }

    /// The rules in force (nil only before the first successful load).
    public var current: LoadedRules? { state.withLock { $0 } }

    /// The outcome of a load or reload.
    public enum ReloadOutcome: Sendable {
        /// Loaded; `changed` is false when the version is the same (nothing was swapped).
        case loaded(LoadedRules, previousVersion: String, changed: Bool)
        /// Rejected: the diagnostics (or the read error as one); the old rules keep serving.
        case rejected([RuleDiagnostic], message: String)
    }

    /// Reads the directory, validates, and swaps in the new rules if they load without errors.
    ///
    /// Reading and compiling run off the cooperative pool: file I/O blocks, and a large rule set compiles for a
    /// while. Call it from one place at a time (`RuleReloader` does), so an older read never replaces a newer one.
    @discardableResult
    func reload() async -> ReloadOutcome {
        let directory = self.directory
        let read = await BlockingWork.run { () -> Result<RuleLoadResult, RuleDirectory.ReadError> in
            Result { () throws(RuleDirectory.ReadError) in
                let files = try RuleDirectory.read([directory], naming: .fileName)
                return RuleLoader.load(files.sources, attachments: files.attachments)
            }
        }
        let result: RuleLoadResult
        switch read {
        case .success(let loaded):
            result = loaded
        case .failure(let error):
            logger.error("rules rejected", metadata: ["error": "\(error)"])
            return .rejected([], message: "\(error)")
        }
        guard let ruleSet = result.ruleSet, !result.diagnostics.hasErrors else {
            let errors = result.diagnostics.filter { $0.severity == .error }
            for diagnostic in errors { logger.error("rule error", metadata: ["diagnostic": "\(diagnostic)"]) }
            let message =
                errors.isEmpty
                ? "the rules did not load" : "\(errors.count) error(s) in the rules; the old rules stay in force"
            return .rejected(result.diagnostics.map(RuleHolder.wire), message: message)
        }
        let previous = current
        if let previous, previous.version == ruleSet.version, !ruleSet.version.isEmpty {
            return .loaded(previous, previousVersion: previous.version, changed: false)
        }
        let loaded = LoadedRules(
            ruleSet: ruleSet, warnings: result.diagnostics.filter { $0.severity == .warning }, loadedAt: clock.now())
        state.withLock { $0 = loaded }
        for warning in loaded.warnings { logger.warning("rule warning", metadata: ["diagnostic": "\(warning)"]) }
        logger.info(
            "rules loaded",
            metadata: [
                "version": "\(ruleSet.version)", "files": "\(ruleSet.files.joined(separator: ","))",
                "services": "\(ruleSet.services.count)", "staff": "\(ruleSet.staff.count)",
            ])
        return .loaded(loaded, previousVersion: previous?.version ?? "", changed: true)
    }

    /// Checks a candidate file as if it replaced (or joined) the directory's file of that name; nothing changes.
    public func check(candidate text: String, name: String) async -> RuleCheckResult {
        await BlockingWork.run {
            let result = self.load(.file(name: name, text: text))
            let ok = result.ruleSet != nil && !result.diagnostics.hasErrors
            return RuleCheckResult(ok: ok, diagnostics: result.diagnostics.map(RuleHolder.wire))
        }
    }

    /// Loads a candidate against the directory's files; nothing changes. It reads files: call it off the
    /// cooperative pool (inside `BlockingWork.run`).
    func load(_ candidate: RuleCandidate) -> RuleLoadResult {
        let files = (try? RuleDirectory.read([directory], naming: .fileName)) ?? (sources: [], attachments: [:])
        var sources: [RuleSource]
        var attachments = files.attachments
        switch candidate {
        case .file(let name, let text):
            sources = files.sources.filter { $0.name != name }
            sources.append(RuleSource(name: name, text: text))
        case .directory(let candidateFiles):
            sources = []
            for (name, text) in candidateFiles {
                if RuleCandidate.isCalendar(name) {
                    attachments[name] = text
                } else {
                    sources.append(RuleSource(name: name, text: text))
                }
            }
        }
        sources.sort { $0.name < $1.name }
        return RuleLoader.load(sources, attachments: attachments)
    }

    static func wire(_ diagnostic: Diagnostic) -> RuleDiagnostic {
        RuleDiagnostic(
            severity: RuleDiagnosticSeverity(diagnostic.severity), file: diagnostic.location.file,
            line: diagnostic.location.line,
            column: diagnostic.location.column, message: diagnostic.message, fix: diagnostic.fix,
            text: diagnostic.description)
    }
}

/// Rules to try without loading them: the running directory with one file replaced or added, or a whole directory.
public enum RuleCandidate: Sendable {
    /// The directory's file `name` replaced by (or joined by) `text`.
    case file(name: String, text: String)
    /// These files (name → text) instead of the directory's rule files; `*.ics` calendars join the directory's.
    case directory([String: String])

    /// Whether a file name is an imported holiday calendar rather than a rule file.
    static func isCalendar(_ name: String) -> Bool { name.hasSuffix(".ics") }

    /// Whether a file name can be a candidate directory's file: a plain `*.yaml`, `*.yml` or `*.ics` name.
    static func isAcceptedName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && !name.hasPrefix(".")
            && [".yaml", ".yml", ".ics"].contains { name.hasSuffix($0) }
    }
}
