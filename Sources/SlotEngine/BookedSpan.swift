import SlotCore
import SlotRules

/// Whom a search or a decision is for: one staff member, or any free one (picked by the assign policy).
public enum StaffChoice: Hashable, Sendable, CustomStringConvertible {
    case any
    case member(String)

    public var description: String {
        switch self {
        case .any: return "any"
        case .member(let id): return id
        }
    }
}

/// A bookable start: `[start, end)` in instant seconds (no buffers), with the staff member it is for.
public struct Slot: Hashable, Sendable, CustomStringConvertible {
    public var start: Int64
    public var end: Int64
    public var staff: String

    public init(start: Int64, end: Int64, staff: String) {
        self.start = start
        self.end = end
        self.staff = staff
    }

    public var description: String { "\(staff)@[\(start), \(end))" }
}

/// An existing booking as availability sees it: who, when, and what it takes (segments, buffers, resources).
public struct BookedSpan: Hashable, Sendable {
    public var id: String
    public var staff: String
    /// The start instant (seconds since the epoch).
    public var start: Int64
    let footprint: Footprint

    /// A booking of `offering` by `staff` at `start`.
    public init(id: String, staff: String, start: Int64, offering: ServiceOffering) {
        self.init(
            id: id, staff: staff, start: start, segments: offering.segments,
            bufferBeforeMinutes: offering.bufferBeforeMinutes, bufferAfterMinutes: offering.bufferAfterMinutes,
            resources: offering.resources)
    }

    /// A booking described piece by piece.
    public init(
        id: String, staff: String, start: Int64, segments: [Segment], bufferBeforeMinutes: Int = 0,
        bufferAfterMinutes: Int = 0, resources: [ResourceNeed] = []
    ) {
        self.id = id
        self.staff = staff
        self.start = start
        self.footprint = Footprint(
            segments: segments, bufferBeforeMinutes: bufferBeforeMinutes, bufferAfterMinutes: bufferAfterMinutes,
            resources: resources)
    }

    /// `[start, start + duration)`: the booking itself, without buffers.
    public var span: Interval { Interval(start, start + footprint.duration) }

    /// Length in minutes, without buffers (what daily limits count).
    public var durationMinutes: Int { footprint.durationMinutes }

    /// The instants at which the staff member is busy: active segments widened by the buffers.
    public var staffBusy: IntervalSet { IntervalSet(footprint.busy.map { $0.shifted(by: start) }) }

    /// The resources it holds (those with a count above zero).
    public var resources: [ResourceNeed] { footprint.resources }
}

/// What one booking of an offering occupies, relative to its start, in seconds.
struct Footprint: Hashable, Sendable {
    /// Times the staff member works: active segments, plus `buffer_before` right before the first segment and
    /// `buffer_after` right after the last; merged and ascending.
    let busy: [Interval]
    /// Active segments only (so an explanation can tell a booking from its buffer).
    let active: [Interval]
    /// Length of all segments.
    let duration: Int64
    let durationMinutes: Int
    let bufferBefore: Int64
    let bufferAfter: Int64
    let resources: [ResourceNeed]

    init(segments: [Segment], bufferBeforeMinutes: Int, bufferAfterMinutes: Int, resources: [ResourceNeed]) {
        var active: [Interval] = []
        var offset: Int64 = 0
        for segment in segments where segment.minutes > 0 {
            let length = Int64(segment.minutes) * 60
            if segment.kind == .active {
                if let last = active.last, last.upper == offset {
                    active[active.count - 1].upper = offset + length
                } else {
                    active.append(Interval(offset, offset + length))
                }
            }
            offset += length
        }
        duration = offset
        durationMinutes = Int(offset / 60)
        bufferBefore = Int64(max(0, bufferBeforeMinutes)) * 60
        bufferAfter = Int64(max(0, bufferAfterMinutes)) * 60
        var busy = active
        if bufferBefore > 0 { busy.append(Interval(-bufferBefore, 0)) }
        if bufferAfter > 0 { busy.append(Interval(duration, duration + bufferAfter)) }
        // A service that is all processing still needs someone to start it: the staff member is then held for
        // the whole service, so it cannot be placed at a time the shop is closed.
        if busy.isEmpty { busy.append(Interval(0, max(duration, 60))) }
        self.busy = IntervalSet(busy).intervals
        self.active = active
        self.resources = resources.filter { $0.count > 0 }
    }

    init(_ offering: ServiceOffering) {
        self.init(
            segments: offering.segments, bufferBeforeMinutes: offering.bufferBeforeMinutes,
            bufferAfterMinutes: offering.bufferAfterMinutes, resources: offering.resources)
    }

    /// Whole days of rule data needed before and after a start's date to judge it.
    var paddingDays: (before: Int, after: Int) {
        let before = busy.first.map { max(0, -$0.lower) } ?? 0
        let after = max(duration, busy.last?.upper ?? 0)
        // One extra day each side: a local day can be 25 hours long.
        return (1 + Int((before + 86_399) / 86_400), 1 + Int((after + 86_399) / 86_400))
    }
}
