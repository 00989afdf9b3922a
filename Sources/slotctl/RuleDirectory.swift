import Foundation
import SlotRules

/// Reads rule files from disk for the offline tools: a directory's `*.yaml` (and `*.yml`) in name order, or the
/// files named; other files beside them (`*.ics`) become attachments the rules may refer to by name.
enum RuleDirectory {
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    /// The rule sources and attachments at `paths` (directories or files); `Rules` when `paths` is empty.
    static func read(_ paths: [String]) throws(ReadError) -> (sources: [RuleSource], attachments: [String: String]) {
        let manager = FileManager.default
        var sources: [RuleSource] = []
        var attachments: [String: String] = [:]
        for path in paths.isEmpty ? ["Rules"] : paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ReadError(description: "\(path): no such file or directory — pass a rules directory or YAML files")
            }
            if isDirectory.boolValue {
                let names: [String]
                do {
                    names = try manager.contentsOfDirectory(atPath: path).sorted()
                } catch {
                    throw ReadError(description: "\(path): cannot list the directory (\(error.localizedDescription))")
                }
                let base = path.hasSuffix("/") ? path : path + "/"
                for name in names where !name.hasPrefix(".") {
                    let full = base + name
                    if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                        sources.append(RuleSource(name: full, text: try readText(full)))
                    } else if name.hasSuffix(".ics") {
                        attachments[name] = try readText(full)
                    }
                }
            } else {
                sources.append(RuleSource(name: path, text: try readText(path)))
                let directory = (path as NSString).deletingLastPathComponent
                let listing = (try? manager.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
                for name in listing where name.hasSuffix(".ics") && attachments[name] == nil {
                    let full = directory.isEmpty ? name : directory + "/" + name
                    attachments[name] = try readText(full)
                }
            }
        }
        if sources.isEmpty {
            throw ReadError(description: "\(paths.joined(separator: " ")): no *.yaml rule files found")
        }
        return (sources, attachments)
    }

    private static func readText(_ path: String) throws(ReadError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(description: "\(path): cannot read the file — check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ReadError(description: "\(path): not UTF-8 text — save it as UTF-8")
        }
        return text
    }
}
