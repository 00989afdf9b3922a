import ArgumentParser

/// `slotctl explain`: why a start is or is not bookable.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "explain", abstract: "Explain a start.")
}
