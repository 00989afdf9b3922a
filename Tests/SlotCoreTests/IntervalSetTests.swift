import SlotCore
import Testing

/// A small deterministic generator (SplitMix64) so property tests are repeatable.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A random set on [0, 100): small bounds make overlaps, touching ends and empties common.
func randomSet(_ rng: inout SeededGenerator) -> IntervalSet {
    let count = Int.random(in: 0...6, using: &rng)
    return IntervalSet((0..<count).map { _ in
        let lower = Int64.random(in: 0...100, using: &rng)
        return Interval(lower, lower + Int64.random(in: -3...25, using: &rng))
    })
}

/// The set as the points it holds, the obvious model the algebra must agree with.
func points(_ set: IntervalSet) -> Set<Int64> {
    Set(set.intervals.flatMap { Array($0.lower..<$0.upper) })
}

func isNormalised(_ set: IntervalSet) -> Bool {
    zip(set.intervals, set.intervals.dropFirst()).allSatisfy { $0.upper < $1.lower }
        && set.intervals.allSatisfy { !$0.isEmpty }
}

@Suite struct IntervalSetLaws {
    static let seeds: [UInt64] = Array(1...40)

    @Test(arguments: seeds) func operationsAgreeWithThePointModel(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<50 {
            let a = randomSet(&rng)
            let b = randomSet(&rng)
            #expect(points(a.union(b)) == points(a).union(points(b)))
            #expect(points(a.intersection(b)) == points(a).intersection(points(b)))
            #expect(points(a.subtracting(b)) == points(a).subtracting(points(b)))
            #expect(isNormalised(a.union(b)) && isNormalised(a.intersection(b)) && isNormalised(a.subtracting(b)))
            let probe = Int64.random(in: -2...130, using: &rng)
            #expect(a.contains(probe) == points(a).contains(probe))
            let lower = Int64.random(in: 0...100, using: &rng)
            let span = Interval(lower, lower + Int64.random(in: 0...20, using: &rng))
            #expect(a.contains(span) == Set(span.lower..<max(span.lower, span.upper)).isSubset(of: points(a)))
        }
    }

    @Test(arguments: seeds) func algebraicLaws(seed: UInt64) {
        var rng = SeededGenerator(seed: seed &* 7919)
        let universe = Interval(-10, 140)
        for _ in 0..<50 {
            let a = randomSet(&rng)
            let b = randomSet(&rng)
            let c = randomSet(&rng)
            // Commutative, associative, idempotent.
            #expect(a | b == b | a)
            #expect(a & b == b & a)
            #expect((a | b) | c == a | (b | c))
            #expect((a & b) & c == a & (b & c))
            #expect(a | a == a && a & a == a)
            // Distributive both ways, absorption.
            #expect(a & (b | c) == (a & b) | (a & c))
            #expect(a | (b & c) == (a | b) & (a | c))
            #expect(a | (a & b) == a && a & (a | b) == a)
            // Identities and difference.
            #expect(a | IntervalSet() == a && (a & IntervalSet()).isEmpty)
            #expect(a - b == a & b.complement(in: universe))
            #expect((a - b) & b == IntervalSet())
            #expect((a - b) | (a & b) == a)
            // De Morgan inside a universe.
            #expect((a | b).complement(in: universe) == a.complement(in: universe) & b.complement(in: universe))
            #expect((a & b).complement(in: universe) == a.complement(in: universe) | b.complement(in: universe))
            #expect(a.complement(in: universe).complement(in: universe) == a)
            // Measure is additive over a disjoint split.
            #expect((a | b).measure == a.measure + (b - a).measure)
        }
    }

    @Test func normalisesUnsortedOverlappingAdjacentAndEmptyInput() {
        let set = IntervalSet([Interval(10, 20), Interval(5, 6), Interval(20, 25), Interval(30, 30), Interval(8, 4)])
        #expect(set.intervals == [Interval(5, 6), Interval(10, 25)])
    }

    @Test func builderMergesInOrderAndOutOfOrder() {
        var builder = IntervalSetBuilder()
        builder.add(Interval(0, 5))
        builder.add(Interval(5, 8))
        builder.add(Interval(20, 30))
        builder.add(Interval(2, 3))
        builder.add(Interval(9, 9))
        #expect(builder.build().intervals == [Interval(0, 8), Interval(20, 30)])
    }

    @Test func hullShiftAndClamp() {
        let set = IntervalSet([Interval(0, 5), Interval(10, 15)])
        #expect(set.hull == Interval(0, 15))
        #expect(IntervalSet().hull == nil)
        #expect(set.shifted(by: 100).intervals == [Interval(100, 105), Interval(110, 115)])
        #expect(set.clamped(to: Interval(3, 12)).intervals == [Interval(3, 5), Interval(10, 12)])
    }
}
