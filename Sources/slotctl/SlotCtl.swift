import ArgumentParser

/// `slotctl`: the command-line client of slotd and its offline rule tools.
@main
struct SlotCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slotctl",
        abstract: "Control slotd and work with its rule files.",
        discussion: """
            Offline tools (no daemon needed): `rules check`, `hours`, `slots`, `explain`.
            Online commands talk to a running slotd over its Unix socket (--socket PATH, else $SLOTD_SOCKET, \
            else ./state/slotd.sock): `status`, `services`, `staff`, `availability` (the online `slots`), `book`, \
            `bookings`, `show`, `cancel`, `reschedule`, `confirm`, `complete`, `no-show`, `events`, `watch`.
            """,
        subcommands: [
            RulesCommand.self, HoursCommand.self, SlotsCommand.self, ExplainCommand.self,
            StatusCommand.self, ServicesCommand.self, StaffCommand.self, AvailabilityCommand.self,
            BookCommand.self, BookingsCommand.self, ShowCommand.self, CancelCommand.self, RescheduleCommand.self,
            ConfirmCommand.self, CompleteCommand.self, NoShowCommand.self, EventsCommand.self, WatchCommand.self,
        ]
    )

    /// The daemon's socket for the online commands, when given before the subcommand (`slotctl --socket P status`).
    @Option(
        name: .long, help: "The daemon's socket for online commands (default: $SLOTD_SOCKET, else ./state/slotd.sock).")
    var socket: String?
}
