"""Deposits with Stripe, end to end: the real slotd, localstripe on 127.0.0.1, signed webhooks through a relay.

The relay plays the reverse proxy of production: it takes localstripe's webhook POSTs on 127.0.0.1 and forwards
body and headers to slotd's Unix socket (`POST /v1/payments/stripe/webhook`). localstripe does not implement
`Idempotency-Key`, so its helper records every request and the tests check the keys on the wire.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import Client, assert_problem, future_day, start_with_stripe, wait_for, wall

HERE = Path(__file__).resolve().parent
DAY = future_day(4)
SECRET = "whsec_slotd_payments_test"
SK = "sk_test_slotd_integration"


# MARK: - Peers


class LocalStripe:
    """localstripe through `localstripe_server.py`: 127.0.0.1, a free port, its own state file."""

    def __init__(self, directory: Path):
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "localstripe_server.py"), "--state", str(directory / "localstripe.pickle")],
            stdout=subprocess.PIPE, stderr=open(directory / "localstripe.log", "wb"), text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"localstripe did not start: {line!r}")
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"

    def call(self, method: str, path: str, form: dict | None = None) -> dict:
        data = urllib.parse.urlencode(form or {}).encode() if method == "POST" else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {SK}"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")

    def requests(self) -> list[dict]:
        with urllib.request.urlopen(self.base + "/_config/requests", timeout=10) as resp:
            return json.loads(resp.read())

    def pay(self, payment_intent: str) -> dict:
        """What the customer's browser does with the client secret: attach a card and confirm."""
        method = self.call("POST", "/v1/payment_methods", {
            "type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12",
            "card[exp_year]": "2030", "card[cvc]": "123"})
        self.call("POST", f"/v1/payment_intents/{payment_intent}", {"payment_method": method["id"]})
        return self.call("POST", f"/v1/payment_intents/{payment_intent}/confirm")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Relay:
    """A 127.0.0.1 HTTP server forwarding POSTs (body and headers) to slotd's webhook route on its Unix socket."""

    def __init__(self, socket_path: str):
        relay = self
        self.deliveries: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("stripe-signature", "content-type")}
                resp = Client(socket_path).request("POST", "/v1/payments/stripe/webhook", body=body, headers=headers)
                relay.deliveries.append({"body": body, "headers": headers, "status": resp.status,
                                         "answer": resp.body})
                self.send_response(resp.status)
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                self.wfile.write(resp.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stripe(tmp_path):
    peer = LocalStripe(tmp_path)
    yield peer
    peer.stop()


@pytest.fixture
def shop(daemons, stripe):
    """slotd taking deposits at localstripe, whose webhooks reach it through the relay."""
    daemon = start_with_stripe(daemons, api_base=stripe.base, webhook_secret=SECRET)
    relay = Relay(daemon.socket)
    stripe.call("POST", "/_config/webhooks/slotd", {"url": relay.url, "secret": SECRET})
    daemon.relay = relay
    yield daemon
    relay.stop()


# Payments wait on the outbox and on webhooks through a relay: allow more than the default.
eventually = functools.partial(wait_for, timeout=20.0, interval=0.1)


def booking(client: Client, booking_id: str) -> dict:
    resp = client.get(f"/v1/bookings/{booking_id}")
    assert resp.status == 200, resp
    return resp.json()


def signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    t = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), b"%d." % t + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={signature}", "Content-Type": "application/json"}


def succeeded_event(booking_id: str, payment_intent: str = "pi_direct", event_id: str = "evt_direct") -> bytes:
    return json.dumps({
        "id": event_id, "object": "event", "type": "payment_intent.succeeded",
        "data": {"object": {"id": payment_intent, "object": "payment_intent", "status": "succeeded",
                            "amount": 1000, "currency": "eur", "metadata": {"booking": booking_id}}},
    }).encode()


def events_of(client: Client, booking_id: str) -> list[str]:
    resp = client.get("/v1/events?follow=false")
    assert resp.status == 200, resp
    lines = [json.loads(line) for line in resp.body.splitlines() if line.strip()]
    return [line["type"] for line in lines if line.get("data", {}).get("booking") == booking_id]


def book_shave(client: Client, at: str = "10:00", email: str | None = "ann@example.com") -> dict:
    customer = {"name": "Ann"} | ({"email": email} if email else {})
    resp = client.post("/v1/bookings", json={"service": "shave", "staff": "anna", "start": wall(DAY, at),
                                             "customer": customer})
    assert resp.status == 201, resp
    return resp.json()


# MARK: - The full deposit flow


def test_book_pay_confirm_cancel_in_window_refund(shop, stripe):
    client = shop.client
    held = book_shave(client)
    assert held["status"] == "held" and held["hold_expires_at"]
    assert held["payment"]["provider"] == "stripe" and held["payment"]["status"] == "pending"
    assert held["payment"]["amount"]["amount"] == 1000

    # The outbox creates the PaymentIntent; the booking then shows what the front end needs.
    pending = eventually(lambda: (b := booking(client, held["id"]))["payment"].get("client_secret") and b,
                         what="the PaymentIntent to be created")
    intent_id = pending["payment"]["reference"]
    assert intent_id.startswith("pi_") and pending["payment"]["client_secret"].startswith(intent_id + "_secret_")
    intent = stripe.call("GET", f"/v1/payment_intents/{intent_id}")
    assert intent["amount"] == 1000 and intent["currency"] == "eur"
    assert intent["metadata"] == {"booking": held["id"]}

    # The customer pays in the browser; localstripe sends the signed webhook through the relay.
    assert stripe.pay(intent_id)["status"] == "succeeded"
    confirmed = eventually(lambda: (b := booking(client, held["id"]))["status"] == "confirmed" and b,
                           what="the webhook to confirm the booking")
    assert confirmed["payment"]["status"] == "succeeded"
    assert "client_secret" not in confirmed["payment"], "the secret is gone once paid"
    assert not confirmed.get("hold_expires_at")
    assert any(d["status"] == 200 and json.loads(d["answer"])["outcome"] == "applied" for d in shop.relay.deliveries)
    types = events_of(client, held["id"])
    assert types.index("payment.succeeded") < types.index("booking.confirmed"), types

    # Cancelled well inside the free window (days ahead): the deposit goes back.
    resp = client.post(f"/v1/bookings/{held['id']}/cancel", json={"reason": "cannot come"})
    assert resp.status == 200 and resp.json()["status"] == "cancelled"
    refunded = eventually(lambda: (b := booking(client, held["id"]))["payment"]["status"] == "refunded" and b,
                          what="the refund")
    refunds = [r for r in stripe.requests() if r["path"] == "/v1/refunds"]
    assert len(refunds) == 1 and refunds[0]["form"]["payment_intent"] == intent_id
    assert "payment.refunded" in events_of(client, held["id"])
    assert refunded["payment"]["reference"] == intent_id
    charge = stripe.call("GET", f"/v1/payment_intents/{intent_id}")["latest_charge"]
    charge_id = charge["id"] if isinstance(charge, dict) else charge
    assert stripe.call("GET", f"/v1/charges/{charge_id}")["amount_refunded"] == 1000

    # Every call to Stripe carried a key derived from the booking, bearer auth and the form fields.
    calls = [r for r in stripe.requests() if r["path"] in ("/v1/payment_intents", "/v1/refunds")
             or r["path"].endswith("/cancel")]
    by_path = {r["path"]: r for r in calls}
    create = by_path["/v1/payment_intents"]
    assert create["idempotency_key"] == f"slotd-deposit-{held['id']}" and create["bearer"]
    assert create["form"]["amount"] == "1000" and create["form"]["currency"] == "eur"
    assert create["form"]["metadata[booking]"] == held["id"]
    assert create["form"]["receipt_email"] == "ann@example.com" and create["form"]["description"]
    assert by_path["/v1/refunds"]["idempotency_key"] == f"slotd-refund-{held['id']}"
    assert all(r["bearer"] for r in calls)
    assert SK not in shop.log(), "the secret key is never logged"


def test_cancelling_a_hold_before_paying_cancels_the_payment_intent(shop, stripe):
    client = shop.client
    held = book_shave(client, at="11:00", email=None)
    pending = eventually(lambda: (b := booking(client, held["id"]))["payment"].get("reference") and b,
                         what="the PaymentIntent")
    intent_id = pending["payment"]["reference"]
    assert client.post(f"/v1/bookings/{held['id']}/cancel").status == 200
    eventually(lambda: booking(client, held["id"])["payment"]["status"] == "cancelled", what="the cancellation")
    assert stripe.call("GET", f"/v1/payment_intents/{intent_id}")["status"] == "canceled"
    cancel = [r for r in stripe.requests() if r["path"] == f"/v1/payment_intents/{intent_id}/cancel"]
    assert [r["idempotency_key"] for r in cancel] == [f"slotd-cancel-{held['id']}"]
    create = [r for r in stripe.requests() if r["path"] == "/v1/payment_intents"][0]
    assert "receipt_email" not in create["form"]


def test_an_expired_hold_cancels_the_payment_intent(daemons, stripe, tmp_path):
    # A one-minute hold, on the real clock: the timer expires it, the outbox cancels the PaymentIntent.
    fast = start_with_stripe(daemons, api_base=stripe.base, webhook_secret=SECRET, start=False)
    shop_yaml = fast.rules / "shop.yaml"
    shop_yaml.write_text(shop_yaml.read_text().replace("hold: 15m", "hold: 1m"))
    fast.start()
    client = fast.client
    held = book_shave(client, at="12:00")
    intent_id = eventually(lambda: booking(client, held["id"])["payment"].get("reference"), what="the PaymentIntent")
    expired = eventually(lambda: (b := booking(client, held["id"]))["status"] == "expired" and b, timeout=120,
                         what="the hold to expire")
    assert expired["status"] == "expired"
    eventually(lambda: stripe.call("GET", f"/v1/payment_intents/{intent_id}")["status"] == "canceled",
               what="the PaymentIntent to be cancelled")
    eventually(lambda: booking(client, held["id"])["payment"]["status"] == "cancelled", what="the payment record")
    assert "payment.cancelled" in events_of(client, held["id"])


# MARK: - Webhooks that must change nothing


def test_forged_stale_and_malformed_webhooks_are_rejected_and_change_nothing(daemons):
    daemon = start_with_stripe(daemons, webhook_secret=SECRET)
    client = daemon.client
    held = book_shave(client, at="14:00")
    body = succeeded_event(held["id"])
    cases = {
        "forged": signed(body, secret="whsec_someone_else"),
        "stale": signed(body, timestamp=int(time.time()) - 3600),
        "from the future": signed(body, timestamp=int(time.time()) + 3600),
        "no signature": {"Content-Type": "application/json"},
        "garbage header": {"Stripe-Signature": "nonsense"},
    }
    for name, headers in cases.items():
        problem = assert_problem(client.request("POST", "/v1/payments/stripe/webhook", body=body, headers=headers),
                                 400)
        assert "webhook rejected" in problem["detail"], (name, problem)
    # A genuine signature over another body (the amount changed in transit).
    tampered = body.replace(b'"amount": 1000', b'"amount": 1')
    assert_problem(client.request("POST", "/v1/payments/stripe/webhook", body=tampered, headers=signed(body)), 400)

    after = booking(client, held["id"])
    assert after["status"] == "held" and after["payment"]["status"] == "pending"
    assert daemon.sql("SELECT count(*) FROM webhook_events")[0][0] == 0
    assert "payment.succeeded" not in events_of(client, held["id"])


def test_a_replayed_webhook_is_a_no_op(daemons):
    daemon = start_with_stripe(daemons, webhook_secret=SECRET)
    client = daemon.client
    held = book_shave(client, at="15:00")
    body = succeeded_event(held["id"], event_id="evt_once")
    headers = signed(body)
    first = client.request("POST", "/v1/payments/stripe/webhook", body=body, headers=headers)
    assert first.status == 200 and first.json()["outcome"] == "applied", first
    confirmed = booking(client, held["id"])
    assert confirmed["status"] == "confirmed" and confirmed["payment"]["status"] == "succeeded"
    assert confirmed["payment"]["reference"] == "pi_direct"
    count = len(events_of(client, held["id"]))
    cursor = daemon.sql("SELECT max(cursor) FROM events")[0][0]

    again = client.request("POST", "/v1/payments/stripe/webhook", body=body, headers=headers)
    assert again.status == 200 and again.json()["outcome"] == "duplicate", again
    assert daemon.sql("SELECT max(cursor) FROM events")[0][0] == cursor
    assert len(events_of(client, held["id"])) == count
    assert booking(client, held["id"]) == confirmed
    assert daemon.sql("SELECT event_id FROM webhook_events") == [("evt_once",)]


def test_the_webhook_needs_no_role_but_every_other_route_does(daemons):
    # A peer without a role (the reverse proxy's uid) reaches only the webhook; its signature is the check.
    daemon = start_with_stripe(daemons, webhook_secret=SECRET, start=False)
    daemon.config.write_text(daemon.config.read_text().replace(f'"{os.getuid()}": admin', '"65534": admin'))
    with open(daemon.log_path, "ab") as log:
        daemon.proc = subprocess.Popen(daemon.args, stdout=log, stderr=log, cwd=daemon.dir)

    def listening() -> bool:
        try:
            return daemon.client.get("/_ping").status == 200
        except OSError:
            return False

    eventually(listening, what="slotd to listen")
    assert_problem(daemon.client.get("/v1/bookings"), 403, "forbidden")
    body = json.dumps({"id": "evt_norole", "type": "customer.created",
                       "data": {"object": {"object": "customer", "id": "cus_1"}}}).encode()
    resp = daemon.client.request("POST", "/v1/payments/stripe/webhook", body=body, headers=signed(body))
    assert resp.status == 200 and resp.json()["outcome"] == "ignored", resp
    assert_problem(daemon.client.request("POST", "/v1/payments/stripe/webhook", body=body,
                                         headers=signed(body, secret="whsec_wrong")), 400)


def test_with_manual_payments_the_webhook_route_takes_nothing(client):
    body = succeeded_event("bk_none")
    assert_problem(client.request("POST", "/v1/payments/stripe/webhook", body=body, headers=signed(body)), 404)


@pytest.mark.parametrize("change, message", [
    (lambda c: c.replace("stripe.whsec", "missing.whsec"), "cannot read the secret file"),
    (lambda c: c.replace("    timeout: 5s\n", "    timeout: 5s\n    secret_key: sk_live_inline\n"),
     "unknown key 'secret_key'"),
    (lambda c: c.replace("payments: stripe", "payments: strype"), "`payments: strype` names no payment provider"),
])
def test_a_stripe_configuration_mistake_stops_slotd_at_start_with_its_location(daemons, change, message):
    daemon = start_with_stripe(daemons, start=False)
    daemon.config.write_text(change(daemon.config.read_text()))
    out = subprocess.run(daemon.args, capture_output=True, text=True, timeout=30, cwd=daemon.dir)
    assert out.returncode == 78, out
    assert message in out.stderr, out.stderr
    assert "slotd.yaml:" in out.stderr, out.stderr
    assert "sk_test_slotd_integration" not in out.stderr and "sk_live_inline" not in out.stderr, "no secret shown"
