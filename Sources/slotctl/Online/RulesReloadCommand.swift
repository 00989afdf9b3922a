import ArgumentParser
import Foundation
import SlotAPI

/// `slotctl rules reload`: make the daemon re-read its rules directory, and say what happened.
struct RulesReloadCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Reload the daemon's rules and print the outcome (for people and for ExecReload=).",
        discussion: """
            Asks slotd to re-read its rules directory (POST /v1/rules/reload). A valid rule set swaps in at once; \
            an invalid one is rejected with every error as file:line:column, and the old rules keep serving.

            The command returns only when the reload is done, so it is the right ExecReload= for systemd \
            (`kill -HUP` returns before the daemon has reloaded). --wait says so explicitly; it is the default.

            Prints `Rules reloaded: version NEW (was OLD)` or `Rules unchanged: version V`, and warnings on \
            stderr; a rejected rule set prints its errors on stderr and exits 5. Needs the admin role.

            \(OnlineExit.help(
                examples: "slotctl rules reload",
                "slotctl --socket /run/slotd.sock rules reload --wait    # slotd.service's ExecReload=",
                "slotctl rules reload --json"))
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Flag(help: "Return only when the reload is done (always so: the daemon answers after reloading).")
    var wait = false

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let (result, raw) = try client.call("POST", "/v1/rules/reload", as: RuleReloadResult.self)
        if connection.json { return emitJSON(raw) }
        for diagnostic in result.diagnostics {
            FileHandle.standardError.write(Data("\(diagnostic.text)\n".utf8))
        }
        if result.changed {
            let previous = result.previousVersion.isEmpty ? "" : " (was \(result.previousVersion.prefix(8)))"
            emit("Rules reloaded: version \(result.version.prefix(8))\(previous)")
        } else {
            emit("Rules unchanged: version \(result.version.prefix(8))")
        }
    }
}
