import Foundation
import SlotAPI
import SlotBlocking
import SlotCore
import SlotEngine

/// The admin page's rule editor: the rules directory's files, checked and previewed with the socket's own check
/// and preview, saved atomically (temporary file, fsync, rename) with a small history beside them, then reloaded.
/// A reload that rejects the saved file puts the previous text back, so a rejected save changes nothing.
/// Only with `web.rules_editing: true` and a directory slotd may write.
struct AdminRuleEditor: Sendable {
    let service: BookingService
    let reloader: RuleReloader
    let directory: String
    let enabled: Bool

    /// Earlier versions live in `<rules>/.history/` (dot-named: never read as rules), at most this many per file.
    static let historyLimit = 10
    var historyDirectory: String { directory + "/.history" }

    /// Whether saving works, and if not, why (for the page).
    func editability() async -> (editable: Bool, reason: String?) {
        guard enabled else {
            return (false, "rule editing is off — set `web.rules_editing: true` in slotd.yaml to turn it on")
        }
        let directory = self.directory
        let writable = await BlockingWork.run { access(directory, W_OK) == 0 }
        guard writable else {
            return (false, "slotd may not write \(directory) — give its user write access (systemd: ReadWritePaths=)")
        }
        return (true, nil)
    }

    func files() async throws -> AdminRuleFiles {
        let (editable, reason) = await editability()
        let directory = self.directory
        let files = try await BlockingWork.run { () throws(APIError) -> [AdminRuleFiles.File] in
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
                throw APIError(.unavailable, "cannot read the rules directory \(directory)")
            }
            return names.filter { !$0.hasPrefix(".") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }.sorted()
                .map { name in
                    let text = (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? ""
                    return AdminRuleFiles.File(name: name, text: text)
                }
        }
        return AdminRuleFiles(editable: editable, reason: reason, files: files)
    }

    /// Saves `text` as `name` and reloads; on a rejected reload the old text is back before this throws.
    func save(name: String, text: String) async throws -> AdminRuleSaveAnswer {
        let (editable, reason) = await editability()
        guard editable else { throw APIError(.forbidden, reason ?? "rule editing is off") }
        try Self.requirePlainName(name)
        let check = await service.rules.check(candidate: text, name: name)
        guard check.ok else {
            throw APIError(
                problem: Problem(
                    code: .rulesInvalid, detail: "\(name) has errors — fix them, then save",
                    diagnostics: check.diagnostics))
        }
        let path = directory + "/" + name
        let history = historyDirectory
        let now = service.clock.now()
        let previous = try await BlockingWork.run { () throws(APIError) -> String? in
            let old = try? String(contentsOfFile: path, encoding: .utf8)
            if let old { try Self.keep(old, name: name, at: now, in: history) }
            try Self.writeAtomically(text, to: path)
            return old
        }
        let report = await reloader.reload(.api)
        switch report.outcome {
        case .loaded(let loaded, _, let changed):
            return AdminRuleSaveAnswer(
                version: loaded.version, changed: changed, conflicts: report.conflicts.count,
                warnings: loaded.warnings.map(RuleHolder.wire))
        case .rejected(let diagnostics, let message):
            try await BlockingWork.run { () throws(APIError) in
                if let previous { try Self.writeAtomically(previous, to: path) } else { unlink(path) }
            }
            await reloader.reload(.api)
            throw APIError(
                problem: Problem(
                    code: .rulesInvalid, detail: "the reload rejected \(name); the old file is back: \(message)",
                    diagnostics: diagnostics))
        }
    }

    /// The kept versions of `name`, newest first.
    func history(name: String) async throws -> AdminRuleHistory {
        try Self.requirePlainName(name)
        let history = historyDirectory
        let versions = await BlockingWork.run { Self.versions(of: name, in: history) }
        return AdminRuleHistory(name: name, versions: versions)
    }

    /// Saves a kept version again (itself checked, kept and reloaded like any save).
    func restore(name: String, version: String) async throws -> AdminRuleSaveAnswer {
        try Self.requirePlainName(name)
        let history = historyDirectory
        guard version.allSatisfy({ $0.isNumber || $0 == "-" }), !version.isEmpty else {
            throw APIError.invalid("version", "'\(version)' is not a version from the history list")
        }
        let path = "\(history)/\(name).\(version)"
        let text = await BlockingWork.run { try? String(contentsOfFile: path, encoding: .utf8) }
        guard let text else { throw APIError(.notFound, "no kept version \(version) of \(name)") }
        return try await save(name: name, text: text)
    }

    // MARK: - Files (blocking: call inside BlockingWork.run)

    static func requirePlainName(_ name: String) throws(APIError) {
        guard RuleCandidate.isAcceptedName(name), !RuleCandidate.isCalendar(name), !name.hasPrefix(".") else {
            throw APIError.invalid("name", "'\(name)' is not a rule file name: use a plain name like staff.yaml")
        }
    }

    /// Writes a temporary file beside `path`, fsyncs it, renames it over `path`, and fsyncs the directory: a
    /// reader (or a crash) sees the old file or the new one, never half of one.
    static func writeAtomically(_ text: String, to path: String) throws(APIError) {
        BlockingWork.assertOffCooperativePool("writing a rule file")
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = directory + "/." + (path as NSString).lastPathComponent + ".saving-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("create \(temporary)") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else {
            unlink(temporary)
            throw failure("write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw failure("replace \(path)")
        }
        let folder = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Keeps `text` as `<history>/<name>.<epoch seconds>-<n>` and drops all but the newest `historyLimit`.
    static func keep(_ text: String, name: String, at now: Int64, in history: String) throws(APIError) {
        if mkdir(history, 0o755) != 0 && errno != EEXIST { throw failure("create \(history)") }
        var suffix = 0
        while FileManager.default.fileExists(atPath: "\(history)/\(name).\(now)-\(suffix)") { suffix += 1 }
        try writeAtomically(text, to: "\(history)/\(name).\(now)-\(suffix)")
        for old in versions(of: name, in: history).dropFirst(historyLimit) {
            unlink("\(history)/\(name).\(old.version)")
        }
    }

    static func versions(of name: String, in history: String) -> [AdminRuleHistory.Version] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: history)) ?? []
        return names.compactMap { file -> (Int64, Int, String)? in
            guard file.hasPrefix(name + "."), !file.hasPrefix(".") else { return nil }
            let version = String(file.dropFirst(name.count + 1))
            let parts = version.split(separator: "-")
            guard parts.count == 2, let seconds = Int64(parts[0]), let index = Int(parts[1]) else { return nil }
            return (seconds, index, version)
        }
        .sorted { ($0.0, $0.1) > ($1.0, $1.1) }
        .map { AdminRuleHistory.Version(version: $0.2, savedAt: $0.0) }
    }

    static func failure(_ what: String) -> APIError {
        APIError(.internalError, "cannot \(what): \(String(cString: strerror(errno)))")
    }
}
