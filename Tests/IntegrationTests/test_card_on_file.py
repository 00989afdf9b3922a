"""No-show protection (`policies.card_on_file`), end to end: the real slotd, localstripe, signed webhooks (issue 12).

A haircut (no deposit) is held until the customer's card is saved: slotd makes a Stripe Customer and a SetupIntent
(outbox), the customer confirms it (here as the page's Stripe.js would, with the publishable key and the client
secret), localstripe sends `setup_intent.succeeded` through the relay, and the booking is confirmed. A late
cancellation or a no-show then charges the policy's fee (50 % of 28 EUR) off-session, once; a decline is recorded.
The shop here is open around the clock with a 1-minute grid and no notice, so a start inside the cancellation
window (or one that has just passed, for a no-show) exists whenever the suite runs.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import urllib.request

import pytest

from conftest import SHOP_ZONE, start_with_stripe, wait_for
from test_payments import SECRET, Relay, booking, eventually, stripe  # noqa: F401 (the fixture)

FEE = 1400  # 50 % of the haircut's 28 EUR
DECLINING_CARD = "4000000000000341"  # saved fine, every charge declined (Stripe's and localstripe's test card)


@pytest.fixture
def card_shop(daemons, stripe):
    """slotd with card_on_file, Stripe at localstripe, its webhooks through the relay; open 24/7 on a 1-minute grid."""
    daemon = start_with_stripe(daemons, api_base=stripe.base, webhook_secret=SECRET, start=False)
    shop = daemon.rules / "shop.yaml"
    text = shop.read_text()
    text = text.replace("slot_step: 15m", "slot_step: 1m").replace("min_notice: 1h", "min_notice: 0m")
    text = text.replace("hours: Mo-Su 09:00-18:00", "hours: 24/7")
    text = text.replace("policies:\n", "policies:\n  card_on_file: true\n")
    shop.write_text(text)
    daemon.start()
    relay = Relay(daemon.socket)
    stripe.call("POST", "/_config/webhooks/slotd", {"url": relay.url, "secret": SECRET})
    daemon.relay = relay
    yield daemon
    relay.stop()


def start_in(minutes: int) -> str:
    """The shop-local wall time on the 1-minute grid at least `minutes` from now."""
    at = dt.datetime.now(SHOP_ZONE).replace(second=0, microsecond=0) + dt.timedelta(minutes=minutes + 1)
    return at.strftime("%Y-%m-%dT%H:%M")


def book_haircut(client, at: str, name: str = "Ann", email: str = "ann@example.com") -> dict:
    resp = client.post("/v1/bookings", json={"service": "haircut", "staff": "anna", "start": at,
                                             "customer": {"name": name, "email": email}})
    assert resp.status == 201, resp
    return resp.json()


def save_card(stripe, client_secret: str, number: str = "4242424242424242") -> dict:
    """What Stripe.js `confirmCardSetup` sends from the page: publishable key, client secret, the card's fields."""
    setup = client_secret.split("_secret_")[0]
    body = json.dumps({"key": "pk_test_slotd", "client_secret": client_secret,
                       "payment_method_data": {"type": "card", "card": {
                           "number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"}}}).encode()
    request = urllib.request.Request(f"{stripe.base}/v1/setup_intents/{setup}/confirm", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def held_with_saved_card(shop, stripe, at: str, number: str = "4242424242424242", **kw) -> dict:
    held = book_haircut(shop.client, at, **kw)
    assert held["status"] == "held" and held["hold_expires_at"] and "deposit" not in held, held
    assert held["card"] == {"provider": "stripe", "status": "pending"}, held
    pending = eventually(lambda: (b := booking(shop.client, held["id"]))["card"].get("client_secret") and b,
                         what="the SetupIntent to be created")
    assert save_card(stripe, pending["card"]["client_secret"], number)["status"] == "succeeded"
    return eventually(lambda: (b := booking(shop.client, held["id"]))["status"] == "confirmed" and b,
                      what="the setup_intent.succeeded webhook to confirm the booking")


def events_of(client, booking_id: str) -> list[dict]:
    resp = client.get("/v1/events?follow=false")
    assert resp.status == 200, resp
    lines = [json.loads(line) for line in resp.body.splitlines() if line.strip()]
    return [line for line in lines if line.get("data", {}).get("booking") == booking_id]


def fee_charges(stripe, booking_id: str) -> list[dict]:
    return [r for r in stripe.requests() if r["path"] == "/v1/payment_intents"
            and r["form"].get("metadata[booking]") == booking_id]


def fee_jobs(shop, booking_id: str) -> list[tuple]:
    return shop.sql("SELECT id, state, attempts FROM outbox WHERE kind = 'payment.charge_fee' "
                    "AND json_extract(payload, '$.booking') = ?", booking_id)


# MARK: - Tests


def test_the_card_is_saved_and_a_late_cancellation_charges_the_fee_once(card_shop, stripe):
    client = card_shop.client
    confirmed = held_with_saved_card(card_shop, stripe, start_in(120))
    card = confirmed["card"]
    assert card["status"] == "saved" and card["reference"].startswith("seti_") and "client_secret" not in card
    assert not confirmed.get("hold_expires_at")
    kinds = {k for (k,) in card_shop.sql("SELECT kind FROM outbox WHERE booking_id = ?", confirmed["id"])}
    assert "payment.save_card" in kinds and "payment.create_deposit" not in kinds, kinds
    types = [e["type"] for e in events_of(client, confirmed["id"])]
    assert types.index("payment.card_saved") < types.index("booking.confirmed"), types

    # The Customer and the SetupIntent at Stripe, each with its key; the card is attached to the customer.
    calls = {r["path"]: r for r in stripe.requests() if r["path"] in ("/v1/customers", "/v1/setup_intents")}
    setup = calls["/v1/setup_intents"]
    assert setup["idempotency_key"] == f"slotd-setup-{confirmed['id']}" and setup["bearer"]
    assert setup["form"]["usage"] == "off_session" and setup["form"]["metadata[booking]"] == confirmed["id"]
    customer = stripe.call("GET", f"/v1/customers/{setup['form']['customer']}")
    assert customer["email"] == "ann@example.com" and customer["name"] == "Ann"
    intent = stripe.call("GET", f"/v1/setup_intents/{card['reference']}")
    assert intent["status"] == "succeeded" and intent["customer"] == customer["id"]

    # Cancelled two hours ahead, inside the 24 h window: the fee is charged off-session to the saved card.
    resp = client.post(f"/v1/bookings/{confirmed['id']}/cancel", json={"reason": "overslept"})
    assert resp.status == 200 and resp.json()["status"] == "cancelled"
    charged = eventually(lambda: (b := booking(client, confirmed["id"]))["card"].get("fee") and b,
                         what="the fee to be charged")
    fee = charged["card"]["fee"]
    assert fee["status"] == "charged" and fee["amount"]["amount"] == FEE and fee["reference"].startswith("pi_")
    [charge] = fee_charges(stripe, confirmed["id"])
    [(job_id, state, attempts)] = fee_jobs(card_shop, confirmed["id"])
    assert state == "done" and attempts == 1
    form = charge["form"]
    assert charge["idempotency_key"] == f"slotd-fee-{job_id}" and charge["bearer"]
    assert form["off_session"] == "true" and form["confirm"] == "true" and form["amount"] == str(FEE)
    assert form["customer"] == customer["id"] and form["payment_method"] == intent["payment_method"]
    paid = stripe.call("GET", f"/v1/payment_intents/{fee['reference']}")
    assert paid["status"] == "succeeded" and paid["amount"] == FEE
    charged_event = [e for e in events_of(client, confirmed["id"]) if e["type"] == "payment.fee_charged"]
    assert len(charged_event) == 1 and charged_event[0]["data"]["amount"] == FEE

    # The job runs again, as after a crash before it was marked done: nothing more is charged.
    card_shop.stop()
    with sqlite3.connect(card_shop.db) as db:
        db.execute("UPDATE outbox SET state = 'pending', finished_at = NULL, due_at = 0 WHERE id = ?", (job_id,))
    card_shop.start()
    wait_for(lambda: fee_jobs(card_shop, confirmed["id"])[0][1] == "done", timeout=20, what="the rerun job")
    assert len(fee_charges(stripe, confirmed["id"])) == 1, "charged once"
    assert booking(client, confirmed["id"])["card"]["fee"] == fee
    assert "sk_test_slotd_integration" not in card_shop.log()


def test_a_no_show_is_charged_the_fee(card_shop, stripe):
    client = card_shop.client
    at = start_in(0)
    confirmed = held_with_saved_card(card_shop, stripe, at, name="Bo", email="bo@example.com")
    # A no-show can only be recorded once the start has passed (the daemon's clock is real): at most a minute.
    marked = wait_for(lambda: (r := client.post(f"/v1/bookings/{confirmed['id']}/no-show")).status == 200 and r,
                      timeout=90, interval=0.5, what="the start to pass")
    assert marked.json()["status"] == "no_show"
    charged = eventually(lambda: (b := booking(client, confirmed["id"]))["card"].get("fee") and b,
                         what="the no-show fee")
    assert charged["card"]["fee"]["status"] == "charged" and charged["card"]["fee"]["amount"]["amount"] == FEE
    assert len(fee_charges(stripe, confirmed["id"])) == 1


def test_a_declined_fee_is_recorded_on_the_booking_and_not_retried(card_shop, stripe):
    client = card_shop.client
    confirmed = held_with_saved_card(card_shop, stripe, start_in(180), number=DECLINING_CARD, name="Cy",
                                     email="cy@example.com")
    assert client.post(f"/v1/bookings/{confirmed['id']}/cancel").status == 200
    declined = eventually(lambda: (b := booking(client, confirmed["id"]))["card"].get("fee") and b,
                          what="the decline to be recorded")
    fee = declined["card"]["fee"]
    assert fee["status"] == "declined" and fee["amount"]["amount"] == FEE and "declined" in fee["reason"], fee
    [event] = [e for e in events_of(client, confirmed["id"]) if e["type"] == "payment.fee_declined"]
    assert event["data"]["status"] == "declined" and event["data"]["reason"] == fee["reason"]
    [(_, state, attempts)] = fee_jobs(card_shop, confirmed["id"])
    assert state == "done" and attempts == 1, "a decline is an outcome, not a failure to retry"
    assert len(fee_charges(stripe, confirmed["id"])) == 1
