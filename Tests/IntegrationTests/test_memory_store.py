"""`slotd --db :memory:`: the real daemon on the in-memory store, for tests and demos.

The same API as on SQLite: bookings, listings, the event stream, idempotency; no file is written, a backup is
refused as unavailable, and nothing survives a restart.

    SLOTCTL=$PWD/.build/debug/slotctl python3 -m pytest -q Tests/IntegrationTests/test_memory_store.py
"""

from __future__ import annotations

from conftest import assert_problem, future_day, wall

DAY = future_day(3)


def test_memory_daemon_books_lists_and_streams_an_event(daemons):
    # A later --db wins over the fixture's file.
    daemon = daemons(extra_args=["--db", ":memory:"])
    client = daemon.client
    assert "10:00" in [slot["start"][11:16] for slot in client.slots(DAY)]
    with client.stream("/v1/events") as stream:
        assert stream.status == 200
        created = client.book(wall(DAY, "10:00"), headers={"Idempotency-Key": "memory-1"})
        assert created.status == 201, created
        booking = created.json()
        event = stream.next_json()
    assert event["type"] == "booking.created" and event["data"]["booking"] == booking["id"]
    assert event["cursor"] >= 1

    listed = client.get(f"/v1/bookings?from={DAY}&to={DAY}").json()["bookings"]
    assert [b["id"] for b in listed] == [booking["id"]]
    again = client.book(wall(DAY, "10:00"), headers={"Idempotency-Key": "memory-1"})
    assert again.status == 201 and again.json()["id"] == booking["id"], "the key replays the first answer"
    assert_problem(client.book(wall(DAY, "10:00"), name="Other"), 409, "slot_unavailable")
    assert "10:00" not in [slot["start"][11:16] for slot in client.slots(DAY)]

    assert_problem(client.get("/v1/backup"), 503, "unavailable")
    assert not daemon.db.exists(), "no database file for :memory:"

    daemon.restart()
    assert client.get(f"/v1/bookings?from={DAY}&to={DAY}").json()["bookings"] == [], "nothing survives a restart"
