"""Calendar feeds (issue 12): `slotctl feed` makes, lists and revokes feed addresses over the socket, and the public
listener serves them as RFC 5545 text that phones subscribe to.

Each feed is read twice: by the PyPI package `icalendar` and by the strict reader in `ical_strict.py`, and both must
agree on what they saw. The shop here is open around the clock and books a year ahead, so bookings can straddle the
next DST changes of Europe/Berlin (last Sunday of March and of October).
"""

from __future__ import annotations

import datetime as dt
import json

import icalendar
import pytest

import ical_strict
from conftest import SHOP_ZONE, assert_problem, future_day, wall, wait_for
from test_web import WebClient, free_port, web_config

TITLE = "Salon Ünal; Cuts, Inc."
CUSTOMER = "Zoë-Ünal; O'Brien, Jr. 😀"

SHOP = """\
shop:
  name: Night Cuts
  timezone: Europe/Berlin
  currency: EUR
  slot_step: 30m
  min_notice: 1h
  horizon: 400d
hours: 24/7
"""

SERVICES = """\
services:
  - id: haircut
    name: Haircut
    duration: 30m
    price: 28
  - id: colour
    name: "Colour,\\nwash; dry \\\\ ü"
    duration: 2h
    price: 80
  - id: shave
    name: Shave
    duration: 30m
    price: 20
    deposit: 5
"""

STAFF = """\
staff:
  - id: anna
    name: Anna Öz
    services: [haircut, colour, shave]
  - id: ben
    name: Ben
    services: [haircut, colour]
"""


@pytest.fixture
def shop(daemons, tmp_path, slotctl_for):
    """A daemon with the round-the-clock rules and a web listener that shows full names; returns helpers."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "shop.yaml").write_text(SHOP)
    (rules / "services.yaml").write_text(SERVICES)
    (rules / "staff.yaml").write_text(STAFF)
    port = free_port()
    config = web_config(port, extra="  calendar: { names: full, future: 400d, refresh: 30m }\n")
    config = config.replace("title: Salon Test", f'title: "{TITLE}"')
    daemon = daemons(config=config, rules=rules)
    web = WebClient(port)
    wait_for(lambda: _listening(web), timeout=15, what="the web listener")

    def feed(*args: str) -> dict:
        out = slotctl_for(daemon, "feed", *args, "--json")
        return json.loads(out.stdout)

    return daemon, web, feed


def _listening(web: WebClient) -> bool:
    try:
        return web.get("/public/v1/shop", check=False).status == 200
    except OSError:
        return False


def path_of(url: str) -> str:
    assert url.startswith("https://shop.example/calendar/") and url.endswith(".ics"), url
    return url[len("https://shop.example"):]


def read_feed(web: WebClient, url: str) -> tuple[icalendar.Calendar, ical_strict.Component, bytes]:
    """The feed read by both readers, checked to agree event by event."""
    resp = web.get(path_of(url))
    assert resp.status == 200, resp
    assert resp.content_type == "text/calendar"
    assert resp.headers["cache-control"] == "no-store"
    lenient = icalendar.Calendar.from_ical(resp.body)
    strict = ical_strict.parse(resp.body)
    lenient_events = {str(e["uid"]): e for e in lenient.walk("VEVENT")}
    strict_events = {e.one("UID").value: e for e in strict.walk("VEVENT")}
    assert lenient_events.keys() == strict_events.keys()
    for uid, event in strict_events.items():
        other = lenient_events[uid]
        for name in ("SUMMARY", "DESCRIPTION", "LOCATION"):
            assert str(other[name]) == event.one(name).text, (uid, name)
        assert other.decoded("dtstart") == ical_strict.utc(event.one("DTSTART").value, 0)
        assert int(other["sequence"]) == int(event.one("SEQUENCE").value)
    return lenient, strict, resp.body


def events(strict: ical_strict.Component) -> dict[str, ical_strict.Component]:
    return {e.one("UID").value.split("@")[0]: e for e in strict.walk("VEVENT")}


def booking_id(resp) -> str:
    assert resp.status == 201, resp
    return resp.json()["id"]


# MARK: - Making, listing and revoking


def test_slotctl_feed_creates_lists_and_revokes_and_a_revoked_feed_is_404_at_once(shop, slotctl_for):
    daemon, web, feed = shop
    anna = feed("create", "--staff", "anna", "--label", "Anna's phone")
    assert anna["scope"] == "staff" and anna["staff"] == "anna" and anna["label"] == "Anna's phone"
    assert anna["webcal"] == anna["url"].replace("https://", "webcal://", 1)
    whole = feed("create", "--shop")
    assert whole["scope"] == "shop" and "staff" not in whole
    text = slotctl_for(daemon, "feed", "create", "--staff", "ben").stdout
    assert "webcal://shop.example/calendar/" in text and "https://shop.example/calendar/" in text
    listed = feed("list")["feeds"]
    assert {anna["id"], whole["id"]} < {f["id"] for f in listed} and len(listed) == 3
    assert "Anna's phone" in slotctl_for(daemon, "feed", "list").stdout

    assert web.get(path_of(anna["url"])).status == 200
    revoked = feed("revoke", anna["id"])
    assert revoked["id"] == anna["id"] and "revoked" in revoked
    assert_problem(web.get(path_of(anna["url"])), 404, "not_found")
    assert web.get(path_of(whole["url"])).status == 200, "revoking one feed leaves the others"
    assert anna["id"] not in [f["id"] for f in feed("list")["feeds"]]
    assert anna["id"] in [f["id"] for f in feed("list", "--all")["feeds"]]
    assert feed("revoke", anna["id"])["revoked"] == revoked["revoked"], "revoking twice changes nothing"
    assert daemon.sql("SELECT count(*) FROM calendar_feeds WHERE revoked_at IS NOT NULL") == [(1,)]

    # Forged, foreign and unknown tokens are 404 alike; a customer's booking token is no feed token.
    token = path_of(whole["url"])[len("/calendar/"):-4]
    payload, signature = token.split(".")
    assert_problem(web.get(f"/calendar/{payload}.{signature[:-2]}AA.ics"), 404, "not_found")
    assert_problem(web.get(f"/calendar/{token}"), 404, "not_found")
    assert_problem(web.get("/calendar/nonsense.ics"), 404, "not_found")
    customer = web.book(wall(future_day(3), "10:00")).json()["token"]
    assert_problem(web.get(f"/calendar/{customer}.ics"), 404, "not_found")

    # The socket routes themselves (slotctl above uses them too).
    listed = daemon.client.get("/v1/feeds?all=true").json()["feeds"]
    assert len(listed) == 3 and {anna["id"], whole["id"]} < {f["id"] for f in listed}
    assert daemon.client.post(f"/v1/feeds/{whole['id']}/revoke").json()["id"] == whole["id"]
    assert_problem(web.get(path_of(whole["url"])), 404, "not_found")
    assert_problem(daemon.client.post("/v1/feeds/fd_unknown/revoke"), 404, "not_found")


def test_feed_mistakes_are_refused_with_what_to_do(shop, slotctl_for):
    daemon, _, _ = shop
    out = slotctl_for(daemon, "feed", "create", "--staff", "nobody", check=None)
    assert out.returncode != 0 and "no staff member 'nobody'" in out.stderr and "anna" in out.stderr
    out = slotctl_for(daemon, "feed", "create", check=None)
    assert out.returncode != 0 and "--staff" in out.stderr and "--shop" in out.stderr
    out = slotctl_for(daemon, "feed", "revoke", "fd_doesnotexist", check=None)
    assert out.returncode != 0 and "no calendar feed with id 'fd_doesnotexist'" in out.stderr
    assert_problem(daemon.client.post("/v1/feeds", json={"staff": "anna", "shop": True}), 422, "validation_failed")
    assert_problem(daemon.client.post("/v1/feeds", json={}), 422, "validation_failed")
    assert_problem(daemon.client.post("/v1/feeds", json={"shop": True, "label": "a\u0007b"}), 422)
    help_text = slotctl_for(daemon, "feed", "--help").stdout
    assert "create --staff ID | --shop" in help_text and "revoke ID" in help_text


def test_without_a_web_section_feeds_are_404_with_the_fix(daemon, slotctl_for):
    problem = assert_problem(daemon.client.get("/v1/feeds"), 404, "not_found")
    assert "`web:`" in problem["detail"]
    out = slotctl_for(daemon, "feed", "list", check=None)
    assert out.returncode != 0 and "web:" in out.stderr


# MARK: - What a feed holds


def test_a_staff_feed_and_the_shop_feed_parse_with_both_readers(shop):
    daemon, web, feed = shop
    anna, whole = feed("create", "--staff", "anna"), feed("create", "--shop")
    day = future_day(4)
    first = booking_id(daemon.client.book(wall(day, "10:00"), service="colour", name=CUSTOMER, notes="secret; note"))
    second = booking_id(daemon.client.book(wall(day, "10:00"), service="haircut", staff="ben", name="Ben's Guest"))
    held = daemon.client.book(wall(day, "14:00"), service="shave", name="Held Guest")
    assert held.status == 201
    held_id, held_status = held.json()["id"], held.json()["status"]

    lenient, strict, body = read_feed(web, anna["url"])
    # X-properties are TEXT by default (RFC 5545 3.8.8.2), escaped like SUMMARY; `icalendar` leaves them as written.
    assert strict.one("X-WR-CALNAME").text == f"{TITLE} — Anna Öz"
    assert str(lenient["x-wr-timezone"]) == "Europe/Berlin"
    assert strict.one("REFRESH-INTERVAL").value == "PT30M" and strict.one("X-PUBLISHED-TTL").value == "PT30M"
    by_id = events(strict)
    assert set(by_id) == {first, held_id}, "a staff feed holds only that staff member's bookings"
    event = by_id[first]
    assert event.one("SUMMARY").text == f"Colour,\nwash; dry \\ ü — {CUSTOMER}"
    assert event.one("LOCATION").text == TITLE
    assert event.one("STATUS").value == "CONFIRMED" and event.one("SEQUENCE").value == "0"
    assert b"secret" not in body and b"note" not in body, "notes stay out of feeds"
    start = ical_strict.utc(event.one("DTSTART").value, 0)
    assert start == dt.datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=SHOP_ZONE)
    assert ical_strict.utc(event.one("DTEND").value, 0) - start == dt.timedelta(hours=2)
    expected_held = "TENTATIVE" if held_status == "held" else "CONFIRMED"
    assert by_id[held_id].one("STATUS").value == expected_held

    _, strict_shop, _ = read_feed(web, whole["url"])
    shop_events = events(strict_shop)
    assert set(shop_events) == {first, second, held_id}
    assert shop_events[second].one("SUMMARY").text == "Haircut — Ben's Guest (Ben)"


def test_a_reschedule_raises_sequence_and_a_cancellation_shows_cancelled(shop):
    daemon, web, feed = shop
    anna = feed("create", "--staff", "anna")
    day = future_day(5)
    bid = booking_id(daemon.client.book(wall(day, "11:00"), name="Mover"))
    _, strict, _ = read_feed(web, anna["url"])
    before = events(strict)[bid]
    assert before.one("SEQUENCE").value == "0"

    moved = daemon.client.post(f"/v1/bookings/{bid}/reschedule", json={"start": wall(day, "13:00")})
    assert moved.status == 200, moved
    _, strict, _ = read_feed(web, anna["url"])
    after = events(strict)[bid]
    assert after.one("UID").value == before.one("UID").value
    assert int(after.one("SEQUENCE").value) > int(before.one("SEQUENCE").value)
    assert ical_strict.utc(after.one("DTSTART").value, 0) == \
        dt.datetime.fromisoformat(f"{day}T13:00").replace(tzinfo=SHOP_ZONE)
    assert ical_strict.utc(after.one("DTSTAMP").value, 0) >= ical_strict.utc(before.one("DTSTAMP").value, 0)

    assert daemon.client.post(f"/v1/bookings/{bid}/cancel", json={"reason": "ill"}).status == 200
    _, strict, _ = read_feed(web, anna["url"])
    cancelled = events(strict)[bid]
    assert cancelled.one("STATUS").value == "CANCELLED", "kept as cancelled so phones remove it"
    assert int(cancelled.one("SEQUENCE").value) > int(after.one("SEQUENCE").value)
    assert daemon.sql("SELECT revision FROM bookings WHERE id = ?", bid) == [(2,)]

    # The customer's own file is written by the same code: the same UID and SEQUENCE.
    token = web.book(wall(day, "16:00"), staff="anna").json()["token"]
    own = ical_strict.parse(web.get(f"/public/v1/bookings/{token}.ics").body).walk("VEVENT")[0]
    in_feed = {e.one("UID").value: e for e in read_feed(web, anna["url"])[1].walk("VEVENT")}[own.one("UID").value]
    assert own.one("SEQUENCE").value == in_feed.one("SEQUENCE").value == "0"


def last_sunday(year: int, month: int) -> dt.date:
    day = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


def next_dst_changes(today: dt.date) -> list[dt.date]:
    changes = sorted(last_sunday(year, month) for year in (today.year, today.year + 1) for month in (3, 10))
    return [day for day in changes if day > today + dt.timedelta(days=2)][:2]


@pytest.mark.parametrize("which", [0, 1])
def test_a_booking_across_a_dst_change_keeps_its_real_length(shop, which):
    daemon, web, feed = shop
    anna = feed("create", "--staff", "anna")
    day = next_dst_changes(dt.datetime.now(SHOP_ZONE).date())[which]
    # 01:30 local, 2 real hours: in March it ends 04:30 CEST (the clock skipped 02:00-03:00), in October 02:30 CET
    # (the clock went back at 03:00).
    resp = daemon.client.book(f"{day.isoformat()}T01:30", service="colour", name="Night Owl")
    bid = booking_id(resp)
    lenient, strict, _ = read_feed(web, anna["url"])
    event = events(strict)[bid]
    start = ical_strict.utc(event.one("DTSTART").value, 0)
    end = ical_strict.utc(event.one("DTEND").value, 0)
    assert end - start == dt.timedelta(hours=2)
    local_start, local_end = start.astimezone(SHOP_ZONE), end.astimezone(SHOP_ZONE)
    assert (local_start.hour, local_start.minute) == (1, 30)
    assert (local_end.hour, local_end.minute) == ((4, 30) if day.month == 3 else (2, 30))
    assert local_start.utcoffset() != local_end.utcoffset(), "the booking straddles the change"
    other = {str(e["uid"]): e for e in lenient.walk("VEVENT")}[event.one("UID").value]
    assert other.decoded("dtend") - other.decoded("dtstart") == dt.timedelta(hours=2)
    assert dt.datetime.fromisoformat(resp.json()["end"]) == end
