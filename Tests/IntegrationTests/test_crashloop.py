"""Crash loops in their short mode (RELIABILITY.md; the long mode is `scripts/crashloop --cycles 100`), and proof
that each of the crash loop's checks fails on a database that breaks it."""

from __future__ import annotations

import json
import random
import sqlite3

import pytest

from reliability import crashloop


def test_crash_loop_keeps_every_acknowledged_operation(slotd_binary, daemons):
    figures = crashloop.run_crash_loop(slotd_binary, daemons.new_dir(), cycles=5, seed=random.randrange(1 << 32))
    print(figures.summary())
    assert figures.cycles == 5
    assert figures.acknowledged_operations > 0 and figures.booking_states_checked > 0
    assert figures.events_checked > 0 and figures.outbox_jobs_checked > 0


def store(bookings: list[tuple], events: list[tuple] = (), outbox: list[tuple] = ()) -> sqlite3.Connection:
    """A database with the columns the checks read, for proving each check can fail."""
    conn = sqlite3.connect(":memory:")
    conn.executescript("""
        CREATE TABLE bookings (id TEXT, status TEXT, staff_id TEXT, start_at INTEGER, end_at INTEGER,
            segments TEXT, buffer_before_min INTEGER, buffer_after_min INTEGER, resources TEXT);
        CREATE TABLE events (cursor INTEGER, type TEXT, data TEXT);
        CREATE TABLE outbox (id INTEGER, kind TEXT, state TEXT, payload TEXT);
    """)
    conn.executemany("INSERT INTO bookings VALUES (?, 'confirmed', ?, ?, ?, ?, 0, ?, ?)", bookings)
    conn.executemany("INSERT INTO events VALUES (?, ?, ?)", events)
    conn.executemany("INSERT INTO outbox VALUES (?, ?, ?, ?)", outbox)
    return conn


HAIRCUT = json.dumps([{"kind": "active", "minutes": 30}])
COLOUR = json.dumps([{"kind": "active", "minutes": 20}, {"kind": "processing", "minutes": 30},
                     {"kind": "active", "minutes": 15}])
CHAIR = json.dumps([{"resource": "chair", "count": 1}])
ELEVEN = 1_796_637_600  # 2026-12-07 11:00 in the shop


@pytest.fixture
def constraints():
    return crashloop.ShopConstraints.load(crashloop.RULES)


@pytest.mark.parametrize("bookings, problem", [
    ([("a", "anna", ELEVEN, ELEVEN + 1800, HAIRCUT, 0, "[]"), ("b", "anna", ELEVEN + 1200, ELEVEN + 3000, HAIRCUT, 0, "[]")],
     "overlap"),
    # the buffer after a haircut is busy time too
    ([("a", "cara", ELEVEN, ELEVEN + 1800, HAIRCUT, 5, "[]"), ("b", "cara", ELEVEN + 1800, ELEVEN + 3600, HAIRCUT, 0, "[]")],
     "overlap"),
    ([(f"b{n}", staff, ELEVEN, ELEVEN + 1800, HAIRCUT, 0, CHAIR) for n, staff in enumerate(["anna", "ben", "cara"])],
     "resource chair"),
    ([(f"b{n}", "anna", ELEVEN + n * 1800 - 4 * 3600, ELEVEN + n * 1800 - 3 * 3600 - 1800, HAIRCUT, 0, "[]")
      for n in range(7)], "bookings, limit 6"),
    ([(f"b{n}", "ben", ELEVEN + n * 1800 - 4 * 3600, ELEVEN + n * 1800 - 3 * 3600 - 1800, HAIRCUT, 0, "[]")
      for n in range(7)], "minutes booked, limit 180"),
])
def test_crash_loop_checks_catch_a_broken_calendar(constraints, bookings, problem):
    with pytest.raises(crashloop.CheckFailed, match=problem):
        crashloop.check_no_overlap(store(bookings), constraints)


def test_crash_loop_checks_allow_work_during_processing_time(constraints):
    colour = ("a", "anna", ELEVEN, ELEVEN + 3900, COLOUR, 0, "[]")
    haircut_while_processing = ("b", "anna", ELEVEN + 1200, ELEVEN + 3000, HAIRCUT, 0, "[]")
    crashloop.check_no_overlap(store([colour, haircut_while_processing]), constraints)


def test_crash_loop_checks_catch_event_gaps_and_doubled_jobs():
    figures = crashloop.Figures()
    created = json.dumps({"booking": "bk_1"})
    with pytest.raises(crashloop.CheckFailed, match="gaps"):
        crashloop.check_events(store([], events=[(1, "booking.created", created), (3, "booking.cancelled", created)]),
                               [], figures)
    with pytest.raises(crashloop.CheckFailed, match="sent live"):
        crashloop.check_events(store([], events=[(1, "booking.created", created)]),
                               [{"cursor": 1, "type": "booking.cancelled", "data": {"booking": "bk_1"}}], figures)
    notify = (1, "notify.booking_created", "done", created)
    send = json.dumps({"message_id": "slotd-1-log"})
    with pytest.raises(crashloop.CheckFailed, match="deliveries doubled"):
        crashloop.check_outbox(store([], [(1, "booking.created", created)],
                                     [notify, (2, "notify.send.log", "done", send),
                                      (3, "notify.send.log", "pending", send)]), figures)
    with pytest.raises(crashloop.CheckFailed, match="2 events but notify jobs"):
        crashloop.check_outbox(store([], [(1, "booking.created", created), (2, "booking.created", created)],
                                     [notify, (2, "notify.send.log", "done", send)]), figures)
    with pytest.raises(crashloop.CheckFailed, match="neither done nor pending"):
        crashloop.check_outbox(store([], outbox=[(1, "sweep.end_of_day", "failed", "{}")]), figures)
