import Foundation
@testable import SlotStorePostgres
import Testing

/// The password file of a `postgres:` block and of `slotctl migrate --password-file`.
struct PostgresPasswordFileTests {
    func write(_ text: String, mode: mode_t) throws -> String {
        let path = try TempDirectory().path("postgres.password")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
        return path
    }

    @Test("the first line is the password, spaces and all; the line break is not")
    func theFirstLineIsThePassword() throws {
        #expect(try PostgresPasswordFile.read(write(" two words \n", mode: 0o600)) == " two words ")
        #expect(try PostgresPasswordFile.read(write("crlf\r\nsecond line", mode: 0o400)) == "crlf")
    }

    @Test("a file other users may read, or an empty one, is refused with the fix", arguments: [0o644, 0o604, 0o620])
    func aReadableFileIsRefused(_ mode: Int) throws {
        let path = try write("secret\n", mode: mode_t(mode))
        let problem = #expect(throws: PostgresPasswordFile.Problem.self) { try PostgresPasswordFile.read(path) }
        #expect(problem?.message.contains("chmod 600 \(path)") == true, "\(String(describing: problem))")
        let empty = try write("\n", mode: 0o600)
        #expect(throws: PostgresPasswordFile.Problem.self) { try PostgresPasswordFile.read(empty) }
    }
}
