import Foundation
import SlotRules
import Testing

@testable import SlotServer

/// `RequestBodyCheck` is what the request fuzzer drives: it must answer as the routes do, before the store.
@Suite("Request bodies checked without a server")
struct RequestBodyCheckTests {
    static func check() throws -> RequestBodyCheck {
        let rules = try #require(RuleLoader.load([RuleSource(name: "shop.yaml", text: TestDaemon.rules)]).ruleSet)
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID()).sqlite")
        return try RequestBodyCheck(ruleSet: rules, now: TestDaemon.monday0800, databasePath: database.path)
    }

    static func outcome(_ route: RequestBodyCheck.Route, _ body: String, query: String = "") throws
        -> RequestBodyCheck.Outcome
    {
        try check().outcome(route, query: query, body: Data(body.utf8))
    }

    @Test("a valid booking passes on to the store")
    func validCreate() throws {
        let body = #"{"service": "haircut", "staff": "bob", "start": "2030-01-07T10:00", "customer": {"name": "Ann"}}"#
        #expect(try Self.outcome(.createBooking, body).status == 200)
    }

    @Test("wrong fields are one 422 naming each of them")
    func invalidCreate() throws {
        let body = #"{"service": "perm", "start": "2030-01-07T25:00", "customer": {"name": "A\u0000"}}"#
        let outcome = try Self.outcome(.createBooking, body)
        #expect(outcome.status == 422)
        #expect(outcome.problem?.fields?.map(\.field) == ["service", "start", "customer.name"])
    }

    @Test("broken JSON is 400, a wrong type 422, as on the socket")
    func decoding() throws {
        #expect(try Self.outcome(.createBooking, "{").status == 400)
        #expect(try Self.outcome(.createBooking, "").status == 400)
        #expect(try Self.outcome(.rescheduleBooking, #"{"start": 5}"#).problem?.fields?.map(\.field) == ["start"])
    }

    @Test("a cancel body may be empty; a control character in the reason is refused")
    func cancel() throws {
        #expect(try Self.outcome(.cancelBooking, "").status == 200)
        #expect(try Self.outcome(.cancelBooking, #"{"reason": "ill\nwill call"}"#).status == 200)
        #expect(try Self.outcome(.cancelBooking, #"{"reason": "a\u0007"}"#).problem?.fields?.map(\.field) == ["reason"])
    }

    @Test("slot query parameters: a good query passes; a missing one is 400, a wrong one 422 naming it")
    func slots() throws {
        #expect(try Self.outcome(.slots, "", query: "service=haircut&staff=bob&from=2030-01-07").status == 200)
        #expect(try Self.outcome(.slots, "", query: "service=haircut%2Cshave&from=2030-01-07").status == 200)
        let missing = try Self.outcome(.slots, "", query: "staff=bob")
        #expect(missing.status == 400)
        #expect(missing.problem?.fields?.map(\.field) == ["service", "from"])
        #expect(try Self.outcome(.slots, "", query: "service=perm&from=2030-01-07").problem?.fields?.map(\.field)
            == ["service"])
        #expect(try Self.outcome(.slots, "", query: "service=haircut&staff=zoe&from=2030-01-07").status == 422)
        #expect(try Self.outcome(.slots, "", query: "service=haircut&from=2030-01-07&to=2030-06-01").status == 422)
        #expect(try Self.outcome(.slots, "", query: "service=haircut&from=2030-02-30").status == 422)
    }

    @Test("rule check and preview requests: names, days and the JSON directory are checked as the routes do")
    func rules() throws {
        #expect(try Self.outcome(.checkRules, "hours: Mo 09:00-17:00", query: "name=shop.yaml").status == 200)
        #expect(try Self.outcome(.checkRules, "x", query: "name=../shop.yaml").problem?.fields?.map(\.field)
            == ["name"])
        #expect(try Self.check().outcome(.checkRules, body: Data([0xFF, 0xFE])).status == 400)
        let directory = #"{"files": {"shop.yaml": "hours: 24/7", "closing-days.ics": ""}}"#
        #expect(try Self.outcome(.previewRulesJSON, directory, query: "days=7").status == 200)
        #expect(try Self.outcome(.previewRulesJSON, directory, query: "days=0").problem?.fields?.map(\.field)
            == ["days"])
        #expect(try Self.outcome(.previewRulesJSON, directory, query: "name=shop.yaml").status == 422)
        #expect(try Self.outcome(.previewRulesJSON, #"{"files": {"a.ics": ""}}"#).status == 422)
        #expect(try Self.outcome(.previewRulesJSON, #"{"files": []}"#).status == 422)
        #expect(try Self.outcome(.previewRulesText, "hours: 24/7", query: "name=staff.yaml&days=28").status == 200)
    }
}
