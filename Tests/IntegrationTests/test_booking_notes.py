"""A booking's notes after it was made (issue 13, "add a note"): `PATCH /v1/bookings/{id}` on the socket,
`slotctl note ID TEXT`, and the same operation on the admin page's route (browser test: test_admin_page.py).

The notes change in any state, append `booking.noted` (without the text) and raise the booking's revision (so a
calendar feed's SEQUENCE rises); the same notes again change nothing; bad input is a 422 naming the field.

    SLOTCTL=$PWD/.build/debug/slotctl python3 -m pytest -q Tests/IntegrationTests/test_booking_notes.py
"""

from __future__ import annotations

import json
import os

import pytest

from conftest import assert_problem, future_day, wall

DAY = future_day(3)


def patch(client, booking: str, body) -> object:
    return client.request("PATCH", f"/v1/bookings/{booking}", json=body)


@pytest.mark.parametrize("store", ["sqlite", "memory"])
def test_a_note_is_stored_announced_and_raises_the_revision(daemons, store):
    daemon = daemons(extra_args=["--db", ":memory:"] if store == "memory" else [])
    client = daemon.client
    booking = client.book(wall(DAY, "10:00"), notes="first visit").json()
    with client.stream("/v1/events") as stream:
        noted = patch(client, booking["code"], {"notes": "likes it short\nno wax"})
        assert noted.status == 200, noted
        event = stream.next_json()
        while event["type"] != "booking.noted":
            event = stream.next_json()
    assert noted.json()["notes"] == "likes it short\nno wax" and noted.json()["id"] == booking["id"]
    assert event["data"]["booking"] == booking["id"] and "notes" not in event["data"], event
    assert client.get(f"/v1/bookings/{booking['id']}").json()["notes"] == "likes it short\nno wax"
    if store == "sqlite":
        assert daemon.sql("SELECT revision FROM bookings") == [(1,)]
        # The same notes again: no event, no new revision.
        assert patch(client, booking["id"], {"notes": "likes it short\nno wax"}).status == 200
        assert daemon.sql("SELECT count(*) FROM events WHERE type = 'booking.noted'") == [(1,)]
        assert daemon.sql("SELECT revision FROM bookings") == [(1,)]

    # A cancelled booking takes a note too; an empty one removes the notes.
    assert client.post(f"/v1/bookings/{booking['id']}/cancel", json={}).status == 200
    cleared = patch(client, booking["id"], {"notes": ""})
    assert cleared.status == 200 and "notes" not in cleared.json() and cleared.json()["status"] == "cancelled"


def test_bad_notes_are_refused_with_the_field_and_change_nothing(daemon):
    client = daemon.client
    booking = client.book(wall(DAY, "11:00"), notes="keep").json()["id"]
    for body, field, words in [
        ({"notes": "bell\u0007"}, "notes", "U+0007"),
        ({"notes": "x" * 2001}, "notes", "at most 2000 characters"),
        ({}, "notes", "is required"),
        ({"notes": "ok", "start": wall(DAY, "12:00")}, "start", "reschedule"),
        ({"status": "completed"}, "status", "complete"),
    ]:
        problem = assert_problem(patch(client, booking, body), 422, "validation_failed")
        assert [f["field"] for f in problem["fields"]] == [field], problem
        assert words in problem["detail"], problem
    assert_problem(client.request("PATCH", f"/v1/bookings/{booking}", body="[1]",
                                  headers={"Content-Type": "application/json"}), 400, "malformed_json")
    assert_problem(client.request("PATCH", f"/v1/bookings/{booking}", body="{",
                                  headers={"Content-Type": "application/json"}), 400, "malformed_json")
    assert_problem(patch(client, "bk_doesnotexist", {"notes": "x"}), 404, "booking_not_found")
    assert client.get(f"/v1/bookings/{booking}").json()["notes"] == "keep"
    assert daemon.sql("SELECT count(*) FROM events WHERE type = 'booking.noted'") == [(0,)]


def test_a_read_peer_may_not_note_just_as_it_may_not_cancel(daemons):
    daemon = daemons(config=f'roles:\n  "{os.getuid()}": read\n')
    problem = assert_problem(patch(daemon.client, "bk_whatever", {"notes": "x"}), 403, "forbidden")
    assert "needs admin or staff" in problem["detail"], problem


def test_slotctl_note_sets_and_clears_the_notes(daemon, slotctl_for):
    booking = daemon.client.book(wall(DAY, "12:00"), name="Ben Meyer").json()
    out = slotctl_for(daemon, "note", booking["id"], "wants the beard trimmed too").stdout
    assert out.startswith(f"{booking['id']} noted — ") and "notes:     wants the beard trimmed too" in out, out
    shown = json.loads(slotctl_for(daemon, "note", booking["code"], "", "--json").stdout)
    assert shown["id"] == booking["id"] and "notes" not in shown
    bad = slotctl_for(daemon, "note", booking["id"], "tab\tok but bell\u0007", check=None)
    assert bad.returncode != 0 and "U+0007" in bad.stderr, bad
    help_text = slotctl_for(daemon, "note", "--help").stdout
    assert "Example" in help_text and "slotctl note" in help_text
