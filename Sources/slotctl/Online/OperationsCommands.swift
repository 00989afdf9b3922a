import ArgumentParser
import Foundation
import SlotAPI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `slotctl backup FILE`: a consistent copy of the live database.
struct BackupCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Write a consistent copy of the live database to FILE.",
        discussion: """
            slotd copies its database with SQLite's online backup API while bookings go on, checks the copy with \
            PRAGMA integrity_check, and sends it; slotctl writes it to a temporary file beside FILE, checks it is an \
            SQLite database of the size announced, and renames it into place, so FILE is never half written. \
            Needs the admin role. Restore: stop slotd, copy the file to the database path, start slotd \
            (see README, "Backups and restore").
            \(OnlineExit.help(examples: "slotctl backup /var/backups/slotd-$(date +%F).sqlite"))
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl
    @Argument(help: "Where to write the backup.") var file: String
    @Flag(help: "Replace FILE if it exists.") var force = false

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        if !force, FileManager.default.fileExists(atPath: file) {
            throw .usage("\(file) exists — pass --force to replace it, or choose another name")
        }
        let data = try client.raw("GET", "/v1/backup", headers: ["Accept": "application/vnd.sqlite3"])
        if let problem = BackupFile.problem(with: data) { throw .unexpected(status: 200, body: problem) }
        do {
            try AtomicFile.write(data, to: file)
        } catch {
            throw .usage("cannot write \(file): \(error.localizedDescription)")
        }
        if connection.json {
            emit(#"{"file":"\#(file)","bytes":\#(data.count)}"#)
        } else {
            emit("backup written to \(file) (\(data.count) bytes, integrity checked by slotd)")
        }
    }
}

/// Checks on a backup's bytes slotctl can make without SQLite.
enum BackupFile {
    static let header = Data("SQLite format 3\u{0}".utf8)

    /// Why the bytes are not a plausible SQLite database, or nil when they are.
    static func problem(with data: Data) -> String? {
        guard data.count >= 100, data.prefix(16) == header else {
            return "the backup is not an SQLite database (bad header) — nothing was written"
        }
        // The page size is bytes 16–17, big-endian (1 means 65536); the file is a whole number of pages.
        let bytes = [UInt8](data.prefix(32))
        var pageSize = Int(bytes[16]) << 8 | Int(bytes[17])
        if pageSize == 1 { pageSize = 65536 }
        guard pageSize >= 512, data.count % pageSize == 0 else {
            return "the backup is truncated (\(data.count) bytes is not a whole number of \(pageSize)-byte pages)"
        }
        let pages = Int(bytes[28]) << 24 | Int(bytes[29]) << 16 | Int(bytes[30]) << 8 | Int(bytes[31])
        if pages > 0, pages * pageSize != data.count {
            return "the backup is truncated (header says \(pages) pages, got \(data.count / pageSize))"
        }
        return nil
    }
}

/// Writes a file so that readers see the old one or the whole new one: a temp file beside it, fsync, rename.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temp = "\(directory)/.\(url.lastPathComponent).\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temp, contents: nil, attributes: [.posixPermissions: 0o600])
        else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temp])
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temp))
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            guard rename(temp, path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        } catch {
            unlink(temp)
            throw error
        }
    }
}

/// `slotctl export --json [FILE]`: everything, as one JSON document for other software.
struct ExportCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export services, staff, customers and bookings as JSON.",
        discussion: """
            One JSON document (format "slotd-export", format_version 1): shop, services and staff from the rules, \
            customers and every booking from the database, times in ISO 8601 with the shop's offset, prices in \
            minor units with their currency. Written to FILE (atomically) or to standard output. Needs the admin \
            role. The shape is documented in the README ("Export").
            \(OnlineExit.help(examples: "slotctl export --json shop.json", "slotctl export --json | jq '.bookings | length'"))
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl
    @Argument(help: "Where to write the export (default: standard output).") var file: String?

    func validate() throws {
        if !connection.json { throw ValidationError("export writes JSON only — pass --json") }
    }

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let data = try client.raw("GET", "/v1/export")
        guard let file else { return emitJSON(data) }
        do {
            try AtomicFile.write(data, to: file)
        } catch {
            throw .usage("cannot write \(file): \(error.localizedDescription)")
        }
        FileHandle.standardError.write(Data("export written to \(file) (\(data.count) bytes)\n".utf8))
    }
}

/// `slotctl bookings --conflicts`.
enum ConflictsOutput {
    static func perform(_ client: SlotdClient, json: Bool) throws(OnlineFailure) {
        let (list, raw) = try client.call(
            "GET", "/v1/bookings", query: [("conflicts", "true")], as: BookingConflictList.self)
        if json { return emitJSON(raw) }
        guard !list.bookings.isEmpty else { return emit("no bookings conflict with the rules in force") }
        var table = TextTable("ID", "DATE", "TIME", "STAFF", "CUSTOMER", "STATUS", "WHY")
        for booking in list.bookings {
            let why =
                list.conflicts.first { $0.booking == booking.id }?.reasons.map(\.message)
                .joined(separator: "; ") ?? ""
            table.add(
                booking.id, "\(TimeText.weekday(TimeText.date(booking.start))) \(TimeText.date(booking.start))",
                "\(TimeText.time(booking.start))–\(TimeText.time(booking.end))", booking.staff, booking.customer.name,
                booking.status.rawValue, why)
        }
        emit(table.rendered)
        emit(
            "\(list.bookings.count) booking(s) conflict with the rules in force: they stay booked — move or cancel them"
        )
    }
}

/// The operations lines of `slotctl status`.
enum StatusText {
    static func lines(_ status: DaemonStatus) -> [String] {
        var lines: [String] = []
        let active = (status.bookingsByState["held"] ?? 0) + (status.bookingsByState["confirmed"] ?? 0)
        lines.append(
            "  bookings: \(status.bookingsToday) today, \(active) active in all"
                + (status.conflicts > 0
                    ? ", \(status.conflicts) conflicting with the rules (bookings --conflicts)" : ""))
        lines.append(
            "  outbox: \(status.outboxByState["pending"] ?? 0) pending, \(status.outboxByState["failed"] ?? 0) failed")
        if let last = status.lastReload {
            lines.append("  last reload: \(last.outcome) at \(last.at) (\(last.trigger)) — \(last.message)")
            for error in last.errors { lines.append("    \(error.text)") }
        }
        lines.append(
            "  database: \(status.database) — "
                + (status.store.writable
                    ? "writable, check \(status.store.detail)" : "NOT writable: \(status.store.detail)"))
        lines.append(
            "  providers: payments \(status.providers.payment), notifications "
                + (status.providers.notifications.isEmpty
                    ? "none" : status.providers.notifications.joined(separator: ", ")))
        lines.append("  live subscribers: \(status.subscribers)")
        return lines
    }
}
