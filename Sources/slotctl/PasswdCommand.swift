import ArgumentParser
import Foundation
import SlotAuth

/// `slotctl passwd`: hash an admin page password for `web.users` in slotd.yaml.
struct PasswdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Make the password hash of an admin page user (web.users in slotd.yaml).",
        discussion: """
            Reads the password from standard input (one line; typed twice, unechoed, on a terminal) and prints \
            its hash: PBKDF2-HMAC-SHA256 from the system's libcrypto with a random salt. Put it in slotd.yaml:

              web:
                users:
                  - { name: mehmet, role: admin, staff: mehmet, password_hash: "pbkdf2-sha256$600000$…" }

            Examples:
              slotctl passwd
              printf '%s\\n' "$PASSWORD" | slotctl passwd
            """
    )

    @Option(help: ArgumentHelp("PBKDF2 iterations (at least 100000).", valueName: "N"))
    var iterations: UInt32 = PasswordHash.defaultIterations

    func validate() throws {
        guard iterations >= PasswordHash.minimumIterations else {
            throw ValidationError("--iterations must be at least \(PasswordHash.minimumIterations)")
        }
    }

    func run() throws {
        let password: String
        if isatty(STDIN_FILENO) == 1 {
            let first = try Self.prompt("New password: ")
            let second = try Self.prompt("Again: ")
            guard first == second else { throw ValidationError("the two passwords differ — try again") }
            password = first
        } else {
            guard let line = readLine(strippingNewline: true) else {
                throw ValidationError("no password on standard input — pipe one line, or run on a terminal")
            }
            password = line
        }
        guard password.count >= 8 else {
            throw ValidationError("the password is shorter than 8 characters — choose a longer one")
        }
        print(PasswordHash.make(password: password, iterations: iterations).encoded)
    }

    /// Reads one line from the terminal without echoing it.
    static func prompt(_ text: String) throws -> String {
        FileHandle.standardError.write(Data(text.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw ValidationError("no password given") }
        return line
    }
}
