import ArgumentParser

/// `slotctl`: the command-line client of slotd and its offline rule tools.
@main
struct SlotCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slotctl",
        abstract: "Control slotd and work with its rule files.",
        discussion: """
            Offline tools (no daemon needed): `rules check`, `hours`, `slots`, `explain`.
            """,
        subcommands: [RulesCommand.self, HoursCommand.self, SlotsCommand.self, ExplainCommand.self]
    )
}
