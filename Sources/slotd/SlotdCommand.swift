import ArgumentParser
import Foundation
import SlotServer

/// `slotd`: the scheduling daemon.
@main
struct SlotdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slotd",
        abstract: "The slotd scheduling daemon: availability and bookings over HTTP/JSON on a Unix socket.",
        discussion: """
            With no options it runs for development: rules from ./Rules, database and
            socket in ./state/ (state/slotd.sqlite, state/slotd.sock), and only the
            user running it may use the API (role admin). A configuration file (see
            Examples/slotd.yaml) sets the socket's path, mode and group, the database,
            the rules directory and the roles; options given here override it.

            --db :memory: (or database: ":memory:" in the file) keeps everything in
            memory, for tests and demos: nothing survives a restart, and backups are
            unavailable. --db postgres://… (or database: postgres://…, or a postgres:
            block with a password_file) puts the store on PostgreSQL; slotctl migrate
            moves a SQLite store there.

            Try:  curl --unix-socket state/slotd.sock http://localhost/v1/health
            SIGHUP reloads the rules; SIGTERM or SIGINT stops after finishing
            in-flight requests.
            """,
        version: SlotdVersion.current
    )

    @Option(name: .long, help: "The configuration file (YAML).")
    var config: String?

    @Option(name: .long, help: "The rules directory (default ./Rules).")
    var rules: String?

    @Option(
        name: .customLong("db"),
        help: """
            The SQLite database file (default ./state/slotd.sqlite), a postgres://USER@HOST/DATABASE URL, or \
            :memory: to keep everything in memory (tests and demos: nothing survives a restart).
            """)
    var database: String?

    @Option(name: .long, help: "The Unix socket path (default ./state/slotd.sock).")
    var socket: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    func validate() throws {
        if let logLevel, !DaemonLog.isLevel(logLevel) {
            throw ValidationError("unknown log level '\(logLevel)' — use debug, info, notice, warning or error")
        }
    }

    func run() async throws {
        // One event a line on stderr: journald keeps it as is.
        DaemonLog.bootstrap()
        var configuration = DaemonConfiguration.development()
        if let config {
            do {
                configuration = try ConfigurationFile.load(path: config, over: configuration)
            } catch {
                FileHandle.standardError.write(Data("slotd: error: \(error)\n".utf8))
                throw ExitCode(78)  // EX_CONFIG
            }
        }
        let current = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : current + "/" + path }
        if let rules { configuration.rulesDirectory = absolute(rules) }
        if let database {
            // --db names the store instead of the file's `database:` or `postgres:`.
            configuration.databasePath = DaemonConfiguration.databasePath(database, relativeTo: current)
            configuration.postgres = nil
        }
        if let socket { configuration.socketPath = absolute(socket) }
        if let logLevel { _ = configuration.setLogLevel(logLevel) }

        if config == nil {
            FileHandle.standardError.write(
                Data(
                    ("slotd: development defaults — rules \(configuration.rulesDirectory), database "
                        + "\(configuration.databasePath), socket \(configuration.socketPath) "
                        + "(pass --config to change)\n")
                        .utf8))
        }
        let daemon: Daemon
        do {
            daemon = try await buildDaemon(configuration: configuration)
        } catch {
            FileHandle.standardError.write(Data("slotd: error: \(error)\n".utf8))
            throw ExitCode(error.isConfigurationError ? 78 : 1)
        }
        try await daemon.run()
    }
}
