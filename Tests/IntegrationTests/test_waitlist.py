"""The waitlist end to end (issue 14): a real slotd, its outbox and a webhook receiver on 127.0.0.1.

Two customers wait for a taken start; a cancellation frees it; the first in line is offered it (a held booking, and
a signed `waitlist.offered` message with the booking's code), lets the one-minute offer lapse, and the start passes
to the second, who accepts: the start is booked once. Bad joins get a clear 4xx; `slotctl waitlist` does the same
over the socket.
"""

from __future__ import annotations

import json

import pytest

from conftest import future_day, wait_for, wall
from test_outbox import SECRET, Receiver

DAY = future_day(4)


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    try:
        r.stop()
    except Exception:
        pass


@pytest.fixture
def shop(daemons, receiver):
    d = daemons(start=False)
    shop_yaml = d.rules / "shop.yaml"
    # A one-minute offer, on the real clock: the shortest `offer_hold` the rule language takes.
    policies = "  hold: 15m\n  waitlist:\n    offer_hold: 1m\n"
    shop_yaml.write_text(shop_yaml.read_text().replace("  hold: 15m\n", policies))
    secret_file = d.dir / "hook.whsec"
    secret_file.write_text(SECRET + "\n")
    d.config = d.dir / "slotd.yaml"
    d.config.write_text(f"""
providers:
  hook:
    type: webhook
    url: {receiver.url}
    secret_file: {secret_file}
outbox:
  workers: 2
  initial_backoff: 1s
  max_backoff: 2s
notifications:
  language: en
  routes:
    - on: [waitlist.offered]
      to: [hook]
""")
    return d.start()


def join(client, name: str, **fields):
    body = {"service": "haircut", "staff": "anna", "from": DAY, "after": "10:00", "before": "10:15",
            "customer": {"name": name, "email": f"{name.lower()}@example.com"}, **fields}
    return client.post("/v1/waitlist", json=body)


def next_event(stream, wanted: str, entry: str | None = None) -> dict:
    """The next event of type `wanted` (about `entry`), skipping others."""
    while True:
        event = stream.next_json()
        if event["type"] == wanted and (entry is None or event["data"].get("entry") == entry):
            return event


def test_a_freed_start_goes_to_the_first_in_line_then_to_the_next_when_the_offer_lapses(shop, receiver):
    client = shop.client
    taken = client.book(wall(DAY, "10:00"), staff="anna", name="Zoe")
    assert taken.status == 201, taken
    first = join(client, "Ada")
    second = join(client, "Bo")
    assert first.status == 201 and second.status == 201, (first, second)
    ada, bo = first.json(), second.json()
    assert ada["status"] == bo["status"] == "waiting"
    assert ada["position"] < bo["position"]

    with client.stream("/v1/events?follow=true&since=0", timeout=120) as stream:
        assert next_event(stream, "waitlist.joined", ada["id"])
        cancelled = client.post(f"/v1/bookings/{taken.json()['id']}/cancel", json={"reason": "ill"})
        assert cancelled.status == 200, cancelled

        offered = next_event(stream, "waitlist.offered")
        assert offered["data"]["entry"] == ada["id"], "the first in line gets the freed start"
        held_id = offered["data"]["booking"]
        held = client.get(f"/v1/bookings/{held_id}").json()
        assert held["status"] == "held" and held["start"].startswith(f"{DAY}T10:00")
        entry = client.get(f"/v1/waitlist/{ada['id']}").json()
        assert entry["status"] == "offered" and entry["offer"]["booking"] == held_id
        # The offer reaches the customer through the notification provider, with the code to quote.
        message = wait_for(
            lambda: next((d["body"] for d in receiver.deliveries if d["body"].get("type") == "waitlist.offered"),
                         None), timeout=20, what="the offer's message")
        text = json.dumps(message)
        assert "ada@example.com" in text and held["code"] in text, message
        # Nobody else is offered the start meanwhile.
        assert client.get(f"/v1/waitlist/{bo['id']}").json()["status"] == "waiting"

        lapsed = next_event(stream, "waitlist.offer_expired", ada["id"])
        assert lapsed["data"]["booking"] == held_id
        passed = next_event(stream, "waitlist.offered", bo["id"])
    second_held = passed["data"]["booking"]
    assert second_held != held_id

    accepted = client.post(f"/v1/waitlist/{bo['id']}/accept")
    assert accepted.status == 200, accepted
    assert accepted.json()["status"] == "booked"
    assert client.get(f"/v1/bookings/{second_held}").json()["status"] == "confirmed"
    assert client.get(f"/v1/waitlist/{ada['id']}").json()["status"] == "expired"
    active = [b for b in client.get(f"/v1/bookings?from={DAY}&to={DAY}&staff=anna&status=held,confirmed")
              .json()["bookings"] if b["start"].startswith(f"{DAY}T10:00")]
    assert [b["id"] for b in active] == [second_held], "the start is booked exactly once"
    # An answered offer cannot be answered again.
    again = client.post(f"/v1/waitlist/{bo['id']}/decline")
    assert again.status == 409 and again.json()["code"] == "invalid_transition", again


def test_declining_passes_the_start_on_and_leaving_takes_a_customer_out_of_line(shop):
    client = shop.client
    taken = client.book(wall(DAY, "10:00"), staff="anna", name="Zoe").json()
    ada, bo, cy = (join(client, name).json() for name in ("Ada", "Bo", "Cy"))
    left = client.request("DELETE", f"/v1/waitlist/{bo['id']}")
    assert left.status == 200 and left.json()["status"] == "left", left
    client.post(f"/v1/bookings/{taken['id']}/cancel", json={})
    wait_for(lambda: client.get(f"/v1/waitlist/{ada['id']}").json()["status"] == "offered", timeout=20,
             what="Ada's offer")
    declined = client.post(f"/v1/waitlist/{ada['id']}/decline")
    assert declined.status == 200 and declined.json()["status"] == "left", declined
    # Bo left, so Cy is next.
    wait_for(lambda: client.get(f"/v1/waitlist/{cy['id']}").json()["status"] == "offered", timeout=20,
             what="Cy's offer")
    listed = client.get("/v1/waitlist?status=offered").json()["entries"]
    assert [e["id"] for e in listed] == [cy["id"]]


@pytest.mark.parametrize("fields, status, code, field", [
    ({"service": "perm"}, 422, "validation_failed", "service"),
    ({"staff": "zed"}, 422, "validation_failed", "staff"),
    ({"from": "2020-01-01", "to": None}, 422, "validation_failed", "from"),
    ({"from": DAY, "to": "2020-01-01"}, 422, "validation_failed", "to"),
    ({"after": "25:00"}, 422, "validation_failed", "after"),
    ({"customer": {"name": "Ada"}}, 422, "validation_failed", "customer"),
])
def test_a_bad_join_names_what_is_wrong(daemon, fields, status, code, field):
    body = {k: v for k, v in fields.items() if v is not None}
    resp = join(daemon.client, "Ada", **body)
    assert resp.status == status, resp
    problem = resp.json()
    assert problem["code"] == code
    assert field in [f["field"] for f in problem.get("fields", [])], problem


def test_a_customer_waits_once_for_the_same_thing(daemon):
    client = daemon.client
    first = join(client, "Ada")
    assert first.status == 201, first
    twice = join(client, "Ada")
    assert twice.status == 409, twice
    assert twice.json()["code"] == "already_waiting"
    assert first.json()["id"] in twice.json()["detail"]
    assert client.get("/v1/waitlist/wl_nothing").status == 404


def test_slotctl_waitlist_adds_lists_and_removes(daemon, slotctl_for):
    added = slotctl_for(daemon, "waitlist", "add", "--service", "haircut", "--from", DAY, "--after", "16:00",
                        "--name", "Ada K.", "--phone", "0151 2345678", "--json")
    entry = json.loads(added.stdout)
    assert entry["status"] == "waiting" and entry["customer"]["phone"] == "+491512345678"
    table = slotctl_for(daemon, "waitlist").stdout
    assert entry["id"] in table and "Ada K." in table and "16:00-24:00" in table
    # 16:00 is free that day, so the join is offered it at once (the join's own match job).
    wait_for(lambda: json.loads(slotctl_for(daemon, "waitlist", "--status", "offered", "--json").stdout)["entries"],
             timeout=20, what="the offer of a free start")
    assert json.loads(slotctl_for(daemon, "waitlist", "--status", "waiting", "--json").stdout)["entries"] == []
    removed = slotctl_for(daemon, "waitlist", "remove", entry["id"])
    assert "left the waitlist" in removed.stdout
    twice = slotctl_for(daemon, "waitlist", "remove", entry["id"], check=None)
    assert twice.returncode != 0 and "cannot leave" in twice.stderr
    missing = slotctl_for(daemon, "waitlist", "add", "--service", "haircut", "--from", DAY, "--name", "X", check=None)
    assert missing.returncode != 0 and "--email or --phone" in missing.stderr
