"""Walk-ins and forced bookings (issue 14): staff and admin set the booking rules aside at the counter, the booking
role never may, another booking is never overlapped, and the event records who did it and why."""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil

import pytest

from conftest import RULES, SHOP_ZONE, assert_problem, future_day, wall

DAY = future_day(2)


@pytest.fixture
def always_open(tmp_path):
    """The test rules with the shop open around the clock, so "now" is inside its hours whenever the test runs
    (Anna keeps no own hours; Ben keeps 10:00-16:00 with a 12:00 break; the minimum notice stays 1 h)."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    shop = rules / "shop.yaml"
    shop.write_text(shop.read_text().replace("hours: Mo-Su 09:00-18:00", "hours: 24/7"))
    return rules


def start_as(daemons, role: str, rules) -> object:
    return daemons(config=f'roles:\n  "{os.getuid()}": {role}\n', rules=rules)


def walk_in(client, start: str | None = None, staff: str = "anna", force: str | None = None, walk: bool = True):
    body = {"service": "haircut", "staff": staff, "customer": {"name": "Walk-in Will"}}
    if walk:
        body["walk_in"] = True
    if start is not None:
        body["start"] = start
    if force is not None:
        body["force"] = {"reason": force}
    return client.post("/v1/bookings", json=body)


def created_event(client, booking_id: str) -> dict:
    lines = client.get("/v1/events?follow=false").text.splitlines()
    import json
    events = [json.loads(line) for line in lines if line.strip()]
    return next(e for e in events if e["type"] == "booking.created" and e["data"]["booking"] == booking_id)


def now_local() -> dt.datetime:
    return dt.datetime.now(SHOP_ZONE)


def test_the_booking_role_may_not_book_walk_ins_or_forced_bookings(daemons, always_open):
    daemon = start_as(daemons, "booking", always_open)
    for body in ({"walk_in": True}, {"force": {"reason": "regular customer"}}):
        resp = daemon.client.post("/v1/bookings", json={
            "service": "haircut", "staff": "anna", "start": wall(DAY, "10:00"), "customer": {"name": "Ben"}, **body})
        problem = assert_problem(resp, 403, "forbidden")
        assert "role 'booking' may not book" in problem["detail"] and "staff" in problem["detail"]
    assert daemon.booking_count() == 0
    # An ordinary booking still works for the role.
    assert daemon.client.book(wall(DAY, "10:00")).status == 201


def test_a_walk_in_starts_now_despite_the_minimum_notice(daemons, always_open):
    daemon = start_as(daemons, "staff", always_open)
    client = daemon.client
    before = now_local().replace(second=0, microsecond=0)
    resp = walk_in(client)
    assert resp.status == 201, resp
    booking = resp.json()
    start = dt.datetime.fromisoformat(booking["start"])
    assert before <= start <= now_local(), booking["start"]
    assert booking["status"] == "confirmed" and booking["staff"] == "anna"
    event = created_event(client, booking["id"])
    assert event["data"]["override"] == {
        "kind": "walk_in", "uid": os.getuid(), "user": pwd.getpwuid(os.getuid()).pw_name, "waived": []}

    # Forty minutes ahead, off the 15-minute grid: an ordinary booking is refused (too soon, not on the grid)...
    later = (now_local() + dt.timedelta(minutes=40)).replace(second=0, microsecond=0)
    if later.minute % 15 == 0:
        later += dt.timedelta(minutes=1)
    problem = assert_problem(client.book(later.strftime("%Y-%m-%dT%H:%M")), 422, "validation_failed")
    assert {"too_soon", "not_on_grid"} <= {r["code"] for r in problem["reasons"]}
    # ...a walk-in at that time is booked (Anna's walk-in ends within 30 minutes).
    resp = walk_in(client, start=later.strftime("%Y-%m-%dT%H:%M"))
    assert resp.status == 201, resp
    assert dt.datetime.fromisoformat(resp.json()["start"]) == later


def test_a_walk_in_never_overlaps_and_keeps_the_hours_unless_forced(daemons, always_open):
    daemon = start_as(daemons, "admin", always_open)
    client = daemon.client
    assert client.book(wall(DAY, "10:00")).status == 201  # Anna 10:00-10:30
    for force in (None, "squeeze him in"):
        problem = assert_problem(walk_in(client, start=wall(DAY, "10:20"), force=force), 409, "slot_unavailable")
        assert [r["code"] for r in problem["reasons"]] == ["overlaps_booking"]
    # Ben works 10:00-16:00: a walk-in at 17:05 is outside his hours, even for an admin...
    problem = assert_problem(walk_in(client, start=wall(DAY, "17:05"), staff="ben"), 422, "validation_failed")
    assert [r["code"] for r in problem["reasons"]] == ["outside_staff_hours"]
    # ...until forced, with the reason recorded; so is his break.
    for at in ("17:05", "12:05"):
        resp = walk_in(client, start=wall(DAY, at), staff="ben", force="regular customer, stays late", walk=False)
        assert resp.status == 201, resp
        event = created_event(client, resp.json()["id"])
        assert event["data"]["override"]["kind"] == "forced"
        assert event["data"]["override"]["reason"] == "regular customer, stays late"
        assert event["data"]["override"]["uid"] == os.getuid()
    # An ordinary booking's event has no override.
    ordinary = client.book(wall(DAY, "11:00")).json()
    assert "override" not in created_event(client, ordinary["id"])["data"]


def test_bad_walk_in_requests_are_named(daemons, always_open):
    daemon = start_as(daemons, "staff", always_open)
    client = daemon.client
    problem = assert_problem(walk_in(client, start=wall(DAY, "10:00"), force="  "), 422, "validation_failed")
    assert [f["field"] for f in problem["fields"]] == ["force.reason"]
    problem = assert_problem(walk_in(client, walk=False), 422, "validation_failed")
    assert problem["fields"][0]["field"] == "start" and "walk_in" in problem["fields"][0]["reason"]
    yesterday = (now_local() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    problem = assert_problem(walk_in(client, start=yesterday), 422, "validation_failed")
    assert any(r["code"] == "too_soon" and "walk-in starts at" in r["message"] for r in problem["reasons"])
    assert daemon.booking_count() == 0


def test_the_public_page_may_not_book_walk_ins_or_forced_bookings(daemons):
    from test_web import start_web
    daemon, web = start_web(daemons)
    for body in ({"walk_in": True}, {"force": {"reason": "let me in"}}):
        problem = assert_problem(web.book(wall(DAY, "10:00"), **body), 403, "forbidden")
        assert "a customer may not book" in problem["detail"]
    assert daemon.booking_count() == 0


def without_ben(staff_yaml: str) -> str:
    start = staff_yaml.index("  - id: ben")
    return staff_yaml[:start].rstrip() + "\n"


def test_a_forced_booking_is_no_conflict_for_what_staff_set_aside(daemons, always_open, slotctl_for):
    """The booking keeps its override with the checks it failed when made: the conflict list and a rule preview do
    not count those, and do count a reason staff never set aside (its staff member removed)."""
    daemon = start_as(daemons, "admin", always_open)
    client = daemon.client
    user = pwd.getpwuid(os.getuid()).pw_name
    forced = {}
    for at, waived in (("17:05", ["outside_staff_hours"]), ("12:05", ["staff_break"])):
        resp = walk_in(client, start=wall(DAY, at), staff="ben", force="regular customer", walk=False)
        assert resp.status == 201, resp
        booking = resp.json()
        assert booking["override"] == {
            "kind": "forced", "reason": "regular customer", "by": f"{user} (uid {os.getuid()})",
            "uid": os.getuid(), "user": user, "waived": waived}
        assert client.get(f"/v1/bookings/{booking['id']}").json()["override"] == booking["override"]
        assert created_event(client, booking["id"])["data"]["override"]["waived"] == waived
        forced[booking["id"]] = at
    # A walk-in inside the hours waived nothing about the rules; an ordinary booking has no override.
    walked = walk_in(client, start=wall(DAY, "14:00"), staff="ben")
    assert walked.status == 201, walked
    assert walked.json()["override"]["waived"] == [] and walked.json()["override"]["kind"] == "walk_in"
    ordinary = client.book(wall(DAY, "10:00"))
    assert ordinary.status == 201 and "override" not in ordinary.json()

    listed = client.get("/v1/bookings?conflicts=true").json()
    assert listed["bookings"] == [] and listed["conflicts"] == []
    assert slotctl_for(daemon, "bookings", "--conflicts").stdout.startswith("no bookings conflict")
    late = next(b for b, at in forced.items() if at == "17:05")
    shown = slotctl_for(daemon, "show", late).stdout
    assert f"override:  forced by {user} (uid {os.getuid()}): regular customer; set aside: outside staff hours" \
        in shown, shown

    # Without Ben, his forced bookings (and his walk-in) conflict, for the reason nobody set aside.
    staff = (daemon.rules / "staff.yaml").read_text()
    resp = client.request("POST", "/v1/rules/preview?name=staff.yaml", body=without_ben(staff),
                          headers={"Content-Type": "application/yaml"})
    assert resp.status == 200, resp
    refused = {b["id"]: [r["code"] for r in b["reasons"]] for b in resp.json()["no_longer_allowed"]}
    assert refused == {**{b: ["unknown_staff"] for b in forced}, walked.json()["id"]: ["unknown_staff"]}
    (daemon.rules / "staff.yaml").write_text(without_ben(staff))
    assert client.post("/v1/rules/reload").status == 200
    listed = client.get("/v1/bookings?conflicts=true").json()
    assert {b["id"] for b in listed["bookings"]} == set(refused)
    assert all([r["code"] for r in c["reasons"]] == ["unknown_staff"] for c in listed["conflicts"])
