"""`slotctl slots --rules` and `slotctl explain --rules`: the offline tools on the example shop (`Rules/`), with the
what-if bookings of `Examples/what-if-bookings.json`. No daemon: with --rules both commands read rule files only."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import ROOT

RULES = str(ROOT / "Rules")
BOOKINGS = str(ROOT / "Examples" / "what-if-bookings.json")
DAY = "2026-12-01"  # the day the example bookings are on (a Tuesday)
NOW = "2026-11-30T12:00:00+01:00"  # a fixed moment, so the minimum notice and the horizon do not depend on today
BOOKED = f"{DAY}T10:00:00+01:00"  # bk_anna: mehmet's haircut at 10:00


@pytest.fixture
def offline(slotctl_binary, tmp_path):
    def run(*args: str, check: int | None = 0) -> subprocess.CompletedProcess:
        # No socket anywhere: an offline command must not need (or try) one.
        env = {**os.environ, "SLOTD_SOCKET": str(tmp_path / "no-daemon.sock")}
        out = subprocess.run([slotctl_binary, *args], capture_output=True, text=True, timeout=60, env=env)
        if check is not None:
            assert out.returncode == check, (args, out.returncode, out.stdout, out.stderr)
        return out
    return run


def slot_list(offline, *extra: str) -> dict:
    out = offline("slots", "--rules", RULES, "--service", "haircut", "--staff", "mehmet", "--from", DAY, "--to", DAY,
                  "--now", NOW, "--json", *extra)
    return json.loads(out.stdout)


def slots(offline, *extra: str) -> list[dict]:
    return slot_list(offline, *extra)["slots"]


def test_offline_slots_json_is_the_apis_slot_list(offline):
    answer = slot_list(offline, "--bookings", BOOKINGS)
    assert set(answer) == {"service", "staff", "from", "to", "rules_version", "slots"}
    assert (answer["service"], answer["staff"], answer["from"], answer["to"]) == ("haircut", "mehmet", DAY, DAY)
    assert len(answer["rules_version"]) == 16
    found = answer["slots"]
    assert isinstance(found, list) and found
    for slot in found:
        assert set(slot) == {"start", "end", "staff"}, slot
        assert slot["staff"] == "mehmet"
        assert slot["start"].startswith(DAY) and slot["start"].endswith("+01:00")
    assert [s["start"] for s in found] == sorted(s["start"] for s in found)


def test_a_what_if_booking_removes_its_start(offline):
    free = [s["start"] for s in slots(offline)]
    booked = [s["start"] for s in slots(offline, "--bookings", BOOKINGS)]
    assert BOOKED in free
    assert BOOKED not in booked
    assert set(booked) < set(free)


def test_offline_explain_reports_the_booking_in_the_way(offline):
    out = offline("explain", "--rules", RULES, "--service", "haircut", "--staff", "mehmet", "--at", f"{DAY}T10:00",
                  "--now", NOW, "--bookings", BOOKINGS, "--json")
    verdict = json.loads(out.stdout)
    assert {"bookable", "service", "start", "end", "staff", "reasons", "nearest"} <= set(verdict)
    assert verdict["bookable"] is False
    assert verdict["start"] == BOOKED and verdict["staff"] == "mehmet"
    assert any(r["code"] == "overlaps_booking" and "bk_anna" in r["message"] for r in verdict["reasons"]), verdict
    assert verdict["nearest"] and all(set(n) == {"start", "end", "staff"} for n in verdict["nearest"])
    assert BOOKED not in [n["start"] for n in verdict["nearest"]]

    text = offline("explain", "--rules", RULES, "--service", "haircut", "--staff", "mehmet", "--at",
                   f"{DAY}T10:00", "--now", NOW, "--bookings", BOOKINGS).stdout
    assert "not bookable" in text and "bk_anna" in text and "Nearest offered starts" in text


def test_offline_explain_without_the_booking_says_bookable(offline):
    verdict = json.loads(offline("explain", "--rules", RULES, "--service", "haircut", "--staff", "mehmet", "--at",
                                 f"{DAY}T10:00", "--now", NOW, "--json").stdout)
    assert verdict["bookable"] is True and verdict["reasons"] == []


@pytest.mark.parametrize("args, needle", [
    (("slots", "--service", "haircut", "--from", DAY, "--now", NOW), "--now only applies offline"),
    (("slots", "--service", "haircut", "--from", DAY, "--bookings", BOOKINGS), "--bookings only applies offline"),
    (("explain", "--service", "haircut", "--staff", "mehmet", "--at", f"{DAY}T10:00", "--now", NOW),
     "--now only applies offline"),
    (("slots", "--rules", RULES, "--service", "haircut", "--from", DAY, "--to", DAY, "--watch"),
     "--watch needs the running daemon"),
    (("slots", "--rules", RULES, "--service", "haircut", "--from", DAY), "--to is required with --rules"),
])
def test_options_of_the_other_mode_are_usage_errors(offline, args, needle):
    out = offline(*args, check=64)
    assert needle in out.stderr, out.stderr
    assert out.stdout == ""


def test_without_rules_slots_asks_the_daemon(offline):
    out = offline("slots", "--service", "haircut", "--from", DAY, check=7)
    assert "slotd is not running" in out.stderr
