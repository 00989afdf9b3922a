import Foundation
import SlotBlocking
import SlotRules

/// Reads rule files from disk for slotd and slotctl (SlotRules itself does no I/O): a directory's `*.yaml` (and
/// `*.yml`) in name order, or the files named; `*.ics` files beside them become attachments the rules may name.
public enum RuleDirectory {
    /// Why the rule files could not be read, with the path and what to do.
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// How sources read from a directory are named in diagnostics.
    public enum Naming: Sendable {
        /// The path as reached (`Rules/staff.yaml`): what a person at a shell expects.
        case path
        /// The bare file name (`staff.yaml`): what a rules directory's own files are called, e.g. in the API.
        case fileName
    }

    /// The rule sources and attachments at `paths` (directories or files); `Rules` when `paths` is empty.
    /// Blocking file I/O: the daemon calls it through `BlockingWork.run`.
    public static func read(_ paths: [String], naming: Naming = .path) throws(ReadError) -> (sources: [RuleSource], attachments: [String: String]) {
        BlockingWork.assertOffCooperativePool("reading rule files")
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
                        sources.append(RuleSource(name: naming == .path ? full : name, text: try readText(full)))
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
