import Foundation
import Hummingbird
import SlotAPI

/// `/v1/customers`: every role may read (as it reads bookings, which carry the same data); staff and admin keep
/// notes and merge records; only admin erases one, since erasure cannot be undone.
struct CustomerRoutes: Sendable {
    let customers: CustomerService

    func register(on router: Router<SlotRequestContext>) {
        router.get("/v1/customers") { request, context in
            try context.require(.read)
            let query = request.uri.queryParameters
            let list = try await customers.list(
                text: query.get("q"), conflicts: query.get("conflicts"), limit: query.get("limit"))
            return try json(list)
        }
        router.get("/v1/customers/:id") { _, context in
            try context.require(.read)
            return try json(try await customers.file(id: try customerID(context)))
        }
        router.patch("/v1/customers/:id") { request, context in
            try context.require(.customers)
            let update = try decode(CustomerUpdateRequest.self, from: try await collectBody(request, limit: 64 << 10))
            return try json(try await customers.update(id: try customerID(context), update))
        }
        router.post("/v1/customers/:id/merge") { request, context in
            try context.require(.customers)
            let merge = try decode(CustomerMergeRequest.self, from: try await collectBody(request, limit: 64 << 10))
            return try json(try await customers.merge(into: try customerID(context), merge))
        }
        router.post("/v1/customers/:id/resolve") { _, context in
            try context.require(.customers)
            return try json(try await customers.resolve(id: try customerID(context)))
        }
        router.post("/v1/customers/:id/erase") { _, context in
            try context.require(.admin)
            return try json(try await customers.erase(id: try customerID(context)))
        }
    }

    func customerID(_ context: SlotRequestContext) throws(APIError) -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty else { throw APIError(.notFound, "no such route") }
        return id
    }
}
