import ArgumentParser
import Foundation
import SlotAPI
import SlotRuleFiles
import SlotRules

/// `slotctl rules diff DIR`: what a candidate rules directory would change against the running daemon.
struct RulesDiffCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Preview a candidate rules directory against the running daemon: starts gained and lost, "
            + "bookings no longer allowed.",
        discussion: """
            Sends every *.yaml/*.yml rule file and *.ics calendar of DIR to slotd (POST /v1/rules/preview with \
            {"files": {...}}); the daemon compares them with the rules in force for the next --days days \
            (default 28) and checks its held and confirmed bookings. Nothing is loaded: reload when content.

            Prints a table of the starts lost and gained per day, staff member and service, then the bookings \
            the candidate would no longer allow with the reason. --json prints the API's answer as is.

            Exit status: 0 when no booking would be refused (starts may be gained or lost), 4 when at least \
            one booking would no longer be allowed (so a script can refuse to reload), 5 when the candidate has \
            errors (each printed as file:line:column), 64 when DIR cannot be read. Needs the admin role.

            \(OnlineExit.help(
                examples: "slotctl rules diff /etc/slotd/rules.new",
                "slotctl rules diff ./candidate --days 14 --json",
                "slotctl rules diff ./candidate && cp ./candidate/*.yaml /etc/slotd/rules/ && slotctl rules reload"))
            """)

    @Argument(help: "The candidate rules directory.")
    var directory: String

    @Option(help: "How many days from today to compare (1–366).")
    var days: Int = 28

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    func validate() throws {
        guard (1...366).contains(days) else { throw ValidationError("--days must be from 1 to 366") }
    }

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let read: (sources: [RuleSource], attachments: [String: String])
        do {
            read = try RuleDirectory.read([directory], naming: .fileName)
        } catch {
            throw .usage("cannot read the candidate rules: \(error.description)")
        }
        guard !read.sources.isEmpty else {
            throw .usage("\(directory) holds no rule files (*.yaml) — name the candidate rules directory")
        }
        var files = read.attachments
        for source in read.sources { files[source.name] = source.text }
        let (preview, raw) = try client.call(
            "POST", "/v1/rules/preview", query: [("days", String(days))],
            body: SlotdClient.encode(RulePreviewRequest(files: files)),
            headers: ["Content-Type": "application/json"], as: RulePreviewResult.self)
        if connection.json {
            emitJSON(raw)
        } else {
            for diagnostic in preview.diagnostics {
                FileHandle.standardError.write(Data("\(diagnostic.text)\n".utf8))
            }
            emit(Self.render(preview))
        }
        if !preview.noLongerAllowed.isEmpty {
            throw .bookingsRefused(preview.noLongerAllowed.count)
        }
    }

    /// The preview for people: a summary line, the changed starts per day, then the refused bookings.
    static func render(_ preview: RulePreviewResult) -> String {
        var lines = [
            "Rules preview: version \(preview.rulesVersionBefore.prefix(8)) → \(preview.rulesVersionAfter.prefix(8)), "
                + "\(preview.from) to \(preview.to) (\(preview.days) days)",
            "Starts gained: \(preview.counts.gained), lost: \(preview.counts.lost); "
                + "bookings no longer allowed: \(preview.counts.noLongerAllowed)",
        ]
        if preview.gained.isEmpty && preview.lost.isEmpty && preview.noLongerAllowed.isEmpty {
            lines.append("No change in the offered starts or the bookings.")
            return lines.joined(separator: "\n")
        }
        if !preview.gained.isEmpty || !preview.lost.isEmpty {
            struct Key: Hashable, Comparable {
                var date: String
                var staff: String
                var service: String
                static func < (lhs: Key, rhs: Key) -> Bool {
                    (lhs.date, lhs.staff, lhs.service) < (rhs.date, rhs.staff, rhs.service)
                }
            }
            var changes: [Key: (lost: [String], gained: [String])] = [:]
            for start in preview.lost {
                let key = Key(date: TimeText.date(start.start), staff: start.staff, service: start.service)
                changes[key, default: ([], [])].lost.append(start.start)
            }
            for start in preview.gained {
                let key = Key(date: TimeText.date(start.start), staff: start.staff, service: start.service)
                changes[key, default: ([], [])].gained.append(start.start)
            }
            var table = TextTable("DAY", "STAFF", "SERVICE", "LOST", "GAINED")
            for key in changes.keys.sorted() {
                let change = changes[key] ?? ([], [])
                table.add(
                    "\(TimeText.weekday(key.date)) \(key.date)", key.staff, key.service, runs(change.lost),
                    runs(change.gained))
            }
            lines += ["", table.rendered]
        }
        if !preview.noLongerAllowed.isEmpty {
            var table = TextTable("BOOKING", "START", "STAFF", "SERVICE", "CUSTOMER", "REASON")
            for booking in preview.noLongerAllowed {
                table.add(
                    booking.id, TimeText.dayAndTime(booking.start), booking.staff, booking.service, booking.customer,
                    booking.reasons.map { "\($0.code): \($0.message)" }.joined(separator: "; "))
            }
            lines += ["", "Bookings the candidate would no longer allow:", table.rendered]
        }
        return lines.joined(separator: "\n")
    }

    /// Starts of one day as runs on their grid: `09:00–11:30 (6), 14:00 (1)`; `-` when there are none.
    static func runs(_ starts: [String]) -> String {
        let minutes = starts.compactMap { iso -> Int? in
            let parts = TimeText.time(iso).split(separator: ":").compactMap { Int($0) }
            return parts.count == 2 ? parts[0] * 60 + parts[1] : nil
        }
        guard !minutes.isEmpty else { return "-" }
        // The smallest gap between starts is the grid step as far as this list can tell.
        let step = zip(minutes, minutes.dropFirst()).map { $1 - $0 }.filter { $0 > 0 }.min() ?? 0
        var runs: [(first: Int, last: Int, count: Int)] = []
        for minute in minutes {
            if let last = runs.last, minute - last.last == step {
                runs[runs.count - 1].last = minute
                runs[runs.count - 1].count += 1
            } else {
                runs.append((minute, minute, 1))
            }
        }
        func clock(_ minute: Int) -> String { String(format: "%02d:%02d", minute / 60, minute % 60) }
        return runs.map { run in
            (run.count == 1 ? clock(run.first) : "\(clock(run.first))–\(clock(run.last))") + " (\(run.count))"
        }.joined(separator: ", ")
    }
}
