"""Differential test of `slotctl hours` against opening-hours-py (the reference for hour expressions).

A seeded generator writes random expressions inside slotd's subset; each is evaluated by opening-hours-py and by
the built `slotctl hours ... --json` over the same window, and the open intervals must agree. Deliberately broken
expressions must be rejected by both. A few hand-written fixtures pin down known answers.

    SLOTCTL=.build/debug/slotctl python3 -m pytest Tests/IntegrationTests/test_hours_differential.py
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import os
import random
import subprocess

import pytest

opening_hours = pytest.importorskip("opening_hours", reason="pip install opening-hours-py")

SLOTCTL = os.environ.get("SLOTCTL", ".build/debug/slotctl")
WINDOW_FROM = dt.datetime(2025, 12, 1)
WINDOW_TO = dt.datetime(2026, 3, 1)
COUNTRY = "DE"  # PH: the reference's German national holidays, passed to slotctl with --holidays
SEED = int(os.environ.get("HOURS_SEED", "20261125"))  # vary to explore; fixed by default
CASES = 240

WEEKDAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


# --------------------------------------------------------------------------- generator

class Generator:
    """Random expressions in the subset both implementations agree on (no '+', '||', SH, bare comments)."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)

    def clock(self, minutes: int) -> str:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def span(self) -> str:
        r = self.r
        kind = r.choices(["day", "night", "extended", "to24"], [0.8, 0.09, 0.06, 0.05])[0]
        step = r.choice([60, 30, 15])
        if kind == "night":
            return f"{self.clock(r.randrange(18 * 60, 24 * 60, step))}-{self.clock(r.randrange(0, 5 * 60, step))}"
        if kind == "extended":
            end = r.randrange(24 * 60, 48 * 60 + 1, step)
            return f"{self.clock(r.randrange(18 * 60, 24 * 60, step))}-{self.clock(end)}"
        if kind == "to24":
            return f"{self.clock(r.randrange(12 * 60, 23 * 60, step))}-24:00"
        start = r.randrange(6 * 60, 20 * 60, step)
        return f"{self.clock(start)}-{self.clock(min(start + r.randrange(step, 10 * 60 + 1, step), 23 * 60 + 45))}"

    def times(self) -> str:
        n = self.r.choices([1, 2, 3], [0.6, 0.3, 0.1])[0]
        if n > 1 and self.r.random() < 0.7:  # a working day split by breaks, sorted
            points = sorted(self.r.sample(range(7 * 60, 21 * 60 + 1, 30), 2 * n))
            return ",".join(f"{self.clock(points[2 * i])}-{self.clock(points[2 * i + 1])}" for i in range(n))
        return ",".join(self.span() for _ in range(n))

    def weekday_item(self) -> str:
        r = self.r
        kind = r.choices(["one", "range", "nth"], [0.4, 0.48, 0.12])[0]
        if kind == "one":
            return r.choice(WEEKDAYS)
        if kind == "range":
            a, b = r.sample(range(7), 2)
            if r.random() < 0.8:
                a, b = min(a, b), max(a, b)
            return f"{WEEKDAYS[a]}-{WEEKDAYS[b]}"
        return f"{r.choice(WEEKDAYS)}[{r.choice(['1', '2', '4', '-1', '-2', '1,3', '2,4', '4-5'])}]"

    def weekdays(self) -> str:
        r = self.r
        items = [self.weekday_item() for _ in range(r.choices([1, 2, 3], [0.75, 0.2, 0.05])[0])]
        if r.random() < 0.1:
            items = ["PH"] + items if r.random() < 0.5 else items + ["PH"]
        return ",".join(items)

    def date_item(self, allow_year: bool) -> str:
        r = self.r
        month = r.choice(["Dec", "Jan", "Feb", "Nov", "Mar"])
        kind = r.choice(["fixed", "day", "days", "wrap", "month", "months", "year"] if allow_year
                        else ["fixed", "day", "days", "wrap", "month", "months"])
        if kind == "fixed":
            return r.choice(["Dec 24-26", "Dec 24", "Dec 31", "Jan 01", "Jan 06", "Dec 24-Jan 02", "Feb 14"])
        if kind == "day":
            return f"{month} {r.randint(1, 28):02d}"
        if kind == "days":
            a = r.randint(1, 25)
            return f"{month} {a:02d}-{r.randint(a, 28):02d}"
        if kind == "wrap":
            return f"Dec {r.randint(15, 31):02d}-{r.choice(['Jan', 'Feb'])} {r.randint(1, 20):02d}"
        if kind == "month":
            return month
        if kind == "months":
            return r.choice(["Jan-Feb", "Dec-Jan", "Nov-Jan", "Dec-Feb", "Oct-Dec"])
        return r.choice(["2025 Dec 24-26", "2026 Jan 05-09", "2025 Dec 20-2026 Jan 06", "2026 Feb 02",
                         "2025 Dec-Jan", "2025 Dec 01-2026 Jan 31"])

    def dates(self) -> str:
        if self.r.random() < 0.15:
            return f"{self.date_item(True)},{self.date_item(False)}"
        return self.date_item(True)

    def week(self) -> str:
        return "week " + self.r.choice(["01-53/2", "02-52/2", "01-09", "50-53", "02,04", "01", "03-10/3"])

    def rule(self, first: bool) -> str:
        r = self.r
        kinds = ["weekly", "closed_days", "date", "week", "times_only", "always"]
        kind = r.choices(kinds, [0.7, 0.02, 0.08, 0.06, 0.1, 0.04] if first else [0.4, 0.3, 0.15, 0.06, 0.06, 0.03])[0]
        parts, state = [], None
        if kind == "weekly":
            parts = [self.weekdays(), self.times()]
            if r.random() < 0.05:
                state = "open"
        elif kind == "closed_days":
            parts = [r.choice([self.weekdays(), "PH", self.dates()])]
            if r.random() < 0.2:
                parts.append(self.times())
            state = r.choice(["off", "closed"])
        elif kind == "date":
            parts = [self.dates()]
            if r.random() < 0.4:
                parts.append(self.weekdays())
            if r.random() < 0.6:
                parts.append(self.times())
                if r.random() < 0.15:
                    state = "off"
            else:
                state = r.choice(["off", "closed"])
        elif kind == "week":
            parts = [self.week(), self.weekdays()]
            if r.random() < 0.8:
                parts.append(self.times())
            else:
                state = "off"
        elif kind == "times_only":
            parts = [self.times()]
            if not first and r.random() < 0.7:
                state = "off"
        else:
            parts = ["24/7"]
            if r.random() < 0.2:
                state = "off"
        text = " ".join(parts) + (f" {state}" if state else "")
        if state and r.random() < 0.08:
            text += ' "' + r.choice(["by appointment", "staff training", "holiday hours"]) + '"'
        return text

    def expression(self) -> str:
        r = self.r
        rules = [self.rule(first=True)]
        for _ in range(r.choices([0, 1, 2, 3], [0.3, 0.35, 0.23, 0.12])[0]):
            rule = self.rule(first=False)
            previous = rules[-1]
            # ', ' only where it cannot be read as a list continuation: after a time span or a state word,
            # and never before a time.
            ends_cleanly = previous[-1].isdigit() or previous.endswith(("off", "closed", "open", '"'))
            separator = ", " if r.random() < 0.15 and ends_cleanly and not rule[0].isdigit() else "; "
            rules.append(separator + rule)
        return "".join(rules)

    def broken(self, expr: str) -> str:
        return expr + self.r.choice([
            ";", ";; Sa 10:00-11:00", "; Mo[6] 10:00-11:00", "; Sa 25:00-26:00", "; week 54 Mo 10:00-11:00",
            "; Mo - Fr 10:00-11:00", "; Dec 24,31 off", "; Su 24:00-02:00", "; Sa 10:60-11:00",
            "; Mo-Fr 10:00-11:00 nope", "; Tue 10:00-12:00",
        ])


# --------------------------------------------------------------------------- the two implementations

def merge(intervals):
    merged = []
    for start, end in sorted(intervals):
        start, end = max(start, WINDOW_FROM), min(end, WINDOW_TO)
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s.strftime("%Y-%m-%dT%H:%M"), e.strftime("%Y-%m-%dT%H:%M")) for s, e in merged]


def reference(expr: str):
    """Open intervals from opening-hours-py, or None when it rejects the expression.

    Evaluated one day at a time: a day's intervals do not depend on the chunking, and per-day windows avoid the
    lazy iterator skipping ahead in some versions.
    """
    try:
        oh = opening_hours.OpeningHours(expr, country=COUNTRY)
    except (SyntaxError, ValueError, opening_hours.ParserError):
        return None
    rows = []
    day = WINDOW_FROM
    while day < WINDOW_TO:
        following = day + dt.timedelta(days=1)
        rows += [(s.replace(tzinfo=None), e.replace(tzinfo=None)) for s, e, state, _ in oh.intervals(day, following)
                 if str(state).lower().endswith("open")]
        day = following
    return merge(rows)


def public_holidays():
    days = []
    for start, end in reference("PH"):
        day = dt.datetime.fromisoformat(start)
        while day < dt.datetime.fromisoformat(end):
            days.append(day.date().isoformat())
            day += dt.timedelta(days=1)
    return days


def slotctl(expr: str, holidays):
    """(exit status, open intervals or None, stderr) from `slotctl hours --json`."""
    if not os.path.exists(SLOTCTL):
        pytest.fail(f"{SLOTCTL} not found: build it (swift build --product slotctl) or set SLOTCTL")
    process = subprocess.run(
        [SLOTCTL, "hours", expr, "--from", WINDOW_FROM.strftime("%Y-%m-%dT%H:%M"),
         "--to", WINDOW_TO.strftime("%Y-%m-%dT%H:%M"), "--holidays", ",".join(holidays), "--json"],
        capture_output=True, text=True, timeout=20)
    if process.returncode != 0:
        return process.returncode, None, process.stderr
    pairs = json.loads(process.stdout)
    return 0, merge((dt.datetime.fromisoformat(s), dt.datetime.fromisoformat(e)) for s, e in pairs), process.stderr


# --------------------------------------------------------------------------- tests

def generated_cases():
    generator = Generator(SEED)
    cases = []
    for index in range(CASES):
        expr = generator.expression()
        if index % 12 == 11:
            cases.append((f"broken-{index}", generator.broken(expr)))
        else:
            cases.append((f"random-{index}", expr))
    return cases


def test_random_expressions_agree_with_opening_hours_py():
    holidays = public_holidays()
    assert holidays, "the reference should know German public holidays in the window"
    cases = generated_cases()

    def run(case):
        name, expr = case
        return name, expr, reference(expr), slotctl(expr, holidays)

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(run, cases))
    disagreements = []
    rejected_by_reference = 0
    for name, expr, expected, (status, got, stderr) in results:
        if expected is None:
            rejected_by_reference += 1
            if status == 0:
                disagreements.append(f"{name}: {expr!r}: the reference rejects it, slotctl accepted it")
        elif status != 0:
            disagreements.append(f"{name}: {expr!r}: slotctl rejected it: {stderr.strip()}")
        elif got != expected:
            missing = sorted(set(expected) - set(got))[:4]
            extra = sorted(set(got) - set(expected))[:4]
            disagreements.append(f"{name}: {expr!r}: missing {missing}, extra {extra}")
    assert rejected_by_reference >= CASES // 12 - 2, "the broken expressions should be rejected by the reference"
    assert not disagreements, f"{len(disagreements)} of {len(results)} disagree:\n" + "\n".join(disagreements[:15])


# Hand-written fixtures: the answer is known without either implementation.
FIXTURES = [
    # A barber's week, with German holidays on Dec 25 and 26 (a Thursday and a Friday in 2025).
    ("Mo-Fr 09:00-12:00,13:00-18:00; Sa 10:00-14:00; PH off", "2025-12-24T00:00", "2025-12-28T00:00",
     [("2025-12-24T09:00", "2025-12-24T12:00"), ("2025-12-24T13:00", "2025-12-24T18:00"),
      ("2025-12-27T10:00", "2025-12-27T14:00")]),
    # Open past midnight on Friday and Saturday; the Saturday night ends on Sunday.
    ("Fr-Sa 18:00-02:00", "2026-01-09T00:00", "2026-01-12T00:00",
     [("2026-01-09T18:00", "2026-01-10T02:00"), ("2026-01-10T18:00", "2026-01-11T02:00")]),
    # The trap: ', 12:00-13:00' continues the time list, so 'off' closes the whole weekday.
    ("Mo-Fr 09:00-18:00, 12:00-13:00 off", "2026-01-05T00:00", "2026-01-10T00:00", []),
    # The fix for it.
    ("Mo-Fr 09:00-18:00; 12:00-13:00 off", "2026-01-05T00:00", "2026-01-06T00:00",
     [("2026-01-05T09:00", "2026-01-05T12:00"), ("2026-01-05T13:00", "2026-01-05T18:00")]),
    # Last Sunday of January 2026 is the 25th; Christmas closure wraps the new year.
    ("Su[-1] 12:00-16:00", "2026-01-01T00:00", "2026-02-01T00:00", [("2026-01-25T12:00", "2026-01-25T16:00")]),
    ("Mo-Sa 10:00-18:00; Dec 24-Jan 02 off", "2025-12-22T00:00", "2026-01-04T00:00",
     [("2025-12-22T10:00", "2025-12-22T18:00"), ("2025-12-23T10:00", "2025-12-23T18:00"),
      ("2026-01-03T10:00", "2026-01-03T18:00")]),
]


@pytest.mark.parametrize("expr,start,end,expected", FIXTURES, ids=[f[0] for f in FIXTURES])
def test_fixtures(expr, start, end, expected):
    global WINDOW_FROM, WINDOW_TO
    saved = WINDOW_FROM, WINDOW_TO
    WINDOW_FROM, WINDOW_TO = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
    try:
        holidays = public_holidays()
        status, got, stderr = slotctl(expr, holidays)
        assert status == 0, stderr
        assert got == expected
        assert reference(expr) == expected, "the reference disagrees with the fixture"
    finally:
        WINDOW_FROM, WINDOW_TO = saved


@pytest.mark.parametrize("expr,column,words", [
    ("Tue 10:00-12:00", 1, "unknown weekday 'Tue'"),
    ("Mo 10:00-12:60", 13, "minute 60"),
    ("Mo 10:00-12:00 || Sa 10:00-12:00", 16, "fallback"),
    ("Mo 10:00+", 9, "open end"),
])
def test_syntax_errors_show_column_and_caret(expr, column, words):
    status, got, stderr = slotctl(expr, [])
    assert status != 0 and got is None
    assert f"column {column}: " in stderr and words in stderr
    lines = stderr.splitlines()
    caret_line = next(line for line in lines if line.strip() == "^")
    expression_line = lines[lines.index(caret_line) - 1]
    assert expression_line.endswith(expr)
    assert caret_line.index("^") == expression_line.index(expr) + column - 1
    assert "fix:" in stderr
