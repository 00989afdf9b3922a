import Foundation
import Hummingbird
import SlotAPI

/// `/v1/waitlist`, with the roles of bookings: every role reads; joining and accepting an offer need `book` (as
/// creating a booking does), leaving and declining need `cancel` (as cancelling one does).
struct WaitlistRoutes: Sendable {
    let waitlist: WaitlistService

    func register(on router: Router<SlotRequestContext>) {
        router.get("/v1/waitlist") { request, context in
            try context.require(.read)
            let query = request.uri.queryParameters
            return try json(
                try await waitlist.list(
                    status: query.get("status"), service: query.get("service"), staff: query.get("staff"),
                    date: query.get("date"), limit: query.get("limit")))
        }
        router.post("/v1/waitlist") { request, context in
            try context.require(.book)
            let join = try decode(JoinWaitlistRequest.self, from: try await collectBody(request, limit: 64 << 10))
            return try json(try await waitlist.join(join), status: .created)
        }
        router.get("/v1/waitlist/:id") { _, context in
            try context.require(.read)
            return try json(try await waitlist.entry(id: try entryID(context)))
        }
        router.delete("/v1/waitlist/:id") { _, context in
            try context.require(.cancel)
            return try json(try await waitlist.leave(id: try entryID(context)))
        }
        router.post("/v1/waitlist/:id/accept") { _, context in
            try context.require(.book)
            return try json(try await waitlist.accept(id: try entryID(context)))
        }
        router.post("/v1/waitlist/:id/decline") { _, context in
            try context.require(.cancel)
            return try json(try await waitlist.decline(id: try entryID(context)))
        }
    }

    func entryID(_ context: SlotRequestContext) throws(APIError) -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty else { throw APIError(.notFound, "no such route") }
        return id
    }
}
