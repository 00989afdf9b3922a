"""Who gets a booking for "any" staff member (`policies.assign`, issue 14), over the real socket of a real slotd.

The test shop has Anna (09:00-18:00) and Ben (10:00-16:00, break 12:00-12:30), both cutting hair.
"""

from __future__ import annotations

from conftest import assert_problem, future_day, local_iso, same_instant, wall

DAY = future_day(4)
STARTS = ["10:00", "11:00", "13:00", "14:00"]


def book_any_four_times(client) -> list[str]:
    """Books a haircut for "any" at each of STARTS; before each, the slot list for "any" offers that start once,
    naming the staff member the booking then gets."""
    assigned = []
    for index, time_of_day in enumerate(STARTS):
        offered = [s for s in client.slots(DAY, staff="any") if same_instant(s["start"], local_iso(DAY, time_of_day))]
        assert len(offered) == 1, offered
        resp = client.book(wall(DAY, time_of_day), staff="any", name=f"Walk {index}")
        assert resp.status == 201, resp
        booking = resp.json()
        assert booking["staff"] == offered[0]["staff"], (booking, offered)
        assigned.append(booking["staff"])
    return assigned


def set_assign(daemon, value: str) -> None:
    shop = daemon.rules / "shop.yaml"
    shop.write_text(shop.read_text().replace("policies:\n", f"policies:\n  assign: {value}\n", 1))


def test_balanced_by_default_spreads_any_bookings_over_both_barbers(daemon, client):
    assert book_any_four_times(client) == ["anna", "ben", "anna", "ben"]
    listed = client.get(f"/v1/bookings?from={DAY}&to={DAY}")
    assert listed.status == 200, listed
    staff = sorted(b["staff"] for b in listed.json()["bookings"])
    assert staff == ["anna", "anna", "ben", "ben"]


def test_in_order_gives_every_any_booking_to_the_first_free_barber(daemons):
    daemon = daemons(start=False)
    set_assign(daemon, "in_order")
    daemon.start()
    assert book_any_four_times(daemon.client) == ["anna", "anna", "anna", "anna"]


def test_a_wrong_assign_value_is_refused_on_reload_with_its_place_and_fix(daemon, client):
    version = client.get("/v1/rules").json()["version"]
    set_assign(daemon, "inorder")
    problem = assert_problem(client.post("/v1/rules/reload"), 422, "rules_invalid")
    texts = [d["text"] for d in problem["diagnostics"]]
    line = daemon.rules.joinpath("shop.yaml").read_text().split("\n").index("  assign: inorder") + 1
    assert f"shop.yaml:{line}:11: error: unknown assign policy 'inorder' — did you mean 'in_order'?" in texts, texts
    assert client.get("/v1/rules").json()["version"] == version
