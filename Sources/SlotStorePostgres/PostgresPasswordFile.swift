import Foundation

/// The file that holds a PostgreSQL password (slotd.yaml's `postgres: password_file`, `slotctl migrate
/// --password-file`), so the password is in no URL, command line or log.
public enum PostgresPasswordFile {
    /// A password file that cannot be used, and why.
    public struct Problem: Error, Sendable {
        public var message: String
    }

    /// The password in `path` (its first line). Refuses, as ssh does for keys and libpq for `.pgpass`, a file other
    /// users may read: world access never, group access only on a file owned by root (`root:slotd 0640`, the usual
    /// way to hand a service a secret an administrator keeps).
    public static func read(_ path: String) throws(Problem) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Problem(
                message: "cannot read the password file \(path) (\(String(cString: strerror(errno)))) — check the "
                    + "path and that slotd's user may read it")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw Problem(message: "the password file \(path) is not a regular file")
        }
        let mode = info.st_mode & 0o777
        let ownedByRoot = info.st_uid == 0
        if mode & 0o037 != 0 || (mode & 0o040 != 0 && !ownedByRoot) {
            throw Problem(
                message: "the password file \(path) has mode \(String(mode, radix: 8).leftPadded(to: 4)): other users "
                    + "may read it — chmod 600 \(path) (or 640 with owner root and slotd's group)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem(
                message: "cannot read the password file \(path) — check that slotd's user may read it")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Problem(message: "the password file \(path) is not UTF-8 text")
        }
        // The first line, as written: spaces may be part of a password, the line break is not.
        let password = text.split(maxSplits: 1, omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .first.map(String.init) ?? ""
        guard !password.isEmpty else {
            throw Problem(message: "the password file \(path) is empty — write the password on its first line")
        }
        return password
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
