#!/usr/bin/env python3
"""The admin page's live latency: prints figures, asserts nothing.

    python3 Benchmarks/admin_live_bench.py [--slotd PATH] [--slotctl PATH] [--pages 50] [--bookings 100]
                                           [--mode push|fetch]

Uses `--slotd`/`--slotctl`, else `.build/release/…` when built, else `.build/debug/…`. Starts a fresh slotd with the
admin page on a loopback port, logs in, and opens `--pages` live pages. `--mode push` (what the page does): each
reads the live day (`/admin/api/day/live`), which the daemon pushes after every change, and notes when a booking's
block first appears in it. `--mode fetch` (what the page did before): each reads the event feed
(`/admin/api/events`) and on a booking event fetches the day (`/admin/api/day`) and finds the block in it. Then it
books `--bookings` times over the Unix socket, one after another, and for each measures, per page, the time from
the booking's commit (its 201 answer) to the event's arrival (fetch mode) and to the day that contains the block.
Prints p50/p90/p99/max over all pages and bookings (goal: p99 commit → block < 100 ms with 50 pages). Rendering
in the browser is not included (a few ms for the day's DOM).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "Tests" / "IntegrationTests" / "rules"
SHOP_ZONE = ZoneInfo("Europe/Berlin")
# Pages notify it when they have a block, so the booking loop waits on an event, not a timer.
PROGRESS = threading.Condition()


def built(product: str) -> str:
    for kind in ("release", "debug"):
        path = ROOT / ".build" / kind / product
        if path.exists():
            return str(path)
    sys.exit(f"no {product} built: run swift build")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def request(port: int, method: str, path: str, body=None, headers=None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Page(threading.Thread):
    """One open admin page: reads the feed; on a booking event fetches the day and looks for the block."""

    def __init__(self, port: int, cookie: str, day: str, cursor: int):
        super().__init__(daemon=True)
        self.port, self.cookie, self.day = port, cookie, day
        self.open_stream(port, cookie, f"/admin/api/events?since={cursor}")

    def open_stream(self, port: int, cookie: str, path: str) -> None:
        """Opens the page's Server-Sent Events stream; `seen` maps a booking to when it arrived and was shown."""
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.status
        self.seen: dict[str, tuple[float, float]] = {}
        self.ready = threading.Event()

    def run(self) -> None:
        self.ready.set()
        data = None
        while True:
            line = self.resp.readline()
            if not line:
                return
            line = line.decode().rstrip("\n")
            if line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and data is not None:
                event, data = data, None
                if event["type"] != "booking.created":
                    continue
                arrived = time.perf_counter()
                booking = event["data"]["booking"]
                status, _, body = request(self.port, "GET", f"/admin/api/day?date={self.day}",
                                          headers={"Cookie": self.cookie})
                assert status == 200, body
                visible = time.perf_counter()
                assert booking.encode() in body, f"{booking} not in the day"
                with PROGRESS:
                    self.seen[booking] = (arrived, visible)
                    PROGRESS.notify_all()


class PushedPage(Page):
    """One open admin page in push mode: reads the live day and notes when each booking first appears in it."""

    BOOKING_ID = re.compile(rb'"id":"(bk_[0-9a-z]+)"')

    def __init__(self, port: int, cookie: str, day: str):
        threading.Thread.__init__(self, daemon=True)
        self.open_stream(port, cookie, f"/admin/api/day/live?date={day}")

    def run(self) -> None:
        self.ready.set()
        while True:
            line = self.resp.readline()
            if not line:
                return
            if not line.startswith(b"data: "):
                continue
            arrived = time.perf_counter()
            with PROGRESS:
                for booking in self.BOOKING_ID.findall(line):
                    self.seen.setdefault(booking.decode(), (arrived, arrived))
                PROGRESS.notify_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slotd", default=None)
    parser.add_argument("--slotctl", default=None)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--bookings", type=int, default=100)
    parser.add_argument("--mode", choices=["push", "fetch"], default="push")
    args = parser.parse_args()
    slotd = args.slotd or built("slotd")
    slotctl = args.slotctl or built("slotctl")
    directory = Path(tempfile.mkdtemp(prefix="slotd-admin-bench-", dir="/tmp"))
    shutil.copytree(RULES, directory / "rules")
    shop = directory / "rules" / "shop.yaml"
    # Open round the clock, no notice: the bookings need free starts whatever the time.
    shop.write_text(shop.read_text().replace("hours: Mo-Su 09:00-18:00", "hours: 24/7")
                    .replace("min_notice: 1h", "min_notice: 0m"))
    hashed = subprocess.run([slotctl, "passwd", "--iterations", "100000"], input="bench-password\n",
                            capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    (directory / "slotd.yaml").write_text(
        f'roles:\n  "{os.getuid()}": admin\nweb:\n  listen: 127.0.0.1:{port}\n'
        f"  public_url: http://127.0.0.1:{port}/\n  secret_file: web.secret\n"
        f'  users:\n    - {{ name: bench, role: admin, password_hash: "{hashed}" }}\n')
    sock = str(directory / "slotd.sock")
    log = open(directory / "slotd.log", "wb")
    proc = subprocess.Popen([slotd, "--config", str(directory / "slotd.yaml"), "--rules", str(directory / "rules"),
                             "--db", str(directory / "slotd.sqlite"), "--socket", sock], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if request(port, "GET", "/admin/")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                sys.exit("slotd did not start: " + (directory / "slotd.log").read_text())
            time.sleep(0.05)
        login = {"name": "bench", "password": "bench-password"}
        status, headers, body = request(port, "POST", "/admin/api/login", login,
                                        {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}"})
        assert status == 200, body
        cookie = headers["set-cookie"].split(";")[0]
        day = (dt.datetime.now(SHOP_ZONE) + dt.timedelta(days=2)).date().isoformat()
        cursor = json.loads(request(port, "GET", f"/admin/api/day?date={day}", headers={"Cookie": cookie})[2])["cursor"]
        if args.mode == "push":
            pages = [PushedPage(port, cookie, day) for _ in range(args.pages)]
        else:
            pages = [Page(port, cookie, day, cursor) for _ in range(args.pages)]
        for page in pages:
            page.start()
            page.ready.wait()
        commits: dict[str, float] = {}
        made = 0
        # Every 15-minute start of the day, for each barber (Ben's closed times are refused and skipped).
        attempts = [(minute, staff) for minute in range(0, 24 * 60, 15) for staff in ("anna", "ben")]
        for minute, barber in attempts:
            if made >= args.bookings:
                break
            start = f"{day}T{minute // 60:02d}:{minute % 60:02d}"
            conn = UnixConnection(sock)
            payload = {"service": "haircut", "staff": barber, "start": start, "customer": {"name": "Bench"}}
            conn.request("POST", "/v1/bookings", body=json.dumps(payload), headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            body = resp.read()
            committed = time.perf_counter()
            conn.close()
            if resp.status != 201:
                continue
            commits[json.loads(body)["id"]] = committed
            made += 1
            # One at a time, like a shop: wait until every page has the block before the next booking.
            booking = json.loads(body)["id"]
            with PROGRESS:
                PROGRESS.wait_for(lambda: all(booking in page.seen for page in pages), timeout=10)
        arrival, visible = [], []
        missing = 0
        for booking, committed in commits.items():
            for page in pages:
                if booking not in page.seen:
                    missing += 1
                    continue
                arrived, shown = page.seen[booking]
                # The 201 can reach us after the event reached a page: that is 0 ms, not negative.
                arrival.append(max(0.0, arrived - committed) * 1000)
                visible.append(max(0.0, shown - committed) * 1000)
        print(f"slotd: {slotd}")
        print(f"{len(pages)} open admin pages ({args.mode}), {len(commits)} bookings over the socket, "
              f"{len(visible)} page updates, {missing} missing")
        measured = [("commit → block in the day answer", visible)]
        if args.mode == "fetch":
            measured.insert(0, ("commit → event at the page", arrival))
        for label, values in measured:
            print(f"{label:34} p50 {statistics.median(values):7.1f} ms   p90 {percentile(values, 0.9):7.1f} ms   "
                  f"p99 {percentile(values, 0.99):7.1f} ms   max {max(values):7.1f} ms")
        print(f"goal: p99 commit → block < 100 ms: {'met' if percentile(visible, 0.99) < 100 else 'NOT met'}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
