import ArgumentParser
import Foundation

/// Options every online command takes: where the daemon is and whether to print raw JSON.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The daemon's socket (default: $SLOTD_SOCKET, else ./state/slotd.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print the API's JSON as is, for scripts.")
    var json = false

    /// The socket to use: this option, then the one given before the subcommand, `$SLOTD_SOCKET`, the default.
    func socketPath(root: String?) -> String {
        if let socket, !socket.isEmpty { return socket }
        if let root, !root.isEmpty { return root }
        if let fromEnvironment = ProcessInfo.processInfo.environment["SLOTD_SOCKET"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultSocket
    }

    static let defaultSocket = "./state/slotd.sock"
}

/// A command that talks to the daemon: `perform` does the work, failures are reported and mapped to exit codes
/// in one place.
protocol OnlineCommand: ParsableCommand {
    var connection: ConnectionOptions { get }
    var root: SlotCtl { get }
    func perform(_ client: SlotdClient) throws(OnlineFailure)
}

extension OnlineCommand {
    var client: SlotdClient { SlotdClient(socketPath: connection.socketPath(root: root.socket)) }

    func run() throws { try runOnline() }

    /// Performs the command against the daemon; commands with an offline mode call it when they are online.
    func runOnline() throws {
        do {
            try perform(client)
        } catch {
            report(error, json: connection.json)
            throw ExitCode(OnlineExit.code(for: error))
        }
    }
}
