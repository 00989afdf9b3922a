#!/usr/bin/env python3
"""Time opening-hours-py on the expressions SlotBenchmarks printed, over the same window, and print the ratio.

Reads the benchmark output on stdin; uses its `HOURS<TAB>median µs<TAB>min µs<TAB>intervals<TAB>expr` lines.
The work matches the Swift side: the expression is parsed once, then a year of intervals is listed (country DE,
whose national holidays are the ones the Swift side passes in).
"""
import datetime as dt
import importlib.metadata
import statistics
import sys
import time

import opening_hours

START = dt.datetime(2026, 1, 1)
END = dt.datetime(2027, 1, 1)
REPEAT = 200


def reference_us(expr):
    oh = opening_hours.OpeningHours(expr, country="DE")
    list(oh.intervals(START, END))  # warm up (holiday data, caches)
    samples = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        rows = list(oh.intervals(START, END))
        samples.append((time.perf_counter() - t) * 1e6)
    n_open = sum(1 for s, e, st, c in rows if str(st) == "open")
    return statistics.median(samples), n_open


def main():
    rows = []
    for line in sys.stdin:
        if not line.startswith("HOURS\t"):
            continue
        _, median, minimum, n_intervals, expr = line.rstrip("\n").split("\t", 4)
        rows.append((expr, float(median), int(n_intervals)))
    if not rows:
        sys.exit("hours_reference.py: no HOURS lines on stdin (did SlotBenchmarks run?)")
    version = importlib.metadata.version("opening-hours-py")
    print(f"\nA year (2026) of open intervals, parsed once; median µs per evaluation "
          f"(slotd vs opening-hours-py {version}, Python {sys.version.split()[0]})")
    print(f"{'slotd µs':>10} {'ohpy µs':>10} {'ratio':>8}  {'open':>5}  expression")
    worst = None
    for expr, swift_us, n_intervals in rows:
        py_us, n_open = reference_us(expr)
        ratio = py_us / swift_us if swift_us > 0 else float("inf")
        worst = ratio if worst is None else min(worst, ratio)
        note = "" if n_open == n_intervals else f"  (ohpy lists {n_open} open runs)"
        print(f"{swift_us:10.1f} {py_us:10.1f} {ratio:7.1f}x  {n_intervals:5d}  {expr}{note}")
    print(f"slowest ratio: {worst:.1f}x (goal: at least 5x)")


if __name__ == "__main__":
    main()
