import ArgumentParser

/// `slotctl rules …`: work with rule files.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Check rule files.", subcommands: [])
}
