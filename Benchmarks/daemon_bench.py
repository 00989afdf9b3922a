#!/usr/bin/env python3
"""slotd daemon benchmark: prints figures, asserts nothing.

    python3 Benchmarks/daemon_bench.py [--slotd PATH] [--requests N] [--bookings N]

Uses `SLOTD` or `--slotd`, else `.build/release/slotd` when built, else `.build/debug/slotd` (debug figures are
much slower; build the release binary for real numbers: `swift build -c release --product slotd`).

Measures, on a fresh daemon with the integration tests' rules in a temporary directory:
  1. round trip of a bare request (`GET /_ping`) and of a one-day slot query, over one keep-alive connection
     on the same socket (goal: slot query <= 2x the bare request);
  2. booking creates per second over the socket (sequential on one connection, in rounds each followed by a
     round of the raw baseline, and 4 concurrent clients), next to Python's sqlite3 doing the same transaction
     shape (overlap check + booking + event + outbox row) at the same durability (WAL, synchronous=FULL)
     (goal: >= 50 %), and the daemon's CPU per booking with its outbox work;
  3. the daemon's resident memory (VmRSS from /proc: what the kernel reports) idle after start and idle after the
     load (goal < 30 MB), with the resident size of each mapping from /proc/PID/smaps.
Every figure is printed next to its goal and whether this run met it. See docs/benchmarks.md for the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import sqlite3
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
ZONE = ZoneInfo("Europe/Berlin")


class KeepAlive:
    """A minimal HTTP/1.1 keep-alive client on a Unix socket: as little client overhead as Python allows."""

    def __init__(self, path: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.buffer = b""

    def request(self, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
        head = f"{method} {target} HTTP/1.1\r\nHost: localhost\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.sock.sendall(head.encode() + b"\r\n" + (body or b""))
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        header, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = header.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        if b"content-length" in fields:
            length = int(fields[b"content-length"])
            while len(self.buffer) < length:
                self._fill()
            payload, self.buffer = self.buffer[:length], self.buffer[length:]
            return status, payload
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            payload = b""
            while True:
                while b"\r\n" not in self.buffer:
                    self._fill()
                size_line, self.buffer = self.buffer.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(self.buffer) < size + 2:
                    self._fill()
                payload += self.buffer[:size]
                self.buffer = self.buffer[size + 2:]
                if size == 0:
                    return status, payload
        raise RuntimeError("response without a length")

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def memory_line(pid: int) -> str:
    """VmRSS split into anonymous memory (the daemon's own heap and stacks) and file-backed pages (code of the
    binary and the Swift runtime/Foundation libraries, shared with other processes and reclaimable)."""
    rss, anon, file = (rss_kib(pid, name) for name in ("VmRSS", "RssAnon", "RssFile"))
    dirty = -1
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    dirty = int(line.split()[1])
    except OSError:
        pass
    return (f"{rss / 1024:6.1f} MB  (anonymous {anon / 1024:.1f} MB, file-backed code {file / 1024:.1f} MB,"
            f" private dirty {dirty / 1024:.1f} MB)")


def mapping_breakdown(pid: int, top: int = 8) -> list[str]:
    """Resident KiB per mapped file (and anonymous memory), largest first, from /proc/PID/smaps."""
    import collections
    rss: collections.Counter[str] = collections.Counter()
    current = "[anonymous]"
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                head = line.split()
                if head and "-" in head[0] and not head[0].endswith(":"):
                    current = head[5] if len(head) > 5 and head[5].startswith("/") else "[anonymous]"
                elif head and head[0] == "Rss:":
                    rss[current] += int(head[1])
    except OSError:
        return []
    return [f"{kib / 1024:6.1f} MB  {Path(name).name if name.startswith('/') else name}"
            for name, kib in rss.most_common(top)]


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def calibration(count: int) -> list[float]:
    """The same client against a trivial Python server on a Unix socket: the client's own share of a round trip."""
    directory = tempfile.mkdtemp(prefix="slotd-calib-", dir="/tmp")
    path = os.path.join(directory, "echo.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        buffer = b""
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
                while b"\r\n\r\n" in buffer:
                    _, buffer = buffer.split(b"\r\n\r\n", 1)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = KeepAlive(path)
    samples = timed(client, "GET", "/_ping", count)
    client.close()
    server.close()
    shutil.rmtree(directory, ignore_errors=True)
    return samples


def fresh_connections(path: str, target: str, count: int) -> list[float]:
    """Round trips that each open a new connection, as slotctl and curl do."""
    samples = []
    for _ in range(count):
        started = time.perf_counter_ns()
        client = KeepAlive(path)
        status, _ = client.request("GET", target)
        client.close()
        samples.append((time.perf_counter_ns() - started) / 1000)
        assert status == 200, status
    return samples


def timed(client: KeepAlive, method: str, target: str, count: int, body: bytes | None = None) -> list[float]:
    for _ in range(min(200, count)):  # warm up caches and the daemon's lazy paths
        client.request(method, target, body)
    samples = []
    for _ in range(count):
        started = time.perf_counter_ns()
        status, _ = client.request(method, target, body)
        samples.append((time.perf_counter_ns() - started) / 1000)
        assert status == 200, status
    return samples


def describe(samples: list[float]) -> str:
    samples = sorted(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    median, mean = statistics.median(samples), statistics.fmean(samples)
    return f"median {median:7.1f} µs   mean {mean:7.1f} µs   p99 {p99:7.1f} µs"


def free_starts(days: int, first_offset: int = 2) -> list[tuple[str, str]]:
    """Non-overlapping 30-minute starts for anna (09:00-18:00) and ben (10:00-16:00, break 12:00-12:30)."""
    today = dt.datetime.now(ZONE).date()
    starts = []
    for offset in range(first_offset, first_offset + days):
        day = (today + dt.timedelta(days=offset)).isoformat()
        for hour in range(9, 18):
            for minute in (0, 30):
                starts.append(("anna", f"{day}T{hour:02d}:{minute:02d}"))
        for hour in list(range(10, 12)) + list(range(13, 16)):
            for minute in (0, 30):
                starts.append(("ben", f"{day}T{hour:02d}:{minute:02d}"))
        starts.append(("ben", f"{day}T12:30"))
    return starts


class RawSQLite:
    """The booking's transaction shape in Python's sqlite3 (WAL, synchronous=FULL), continued across rounds."""

    def __init__(self, directory: Path):
        self.db = sqlite3.connect(directory / "baseline.sqlite", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript("""
            CREATE TABLE bookings (id TEXT PRIMARY KEY, staff_id TEXT NOT NULL, status TEXT NOT NULL,
                start_at INTEGER NOT NULL, end_at INTEGER NOT NULL, busy_start INTEGER NOT NULL,
                busy_end INTEGER NOT NULL, services TEXT NOT NULL, customer TEXT NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE INDEX bookings_active_busy ON bookings(busy_start) WHERE status IN ('held', 'confirmed');
            CREATE TABLE events (cursor INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, at INTEGER NOT NULL,
                data TEXT NOT NULL);
            CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, payload TEXT NOT NULL,
                due_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending', created_at INTEGER NOT NULL);
        """)
        self.done = 0

    def rate(self, count: int) -> float:
        """Transactions per second over `count` more bookings."""
        base = 2_000_000_000
        started = time.perf_counter()
        for index in range(self.done, self.done + count):
            start = base + index * 1800
            self.db.execute("BEGIN IMMEDIATE")
            clash = self.db.execute(
                "SELECT count(*) FROM bookings WHERE staff_id = ? AND status IN ('held','confirmed') "
                "AND busy_start < ? AND busy_end > ?", ("anna", start + 1800, start)).fetchone()[0]
            assert clash == 0
            booking_id = f"bk_{index:08x}"
            self.db.execute(
                "INSERT INTO bookings VALUES (?, 'anna', 'confirmed', ?, ?, ?, ?, '[\"haircut\"]', 'c', ?)",
                (booking_id, start, start + 1800, start, start + 1800, int(time.time())))
            self.db.execute("INSERT INTO events (type, at, data) VALUES ('booking.created', ?, ?)",
                            (int(time.time()), json.dumps({"id": booking_id})))
            self.db.execute("INSERT INTO outbox (kind, payload, due_at, created_at) VALUES ('notify', ?, ?, ?)",
                            (json.dumps({"id": booking_id}), int(time.time()), int(time.time())))
            self.db.execute("COMMIT")
        self.done += count
        return count / (time.perf_counter() - started)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (from /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def outbox_drained(db_path: Path, timeout: float = 60) -> None:
    """Waits until no notification job is due, so the CPU the daemon spent on a load includes its deliveries."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = db.execute("SELECT count(*) FROM outbox WHERE state = 'pending' AND kind LIKE 'notify.%' "
                          "AND due_at <= strftime('%s', 'now')").fetchone()[0]
        if left == 0:
            break
        time.sleep(0.05)
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slotd", default=os.environ.get("SLOTD"))
    parser.add_argument("--requests", type=int, default=3000, help="round trips per measured request kind")
    parser.add_argument("--bookings", type=int, default=600, help="sequential bookings to create")
    args = parser.parse_args()
    slotd = args.slotd
    if not slotd:
        release = ROOT / ".build" / "release" / "slotd"
        slotd = str(release if release.exists() else ROOT / ".build" / "debug" / "slotd")
    if not os.access(slotd, os.X_OK):
        print(f"slotd not found at {slotd}: build it or pass --slotd", file=sys.stderr)
        return 2

    directory = Path(tempfile.mkdtemp(prefix="slotd-bench-", dir="/tmp"))
    shutil.copytree(RULES, directory / "rules")
    sock_path = str(directory / "slotd.sock")
    log = open(directory / "slotd.log", "wb")
    proc = subprocess.Popen([slotd, "--rules", str(directory / "rules"), "--db", str(directory / "slotd.sqlite"),
                             "--socket", sock_path], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                probe = KeepAlive(sock_path)
                status, _ = probe.request("GET", "/v1/health")
                probe.close()
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                print("slotd did not start; log:\n" + (directory / "slotd.log").read_text(), file=sys.stderr)
                return 1
            time.sleep(0.05)
        time.sleep(1.0)
        idle_start = memory_line(proc.pid)
        idle_start_rss = rss_kib(proc.pid) / 1024
        idle_start_maps = mapping_breakdown(proc.pid)
        day = (dt.datetime.now(ZONE).date() + dt.timedelta(days=3)).isoformat()
        print(f"slotd: {slotd}")
        print(f"python {sys.version.split()[0]} client, one keep-alive connection, {args.requests} requests each\n")

        client = KeepAlive(sock_path)
        ping = timed(client, "GET", "/_ping", args.requests)
        one_day = timed(client, "GET", f"/v1/slots?service=haircut&staff=anna&from={day}&to={day}", args.requests)
        week_to = (dt.date.fromisoformat(day) + dt.timedelta(days=6)).isoformat()
        week_any = timed(client, "GET", f"/v1/slots?service=haircut&from={day}&to={week_to}", args.requests // 3)
        health = timed(client, "GET", "/v1/health", args.requests)
        fresh_ping = fresh_connections(sock_path, "/_ping", args.requests // 3)
        fresh_slots = fresh_connections(
            sock_path, f"/v1/slots?service=haircut&staff=anna&from={day}&to={day}", args.requests // 3)
        echo = calibration(args.requests)
        print("1. round trips over the socket")
        print(f"   client alone (python echo server) {describe(echo)}")
        print(f"   GET /_ping (bare)                 {describe(ping)}")
        print(f"   GET /v1/health                    {describe(health)}")
        print(f"   GET /v1/slots 1 day, anna         {describe(one_day)}")
        print(f"   GET /v1/slots 7 days, any         {describe(week_any)}")
        print(f"   new connection each: /_ping       {describe(fresh_ping)}")
        print(f"   new connection each: slots 1 day  {describe(fresh_slots)}")
        ratio = statistics.median(one_day) / statistics.median(ping)
        fresh_ratio = statistics.median(fresh_slots) / statistics.median(fresh_ping)
        print(f"   slot query / bare request: {ratio:.2f}x keep-alive, {fresh_ratio:.2f}x new connections"
              f"   goal <= 2x: {verdict(ratio <= 2)} (keep-alive), {verdict(fresh_ratio <= 2)} (new connections)\n")

        starts = free_starts(days=85)
        sequential = starts[: args.bookings]
        concurrent = starts[args.bookings: args.bookings * 2]
        raw = RawSQLite(directory)
        # Rounds of daemon bookings, each next to a round of raw transactions at the same moment: the machine's
        # speed drifts within a run, and a ratio of neighbours drifts less than a ratio of two distant figures.
        rounds = 4
        per_round = max(1, len(sequential) // rounds)
        failures, seq_rates, raw_rates, ratios = 0, [], [], []
        cpu_before = cpu_seconds(proc.pid)
        for round_index in range(rounds):
            part = sequential[round_index * per_round:(round_index + 1) * per_round]
            started = time.perf_counter()
            for index, (staff, start) in enumerate(part):
                body = json.dumps({"service": "haircut", "staff": staff, "start": start,
                                   "customer": {"name": f"Bench {round_index}-{index}"}}).encode()
                status, _ = client.request("POST", "/v1/bookings", body)
                failures += status != 201
            seq_rates.append(len(part) / (time.perf_counter() - started))
            raw_rates.append(raw.rate(len(part)))
            ratios.append(seq_rates[-1] / raw_rates[-1])
        outbox_drained(directory / "slotd.sqlite")
        cpu_per_booking = (cpu_seconds(proc.pid) - cpu_before) / (per_round * rounds) * 1e6
        seq_rate, baseline, seq_ratio = (statistics.median(seq_rates), statistics.median(raw_rates),
                                         statistics.median(ratios))

        errors = [0]
        def worker(part: list[tuple[str, str]]) -> None:
            own = KeepAlive(sock_path)
            for staff, start in part:
                body = json.dumps({"service": "haircut", "staff": staff, "start": start,
                                   "customer": {"name": "Bench"}}).encode()
                status, _ = own.request("POST", "/v1/bookings", body)
                if status != 201:
                    errors[0] += 1
            own.close()
        threads = [threading.Thread(target=worker, args=(concurrent[i::4],)) for i in range(4)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        conc_rate = len(concurrent) / (time.perf_counter() - started)
        conc_baseline = raw.rate(len(concurrent) // 2)
        conc_ratio = conc_rate / conc_baseline
        print("2. booking creates over the socket (durable: acknowledged after commit)")
        print(f"   sequential, 1 connection:  {seq_rate:8.0f} bookings/s  median of {rounds} rounds"
              f" ({per_round * rounds} bookings, {failures} not 201)")
        print(f"   raw sqlite3, same tx shape, WAL + synchronous=FULL, a round after each: {baseline:8.0f} tx/s"
              f"  (rounds: {', '.join(f'{r:.0f}' for r in raw_rates)})")
        print(f"   daemon / raw per round: {', '.join(f'{r * 100:.0f} %' for r in ratios)}")
        print(f"   daemon CPU per sequential booking, its notification fan-out and delivery included:"
              f" {cpu_per_booking:.0f} µs")
        print(f"   4 concurrent connections:  {conc_rate:8.0f} bookings/s  ({len(concurrent)} bookings,"
              f" {errors[0]} not 201), raw right after: {conc_baseline:.0f} tx/s")
        booking_us, raw_us, ping_us = 1e6 / seq_rate, 1e6 / baseline, statistics.median(ping)
        print(f"   one sequential booking: {booking_us:.0f} µs = bare request {ping_us:.0f} µs"
              f" + the raw transaction {raw_us:.0f} µs + {booking_us - ping_us - raw_us:.0f} µs of the daemon's own"
              " work (decode, validate, check, encode, thread hops, the outbox worker's share of the CPU)")
        print(f"   daemon / raw: {seq_ratio * 100:.0f} % sequential (median of rounds),"
              f" {conc_ratio * 100:.0f} % concurrent   goal >= 50 %:"
              f" {verdict(seq_ratio >= 0.5)} (sequential), {verdict(conc_ratio >= 0.5)} (concurrent)\n")
        client.close()

        time.sleep(2.0)
        idle_after = memory_line(proc.pid)
        idle_after_rss = rss_kib(proc.pid) / 1024
        print("3. resident memory of slotd (VmRSS from /proc/PID/status: what the kernel reports)")
        print(f"   idle after start: {idle_start}   goal < 30 MB: {verdict(idle_start_rss < 30)}")
        print(f"   idle after load:  {idle_after}   goal < 30 MB: {verdict(idle_after_rss < 30)}")
        print("   resident by mapping, idle after start (smaps):")
        for line in idle_start_maps:
            print(f"     {line}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(15)
                print(f"\nslotd stopped with exit status {code}")
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                print("\nslotd did not stop on SIGTERM within 15 s; killed")
        log.close()
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
