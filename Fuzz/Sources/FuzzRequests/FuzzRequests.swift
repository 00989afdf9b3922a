import Foundation
import FuzzSupport
import SlotAPI
import SlotRules
import SlotServer

/// The process entry point SwiftPM links `main` to: hands over to libFuzzer's driver.
@_cdecl("FuzzRequests_main")
public func fuzzRequestsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzRequests(fuzzBytes(data, size)) }
}

/// The input's first byte picks the route (modulo their number, in `RequestBodyCheck.Route` order: create, cancel,
/// reschedule, slots, rules check, rules preview with JSON, rules preview with text). The rest is the JSON body of a
/// booking route, the query string of `slots`, and for a rules route its query string, a line break, then the body.
/// The server's decoding and checks must answer `200` (would go on), `400` or `422` — never a `5xx` — and a `422`
/// must name at least one field; the problem document must encode.
func fuzzRequests(_ bytes: UnsafeBufferPointer<UInt8>) -> CInt {
    guard let first = bytes.first else { return 0 }
    let routes = RequestBodyCheck.Route.allCases
    let route = routes[Int(first) % routes.count]
    let rest = bytes.dropFirst()
    let query: String
    let body: Data
    switch route {
    case .createBooking, .cancelBooking, .rescheduleBooking:
        (query, body) = ("", Data(rest))
    case .slots:
        (query, body) = (String(decoding: rest, as: UTF8.self), Data())
    case .checkRules, .previewRulesJSON, .previewRulesText:
        let lineEnd = rest.firstIndex(of: UInt8(ascii: "\n")) ?? rest.endIndex
        query = String(decoding: rest[..<lineEnd], as: UTF8.self)
        body = Data(rest[lineEnd...].dropFirst())
    }
    let outcome = check.outcome(route, query: query, body: body)
    let input = "\(route.rawValue) ?\(query) \(String(decoding: body, as: UTF8.self))"
    require(
        [200, 400, 422].contains(outcome.status), "status \(outcome.status): \(outcome.problem as Any)", input: input)
    if let problem = outcome.problem {
        require(problem.status != 422 || !(problem.fields ?? []).isEmpty, "422 naming no field", input: input)
        require((try? JSONCoding.encoder.encode(problem)) != nil, "problem does not encode", input: input)
    }
    return 0
}

/// The repository's example rules (Rules/), checked at 2026-03-02T08:00Z; the store is a scratch file.
let check: RequestBodyCheck = {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let directory = repository.appendingPathComponent("Rules")
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    func text(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }
    let sources = names.filter { $0.hasSuffix(".yaml") }.map { RuleSource(name: $0, text: text($0)) }
    let attachments = Dictionary(uniqueKeysWithValues: names.filter { $0.hasSuffix(".ics") }.map { ($0, text($0)) })
    guard let rules = RuleLoader.load(sources, attachments: attachments).ruleSet else {
        fatalError("the rules in \(directory.path) do not load: run `slotctl rules check` on them")
    }
    let database = FileManager.default.temporaryDirectory.appendingPathComponent("slotd-fuzz-\(getpid()).sqlite")
    do {
        return try RequestBodyCheck(ruleSet: rules, now: 1_772_438_400, databasePath: database.path)
    } catch {
        fatalError("cannot open the scratch store \(database.path): \(error)")
    }
}()
