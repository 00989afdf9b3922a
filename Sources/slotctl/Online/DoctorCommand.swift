import ArgumentParser
import Foundation
import SlotClient
import SlotAPI
import SlotRuleFiles
import SlotRules

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `slotctl doctor`: checks a live installation and says what to fix.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor", abstract: "Check a live installation and say what to fix.",
        discussion: """
            Checks, in order: the socket exists and is a socket; slotd answers on it; your role; the rules \
            directory loads without errors (read here, offline: --rules DIR, else the directory slotd reports) and \
            is what slotd serves; the database takes a write; the providers slotd reports; outbox failures and \
            bookings that conflict with the rules. Each line is ok, warn or FAIL, with the fix after a dash.
            Exit status: 0 when nothing FAILed (warnings allowed), 1 otherwise.

            Examples:
              slotctl doctor
              slotctl doctor --socket /run/slotd/slotd.sock --rules /etc/slotd/rules
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Option(help: "The rules directory to check (default: the one slotd reports).") var rules: String?

    enum Level: String {
        case ok = "ok  "
        case warn = "warn"
        case fail = "FAIL"
    }

    struct Finding {
        var level: Level
        var check: String
        var text: String
    }

    /// A finding as `--json` prints it.
    struct FindingLine: Encodable {
        var level: String
        var check: String
        var text: String
    }

    func run() throws {
        let findings = diagnose()
        if connection.json {
            let lines = findings.map {
                FindingLine(level: $0.level.rawValue.trimmingCharacters(in: .whitespaces), check: $0.check, text: $0.text)
            }
            emitJSON(try JSONCoding.encoder.encode(lines))
        } else {
            for finding in findings { emit("\(finding.level.rawValue)  \(finding.check): \(finding.text)") }
        }
        let failed = findings.filter { $0.level == .fail }.count
        let warned = findings.filter { $0.level == .warn }.count
        if !connection.json {
            emit(
                failed == 0
                    ? "doctor: all good\(warned > 0 ? " (\(warned) warning\(warned == 1 ? "" : "s"))" : "")"
                    : "doctor: \(failed) problem\(failed == 1 ? "" : "s") to fix")
        }
        if failed > 0 { throw ExitCode(1) }
    }

    func diagnose() -> [Finding] {
        var findings: [Finding] = []
        func add(_ level: Level, _ check: String, _ text: String) {
            findings.append(Finding(level: level, check: check, text: text))
        }
        let socket = connection.socketPath(root: root.socket)

        // The socket file.
        var info = stat()
        if lstat(socket, &info) != 0 {
            add(
                .fail, "socket",
                "\(socket) does not exist — start slotd (systemctl start slotd.socket slotd), or pass --socket "
                    + "with the path from slotd.yaml")
            offlineRules(rules, add: add)
            return findings
        }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            add(.fail, "socket", "\(socket) exists but is not a socket — remove it and restart slotd")
            offlineRules(rules, add: add)
            return findings
        }
        add(.ok, "socket", "\(socket) is a socket (mode \(String(info.st_mode & 0o777, radix: 8)))")

        // Reachable, and who we are.
        let client = SlotdClient(socketPath: socket)
        let health: Health
        do {
            health = try client.call("GET", "/v1/health", as: Health.self).value
        } catch {
            add(.fail, "reachable", Self.transportFix(error, socket: socket))
            offlineRules(rules, add: add)
            return findings
        }
        add(.ok, "reachable", "slotd \(health.version) answers, up \(health.uptimeSeconds)s")
        if health.role == "admin" {
            add(.ok, "role", "uid \(getuid()) is admin")
        } else {
            add(
                .warn, "role",
                "uid \(getuid()) is '\(health.role)' — backups, exports and reloads need admin: add the uid under "
                    + "`roles:` in slotd.yaml")
        }

        // What the daemon reports.
        let status: DaemonStatus
        do {
            status = try client.call("GET", "/v1/status", as: DaemonStatus.self).value
        } catch {
            add(.fail, "status", "GET /v1/status failed: \(error) — is this slotd older than slotctl?")
            offlineRules(rules, add: add)
            return findings
        }

        // Rules: the directory on disk, and whether it is what is served.
        let directory = rules ?? status.rulesDirectory
        if let version = offlineRules(directory, add: add) {
            if version == status.rules.version {
                add(.ok, "rules served", "slotd serves version \(status.rules.version.prefix(8))")
            } else {
                add(
                    .warn, "rules served",
                    "the files in \(directory) (version \(version.prefix(8))) differ from what slotd serves "
                        + "(\(status.rules.version.prefix(8))) — run `slotctl rules reload`")
            }
        }
        if let last = status.lastReload, last.outcome == "rejected" {
            add(
                .warn, "last reload",
                "rejected at \(last.at) (\(last.trigger)): \(last.message) — fix the files and run slotctl rules reload"
            )
        }

        // The database.
        if status.store.writable && status.store.detail == "ok" {
            add(
                .ok, "database",
                "\(status.database) takes writes, quick_check ok (schema \(status.store.schemaVersion ?? 0))")
        } else if status.store.writable {
            add(
                .fail, "database",
                "\(status.database) quick_check: \(status.store.detail) — stop slotd and restore the last backup")
        } else {
            add(
                .fail, "database",
                "\(status.database) does not take writes: \(status.store.detail) — check the disk space and that "
                    + "the file and its directory belong to slotd's user")
        }

        // Providers, outbox and conflicts.
        let notifications = status.providers.notifications
        add(
            .ok, "providers",
            "payments: \(status.providers.payment)"
                + (status.providers.paymentCollectsOnline ? " (collects online)" : " (paid at the shop)")
                + "; notifications: " + (notifications.isEmpty ? "none" : notifications.joined(separator: ", ")))
        if notifications.isEmpty {
            add(.warn, "notifications", "no notification provider is configured — customers get no messages")
        }
        let failed = status.outboxByState["failed"] ?? 0
        if failed > 0 {
            add(.warn, "outbox", "\(failed) job(s) failed for good — see GET /v1/outbox and retry them")
        } else {
            add(.ok, "outbox", "\(status.outboxByState["pending"] ?? 0) pending, none failed")
        }
        if status.conflicts > 0 {
            add(
                .warn, "bookings",
                "\(status.conflicts) booking(s) conflict with the rules — `slotctl bookings --conflicts` lists them")
        } else {
            add(.ok, "bookings", "\(status.bookingsToday) active today, none conflicts with the rules")
        }
        return findings
    }

    /// Loads a rules directory here; returns its version when it loads without errors.
    @discardableResult
    func offlineRules(_ directory: String?, add: (Level, String, String) -> Void) -> String? {
        guard let directory else { return nil }
        let input: (sources: [RuleSource], attachments: [String: String])
        do {
            input = try RuleDirectory.read([directory], naming: .fileName)
        } catch {
            add(.fail, "rules", "\(error.description) — pass --rules with the rules directory")
            return nil
        }
        let result = RuleLoader.load(input.sources, attachments: input.attachments)
        let errors = result.diagnostics.filter { $0.severity == .error }
        guard let ruleSet = result.ruleSet, errors.isEmpty else {
            add(.fail, "rules", "\(directory) has \(errors.count) error(s) — fix them, then slotctl rules reload")
            for diagnostic in errors { add(.fail, "rules", "\(diagnostic)") }
            return nil
        }
        add(.ok, "rules", "\(directory): \(ruleSet.files.count) file(s) load without errors")
        return ruleSet.version
    }

    static func transportFix(_ failure: OnlineFailure, socket: String) -> String {
        guard case .transport(let error) = failure else { return "\(failure)" }
        switch error.kind {
        case .notRunning:
            return "nothing listens at \(socket) (a stale socket file?) — start slotd: systemctl start slotd"
        case .permissionDenied:
            return "uid \(getuid()) may not connect to \(socket) — add the user to the socket's group "
                + "(SocketGroup= / socket_group) and log in again"
        case .timeout:
            return "slotd did not answer within the timeout — check `journalctl -u slotd` for a hang"
        case .badPath:
            return "\(socket) is too long for a Unix socket path — use a shorter one"
        case .io:
            return "the connection broke (\(error.detail)) — check `journalctl -u slotd`"
        }
    }
}
