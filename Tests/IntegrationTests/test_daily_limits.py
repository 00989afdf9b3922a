"""A staff member's daily limit holds through the store's own check, over the real socket of a real slotd, on SQLite
and on PostgreSQL, one request at a time and under racing requests.

The check inside the booking's transaction reads the whole local day only for a staff member with a daily limit;
anyone else's reads only what overlaps the booking (BookingService.placement). These tests give Ben
`limits: {max_bookings: 2}`: Anna, without one, must still be refused overlaps and nothing else.
"""

from __future__ import annotations

import threading

import pytest

from conftest import Client, assert_problem, future_day, wall
from postgres_cluster import fresh_database

DAY = future_day(6)
# Ben works 10:00-16:00 with a break at 12:00-12:30: six starts that do not overlap.
BEN_STARTS = ["10:00", "10:30", "11:00", "11:30", "13:00", "13:30"]


def limited_daemon(daemons, store: str):
    daemon = daemons(start=False)
    staff = daemon.rules / "staff.yaml"
    text = staff.read_text()
    marker = "    services: [haircut, beard_trim]\n"
    assert text.count(marker) == 1, text
    staff.write_text(text.replace(marker, marker + "    limits: {max_bookings: 2}\n"))
    if store == "postgres":
        daemon.db = fresh_database()
    return daemon.start()


def daily_limit_reasons(resp) -> list[str]:
    problem = assert_problem(resp, (409, 422))
    return [reason["code"] for reason in problem.get("reasons", [])]


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_the_third_booking_of_a_limited_day_is_refused_and_an_unlimited_barber_is_not(daemons, store):
    daemon = limited_daemon(daemons, store)
    client = daemon.client
    for time_of_day in BEN_STARTS[:2]:
        resp = client.book(wall(DAY, time_of_day), staff="ben", name=f"Ben {time_of_day}")
        assert resp.status == 201, resp
    refused = client.book(wall(DAY, BEN_STARTS[4]), staff="ben", name="One too many")
    assert "daily_limit_reached" in daily_limit_reasons(refused), refused
    # Another day starts afresh.
    assert client.book(wall(future_day(7), "10:00"), staff="ben", name="Next day").status == 201
    # Anna has no limit: six bookings that day, and an overlap is still refused.
    for time_of_day in BEN_STARTS:
        resp = client.book(wall(DAY, time_of_day), staff="anna", name=f"Anna {time_of_day}")
        assert resp.status == 201, resp
    overlap = client.book(wall(DAY, "10:15"), staff="anna", name="Overlap")
    assert_problem(overlap, 409, "slot_unavailable")
    listed = client.get(f"/v1/bookings?from={DAY}&to={DAY}").json()["bookings"]
    assert sorted(b["staff"] for b in listed) == ["anna"] * 6 + ["ben"] * 2


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_racing_bookings_of_a_limited_day_book_exactly_the_limit(daemons, store):
    daemon = limited_daemon(daemons, store)
    barrier = threading.Barrier(len(BEN_STARTS))
    results: list = [None] * len(BEN_STARTS)

    def book(index: int) -> None:
        client = Client(daemon.socket, timeout=60)
        barrier.wait()
        results[index] = client.book(wall(DAY, BEN_STARTS[index]), staff="ben", name=f"Racer {index}")

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(BEN_STARTS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    statuses = sorted(resp.status for resp in results)
    assert statuses.count(201) == 2, statuses
    for resp in results:
        if resp.status != 201:
            assert "daily_limit_reached" in daily_limit_reasons(resp), resp
    listed = daemon.client.get(f"/v1/bookings?from={DAY}&to={DAY}").json()["bookings"]
    assert len(listed) == 2, listed
