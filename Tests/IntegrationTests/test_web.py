"""The public web listener (`web:` in slotd.yaml, issue 12): the booking page's server side, end to end.

Every answer on the TCP listener is checked against openapi-public.yaml (`PUBLIC_CONTRACT`), as the socket's are
against openapi.yaml. Runs the real slotd on a temporary socket, database and a free loopback port.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json as jsonlib
import os
import re
import socket
import stat
import time
import uuid
from pathlib import Path

import pytest

from conftest import Client, Response, assert_problem, future_day, local_iso, wait_for, wall
from openapi_contract import CONTRACT, PUBLIC_CONTRACT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WebClient(Client):
    """HTTP over TCP to the public listener; every answer is checked against openapi-public.yaml."""

    contract = PUBLIC_CONTRACT

    def __init__(self, port: int):
        super().__init__(socket_path="", timeout=10.0)
        self.port = port

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def book(self, start: str, key: str | None = None, consent=True, service: str = "haircut",
             staff: str = "anna", phone: str | None = "0151 1234 5678", **extra) -> Response:
        payload = {"service": service, "staff": staff, "start": start,
                   "customer": {"name": "Web Customer", "email": "web@example.com",
                                **({"phone": phone} if phone is not None else {})}, **extra}
        if consent is not None:
            payload["consent"] = consent
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        if key == "":
            headers = {}
        return self.post("/public/v1/bookings", json=payload, headers=headers)

    def sse(self, path: str, timeout: float = 10.0) -> "EventStream":
        return EventStream(self.port, path, timeout)


class EventStream:
    """A Server-Sent Events answer read event by event (comments skipped); `last_id` is the last `id` field seen."""

    def __init__(self, port: int, path: str, timeout: float, headers: dict[str, str] | None = None):
        self.last_id: str | None = None
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream", **(headers or {})})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}

    def next_event(self) -> tuple[str, object]:
        name, data = None, []
        while True:
            line = self.resp.readline()
            if not line:
                raise EOFError("stream ended")
            line = line.decode().rstrip("\n")
            if line.startswith(":"):
                continue
            if line == "":
                if name is not None or data:
                    return name or "message", jsonlib.loads("\n".join(data))
                continue
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                self.last_id = value

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def web_config(port: int, limits: str = "", extra: str = "") -> str:
    return (
        f'roles:\n  "{os.getuid()}": admin\n'
        "web:\n"
        f"  listen: 127.0.0.1:{port}\n"
        "  public_url: https://shop.example/\n"
        "  secret_file: secret/web.secret\n"
        "  trusted_proxies: [127.0.0.2]\n"
        "  title: Salon Test\n"
        "  locale: en\n"
        "  legal: { imprint: https://shop.example/imprint, privacy: https://shop.example/privacy }\n"
        + (f"  limits: {{ {limits} }}\n" if limits else "")
        + extra
    )


def start_web(daemons, limits: str = "", extra: str = ""):
    port = free_port()
    daemon = daemons(config=web_config(port, limits, extra))
    web = WebClient(port)

    def listening():
        try:
            return web.get("/public/v1/shop", check=False).status == 200
        except OSError:
            return False

    wait_for(listening, timeout=15, what="the web listener")
    return daemon, web


@pytest.fixture
def site(daemons):
    return start_web(daemons)


# MARK: - The listener and its configuration


def test_the_secret_is_created_0600_with_32_bytes_and_kept_across_restarts(site):
    daemon, web = site
    secret = daemon.dir / "secret" / "web.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    key = secret.read_bytes()
    assert len(key) == 32
    token = web.book(wall(future_day(3), "10:00")).json()["token"]
    daemon.restart()
    wait_for(lambda: _listening(web), timeout=15, what="the web listener after restart")
    assert secret.read_bytes() == key
    assert web.get(f"/public/v1/bookings/{token}").status == 200


def _listening(web: WebClient) -> bool:
    try:
        return web.get("/public/v1/shop", check=False).status == 200
    except OSError:
        return False


def test_every_socket_route_is_404_on_the_web_listener(site):
    _, web = site
    operations = sorted(CONTRACT.operations)
    assert len(operations) > 20
    for operation in operations:
        method, template = operation.split(" ", 1)
        path = re.sub(r"\{[^}]+\}", "1", template)
        resp = web.request(method, path, json={} if method == "POST" else None)
        assert resp.status == 404, (operation, resp)
        assert resp.content_type == "application/problem+json"
        assert "/v1/openapi" not in resp.text
    assert web.get("/_ping").status == 404


def test_the_shop_services_staff_and_slots(site):
    _, web = site
    shop = web.get("/public/v1/shop").json()
    assert shop["title"] == "Salon Test" and shop["locale"] == "en" and shop["country"] == "DE"
    assert shop["time_zone"] == "Europe/Berlin" and shop["currency"] == "EUR"
    assert shop["policies"]["cancellation_window_minutes"] == 24 * 60
    assert shop["policies"]["cancellation_fee_percent"] == 50 and shop["stripe"] is None
    assert shop["legal"]["imprint"] == "https://shop.example/imprint"
    assert {s["id"] for s in web.get("/public/v1/services").json()["services"]} >= {"haircut", "shave"}
    assert {s["id"] for s in web.get("/public/v1/staff").json()["staff"]} == {"anna", "ben"}
    day = future_day(3)
    slots = web.get(f"/public/v1/slots?service=haircut&staff=anna&from={day}").json()["slots"]
    assert slots and slots[0]["start"].startswith(day)
    assert_problem(web.get("/public/v1/slots?service=haircut"), 400, "bad_request")


def test_days_of_a_month_mark_free_days(site):
    daemon, web = site
    today = dt.date.fromisoformat(future_day(0))
    month = today.strftime("%Y-%m")
    answer = web.get(f"/public/v1/days?service=haircut&month={month}").json()
    assert answer["month"] == month
    days = {entry["date"]: entry["free"] for entry in answer["days"]}
    assert len(days) >= 28 and f"{month}-01" in days
    # The past has no free start; the shop opens every day, so a day inside the next week that is in this month
    # is free unless it is today (minimum notice).
    yesterday = today - dt.timedelta(days=1)
    if yesterday.month == today.month:
        assert days[yesterday.isoformat()] is False
    later = today + dt.timedelta(days=2)
    if later.month == today.month:
        assert days[later.isoformat()] is True
    assert_problem(web.get("/public/v1/days?service=haircut&month=2026-13"), 422, "validation_failed")
    assert_problem(web.get("/public/v1/days?month=2026-01"), 400, "bad_request")
    assert_problem(web.get(f"/public/v1/days?service=nope&month={month}"), 422, "validation_failed")


def test_pages_and_assets_with_etag_and_gzip(site):
    _, web = site
    page = web.get("/", headers={"Accept-Encoding": "identity"})
    assert page.status == 200 and page.content_type == "text/html"
    etag = page.headers["etag"]
    assert page.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert web.get("/", headers={"If-None-Match": etag}).status == 304
    zipped = web.get("/", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers.get("content-encoding") == "gzip"
    assert gzip.decompress(zipped.body) == page.body
    assert web.get("/assets/nope.css").status == 404
    assert web.get("/b/not-a-token").status == 404


# MARK: - Booking from the page


def test_a_booking_from_the_page_and_its_link(site):
    daemon, web = site
    day = future_day(3)
    resp = web.book(wall(day, "10:00"))
    assert resp.status == 201, resp
    created = resp.json()
    assert created["payment"] is None
    assert "id" not in created["booking"]
    assert created["booking"]["customer"]["phone"] == "+4915112345678"
    assert created["manage_url"] == "https://shop.example/b/" + created["token"]
    assert created["ics_url"] == f"https://shop.example/public/v1/bookings/{created['token']}.ics"
    # The socket sees the same booking.
    listed = daemon.client.get(f"/v1/bookings?from={day}&to={day}").json()["bookings"]
    assert [b["start"] for b in listed] == [local_iso(day, "10:00")]
    shown = web.get(f"/public/v1/bookings/{created['token']}").json()
    assert shown["booking"]["start"] == local_iso(day, "10:00")
    assert shown["cancellation"] == {"fee_cents": 0, "refund_cents": 0, "inside_window": False, "possible": True}
    page = web.get(f"/b/{created['token']}")
    assert page.status == 200 and page.content_type == "text/html"


def test_consent_idempotency_key_and_phone_are_required_and_checked(site):
    daemon, web = site
    start = wall(future_day(3), "11:00")
    problem = assert_problem(web.book(start, consent=None), 422, "validation_failed")
    assert [f["field"] for f in problem["fields"]] == ["consent"]
    assert_problem(web.book(start, consent=False), 422, "validation_failed")
    problem = assert_problem(web.book(start, key=""), 400, "bad_request")
    assert problem["fields"][0]["field"] == "Idempotency-Key"
    problem = assert_problem(web.book(start, phone="abc"), 422, "validation_failed")
    assert problem["fields"][0]["field"] == "customer.phone"
    assert daemon.booking_count() == 0


def test_a_double_submit_with_one_key_makes_one_booking(site):
    daemon, web = site
    start = wall(future_day(3), "12:00")
    first = web.book(start, key="attempt-1")
    second = web.book(start, key="attempt-1")
    assert first.status == second.status == 201
    assert first.json()["booking"] == second.json()["booking"]
    assert first.json()["token"] == second.json()["token"]
    assert daemon.booking_count() == 1
    # Another attempt at the same start is the socket's conflict, with alternatives, but without the other
    # booking's id.
    problem = assert_problem(web.book(start, key="attempt-2"), 409, "slot_unavailable")
    assert problem["alternatives"]
    assert "bk_" not in problem["detail"] and "another booking" in problem["detail"], problem
    assert all("bk_" not in reason["message"] for reason in problem.get("reasons", []))


def test_an_oversized_body_is_413_and_oversized_headers_431(site):
    _, web = site
    big = {"service": "haircut", "start": "x", "customer": {"name": "x"}, "notes": "n" * 20_000, "consent": True}
    assert_problem(web.post("/public/v1/bookings", json=big, headers={"Idempotency-Key": "big"}), 413,
                   "payload_too_large")
    assert_problem(web.get("/public/v1/shop", headers={"X-Filler": "f" * 9000}), 431, "headers_too_large")


# MARK: - Links: manage, cancel, reschedule, calendar


def test_bad_tampered_and_expired_tokens_are_404(daemons):
    daemon, web = start_web(daemons, extra="  link_lifetime: 1s\n")
    resp = web.book(wall(future_day(3), "10:00"))
    token = resp.json()["token"]
    payload, signature = token.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    for bad in ["nonsense", "a.b", flipped + "." + signature, payload + "." + signature[::-1]]:
        problem = assert_problem(web.get(f"/public/v1/bookings/{bad}"), 404, "not_found")
        assert "bk_" not in problem["detail"]
    # The link lasts one second after the booking's end, which is days ahead: still valid.
    assert web.get(f"/public/v1/bookings/{token}").status == 200


def test_an_expired_token_is_404(daemons, tmp_path):
    # A token whose expiry has passed: signed with the daemon's own key by the same scheme, expiring at 1.
    import base64
    import hashlib
    import hmac
    daemon, web = start_web(daemons)
    created = web.book(wall(future_day(3), "10:00")).json()
    booking_id = daemon.sql("SELECT id FROM bookings")[0][0]
    key = (daemon.dir / "secret" / "web.secret").read_bytes()

    def sign(payload: bytes) -> str:
        encode = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return encode(payload) + "." + encode(hmac.new(key, payload, hashlib.sha256).digest())

    assert web.get(f"/public/v1/bookings/{sign(f'v1|{booking_id}|{2**40}'.encode())}").status == 200
    assert_problem(web.get(f"/public/v1/bookings/{sign(f'v1|{booking_id}|1'.encode())}"), 404, "not_found")
    assert created["token"] != sign(f"v1|{booking_id}|1".encode())


def test_cancel_inside_the_window_shows_and_charges_the_fee(site):
    daemon, web = site
    # Tomorrow at 17:00 is 17 to 41 hours ahead: inside the 24 h window or not, depending on the time of day, and
    # the answer must say which (inside it costs 50 % of 28.00 EUR).
    start = wall(future_day(1), "17:00")
    token = web.book(start).json()["token"]
    shown = web.get(f"/public/v1/bookings/{token}").json()["cancellation"]
    ahead = dt.datetime.fromisoformat(local_iso(future_day(1), "17:00")) - dt.datetime.now(dt.timezone.utc)
    assert shown["inside_window"] == (ahead < dt.timedelta(hours=24))
    assert shown["fee_cents"] == (1400 if shown["inside_window"] else 0)
    cancelled = web.post(f"/public/v1/bookings/{token}/cancel", json={"reason": "ill"}).json()
    assert cancelled["booking"]["status"] == "cancelled"
    assert cancelled["cancellation"]["possible"] is False
    assert_problem(web.post(f"/public/v1/bookings/{token}/cancel", json={}), 409, "invalid_transition")
    assert_problem(web.post(f"/public/v1/bookings/{token}/reschedule", json={"start": start}), 409,
                   "invalid_transition")


def test_reschedule_moves_to_a_free_start_with_the_same_staff(site):
    _, web = site
    day = future_day(4)
    token = web.book(wall(day, "10:00")).json()["token"]
    taken = web.book(wall(day, "14:00")).json()["token"]
    moved = web.post(f"/public/v1/bookings/{token}/reschedule", json={"start": wall(day, "11:00")}).json()
    assert moved["booking"]["start"] == local_iso(day, "11:00")
    assert web.get(f"/public/v1/bookings/{moved['token']}").status == 200
    assert web.get(f"/public/v1/bookings/{token}").json()["booking"]["start"] == local_iso(day, "11:00")
    assert_problem(web.post(f"/public/v1/bookings/{token}/reschedule", json={"start": wall(day, "14:00")}), 409,
                   "slot_unavailable")
    assert taken


def test_reschedule_moves_to_another_staff_member_or_any(site):
    # Issue 14: the manage page's "the same barber or any" passes `staff` through (issue 12 kept the barber).
    daemon, web = site
    day = future_day(4)
    token = web.book(wall(day, "10:00")).json()["token"]
    web.book(wall(day, "11:00"))  # anna is taken at 11:00
    moved = web.post(f"/public/v1/bookings/{token}/reschedule", json={"start": wall(day, "11:00"), "staff": "ben"})
    assert moved.status == 200, moved
    assert moved.json()["booking"]["staff"] == "ben"
    assert moved.json()["booking"]["start"] == local_iso(day, "11:00")
    # "any" keeps ben where he is free, and goes to anna where only she is (ben starts at 10:00)
    stays = web.post(f"/public/v1/bookings/{token}/reschedule", json={"start": wall(day, "13:00"), "staff": "any"})
    assert stays.json()["booking"]["staff"] == "ben"
    early = web.post(f"/public/v1/bookings/{token}/reschedule", json={"start": wall(day, "09:15"), "staff": "any"})
    assert early.status == 200, early
    assert early.json()["booking"]["staff"] == "anna"
    # absent keeps the barber; an unknown one or one without the service is 422, a taken start 409
    kept = web.post(f"/public/v1/bookings/{token}/reschedule", json={"start": wall(day, "09:30")}).json()
    assert kept["booking"]["staff"] == "anna"
    problem = assert_problem(web.post(f"/public/v1/bookings/{token}/reschedule",
                                      json={"start": wall(day, "15:00"), "staff": "bob"}), 422, "validation_failed")
    assert "bob" in problem["detail"]
    shave = web.book(wall(day, "16:00"), service="shave").json()["token"]
    problem = assert_problem(web.post(f"/public/v1/bookings/{shave}/reschedule",
                                      json={"start": wall(day, "15:00"), "staff": "ben"}), 422, "validation_failed")
    assert "does not perform" in problem["detail"]
    assert_problem(web.post(f"/public/v1/bookings/{token}/reschedule",
                            json={"start": wall(day, "11:00"), "staff": "anna"}), 409, "slot_unavailable")
    assert daemon.sql("SELECT staff_id FROM bookings WHERE start_at = (SELECT MIN(start_at) FROM bookings)") \
        == [("anna",)]


def test_the_booking_as_ics_parses_with_icalendar(site):
    icalendar = pytest.importorskip("icalendar")
    _, web = site
    day = future_day(3)
    token = web.book(wall(day, "10:00"), notes="Bring; a, comb").json()["token"]
    resp = web.get(f"/public/v1/bookings/{token}.ics")
    assert resp.status == 200 and resp.content_type == "text/calendar"
    assert b"\r\n" in resp.body and b"\n" not in resp.body.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in resp.body.split(b"\r\n"))
    calendar = icalendar.Calendar.from_ical(resp.body)
    events = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert len(events) == 1
    event = events[0]
    start = dt.datetime.fromisoformat(local_iso(day, "10:00"))
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == start + dt.timedelta(minutes=30)
    assert str(event["status"]) == "CONFIRMED"
    assert "Haircut" in str(event["summary"]) and "Salon Test" in str(event["summary"])
    assert str(event["url"]).startswith("https://shop.example/b/")
    assert_problem(web.get("/public/v1/bookings/forged.sig.ics"), 404, "not_found")


# MARK: - Live feeds


def test_the_slot_feed_drops_a_start_booked_over_the_socket(site):
    daemon, web = site
    day = future_day(5)
    with web.sse(f"/public/v1/slots?service=haircut&staff=anna&from={day}&watch=true") as feed:
        assert feed.status == 200 and feed.headers["content-type"].startswith("text/event-stream")
        name, first = feed.next_event()
        assert name == "slots"
        starts = [slot["start"] for slot in first["slots"]]
        assert local_iso(day, "10:00") in starts
        assert daemon.client.book(wall(day, "10:00")).status == 201
        name, second = feed.next_event()
        assert name == "slots"
        assert local_iso(day, "10:00") not in [slot["start"] for slot in second["slots"]]


def test_the_booking_feed_follows_its_changes(site):
    daemon, web = site
    token = web.book(wall(future_day(3), "15:00")).json()["token"]
    with web.sse(f"/public/v1/bookings/{token}/events") as feed:
        name, first = feed.next_event()
        assert name == "booking" and first["status"] == "confirmed" and "id" not in first
        booking_id = daemon.sql("SELECT id FROM bookings")[0][0]
        assert daemon.client.post(f"/v1/bookings/{booking_id}/cancel", json={}).status == 200
        name, second = feed.next_event()
        assert name == "booking" and second["status"] == "cancelled"
    assert_problem(web.get("/public/v1/bookings/bad/events"), 404, "not_found")


# MARK: - Limits


def test_rate_limits_answer_429_with_retry_after(daemons):
    _, web = start_web(daemons, limits="bookings_per_minute_per_ip: 2, token_lookups_per_minute_per_ip: 3")
    day = future_day(3)
    assert web.book(wall(day, "10:00")).status == 201
    token = web.book(wall(day, "11:00")).json()["token"]
    limited = web.book(wall(day, "12:00"))
    assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) >= 1
    for _ in range(3):
        assert web.get(f"/public/v1/bookings/{token}").status == 200
    assert_problem(web.get(f"/public/v1/bookings/{token}"), 429, "rate_limited")
    # Reading the catalog is not limited.
    assert web.get("/public/v1/shop").status == 200


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(daemons):
    # The test client connects from 127.0.0.1, which is not the trusted proxy (127.0.0.2): a forged header does not
    # give it a fresh bucket.
    _, web = start_web(daemons, limits="bookings_per_minute_per_ip: 1")
    day = future_day(3)
    assert web.book(wall(day, "10:00")).status == 201
    forged = web.request("POST", "/public/v1/bookings", json={
        "service": "haircut", "staff": "anna", "start": wall(day, "11:00"), "consent": True,
        "customer": {"name": "X", "email": "x@example.com"}},
        headers={"Idempotency-Key": "forged", "X-Forwarded-For": "203.0.113.9"})
    assert_problem(forged, 429, "rate_limited")


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(daemons):
    port = free_port()
    daemon = daemons(config=web_config(port, "bookings_per_minute_per_ip: 1").replace(
        "trusted_proxies: [127.0.0.2]", "trusted_proxies: [127.0.0.1]"))
    web = WebClient(port)
    wait_for(lambda: _listening(web), timeout=15, what="the web listener")
    day = future_day(3)

    def book(at: str, client: str) -> Response:
        return web.request("POST", "/public/v1/bookings", json={
            "service": "haircut", "staff": "anna", "start": wall(day, at), "consent": True,
            "customer": {"name": "X", "email": "x@example.com"}},
            headers={"Idempotency-Key": uuid.uuid4().hex, "X-Forwarded-For": client})

    assert book("10:00", "203.0.113.9").status == 201
    assert_problem(book("11:00", "203.0.113.9"), 429, "rate_limited")
    assert book("11:00", "198.51.100.7").status == 201


# MARK: - Configuration mistakes


def test_web_section_mistakes_are_all_reported_with_their_lines(daemons):
    daemon = daemons(config=(
        "web:\n"
        "  listen: nowhere\n"
        "  public_url: ftp://x\n"
        "  country: XX\n"
        "  limits: { max_body_bytes: 5, colour: 1 }\n"
        "  bogus: 1\n"), start=False)
    with pytest.raises(RuntimeError) as failure:
        daemon.start()
    message = str(failure.value)
    for line, words in [(2, "listen"), (3, "public_url"), (4, "country"), (5, "max_body_bytes"), (5, "colour"),
                        (6, "bogus"), (2, "secret_file")]:
        assert re.search(rf"slotd\.yaml:{line}(:\d+)?: .*{words}", message), (line, words, message)


# MARK: - Deposits (localstripe)


def test_a_deposit_booking_returns_the_client_secret_and_confirms_after_paying(daemons, tmp_path):
    from conftest import stripe_config
    from test_payments import SECRET, LocalStripe

    stripe = LocalStripe(tmp_path)
    try:
        port = free_port()
        config = stripe_config(stripe.base) + web_config(port, extra="  stripe_publishable_key: pk_test_web\n"
                                                          ).split("\n", 2)[2]
        daemon = daemons(config=config, start=False)
        (daemon.dir / "stripe.key").write_text("sk_test_slotd_integration\n")
        (daemon.dir / "stripe.whsec").write_text(SECRET + "\n")
        daemon.start()
        web = WebClient(port)
        wait_for(lambda: _listening(web), timeout=15, what="the web listener")
        # Stripe's webhooks come straight to the public listener's route (in production through the proxy).
        stripe.call("POST", "/_config/webhooks/slotd",
                    {"url": f"http://127.0.0.1:{port}/public/v1/payments/stripe/webhook", "secret": SECRET})
        shop = web.get("/public/v1/shop").json()
        assert shop["stripe"]["publishable_key"] == "pk_test_web"

        created = web.book(wall(future_day(4), "10:00"), service="shave")
        assert created.status == 201, created
        body = created.json()
        assert body["booking"]["status"] == "held"
        assert body["payment"]["kind"] == "deposit"
        secret = body["payment"]["client_secret"]
        assert "reference" not in body["booking"]["payment"]
        with web.sse(f"/public/v1/bookings/{body['token']}/events", timeout=20) as feed:
            name, first = feed.next_event()
            assert name == "booking" and first["status"] == "held"
            stripe.pay(secret.split("_secret_")[0])
            while True:
                name, update = feed.next_event()
                if update["status"] == "confirmed":
                    break
        shown = web.get(f"/public/v1/bookings/{body['token']}").json()
        assert shown["booking"]["payment"]["status"] == "succeeded"
    finally:
        stripe.stop()


# MARK: - Notifications


def test_notification_templates_carry_the_manage_and_calendar_links(daemons):
    port = free_port()
    config = web_config(port) + (
        "notifications:\n"
        "  language: en\n"
        "  templates:\n"
        "    booking.created: {subject: 'Booked', body: 'Manage {{manage_url}} add {{ics_url}}'}\n")
    daemon = daemons(config=config)
    web = WebClient(port)
    wait_for(lambda: _listening(web), timeout=15, what="the web listener")
    assert daemon.client.book(wall(future_day(3), "10:00")).status == 201

    def delivered_body():
        jobs = daemon.client.get("/v1/outbox?limit=100").json()["jobs"]
        bodies = [job.get("payload", {}).get("body", "") for job in jobs if job["kind"].startswith("notify.send.")]
        return next((body for body in bodies if body), None)

    body = wait_for(delivered_body, timeout=20, what="the booking.created delivery")
    match = re.fullmatch(r"Manage https://shop\.example/b/(\S+) add https://shop\.example/public/v1/bookings/(\S+)\.ics",
                         body)
    assert match and match.group(1) == match.group(2), body
    shown = web.get(f"/public/v1/bookings/{match.group(1)}")
    assert shown.status == 200 and shown.json()["booking"]["start"] == local_iso(future_day(3), "10:00")


def test_the_public_webhook_route_checks_stripes_signature(daemons):
    from conftest import stripe_config
    port = free_port()
    config = stripe_config() + web_config(port).split("\n", 2)[2]
    daemon = daemons(config=config, start=False)
    (daemon.dir / "stripe.key").write_text("sk_test_slotd_integration\n")
    (daemon.dir / "stripe.whsec").write_text("whsec_test_slotd\n")
    daemon.start()
    web = WebClient(port)
    wait_for(lambda: _listening(web), timeout=15, what="the web listener")
    forged = web.post("/public/v1/payments/stripe/webhook", body=b'{"type":"payment_intent.succeeded"}',
                      headers={"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"})
    assert_problem(forged, 400)
    # Without Stripe as the payment provider the route is not there.
    _, manual = start_web(daemons)
    assert_problem(manual.post("/public/v1/payments/stripe/webhook", json={}), 404, "not_found")
