import Foundation
import SlotRules

/// Reads a rules directory: every `*.yaml` / `*.yml` in name order as rule sources, `*.ics` files as attachments.
/// SlotRules does no I/O; this is the daemon's side of that boundary.
enum RuleFiles {
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    static func read(directory: String) throws(ReadError) -> (sources: [RuleSource], attachments: [String: String]) {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ReadError(description: "\(directory): no such directory — pass --rules DIR or create it")
        }
        let names: [String]
        do {
            names = try manager.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw ReadError(description: "\(directory): cannot list the directory (\(error.localizedDescription))")
        }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        var sources: [RuleSource] = []
        var attachments: [String: String] = [:]
        for name in names where !name.hasPrefix(".") {
            if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                sources.append(RuleSource(name: name, text: try text(base + name)))
            } else if name.hasSuffix(".ics") {
                attachments[name] = try text(base + name)
            }
        }
        if sources.isEmpty { throw ReadError(description: "\(directory): no *.yaml rule files found") }
        return (sources, attachments)
    }

    private static func text(_ path: String) throws(ReadError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(description: "\(path): cannot read the file — check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ReadError(description: "\(path): not UTF-8 text — save it as UTF-8")
        }
        return text
    }
}
