/// What a peer may do, from its uid via the configuration.
public enum Role: String, Sendable, Hashable, CaseIterable, Codable {
    /// Everything.
    case admin
    /// Reads, bookings (walk-ins and forced ones too), every transition, customers' notes and merges.
    case staff
    /// Reads, slots, creating and cancelling bookings.
    case booking
    /// GETs only.
    case read

    /// Whether this role may do `permission`.
    public func allows(_ permission: Permission) -> Bool {
        switch (self, permission) {
        case (.admin, _): true
        case (_, .read): true
        case (.staff, .book), (.staff, .cancel), (.staff, .transition), (.staff, .override), (.staff, .customers): true
        case (.booking, .book), (.booking, .cancel): true
        default: false
        }
    }

    /// The roles that allow `permission`, for the 403 message.
    public static func allowing(_ permission: Permission) -> [Role] { allCases.filter { $0.allows(permission) } }
}

/// What a route needs.
public enum Permission: String, Sendable, Hashable {
    /// Any GET.
    case read
    /// Creating a booking.
    case book
    /// Cancelling a booking.
    case cancel
    /// Confirm, complete, no-show, reschedule.
    case transition
    /// Walk-ins and forced bookings: setting the booking rules aside at the counter.
    case override
    /// Customer records: notes and merges (erasure needs `admin`).
    case customers
    /// Rules check and reload.
    case admin
}
