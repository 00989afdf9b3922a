import ArgumentParser

/// `slotctl hours EXPR`: evaluate one hour expression.
struct HoursCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hours", abstract: "Evaluate an hour expression.")
}
