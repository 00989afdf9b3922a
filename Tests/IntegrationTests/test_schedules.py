"""Schedules that real shops keep, through the daemon (issue 14): a staff member's own price and duration for a
service (slot list, booking check, stored price, `GET /v1/services`), a service offered only at some hours, a
rotation of weeks counted from a date, and yearly overrides with a dated one winning on its date."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import pytest

from conftest import RULES, add_haircut_variants, assert_problem, future_day, local_iso, same_instant, wall

DAY = future_day(3)
WEEKDAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def later(days: int) -> str:
    return (dt.date.fromisoformat(DAY) + dt.timedelta(days=days)).isoformat()


def yearly(day: str) -> str:
    date = dt.date.fromisoformat(day)
    return f"{MONTHS[date.month - 1]} {date.day:02d}"


@pytest.fixture
def shop(daemons, tmp_path):
    """The test shop with Ben's own haircut (35.00, 20 minutes), a kids' cut only on DAY's weekday 09:00-12:00,
    Anna every other week from DAY, the shop closed on DAY+1 every year but open 10:00-12:00 on DAY+1 this year,
    and closed on DAY+2 every year."""
    rules = tmp_path / "schedule-rules"
    shutil.copytree(RULES, rules)
    weekday = WEEKDAYS[dt.date.fromisoformat(DAY).weekday()]
    services = rules / "services.yaml"
    services.write_text(services.read_text() + (
        "\n  - id: kids\n    name: Kids' cut\n    duration: 20m\n    price: 15\n"
        f"    available: {weekday} 09:00-12:00\n"))
    staff = rules / "staff.yaml"
    text = staff.read_text()
    text = text.replace(
        "    services: [haircut, beard_trim, shave]\n",
        "    services: [haircut, beard_trim, shave, kids]\n"
        f"    rotation: {{start: {DAY}, weeks: [\"Mo-Su 09:00-18:00\", \"off\"]}}\n", 1)
    text = text.replace("    services: [haircut, beard_trim]\n",
                        "    services: [{id: haircut, price: 35, duration: 20m}, beard_trim]\n", 1)
    staff.write_text(text + (
        "overrides:\n"
        f"  - {{date: {yearly(later(1))}, closed: true}}\n"
        f"  - {{date: {later(1)}, hours: 10:00-12:00}}\n"
        f"  - {{date: {yearly(later(2))}, closed: true}}\n"))
    return daemons(rules=rules)


def test_services_list_the_staff_terms_and_available_hours(shop):
    services = {s["id"]: s for s in shop.client.get("/v1/services").json()["services"]}
    assert services["haircut"]["staff_terms"] == [
        {"staff": "ben", "duration_minutes": 20, "price": {"amount": 3500, "currency": "EUR", "display": "35.00 EUR"}}]
    assert services["beard_trim"]["staff_terms"] == []
    assert services["kids"]["available"].endswith(" 09:00-12:00") and "available" not in services["haircut"]


def test_a_booking_with_the_senior_barber_takes_his_duration_and_price(shop):
    client = shop.client
    ben = client.slots(DAY, staff="ben")
    assert ben and all((dt.datetime.fromisoformat(s["end"]) - dt.datetime.fromisoformat(s["start"])).seconds == 1200
                       for s in ben)
    anna = client.slots(DAY, staff="anna")
    assert anna and all((dt.datetime.fromisoformat(s["end"]) - dt.datetime.fromisoformat(s["start"])).seconds == 1800
                        for s in anna)
    booked = client.book(wall(DAY, "11:00"), staff="ben")
    assert booked.status == 201, booked
    assert booked.json()["price"]["amount"] == 3500
    assert same_instant(booked.json()["end"], local_iso(DAY, "11:20"))
    # The slot list and the booking check agree on what his booking takes.
    after = [s["start"] for s in client.slots(DAY, staff="ben")]
    assert not any(same_instant(start, local_iso(DAY, "11:15")) for start in after)
    assert any(same_instant(start, local_iso(DAY, "11:30")) for start in after)
    problem = assert_problem(client.book(wall(DAY, "11:15"), staff="ben", name="Next"), 409, "slot_unavailable")
    assert [r["code"] for r in problem["reasons"]] == ["overlaps_booking"], problem
    assert client.book(wall(DAY, "11:30"), staff="ben", name="Next").status == 201
    assert client.book(wall(DAY, "11:00"), staff="anna").json()["price"]["amount"] == 2800


def test_a_service_outside_its_available_hours_is_not_offered_and_refused_with_the_reason(shop):
    client = shop.client
    starts = [s["start"] for s in client.slots(DAY, service="kids", staff="anna")]
    assert starts and same_instant(starts[0], local_iso(DAY, "09:00"))
    assert same_instant(starts[-1], local_iso(DAY, "11:45"))
    problem = assert_problem(client.book(wall(DAY, "13:00"), service="kids"), 422, "validation_failed")
    assert [r["code"] for r in problem["reasons"]] == ["service_not_available"], problem
    assert "09:00-12:00" in problem["reasons"][0]["message"]
    assert client.book(wall(DAY, "10:00"), service="kids").status == 201


def test_a_rotation_counts_weeks_from_its_start(shop):
    client = shop.client
    assert client.slots(DAY, staff="anna")
    assert client.slots(later(7), staff="anna") == []
    assert client.slots(later(14), staff="anna")
    assert client.slots(later(7), staff="ben"), "ben keeps the shop's hours"
    problem = assert_problem(client.book(wall(later(7), "10:00"), staff="anna"), 422, "validation_failed")
    assert [r["code"] for r in problem["reasons"]] == ["outside_staff_hours"], problem


def test_a_dated_override_wins_over_a_yearly_one(shop):
    client = shop.client
    starts = [s["start"] for s in client.slots(later(1), staff=None)]
    assert starts and same_instant(starts[0], local_iso(later(1), "10:00"))
    assert same_instant(starts[-1], local_iso(later(1), "11:30"))
    assert client.slots(later(2), staff=None) == []
    problem = assert_problem(client.book(wall(later(2), "10:00")), 422, "validation_failed")
    assert [r["code"] for r in problem["reasons"]] == ["closed_by_override"], problem


def test_explain_gives_the_chosen_barbers_end_and_price(shop):
    ben = shop.client.get(f"/v1/slots/explain?service=haircut&staff=ben&at={wall(DAY, '14:00')}").json()
    assert ben["bookable"] is True and ben["price"]["amount"] == 3500
    assert same_instant(ben["end"], local_iso(DAY, "14:20"))
    anna = shop.client.get(f"/v1/slots/explain?service=haircut&staff=anna&at={wall(DAY, '14:00')}").json()
    assert anna["price"]["amount"] == 2800 and same_instant(anna["end"], local_iso(DAY, "14:30"))


def test_offline_explain_on_the_example_shop_uses_the_barbers_own_terms(slotctl_binary):
    # Mehmet's beard trim in Rules/: 18.00 EUR in 15 minutes (the service's own: 15.00 EUR, 20 minutes).
    args = [slotctl_binary, "explain", "--rules", str(RULES.parents[2] / "Rules"), "--service", "beard_trim",
            "--staff", "mehmet", "--at", "2026-12-01T10:00", "--now", "2026-11-30T12:00:00+01:00", "--json"]
    verdict = json.loads(subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout)
    assert verdict["bookable"] is True and verdict["price"] == "18.00 EUR", verdict
    assert verdict["end"] == "2026-12-01T10:15:00+01:00"


@pytest.fixture
def variant_shop(daemons, tmp_path):
    """The test shop with short and long haircuts; Ben takes 35 minutes for long hair at 45.00 (the variant's own:
    45 minutes at 38.00) and short hair as the variant says."""
    rules = tmp_path / "variant-rules"
    shutil.copytree(RULES, rules)
    add_haircut_variants(rules)
    staff = rules / "staff.yaml"
    staff.write_text(staff.read_text().replace(
        "    services: [haircut, beard_trim]\n",
        "    services:\n      - {id: haircut, variants: {long: {price: 45, duration: 35m}}}\n      - beard_trim\n", 1))
    return daemons(rules=rules)


def test_a_barbers_own_terms_for_a_variant(variant_shop):
    client = variant_shop.client
    haircut = next(s for s in client.get("/v1/services").json()["services"] if s["id"] == "haircut")
    assert haircut["staff_terms"] == []
    variants = {v["id"]: v for v in haircut["variants"]}
    assert variants["long"]["staff_terms"] == [
        {"staff": "ben", "duration_minutes": 35, "price": {"amount": 4500, "currency": "EUR", "display": "45.00 EUR"}}]
    assert "staff_terms" not in variants["short"]
    long_with_ben = client.book(wall(DAY, "10:00"), staff="ben", variant="long")
    assert long_with_ben.status == 201, long_with_ben
    assert long_with_ben.json()["price"]["amount"] == 4500
    assert same_instant(long_with_ben.json()["end"], local_iso(DAY, "10:35"))
    short_with_ben = client.book(wall(DAY, "11:00"), staff="ben", variant="short")
    assert short_with_ben.json()["price"]["amount"] == 2800
    assert same_instant(short_with_ben.json()["end"], local_iso(DAY, "11:30"))
    long_with_anna = client.book(wall(DAY, "10:00"), staff="anna", variant="long")
    assert long_with_anna.json()["price"]["amount"] == 3800
    assert same_instant(long_with_anna.json()["end"], local_iso(DAY, "10:45"))


def test_an_unknown_variant_in_a_barbers_terms_is_located(slotctl_binary, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES.parents[2] / "Rules", rules)
    staff = rules / "staff.yaml"
    text = staff.read_text()
    assert "variants: {long: {price: 42, duration: 40m}}" in text
    staff.write_text(text.replace("variants: {long:", "variants: {lang:", 1))
    out = subprocess.run([slotctl_binary, "rules", "check", str(rules)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0, out
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "variants: {long:" in row)
    column = text.splitlines()[line - 1].index("long") + 1
    assert (f"staff.yaml:{line}:{column}: error: mehmet's terms for service 'haircut': service 'haircut' has no "
            "variant 'lang' — did you mean 'long'?") in out.stdout + out.stderr, out


def test_offline_explain_on_the_example_shop_uses_the_barbers_terms_for_a_variant(slotctl_binary):
    # Mehmet's long hair in Rules/: 42.00 EUR in 40 minutes (the variant's own: 38.00 EUR, 45 minutes).
    base = [slotctl_binary, "explain", "--rules", str(RULES.parents[2] / "Rules"), "--service", "haircut",
            "--variant", "long", "--at", "2026-12-01T10:00", "--now", "2026-11-30T12:00:00+01:00", "--json"]
    mehmet = json.loads(subprocess.run(base + ["--staff", "mehmet"], capture_output=True, text=True, timeout=60,
                                       check=True).stdout)
    assert mehmet["bookable"] is True and mehmet["price"] == "42.00 EUR", mehmet
    assert mehmet["end"] == "2026-12-01T10:40:00+01:00"
