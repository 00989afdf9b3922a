import Foundation
import Synchronization

/// The daemon's source of "now" (seconds since the epoch), injectable so tests pin time.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Int64

    /// A clock reading `read`.
    public init(_ read: @escaping @Sendable () -> Int64) { self.read = read }

    /// Now.
    public func now() -> Int64 { read() }

    /// The system's real time.
    public static let system = WallClock { Int64(Date().timeIntervalSince1970.rounded(.down)) }

    /// A clock that reads what `manual` says.
    public static func manual(_ manual: ManualTime) -> WallClock { WallClock { manual.now } }
}

/// A settable time for tests.
public final class ManualTime: Sendable {
    private let value: Mutex<Int64>

    public init(_ start: Int64) { value = Mutex(start) }

    /// The current reading.
    public var now: Int64 { value.withLock { $0 } }

    /// Moves time forward (or anywhere).
    public func set(_ instant: Int64) { value.withLock { $0 = instant } }

    /// Moves time forward by `seconds`.
    public func advance(by seconds: Int64) { value.withLock { $0 += seconds } }
}
