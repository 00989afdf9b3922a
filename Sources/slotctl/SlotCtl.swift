import ArgumentParser

/// `slotctl`: the command-line client of slotd and its offline rule tools.
@main
struct SlotCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slotctl",
        abstract: "Control slotd and work with its rule files.",
        discussion: """
            Offline (rule files only, no daemon needed):
              rules check [DIR|FILE…]  validate rule files (--explain: compiled form)
              hours EXPR               evaluate an hour expression over dates
              slots --rules DIR …      bookable starts computed from rule files
                                       (what-ifs with --bookings FILE, --now)
              explain --rules DIR …    why a start is or is not bookable
              passwd                   hash an admin page password (web.users)
              migrate --from sqlite FILE --to postgres URL
                                       move a shop's store to PostgreSQL (counts checked)

            Online (a running slotd, over its Unix socket: --socket PATH, else
            $SLOTD_SOCKET, else ./state/slotd.sock; tables, or --json for scripts):
              status                   health, version, rules, bookings, outbox, reloads
              rules reload [--wait]    reload the daemon's rules now, print the outcome
                                       (slotd also reloads on file change and SIGHUP)
              rules diff DIR           what a candidate rules directory would change:
                                       starts gained/lost, bookings no longer allowed
              services, staff          what the shop sells and who works there
              slots …                  bookable starts now (--watch follows them)
              explain …                why a start is or is not bookable now
              book                     book a start (--walk-in at the counter; --force --reason)
              bookings [--today]       list bookings
              show ID                  one booking
              cancel ID, reschedule ID --start TIME [--staff ID|any], confirm ID, complete ID,
              no-show ID               a booking's transitions
              note ID TEXT             set a booking's notes ("" removes them)
              events [--follow]        the event log, then live events
              watch                    the barber's live view of today
              outbox [--state S]       jobs for providers; outbox show|retry ID
              customers [--search Q]   find customers; customers show|note|merge|resolve|erase ID
              waitlist                 who waits for what; waitlist add|remove|accept|decline
              feed create|list|revoke  calendar feed addresses for phones (admin)
              bookings --conflicts     bookings the rules in force no longer allow
              backup FILE              consistent copy of the database (admin)
              export --json [FILE]     services, staff, customers, bookings (admin)
              doctor                   check the installation, say what to fix

            Dates and times take words: --at 10:00 (today), "tomorrow 10:00", "tue 10:00", --from sat.
            `slots` and `explain` work offline exactly when --rules DIR is given.
            `slotctl help COMMAND` shows a command's options and examples.
            """,
        subcommands: [
            RulesCommand.self, HoursCommand.self, SlotsCommand.self, ExplainCommand.self, PasswdCommand.self,
            StatusCommand.self, ServicesCommand.self, StaffCommand.self,
            BookCommand.self, BookingsCommand.self, ShowCommand.self, CancelCommand.self, RescheduleCommand.self,
            ConfirmCommand.self, CompleteCommand.self, NoShowCommand.self, NoteCommand.self, EventsCommand.self,
            WatchCommand.self, OutboxCommand.self, FeedCommand.self, CustomersCommand.self, WaitlistCommand.self,
            BackupCommand.self, ExportCommand.self, DoctorCommand.self, MigrateCommand.self,
        ]
    )

    /// The daemon's socket for the online commands, when given before the subcommand (`slotctl --socket P status`).
    @Option(
        name: .long, help: "The daemon's socket for online commands (default: $SLOTD_SOCKET, else ./state/slotd.sock).")
    var socket: String?
}
