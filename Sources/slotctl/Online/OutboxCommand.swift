import ArgumentParser
import Foundation
import SlotAPI

/// `slotctl outbox`: list outbox jobs; `slotctl outbox show ID`; `slotctl outbox retry ID`.
struct OutboxCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "List outbox jobs (notifications, payments, sweeps), show or retry one.",
        discussion: """
            Without an action, lists jobs newest first: id, kind, state, attempts, when due, and the last error.
            A job that failed after its last attempt (or with a permanent error) stays `failed` until retried:
            `slotctl outbox retry ID` puts it back to pending, due now, with a fresh set of attempts (admin).
            \(OnlineExit.help(examples:
                "slotctl outbox", "slotctl outbox --state failed", "slotctl outbox show 42",
                "slotctl outbox retry 42"))
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Argument(help: "Nothing to list, or `show ID` or `retry ID`.") var action: [String] = []
    @Option(help: "Only jobs in this state: pending, done or failed.") var state: String?
    @Option(help: "At most this many jobs (1-1000, default 100).") var limit: Int?

    func validate() throws {
        switch action.first {
        case nil:
            return
        case "show", "retry":
            guard action.count == 2, let id = Int64(action[1]), id > 0 else {
                throw ValidationError("`\(action[0])` takes one job id (a number from `slotctl outbox`)")
            }
            if state != nil || limit != nil {
                throw ValidationError("--state and --limit are for listing, not for `\(action[0])`")
            }
        default:
            throw ValidationError("unknown action '\(action[0])' — use show ID or retry ID, or nothing to list")
        }
    }

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        if action.count == 2 {
            let id = action[1]
            let (job, raw): (OutboxJobInfo, Data)
            if action[0] == "retry" {
                (job, raw) = try client.call("POST", "/v1/outbox/\(id)/retry", as: OutboxJobInfo.self)
            } else {
                (job, raw) = try client.call("GET", "/v1/outbox/\(id)", as: OutboxJobInfo.self)
            }
            if connection.json { return emitJSON(raw) }
            if action[0] == "retry" { emit("job \(job.id) is pending again, due now") }
            emit(Self.details(job))
            return
        }
        let query: [(String, String?)] = [("state", state), ("limit", limit.map(String.init))]
        let (list, raw) = try client.call("GET", "/v1/outbox", query: query, as: OutboxJobList.self)
        if connection.json { return emitJSON(raw) }
        var table = TextTable("ID", "KIND", "STATE", "ATTEMPTS", "DUE", "LAST ERROR")
        for job in list.jobs {
            table.add(
                String(job.id), job.kind, job.state, String(job.attempts), TimeText.dayAndTime(job.due),
                Self.short(job.lastError ?? ""))
        }
        if list.jobs.isEmpty {
            emit("no \(state.map { "\($0) " } ?? "")jobs")
        } else {
            emit(table.rendered)
        }
        let counts = ["pending", "done", "failed"].map { "\($0) \(list.counts[$0] ?? 0)" }.joined(separator: ", ")
        emit("total: \(counts)")
    }

    /// The first line of an error, at most 70 characters.
    static func short(_ text: String) -> String {
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        return line.count > 70 ? String(line.prefix(69)) + "…" : line
    }

    static func details(_ job: OutboxJobInfo) -> String {
        var lines = [
            "id:        \(job.id)", "kind:      \(job.kind)", "state:     \(job.state)",
            "attempts:  \(job.attempts)", "due:       \(job.due)", "created:   \(job.created)",
        ]
        if let finished = job.finished { lines.append("finished:  \(finished)") }
        if let booking = job.booking { lines.append("booking:   \(booking)") }
        if let note = job.note { lines.append("note:      \(note)") }
        if let error = job.lastError { lines.append("error:     \(error)") }
        return lines.joined(separator: "\n")
    }
}
