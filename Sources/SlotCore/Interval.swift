/// A half-open interval `[lower, upper)` on an integer time line (wall minutes or instant seconds; the caller's unit).
public struct Interval: Hashable, Sendable, CustomStringConvertible {
    public var lower: Int64
    public var upper: Int64

    /// `[lower, upper)`; empty when `upper <= lower`.
    @inlinable public init(_ lower: Int64, _ upper: Int64) {
        self.lower = lower
        self.upper = upper
    }

    @inlinable public var isEmpty: Bool { upper <= lower }
    @inlinable public var length: Int64 { Swift.max(0, upper - lower) }

    /// Whether `point` lies in `[lower, upper)`.
    @inlinable public func contains(_ point: Int64) -> Bool { lower <= point && point < upper }

    /// Whether `other` lies wholly inside; an empty interval lies inside every interval.
    @inlinable public func contains(_ other: Interval) -> Bool {
        other.isEmpty || (lower <= other.lower && other.upper <= upper)
    }

    /// Whether the two share at least one point.
    @inlinable public func overlaps(_ other: Interval) -> Bool {
        lower < other.upper && other.lower < upper && !isEmpty && !other.isEmpty
    }

    /// The interval moved by `offset`.
    @inlinable public func shifted(by offset: Int64) -> Interval { Interval(lower + offset, upper + offset) }

    public var description: String { "[\(lower), \(upper))" }
}

/// A set of points stored as sorted, non-overlapping, non-adjacent, non-empty half-open intervals.
public struct IntervalSet: Hashable, Sendable, CustomStringConvertible {
    /// The normalised intervals, ascending.
    public private(set) var intervals: [Interval]

    /// The empty set.
    public init() { intervals = [] }

    /// The union of any intervals, in any order, overlapping or empty.
    public init(_ intervals: some Sequence<Interval>) {
        self.intervals = IntervalSet.normalise(Array(intervals))
    }

    /// One interval (or nothing when it is empty).
    public init(_ interval: Interval) {
        intervals = interval.isEmpty ? [] : [interval]
    }

    init(normalised: [Interval]) { intervals = normalised }

    public var isEmpty: Bool { intervals.isEmpty }

    /// Total length of all intervals.
    public var measure: Int64 { intervals.reduce(0) { $0 + $1.length } }

    /// The smallest interval holding the set, or nil when empty.
    public var hull: Interval? {
        guard let first = intervals.first, let last = intervals.last else { return nil }
        return Interval(first.lower, last.upper)
    }

    /// The index of the interval holding `point`, if any (binary search).
    @inlinable public func index(containing point: Int64) -> Int? {
        var low = 0
        var high = intervals.count
        while low < high {
            let mid = (low + high) / 2
            if intervals[mid].upper <= point { low = mid + 1 } else { high = mid }
        }
        return low < intervals.count && intervals[low].lower <= point ? low : nil
    }

    /// Whether `point` is in the set.
    @inlinable public func contains(_ point: Int64) -> Bool { index(containing: point) != nil }

    /// Whether every point of `interval` is in the set (an empty interval always is).
    @inlinable public func contains(_ interval: Interval) -> Bool {
        if interval.isEmpty { return true }
        guard let index = index(containing: interval.lower) else { return false }
        return intervals[index].upper >= interval.upper
    }

    /// Whether every point of `other` is in the set.
    public func isSuperset(of other: IntervalSet) -> Bool { other.intervals.allSatisfy { contains($0) } }

    /// Whether the two sets share a point.
    public func overlaps(_ interval: Interval) -> Bool { !intersection(IntervalSet(interval)).isEmpty }

    /// Points in either set.
    public func union(_ other: IntervalSet) -> IntervalSet {
        if other.isEmpty { return self }
        if isEmpty { return other }
        var merged: [Interval] = []
        merged.reserveCapacity(intervals.count + other.intervals.count)
        var i = 0
        var j = 0
        while i < intervals.count || j < other.intervals.count {
            let next: Interval
            if j == other.intervals.count || (i < intervals.count && intervals[i].lower <= other.intervals[j].lower) {
                next = intervals[i]
                i += 1
            } else {
                next = other.intervals[j]
                j += 1
            }
            if let last = merged.last, next.lower <= last.upper {
                merged[merged.count - 1].upper = Swift.max(last.upper, next.upper)
            } else {
                merged.append(next)
            }
        }
        return IntervalSet(normalised: merged)
    }

    /// Points in both sets.
    public func intersection(_ other: IntervalSet) -> IntervalSet {
        var result: [Interval] = []
        var i = 0
        var j = 0
        while i < intervals.count && j < other.intervals.count {
            let a = intervals[i]
            let b = other.intervals[j]
            let lower = Swift.max(a.lower, b.lower)
            let upper = Swift.min(a.upper, b.upper)
            if lower < upper { result.append(Interval(lower, upper)) }
            if a.upper < b.upper { i += 1 } else { j += 1 }
        }
        return IntervalSet(normalised: result)
    }

    /// Points in this set and not in `other`.
    public func subtracting(_ other: IntervalSet) -> IntervalSet {
        if other.isEmpty || isEmpty { return self }
        var result: [Interval] = []
        var j = 0
        for interval in intervals {
            var lower = interval.lower
            while j < other.intervals.count && other.intervals[j].upper <= lower { j += 1 }
            var k = j
            while k < other.intervals.count && other.intervals[k].lower < interval.upper {
                let cut = other.intervals[k]
                if cut.lower > lower { result.append(Interval(lower, cut.lower)) }
                lower = Swift.max(lower, cut.upper)
                if cut.upper >= interval.upper { break }
                k += 1
            }
            if lower < interval.upper { result.append(Interval(lower, interval.upper)) }
        }
        return IntervalSet(normalised: result)
    }

    /// Points of `universe` not in this set.
    public func complement(in universe: Interval) -> IntervalSet {
        IntervalSet(universe).subtracting(self)
    }

    /// The part of the set inside `window`.
    public func clamped(to window: Interval) -> IntervalSet { intersection(IntervalSet(window)) }

    /// Every interval moved by `offset`.
    public func shifted(by offset: Int64) -> IntervalSet {
        IntervalSet(normalised: intervals.map { $0.shifted(by: offset) })
    }

    public static func | (lhs: IntervalSet, rhs: IntervalSet) -> IntervalSet { lhs.union(rhs) }
    public static func & (lhs: IntervalSet, rhs: IntervalSet) -> IntervalSet { lhs.intersection(rhs) }
    public static func - (lhs: IntervalSet, rhs: IntervalSet) -> IntervalSet { lhs.subtracting(rhs) }

    public var description: String { "{" + intervals.map(\.description).joined(separator: ", ") + "}" }

    static func normalise(_ input: [Interval]) -> [Interval] {
        let sorted = input.filter { !$0.isEmpty }.sorted { $0.lower < $1.lower }
        var merged: [Interval] = []
        merged.reserveCapacity(sorted.count)
        for interval in sorted {
            if let last = merged.last, interval.lower <= last.upper {
                merged[merged.count - 1].upper = Swift.max(last.upper, interval.upper)
            } else {
                merged.append(interval)
            }
        }
        return merged
    }
}

/// Builds an `IntervalSet` from intervals appended in ascending order of their lower bounds, merging as it goes.
public struct IntervalSetBuilder {
    private var intervals: [Interval] = []
    private var sorted = true

    public init() {}

    /// Adds an interval; any order works, ascending order is cheapest.
    public mutating func add(_ interval: Interval) {
        guard !interval.isEmpty else { return }
        if let last = intervals.last {
            if interval.lower < last.lower { sorted = false }
            if sorted && interval.lower <= last.upper {
                intervals[intervals.count - 1].upper = Swift.max(last.upper, interval.upper)
                return
            }
        }
        intervals.append(interval)
    }

    /// The set of everything added.
    public func build() -> IntervalSet {
        sorted ? IntervalSet(normalised: intervals) : IntervalSet(intervals)
    }
}
