"""Reschedule to another staff member or any, over the real socket (issue 14): atomic, never a double booking."""

from __future__ import annotations

import json
import threading

from conftest import Client, assert_problem, future_day, local_iso, same_instant, wall

DAY = future_day(5)


def move(client: Client, booking_id: str, start: str, staff: str | None = None):
    body = {"start": start, **({"staff": staff} if staff is not None else {})}
    return client.post(f"/v1/bookings/{booking_id}/reschedule", json=body)


def rescheduled_events(daemon) -> list[dict]:
    return [json.loads(data) for (data,) in
            daemon.sql("SELECT data FROM events WHERE type = 'booking.rescheduled' ORDER BY cursor")]


def test_move_to_the_other_staff_member_records_both_in_the_event(daemon, client):
    booking = client.book(wall(DAY, "10:00")).json()
    moved = move(client, booking["id"], wall(DAY, "11:00"), "ben")
    assert moved.status == 200, moved
    assert moved.json()["staff"] == "ben"
    assert same_instant(moved.json()["start"], local_iso(DAY, "11:00"))
    assert client.get(f"/v1/bookings/{booking['id']}").json()["staff"] == "ben"
    # anna is free again at 10:00, ben is taken at 11:00
    assert any(same_instant(s["start"], local_iso(DAY, "10:00")) for s in client.slots(DAY, staff="anna"))
    assert not any(same_instant(s["start"], local_iso(DAY, "11:00")) for s in client.slots(DAY, staff="ben"))
    [event] = rescheduled_events(daemon)
    assert (event["from_staff"], event["to_staff"], event["staff"]) == ("anna", "ben", "ben")
    # without `staff` the booking keeps ben
    kept = move(client, booking["id"], wall(DAY, "13:00"))
    assert kept.status == 200 and kept.json()["staff"] == "ben"
    assert rescheduled_events(daemon)[-1]["from_staff"] == rescheduled_events(daemon)[-1]["to_staff"] == "ben"


def test_move_to_any_keeps_the_staff_member_when_free_else_takes_whoever_is(client):
    booking = client.book(wall(DAY, "10:00")).json()
    client.book(wall(DAY, "14:00"), name="Blocker")  # anna is taken at 14:00
    # anna is free at 11:00: "any" keeps her although she would be first anyway
    stays = move(client, booking["id"], wall(DAY, "11:00"), "any")
    assert stays.status == 200 and stays.json()["staff"] == "anna"
    # at 14:00 only ben is free
    switched = move(client, booking["id"], wall(DAY, "14:00"), "any")
    assert switched.status == 200, switched
    assert switched.json()["staff"] == "ben"
    # now ben's: at 15:00 both are free, and "any" keeps ben although anna comes first in declared order
    again = move(client, booking["id"], wall(DAY, "15:00"), "any")
    assert again.status == 200 and again.json()["staff"] == "ben"
    # ben does not work at 09:00: "any" goes back to anna
    early = move(client, booking["id"], wall(DAY, "09:00"), "any")
    assert early.status == 200 and early.json()["staff"] == "anna"


def test_a_taken_unknown_or_unqualified_staff_member_is_refused_and_changes_nothing(daemon, client):
    booking = client.book(wall(DAY, "10:00")).json()
    client.book(wall(DAY, "11:00"), staff="ben", name="Ben's")
    taken = assert_problem(move(client, booking["id"], wall(DAY, "11:00"), "ben"), 409, "slot_unavailable")
    assert taken.get("alternatives"), taken
    unknown = assert_problem(move(client, booking["id"], wall(DAY, "12:00"), "bne"), 422, "validation_failed")
    assert unknown["fields"][0]["field"] == "staff" and "did you mean 'ben'" in unknown["detail"]
    shave = client.book(wall(DAY, "16:00"), service="shave").json()
    unqualified = assert_problem(move(client, shave["id"], wall(DAY, "15:00"), "ben"), 422, "validation_failed")
    assert "ben does not perform 'shave'" in unqualified["detail"]
    # both at 11:00 and 16:00 taken: "any" finds nobody
    client.book(wall(DAY, "11:00"), name="Anna's")
    assert_problem(move(client, booking["id"], wall(DAY, "11:00"), "any"), 409, "slot_unavailable")
    current = client.get(f"/v1/bookings/{booking['id']}").json()
    assert current["staff"] == "anna" and same_instant(current["start"], local_iso(DAY, "10:00"))
    assert rescheduled_events(daemon) == []


def race(daemon, moves: list[tuple[str, str]], start: str) -> list:
    """Moves each booking id to `start` with its staff choice at once, from separate clients."""
    barrier = threading.Barrier(len(moves))
    results: list = [None] * len(moves)

    def run(index: int, booking_id: str, staff: str) -> None:
        client = Client(daemon.socket, timeout=30)
        barrier.wait()
        try:
            results[index] = move(client, booking_id, start, staff)
        except Exception as error:  # noqa: BLE001 — recorded and asserted below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, *pair)) for i, pair in enumerate(moves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_clients_moving_two_bookings_into_one_slot_move_exactly_one(daemon, client):
    first = client.book(wall(DAY, "09:00")).json()
    second = client.book(wall(DAY, "09:30")).json()
    third = client.book(wall(DAY, "17:00")).json()
    # to one named staff member
    results = race(daemon, [(first["id"], "ben"), (second["id"], "ben")], wall(DAY, "14:00"))
    statuses = sorted(getattr(r, "status", repr(r)) for r in results)
    assert statuses == [200, 409], statuses
    # to any, where anna is taken and only ben is free: one of them gets him
    client.book(wall(DAY, "15:00"), name="Blocker")
    loser = next(r for r in results if r.status == 409)
    remaining = first["id"] if loser is results[0] else second["id"]
    results = race(daemon, [(remaining, "any"), (third["id"], "any")], wall(DAY, "15:00"))
    statuses = sorted(getattr(r, "status", repr(r)) for r in results)
    assert statuses == [200, 409], statuses
    for resp in results:
        if resp.status == 409:
            assert_problem(resp, 409, "slot_unavailable")
    rows = daemon.sql("SELECT staff_id, start_at FROM bookings WHERE status IN ('held', 'confirmed')")
    assert len(rows) == len(set(rows)) == 4, rows  # no two active bookings of one staff member at one start
    assert sum(1 for staff, _ in rows if staff == "ben") == 2
