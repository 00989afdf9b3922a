"""Races, live streams and crashes: no double booking, no lost booking, no missed event."""

from __future__ import annotations

import json
import socket
import threading
import time

from conftest import Client, assert_problem, future_day, local_iso, same_instant, wait_for, wall

DAY = future_day(4)


def test_fifty_clients_race_for_one_slot_and_exactly_one_wins(daemon):
    start = wall(DAY, "10:00")
    barrier = threading.Barrier(50)
    results: list = [None] * 50

    def book(index: int) -> None:
        client = Client(daemon.socket, timeout=30)
        barrier.wait()
        try:
            results[index] = client.book(start, name=f"Racer {index}")
        except Exception as error:  # noqa: BLE001 — recorded and asserted below
            results[index] = error

    threads = [threading.Thread(target=book, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(getattr(r, "status", repr(r)) for r in results)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 49, statuses
    for resp in results:
        if resp.status == 409:
            assert_problem(resp, 409, "slot_unavailable")
    rows = daemon.sql("SELECT id, status FROM bookings WHERE status IN ('held', 'confirmed')")
    assert len(rows) == 1, rows
    assert daemon.booking_count() == 1
    assert daemon.client.get("/v1/health").status == 200


def test_acknowledged_bookings_survive_kill_9(daemon):
    acknowledged = []
    for index, time_of_day in enumerate(["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30"]):
        resp = daemon.client.book(wall(DAY, time_of_day), name=f"Crash {index}")
        assert resp.status == 201, resp
        acknowledged.append(resp.json()["id"])
    # keep writing while the kill lands: a booking acknowledged with 201 before the kill must survive it; one
    # that was not may be missing, but nothing may be half-written
    stop = threading.Event()
    in_flight_acknowledged: list[str] = []

    def writer() -> None:
        client = Client(daemon.socket, timeout=5)
        for offset in range(10, 80):
            day = future_day(offset)
            for time_of_day in ("10:00", "10:30", "11:00", "11:30", "13:00", "13:30", "14:00", "14:30"):
                if stop.is_set():
                    return
                try:
                    resp = client.book(wall(day, time_of_day), staff="ben", name="in flight")
                except OSError:
                    return
                if resp.status == 201:
                    in_flight_acknowledged.append(resp.json()["id"])

    background = threading.Thread(target=writer)
    background.start()
    wait_for(lambda: len(in_flight_acknowledged) >= 3, what="the background writer's first bookings")
    daemon.kill()
    stop.set()
    background.join(10)
    acknowledged += in_flight_acknowledged
    assert in_flight_acknowledged, "the background writer got no booking in before the kill"

    assert daemon.sql("PRAGMA integrity_check") == [("ok",)]
    daemon.start()
    for booking_id in acknowledged:
        resp = daemon.client.get(f"/v1/bookings/{booking_id}")
        assert resp.status == 200, (booking_id, resp)
        assert resp.json()["status"] == "confirmed"
    assert daemon.sql("PRAGMA integrity_check") == [("ok",)]
    assert daemon.sql("PRAGMA foreign_key_check") == []
    # every booking row has its creation event, and no event names a booking that is not there
    rows = {row[0] for row in daemon.sql("SELECT id FROM bookings")}
    created = {row[0] for row in daemon.sql(
        "SELECT json_extract(data, '$.booking') FROM events WHERE type = 'booking.created'")}
    assert rows == created, (rows ^ created)
    # the daemon keeps booking after the restart
    assert daemon.client.book(wall(DAY, "16:00")).status == 201


def test_sigterm_finishes_cleanly_and_restart_keeps_bookings(daemon):
    booking = daemon.client.book(wall(DAY, "10:00")).json()
    daemon.restart()  # asserts exit status 0
    assert daemon.client.get(f"/v1/bookings/{booking['id']}").json()["status"] == "confirmed"


def test_reconnecting_event_consumer_misses_no_event(daemon):
    client = daemon.client
    first = [client.book(wall(DAY, t), name="A").json()["id"] for t in ("09:00", "09:30", "10:00")]
    seen: list[dict] = []
    with client.stream("/v1/events") as stream:
        assert stream.status == 200
        while len([e for e in seen if e["type"] == "booking.created"]) < 3:
            seen.append(stream.next_json())
    cursor = seen[-1]["cursor"]
    # while disconnected: more bookings and a cancellation
    later = [client.book(wall(DAY, t), name="B").json()["id"] for t in ("11:00", "11:30")]
    client.post(f"/v1/bookings/{first[0]}/cancel")
    resumed: list[dict] = []
    with client.stream(f"/v1/events?since={cursor}") as stream:
        while len(resumed) < 3:
            resumed.append(stream.next_json())
        # and it stays live: a booking made now arrives on the same stream
        live = client.book(wall(DAY, "12:30"), name="C").json()["id"]
        event = stream.next_json()
    created = [e["data"].get("booking") for e in seen + resumed if e["type"] == "booking.created"]
    assert created == first + later
    assert resumed[-1]["type"] == "booking.cancelled"
    assert all(e["cursor"] > cursor for e in resumed)
    cursors = [e["cursor"] for e in seen + resumed + [event]]
    assert cursors == sorted(set(cursors)), cursors
    assert event["type"] == "booking.created" and event["data"].get("booking") == live


def test_a_slot_watch_sees_a_booking_made_by_another_client(daemon):
    target = local_iso(DAY, "10:00")
    with daemon.client.stream(f"/v1/slots?service=haircut&staff=anna&from={DAY}&to={DAY}&watch=true") as watch:
        assert watch.status == 200
        initial = watch.next_json()
        assert any(same_instant(s["start"], target) for s in initial["slots"])
        other = Client(daemon.socket)
        assert other.book(wall(DAY, "10:00")).status == 201
        changed = watch.next_json()
        assert not any(same_instant(s["start"], target) for s in changed["slots"])
        assert len(changed["slots"]) < len(initial["slots"])
        # a cancellation gives the start back
        booking = other.get(f"/v1/bookings?from={DAY}&to={DAY}").json()["bookings"][0]
        other.post(f"/v1/bookings/{booking['id']}/cancel")
        again = watch.next_json()
        assert any(same_instant(s["start"], target) for s in again["slots"])


def test_sigterm_with_open_streams_still_exits_0_promptly(daemon):
    events = daemon.client.stream("/v1/events")
    watch = daemon.client.stream(f"/v1/slots?service=haircut&from={DAY}&watch=true")
    try:
        assert watch.next_json()["slots"]
        daemon.client.book(wall(DAY, "10:00"))
        assert events.next_json()["type"] == "booking.created"
        started = time.monotonic()
        daemon.stop_checked()  # exit status 0
        assert time.monotonic() - started < 10
    finally:
        events.close()
        watch.close()


def test_a_subscriber_that_does_not_read_is_cut_off_and_loses_nothing_on_resume(daemons):
    """A stalled event consumer must not slow bookings; it gets an `overflow` line, and resuming from the cursor
    it last saw yields every event after it."""
    # The churn below takes over 30 s on a loaded machine: the stall limit must not cut the stream before its
    # buffer overflows (the stall limit has tests of its own).
    daemon = daemons(config="server:\n  stream_stall_limit: 10m\n")
    stalled = daemon.client.stream("/v1/events", timeout=60)
    stalled.conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    cycles_per_thread = 330  # book + cancel = 2 events each: ~2,600 events, past the 1,024-line buffer and the
    # kernel's socket buffers
    failures: list = []

    def churn(staff: str, time_of_day: str) -> None:
        client = Client(daemon.socket, timeout=30)
        for _ in range(cycles_per_thread):
            resp = client.book(wall(DAY, time_of_day), staff=staff)
            if resp.status != 201:
                failures.append(resp)
                return
            if client.post(f"/v1/bookings/{resp.json()['id']}/cancel").status != 200:
                failures.append("cancel")
                return

    threads = [threading.Thread(target=churn, args=args)
               for args in (("anna", "09:00"), ("anna", "11:00"), ("ben", "10:00"), ("ben", "14:00"))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    elapsed = time.monotonic() - started
    assert not failures, failures[:3]
    total = daemon.sql("SELECT max(cursor) FROM events")[0][0]
    assert total >= 8 * cycles_per_thread
    # the daemon still answers at once
    assert Client(daemon.socket, timeout=5).get("/v1/health").status == 200

    seen: list[int] = []
    overflow = None
    try:
        while True:
            line = stalled.next_json(skip_control=False)
            if line["type"] == "overflow":
                overflow = line
                break
            if line["type"] != "heartbeat":
                seen.append(line["cursor"])
    except EOFError:
        pass
    finally:
        stalled.close()
    assert overflow is not None, f"no overflow line after {len(seen)} events (of {total}) in {elapsed:.1f}s"
    assert seen == list(range(1, len(seen) + 1))
    assert overflow["cursor"] == (seen[-1] if seen else 0)
    rest = daemon.client.get(f"/v1/events?follow=false&since={overflow['cursor']}").text.splitlines()
    resumed = [json.loads(line)["cursor"] for line in rest if line.strip()]
    assert seen + resumed == list(range(1, total + 1))
