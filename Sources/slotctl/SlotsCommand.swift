import ArgumentParser

/// `slotctl slots`: bookable starts computed offline from rule files.
struct SlotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "slots", abstract: "List bookable starts.")
}
