#!/usr/bin/env python3
"""Writes the seed inputs of each fuzz target, taken from the tests, into DIR/<target>/ (scripts/fuzz --seed merges
them into Fuzz/Corpus). Usage: seed.py DIR"""
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = Path("/work/shared/conformance/opening_hours_js_suite.jsonl")


def hours_seeds():
    """Hour expressions: the opening_hours.js conformance suite, the Swift tests' literals, the rules' `hours:`."""
    seeds = set()
    suites = [CONFORMANCE, ROOT / "Tests/IntegrationTests/opening_hours_js_suite.jsonl"]
    for suite in suites:
        if suite.exists():
            for line in suite.read_text().splitlines():
                if line.strip():
                    seeds.add(json.loads(line)["expr"])
    for test in (ROOT / "Tests/SlotRulesTests").glob("Hours*.swift"):
        for literal in re.findall(r'"((?:[^"\\\n]|\\.)*)"', test.read_text()):
            if re.search(r"\d\d:\d\d|\b(Mo|Tu|We|Th|Fr|Sa|Su|PH|24/7|off)\b", literal):
                seeds.add(literal.replace('\\"', '"'))
    for rules in [*ROOT.glob("Rules/*.yaml"), *ROOT.glob("Tests/**/*.rules.yaml"), *ROOT.glob("Tests/**/rules/*.yaml")]:
        for match in re.findall(r"^\s*(?:-\s*)?hours:\s*(.+)$", rules.read_text(), re.M):
            seeds.add(match.strip().strip("'\""))
    return [seed.encode() for seed in seeds]


def directory_input(files):
    """Several files as one input: a `#=== <name>` line before each (FuzzRules splits on them)."""
    return "".join(f"#=== {path.name}\n{path.read_text()}" for path in files).encode()


def rules_seeds():
    """Rule files: each example file alone, the example directory and the integration tests' one whole, and every
    golden fixture with the calendars it names."""
    seeds = []
    for directory in [ROOT / "Rules", ROOT / "Tests/IntegrationTests/rules"]:
        yaml = sorted(directory.glob("*.yaml"))
        seeds += [path.read_bytes() for path in yaml]
        seeds.append(directory_input(yaml + sorted(directory.glob("*.ics"))))
    fixtures = ROOT / "Tests/SlotRulesTests/Fixtures"
    calendars = sorted(fixtures.glob("*.ics"))
    for fixture in sorted(fixtures.glob("*.rules.yaml")):
        text = fixture.read_text()
        named = [path for path in calendars if path.name in text]
        if not named:
            seeds.append(text.encode())
            continue
        if not text.startswith("#=== "):
            text = "#=== shop.yaml\n" + text
        seeds.append(text.encode() + directory_input(named))
    return seeds


def requests_seeds():
    """Requests like the integration tests' (route byte first, in RequestBodyCheck.Route order: 0 create, 1 cancel,
    2 reschedule with a JSON body; 3 slots with a query string; 4 rules check, 5 preview with JSON, 6 preview with
    text: a query string, a line break, the body)."""
    booking = {"service": "haircut", "staff": "mehmet", "start": "2026-03-03T10:00",
               "customer": {"name": "Ann Lee", "email": "ann@example.org", "phone": "+49 30 1234"}, "notes": "hi"}
    creates = [
        booking,
        {**booking, "service": None, "services": ["haircut", "beard_trim"]},
        {**booking, "variant": "long", "staff": "any"},
        {**booking, "start": "2026-03-03T10:00:00+01:00"},
        {**booking, "start": "2026-03-29T02:30"},
        {**booking, "start": "2026-03-03T09:00:00Z"},
        {**booking, "start": "tomorrow at ten"},
        {**booking, "start": 1700000000},
        {**booking, "service": 42},
        {**booking, "customer": "Ben"},
        {**booking, "customer": {"name": ["a"]}},
        {**booking, "customer": {"name": "Ann\u0000Lee"}},
        {**booking, "notes": "Line one\nLine two\twith a tab"},
        {**booking, "services": []},
        {**booking, "services": ["haircut", ""]},
        {**booking, "staff": "zoe"},
        {"staff": "anna", "start": "2026-03-03T10:00", "customer": {"name": "X"}},
        {**booking, "customer": {}},
    ]
    bodies = [b"\x00" + json.dumps({k: v for k, v in body.items() if v is not None}).encode() for body in creates]
    bodies += [b"\x00", b"\x00[]", b"\x00{", b"\x00null", b'\x00{"start": null}']
    bodies += [b"\x01", b'\x01{"reason": "changed plans"}', b'\x01{"reason": "ill\\nwill call"}',
               b'\x01{"reason": "a\\u0007b"}', b'\x01{"reason": 5}']
    bodies += [b'\x02{"start": "2026-03-03T13:00"}', b'\x02{"start": "2026-03-03T13:00:00+01:00"}',
               b'\x02{"start": "2026-02-30T10:00"}', b'\x02{}', b'\x02{"start": ""}']
    queries = ["service=haircut&from=2026-03-03", "service=haircut&staff=mehmet&from=2026-03-03&to=2026-03-09",
               "service=haircut,beard_trim&staff=any&from=2026-03-03", "service=haircut&variant=long&from=2026-03-03",
               "service=haircut%2Cbeard_trim&from=2026-03-03&to=2026-06-30", "service=&from=2026-03-03",
               "service=haircut&from=2026-02-30", "service=haircut&from=2026-03-09&to=2026-03-03",
               "from=2026-03-03", "service=perm&staff=zoe&from=03/03/2026", "service=haircut&from=2026-03-03&watch=true"]
    bodies += [b"\x03" + query.encode() for query in queries]
    shop = (ROOT / "Rules/shop.yaml").read_bytes()
    bodies += [b"\x04\n" + shop, b"\x04name=shop.yaml\n" + shop, b"\x04name=../x\n" + shop, b"\x04name=\n",
               b"\x04\n\xff\xfe"]
    directory = {"shop.yaml": shop.decode(), "closing-days.ics": "BEGIN:VCALENDAR\nEND:VCALENDAR\n"}
    bodies += [b"\x05days=7\n" + json.dumps({"files": directory}).encode(), b'\x05\n{"files": {}}',
               b'\x05name=shop.yaml\n{"files": {"shop.yaml": ""}}', b'\x05\n{"files": {"a.ics": ""}}',
               b'\x05days=0\n{"files": {".hidden.yaml": ""}}', b'\x05days=400\n{"files": []}']
    bodies += [b"\x06days=28&name=staff.yaml\n" + (ROOT / "Rules/staff.yaml").read_bytes(), b"\x06days=x\n"]
    return bodies


def main():
    out = Path(sys.argv[1])
    for target, seeds in [("hours", hours_seeds()), ("rules", rules_seeds()), ("requests", requests_seeds())]:
        directory = out / target
        directory.mkdir(parents=True, exist_ok=True)
        for seed in seeds:
            (directory / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
        print(f"{target}: {len(seeds)} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
