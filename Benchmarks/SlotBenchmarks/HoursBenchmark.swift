import SlotCore
import SlotRules

#if canImport(Glibc)
    import Glibc
#endif

/// Times a year of hour-expression evaluation (`openIntervals` over 2026, parsed once) for realistic expressions.
///
/// Prints one machine-readable line per expression for `Benchmarks/run.sh`, which times opening-hours-py on the
/// same expressions and window and prints the ratio:
/// `HOURS<TAB>median µs<TAB>min µs<TAB>open intervals<TAB>expression`.
enum HoursBenchmark {
    static let expressions = [
        "Mo-Fr 09:00-12:00,13:00-18:00; Sa 10:00-14:00; PH off",
        "Mo-Sa 09:00-19:00; Su off; Dec 24-26 off; Dec 31 09:00-14:00",
        "Tu-Fr 10:00-20:00; Sa 09:00-16:00; Mo[1] 10:00-14:00; week 01-53/2 Th 10:00-22:00; PH off",
        "Fr-Sa 10:00-02:00; Su[-1] 12:00-16:00",
    ]

    /// German national public holidays of 2026, the calendar opening-hours-py uses with `country="DE"`.
    static let holidays: Set<LocalDate> = Set(
        [
            "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14", "2026-05-25", "2026-10-03",
            "2026-12-25", "2026-12-26",
        ].compactMap { LocalDate(iso: $0) })

    static func run() {
        let first = LocalDate(year: 2026, month: 1, day: 1)?.startWallMinute ?? 0
        let window = Interval(first, first + 365 * 1440)
        print("hours: one year (2026-01-01 .. 2027-01-01) of openIntervals per expression, parsed once")
        for expression in expressions {
            guard case .success(let parsed) = HoursExpression.parse(expression) else {
                print("hours: cannot parse \(expression)")
                continue
            }
            var intervals = 0
            var samples: [Double] = []
            let batch = 20
            for _ in 0..<60 {
                let start = now()
                for _ in 0..<batch {
                    intervals = parsed.openIntervals(in: window, holidays: holidays).intervals.count
                }
                samples.append((now() - start) / Double(batch))
            }
            samples.sort()
            let median = samples[samples.count / 2] * 1e6
            let minimum = (samples.first ?? 0) * 1e6
            print("HOURS\t\(format(median))\t\(format(minimum))\t\(intervals)\t\(expression)")
        }
    }

    private static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    private static func format(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
