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

    static func outcome(_ route: RequestBodyCheck.Route, _ body: String) throws -> RequestBodyCheck.Outcome {
        try check().outcome(route, body: Data(body.utf8))
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
}
