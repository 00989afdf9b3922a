"""The outbox end to end: a real slotd delivering signed webhooks to a receiver on 127.0.0.1 started by the test.

A receiver that hangs or is down never slows a booking; deliveries complete when it recovers; `kill -9` in the
middle of deliveries loses nothing (every message id arrives; repeats on the wire carry the same id); a job that
fails for good is listed by `slotctl outbox --state failed` and runs again after `slotctl outbox retry`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import future_day, wait_for, wall

SECRET_KEY = os.urandom(24)
SECRET = "whsec_" + base64.b64encode(SECRET_KEY).decode()


class Receiver:
    """A Standard Webhooks receiver: verifies each signature, records each delivery, answers per `mode`.

    Modes: `ok` (204), `hang` (holds the request until released or 30 s pass, then 204), `reject` (400),
    `slow` (0.3 s, then 204). `path_modes` overrides the mode per request path (several daemons, each posting to a
    path of its own); each delivery records its path and arrival time (`time.time()`), and `arrived` is notified.
    """

    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.path_modes: dict[str, str] = {}
        self.deliveries: list[dict] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.release = threading.Event()
        # Requests being answered right now, and the most at once: the daemon's parallel deliveries.
        self.in_flight = 0
        self.max_in_flight = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                msg_id = self.headers.get("webhook-id", "")
                stamp = self.headers.get("webhook-timestamp", "")
                signed = f"{msg_id}.{stamp}.".encode() + body
                expected = base64.b64encode(hmac.new(SECRET_KEY, signed, hashlib.sha256).digest()).decode()
                given = [part.split(",", 1)[1] for part in self.headers.get("webhook-signature", "").split()
                         if part.startswith("v1,")]
                arrived_at = time.time()
                with receiver.lock:
                    mode = receiver.path_modes.get(self.path, receiver.mode)
                    if expected not in given:
                        receiver.bad_signatures += 1
                    else:
                        receiver.deliveries.append({"id": msg_id, "body": json.loads(body), "mode": mode,
                                                    "path": self.path, "at": arrived_at})
                    receiver.in_flight += 1
                    receiver.arrived.notify_all()
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                if mode == "hang":
                    receiver.release.wait(30)
                elif mode == "slow":
                    time.sleep(0.3)
                with receiver.lock:
                    receiver.in_flight -= 1
                status = 400 if mode == "reject" else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.url_for("/hooks/slotd")

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> "Receiver":
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> set[str]:
        with self.lock:
            return {d["id"] for d in self.deliveries}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.release.set()
    try:
        r.stop()
    except Exception:
        pass


def config(tmp_dir, url: str, **outbox) -> str:
    secret_file = tmp_dir / "hook.whsec"
    secret_file.write_text(SECRET + "\n")
    settings = {"workers": 2, "call_timeout": "2s", "initial_backoff": "1s", "max_backoff": "2s",
                "max_attempts": 20, **outbox}
    lines = "\n".join(f"  {k}: {json.dumps(v) if isinstance(v, str) else v}" for k, v in settings.items())
    return f"""
providers:
  hook:
    type: webhook
    url: {url}
    secret_file: {secret_file}
    timeout: 40s
outbox:
{lines}
notifications:
  language: en
  routes:
    - on: [booking.created]
      to: [hook]
"""


def make_daemon(daemons, receiver_url: str, **outbox):
    d = daemons(start=False)
    d.config = d.dir / "slotd.yaml"
    d.config.write_text(config(d.dir, receiver_url, **outbox))
    return d.start()


def deliveries(d) -> list[dict]:
    resp = d.client.get("/v1/outbox?limit=1000")
    assert resp.status == 200, resp
    return [j for j in resp.json()["jobs"] if j["kind"] == "notify.send.hook"]


def book_many(client, count: int, day: str) -> tuple[list[str], list[float]]:
    ids, seconds = [], []
    for i in range(count):
        start = wall(day, f"{9 + i // 2:02d}:{(i % 2) * 30:02d}")
        began = time.monotonic()
        resp = client.book(start, service="beard_trim", staff="anna", name=f"Customer {i}")
        seconds.append(time.monotonic() - began)
        assert resp.status == 201, resp
        ids.append(resp.json()["id"])
    return ids, seconds


def test_a_hanging_receiver_never_slows_a_booking_and_every_message_arrives_when_it_recovers(daemons, receiver):
    receiver.mode = "hang"
    receiver.start()
    d = make_daemon(daemons, receiver.url)
    ids, seconds = book_many(d.client, 6, future_day(5))
    # The receiver holds each request 30 s; a booking answers long before that (debug build, shared CPU).
    assert max(seconds) < 2.0, seconds
    # The hung calls time out after call_timeout (2 s) and are retried; the booking data is all there already.
    wait_for(lambda: any(j["attempts"] >= 1 and j.get("last_error") for j in deliveries(d)), 20,
             "a delivery to time out and wait for its retry")
    assert all(j["state"] == "pending" for j in deliveries(d))
    # It recovers: every delivery completes and the receiver has every message id, each correctly signed.
    receiver.mode = "ok"
    receiver.release.set()
    wait_for(lambda: len(deliveries(d)) == 6 and all(j["state"] == "done" for j in deliveries(d)), 60,
             "every delivery to complete")
    jobs = deliveries(d)
    assert {j["payload"]["message_id"] for j in jobs} == receiver.ids()
    assert receiver.bad_signatures == 0
    seen = {d_["body"]["data"]["fields"]["booking"] for d_ in receiver.deliveries}
    assert seen == set(ids)
    body = receiver.deliveries[0]["body"]
    assert body["type"] == "booking.created" and body["id"].startswith("slotd-")
    assert body["data"]["subject"].startswith("Booked: Beard trim")


def test_deliveries_run_in_parallel_and_leave_a_slot_for_other_jobs(daemons, receiver):
    # workers: 4 and a receiver that holds every request: three deliveries hang at once (one provider's share,
    # workers - 1); the fourth waits for one of them, leaving the last slot to other providers, payments and holds.
    receiver.mode = "hang"
    receiver.start()
    d = make_daemon(daemons, receiver.url, workers=4, call_timeout="30s")
    book_many(d.client, 4, future_day(11))
    wait_for(lambda: receiver.in_flight == 3, 20, "three deliveries in flight at once")
    assert len(receiver.deliveries) == 3, "the fourth delivery waits for a notification slot"
    receiver.mode = "ok"
    receiver.release.set()
    wait_for(lambda: len(deliveries(d)) == 4 and all(j["state"] == "done" for j in deliveries(d)), 30,
             "every delivery to complete")
    assert receiver.max_in_flight == 3 and len(receiver.ids()) == 4 and receiver.bad_signatures == 0


def test_a_receiver_that_is_down_delays_deliveries_only(daemons, receiver):
    # Nothing listens on the receiver's port yet: every call is refused.
    d = make_daemon(daemons, receiver.url)
    ids, seconds = book_many(d.client, 4, future_day(6))
    assert max(seconds) < 2.0, seconds
    wait_for(lambda: len(deliveries(d)) == 4 and all(j.get("last_error") for j in deliveries(d)), 20,
             "every delivery to fail once")
    assert all(j["state"] == "pending" for j in deliveries(d)), "refused calls are retried, not parked"
    receiver.start()
    wait_for(lambda: all(j["state"] == "done" for j in deliveries(d)), 30, "deliveries after the receiver is up")
    assert len(receiver.ids()) == 4 and receiver.bad_signatures == 0


def test_kill_9_during_deliveries_loses_nothing(daemons, receiver):
    receiver.mode = "slow"
    receiver.start()
    d = make_daemon(daemons, receiver.url, workers=1)
    ids, _ = book_many(d.client, 12, future_day(7))
    wait_for(lambda: len(receiver.deliveries) >= 2, 20, "the first deliveries")
    d.kill()
    assert len(receiver.ids()) < 12, "the crash came before every delivery"
    d.start()
    # Jobs claimed by the dead process come back once their lease (2 × call_timeout + 10 s) lapses.
    wait_for(lambda: len(deliveries(d)) == 12 and all(j["state"] == "done" for j in deliveries(d)), 60,
             "every delivery after the restart")
    jobs = deliveries(d)
    assert len({j["payload"]["message_id"] for j in jobs}) == 12
    assert receiver.ids() == {j["payload"]["message_id"] for j in jobs}, "every job's message id arrived"
    # A repeat on the wire (the crash between the call and its record) carries the same id.
    assert len(receiver.ids()) == 12 and receiver.bad_signatures == 0
    assert {x["body"]["data"]["fields"]["booking"] for x in receiver.deliveries} == set(ids)


def slotctl(binary: str, socket: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "--socket", socket, *args], capture_output=True, text=True, timeout=30)


def test_a_failed_job_is_listed_and_retried_with_slotctl(daemons, receiver, slotctl_binary):
    receiver.mode = "reject"  # 400: a permanent refusal, parked at once
    receiver.start()
    d = make_daemon(daemons, receiver.url)
    d.client.book(wall(future_day(8), "10:00"), service="haircut", staff="anna")
    wait_for(lambda: any(j["state"] == "failed" for j in deliveries(d)), 20, "the delivery to fail")
    job = deliveries(d)[0]
    assert "HTTP 400" in job.get("last_error", "")

    listed = slotctl(slotctl_binary, d.socket, "outbox", "--state", "failed")
    assert listed.returncode == 0, listed.stderr
    assert str(job["id"]) in listed.stdout and "notify.send.hook" in listed.stdout and "HTTP 400" in listed.stdout
    as_json = json.loads(slotctl(slotctl_binary, d.socket, "outbox", "--state", "failed", "--json").stdout)
    assert [j["id"] for j in as_json["jobs"]] == [job["id"]] and as_json["counts"]["failed"] == 1

    # Retrying a job that is not failed is refused (409) and changes nothing.
    pending = d.client.get("/v1/outbox?state=done").json()["jobs"][0]
    refused = d.client.post(f"/v1/outbox/{pending['id']}/retry")
    assert refused.status == 409, refused
    assert d.client.post("/v1/outbox/999999/retry").status == 404

    receiver.mode = "ok"
    retried = slotctl(slotctl_binary, d.socket, "outbox", "retry", str(job["id"]))
    assert retried.returncode == 0, retried.stderr
    assert "pending again" in retried.stdout
    wait_for(lambda: d.client.get(f"/v1/outbox/{job['id']}").json()["state"] == "done", 20, "the retried job")
    assert [x["mode"] for x in receiver.deliveries] == ["reject", "ok"]
    assert len(receiver.ids()) == 1, "the retry re-sends the same message id"
    again = slotctl(slotctl_binary, d.socket, "outbox", "retry", str(job["id"]))
    assert again.returncode != 0 and "not failed" in (again.stderr + again.stdout)


@pytest.mark.parametrize("snippet, message", [
    ("notifications:\n  routes:\n    - on: [booking.created]\n      to: [sms]\n",
     "slotd.yaml:4:11: route target 'sms' is not a notification provider"),
    ("notifications:\n  templates:\n    booking.created: {subject: '{{colour}}', body: x}\n",
     "unknown field {{colour}} in the template of booking.created"),
    ("outbox:\n  max_backoff: 1s\n  initial_backoff: 10s\n", "`max_backoff` must not be shorter than `initial_backoff`"),
])
def test_a_notification_or_outbox_mistake_stops_slotd_at_start_with_its_location(daemons, snippet, message):
    d = daemons(start=False)
    d.config = d.dir / "slotd.yaml"
    d.config.write_text(snippet)
    out = subprocess.run(d.args, capture_output=True, text=True, timeout=30, cwd=d.dir)
    assert out.returncode == 78, out
    assert message in out.stderr, out.stderr


def test_every_configuration_mistake_is_reported_at_once_with_its_location_and_fix(daemons):
    d = daemons(start=False)
    d.config = d.dir / "slotd.yaml"
    d.config.write_text(
        "socket:\n  mode: 999\n"
        "roles: { root: superuser }\n"
        "log_level: loud\n"
        "outbox:\n  max_backoff: 1s\n  initial_backoff: 10s\n"
    )
    out = subprocess.run(d.args, capture_output=True, text=True, timeout=30, cwd=d.dir)
    assert out.returncode == 78, out
    for expected in [
        "slotd.yaml:2:9: `mode` must be octal permission bits like \"0660\" — quote it",
        "slotd.yaml:3:16: unknown role 'superuser' — use admin, staff, booking or read",
        "slotd.yaml:4:12: `log_level` must be trace, debug",
        "`max_backoff` must not be shorter than `initial_backoff`",
    ]:
        assert expected in out.stderr, out.stderr


def test_every_mistake_inside_the_outbox_and_notification_sections_is_reported_at_once(daemons):
    d = daemons(start=False)
    d.config = d.dir / "slotd.yaml"
    d.config.write_text(
        "outbox:\n  workers: 0\n  call_timeout: soon\n  end_of_day: 25:00\n"
        "notifications:\n"
        "  language: fr\n"
        "  routes:\n"
        "    - { on: [booking.nope], to: [mail] }\n"
        "    - { on: [booking.created] }\n"
        "  templates:\n"
        "    booking.created: { subject: 'Hi {{nam}}', body: 'x' }\n"
        "    booking.nope: { subject: s, body: b }\n"
    )
    out = subprocess.run(d.args, capture_output=True, text=True, timeout=30, cwd=d.dir)
    assert out.returncode == 78, out
    for expected in [
        "slotd.yaml:2:12: `workers` must be a whole number from 1 to 32",
        "slotd.yaml:3:17: `call_timeout` must be a positive duration",
        "slotd.yaml:4:15: `end_of_day` must be a shop-local time",
        "slotd.yaml:6:13: `language` must be de or en",
        "unknown event 'booking.nope'",
        "a route needs both `on:` (events) and `to:` (provider names)",
        "unknown field {{nam}} in the template of booking.created",
        "slotd.yaml:12:5: unknown event 'booking.nope'",
    ]:
        assert expected in out.stderr, out.stderr


def test_sigterm_lets_an_in_flight_call_finish_within_the_call_timeout(daemons, receiver):
    receiver.mode = "hang"
    receiver.start()
    d = make_daemon(daemons, receiver.url)
    book_many(d.client, 1, future_day(9))
    wait_for(lambda: receiver.deliveries, 20, "the call to be in flight")
    began = time.monotonic()
    assert d.stop() == 0, d.log()
    # call_timeout is 2 s: the worker gives the hung call that long, records a retry, and stops.
    assert time.monotonic() - began < 8, d.log()
    receiver.release.set()
    rows = d.sql("SELECT state, attempts, last_error FROM outbox WHERE kind = 'notify.send.hook'")
    assert rows and rows[0][0] == "pending" and rows[0][1] == 1, rows


def test_a_restart_loses_no_timer(daemons):
    d = daemons(start=False)
    shop = d.rules / "shop.yaml"
    shop.write_text(shop.read_text().replace("policies:\n  hold: 15m", "policies:\n  hold: 15m\n  reminders: [24h, 2h]"))
    d.start()
    resp = d.client.book(wall(future_day(10), "11:00"), service="haircut", staff="anna")
    assert resp.status == 201, resp
    booking = resp.json()["id"]

    def timers():
        jobs = d.client.get("/v1/outbox?state=pending").json()["jobs"]
        return sorted((j["kind"], j["due"]) for j in jobs if j["kind"] in ("notify.booking_reminder", "sweep.end_of_day")
                      and j.get("booking") in (booking, None))

    before = timers()
    assert [k for k, _ in before].count("notify.booking_reminder") == 2 and ("sweep.end_of_day" in [k for k, _ in before])
    d.kill()
    d.start()
    assert timers() == before, "the same reminders and exactly one sweep after a crash and restart"
