"""Soak: a real slotd under mixed load for minutes, its memory sampled, its latencies and errors counted.

Clients (threads) query slots, book, list, cancel, subscribe to events and drop, and send requests or read answers
slowly, each loop bounded in count and time. Every few seconds the daemon's RSS is read from /proc. At the end:
p50/p99 latency per route, the status codes seen (only 2xx and the expected 409/422 are allowed; a 5xx or a
connection error is a failure), the least-squares slope of RSS after the warm-up (flat = no growth trend), and a
PNG plot of RSS over time (matplotlib, Agg).

Importable (`run_soak`, used by test_reliability.py for ~30 s) and a script (`scripts/soak --minutes 10`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from conftest import RULES, ROOT, SHOP_ZONE, Daemon, UnixHTTPConnection  # noqa: E402
from openapi_contract import CONTRACT  # noqa: E402

EXPECTED_REFUSALS = (409, 422)
NO_ANSWER = (OSError, http.client.HTTPException)


@dataclass
class Tally:
    """Latencies per route, statuses per route, and failures, shared by the client threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    failures: list[str] = field(default_factory=list)

    def record(self, route: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies[route].append(seconds)
            self.statuses[route][status] += 1
            if not (200 <= status < 300 or status in EXPECTED_REFUSALS):
                self.failures.append(f"{route}: status {status}")

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)


class Load:
    """The soak's clients: each method is one client's loop, run on its own thread until the deadline."""

    def __init__(self, daemon: Daemon, deadline: float, tally: Tally, seed: int):
        self.socket = daemon.socket
        self.deadline = deadline
        self.tally = tally
        self.seed = seed
        self.booked: list[str] = []
        self.booked_lock = threading.Lock()
        today = dt.datetime.now(SHOP_ZONE).date()
        self.days = [(today + dt.timedelta(days=offset)).isoformat() for offset in range(2, 60)]

    def running(self, iteration: int, limit: int) -> bool:
        return iteration < limit and time.monotonic() < self.deadline

    def request(self, route: str, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes] | None:
        """One request on its own connection, timed to the last byte; the answer is checked against the
        document (outside the timing). None when the daemon did not answer (counted as a failure)."""
        began = time.perf_counter()
        conn = UnixHTTPConnection(self.socket, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            content_type = (resp.getheader("content-type") or "").split(";")[0].strip()
        except NO_ANSWER as error:
            self.tally.fail(f"{route}: no answer ({error!r})")
            return None
        finally:
            conn.close()
        self.tally.record(route, resp.status, time.perf_counter() - began)
        if problem := CONTRACT.violation(method, path, resp.status, content_type, data):
            self.tally.fail(f"{route}: answer breaks openapi.yaml: {problem}")
        return resp.status, data

    def json_request(self, route: str, method: str, path: str, payload: dict | None = None):
        import json
        body = json.dumps(payload).encode() if payload is not None else None
        answer = self.request(route, method, path, body, {"Content-Type": "application/json"} if body else None)
        return (answer[0], json.loads(answer[1])) if answer and answer[1] else answer

    # MARK: - Clients

    def slot_reader(self, index: int) -> None:
        rng = random.Random(self.seed + index)
        iteration = 0
        while self.running(iteration, 200_000):
            day = rng.choice(self.days)
            staff = rng.choice(["anna", "ben", "any"])
            service = rng.choice(["haircut", "beard_trim"])
            self.request("GET /v1/slots", "GET", f"/v1/slots?service={service}&from={day}&to={day}&staff={staff}")
            iteration += 1

    def booker(self, index: int) -> None:
        rng = random.Random(self.seed + 100 + index)
        iteration = 0
        while self.running(iteration, 100_000):
            quarter = rng.randrange(0, 34)
            start = f"{rng.choice(self.days)}T{9 + quarter // 4:02d}:{quarter % 4 * 15:02d}"
            payload = {"service": rng.choice(["haircut", "beard_trim"]), "start": start,
                       "staff": rng.choice(["anna", "ben"]), "customer": {"name": f"Soak {index}-{iteration}"}}
            answer = self.json_request("POST /v1/bookings", "POST", "/v1/bookings", payload)
            if answer and answer[0] == 201:
                with self.booked_lock:
                    self.booked.append(answer[1]["id"])
            iteration += 1

    def canceller(self, index: int) -> None:
        """Cancels what the bookers made (so the calendar never fills up), and reads bookings back."""
        rng = random.Random(self.seed + 200 + index)
        iteration = 0
        while self.running(iteration, 100_000):
            with self.booked_lock:
                booking = self.booked.pop(rng.randrange(len(self.booked))) if self.booked else None
            if booking is None:
                day = rng.choice(self.days)
                self.request("GET /v1/bookings", "GET", f"/v1/bookings?from={day}&to={day}")
            else:
                self.request("GET /v1/bookings/{id}", "GET", f"/v1/bookings/{booking}")
                self.json_request("POST /v1/bookings/{id}/cancel", "POST", f"/v1/bookings/{booking}/cancel",
                                  {"reason": "soak"})
            iteration += 1

    def subscriber(self, index: int) -> None:
        """Connects to the event stream, reads a few lines (or none), and drops the connection."""
        rng = random.Random(self.seed + 300 + index)
        iteration = 0
        while self.running(iteration, 20_000):
            began = time.perf_counter()
            conn = UnixHTTPConnection(self.socket, timeout=30)
            try:
                conn.request("GET", "/v1/events")
                resp = conn.getresponse()
                self.tally.record("GET /v1/events (headers)", resp.status, time.perf_counter() - began)
                for _ in range(rng.randrange(0, 5)):
                    if not resp.readline():
                        break
            except NO_ANSWER as error:
                self.tally.fail(f"GET /v1/events: no answer ({error!r})")
            finally:
                conn.close()
            iteration += 1

    def slow_client(self, index: int) -> None:
        """Sends a request a few bytes at a time, then reads the answer a few bytes at a time."""
        rng = random.Random(self.seed + 400 + index)
        iteration = 0
        while self.running(iteration, 5_000):
            day = rng.choice(self.days)
            request = (f"GET /v1/slots?service=haircut&from={day}&to={day} HTTP/1.1\r\nHost: localhost\r\n"
                       "Connection: close\r\n\r\n").encode()
            began = time.perf_counter()
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(30)
            pause = threading.Event()
            try:
                sock.connect(self.socket)
                for offset in range(0, len(request), 16):
                    sock.sendall(request[offset:offset + 16])
                    pause.wait(0.02)  # the client's own slowness, not a wait for the daemon
                answer = b""
                while chunk := sock.recv(256):
                    answer += chunk
                    pause.wait(0.005)
                status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
                self.tally.record("slow GET /v1/slots", status, time.perf_counter() - began)
            except NO_ANSWER as error:
                self.tally.fail(f"slow client: no answer ({error!r})")
            finally:
                sock.close()
            iteration += 1


# MARK: - Memory


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def slope_per_minute(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS (KiB) over time, in KiB per minute."""
    if len(samples) < 2:
        return 0.0
    times = [t for t, _ in samples]
    values = [v for _, v in samples]
    mean_t, mean_v = statistics.fmean(times), statistics.fmean(values)
    spread = sum((t - mean_t) ** 2 for t in times)
    if spread == 0:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in zip(times, values)) / spread * 60


@dataclass
class SoakReport:
    seconds: float
    samples: list[tuple[float, int]]
    warmup: float
    tally: Tally
    build: str

    @property
    def after_warmup(self) -> list[tuple[float, int]]:
        return [(t, v) for t, v in self.samples if t >= self.warmup]

    @property
    def slope(self) -> float:
        return slope_per_minute(self.after_warmup)

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.tally.latencies.values())

    def lines(self) -> list[str]:
        rss = [v for _, v in self.after_warmup] or [0]
        out = [f"soak: {self.seconds:.0f} s on {self.build}, {self.requests} requests, "
               f"{len(self.tally.failures)} unexpected errors",
               f"RSS after {self.warmup:.0f} s warm-up: {min(rss) / 1024:.1f}–{max(rss) / 1024:.1f} MiB, "
               f"slope {self.slope:+.1f} KiB/min ({len(self.after_warmup)} samples)",
               f"{'route':34} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses"]
        for route in sorted(self.tally.latencies):
            values = sorted(self.tally.latencies[route])
            statuses = " ".join(f"{code}×{count}" for code, count in sorted(self.tally.statuses[route].items()))
            out.append(f"{route:34} {len(values):9d} {percentile(values, 50) * 1000:8.1f} "
                       f"{percentile(values, 99) * 1000:8.1f}  {statuses}")
        out += [f"unexpected: {failure}" for failure in self.tally.failures[:20]]
        return out

    def plot(self, path: Path) -> Path:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(7, 3.2), dpi=100)
        axes.plot([t / 60 for t, _ in self.samples], [v / 1024 for _, v in self.samples], lw=1.2,
                  label="slotd RSS")
        if after := self.after_warmup:
            first, last = after[0][0], after[-1][0]
            mean_t = statistics.fmean(t for t, _ in after)
            mean_v = statistics.fmean(v for _, v in after)
            line = [(t, mean_v + self.slope / 60 * (t - mean_t)) for t in (first, last)]
            axes.plot([t / 60 for t, _ in line], [v / 1024 for _, v in line], "--", lw=1,
                      label=f"trend after warm-up: {self.slope:+.0f} KiB/min")
        axes.axvspan(0, self.warmup / 60, color="0.9", label="warm-up")
        axes.set_xlabel("minutes")
        axes.set_ylabel("RSS (MiB)")
        axes.set_ylim(bottom=0)
        axes.set_title(f"slotd soak, {self.seconds / 60:.0f} min mixed load ({self.build})", fontsize=10)
        axes.legend(fontsize=8, loc="lower right")
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
        plt.close(figure)
        return path


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def run_soak(daemon: Daemon, seconds: float, warmup: float, sample_every: float = 2.0, seed: int = 1,
             build: str = "debug build") -> SoakReport:
    """Runs the load on a started daemon for `seconds`, sampling its RSS; the daemon keeps running."""
    tally = Tally()
    began = time.monotonic()
    load = Load(daemon, began + seconds, tally, seed)
    clients = ([(load.slot_reader, i) for i in range(3)] + [(load.booker, i) for i in range(2)]
               + [(load.canceller, i) for i in range(2)] + [(load.subscriber, i) for i in range(2)]
               + [(load.slow_client, i) for i in range(2)])
    threads = [threading.Thread(target=target, args=(index,), daemon=True) for target, index in clients]
    for thread in threads:
        thread.start()
    samples: list[tuple[float, int]] = []
    tick = threading.Event()
    while (now := time.monotonic()) < began + seconds:
        if not daemon.running:
            tally.fail(f"slotd exited with {daemon.proc.returncode} during the soak")
            break
        samples.append((now - began, rss_kib(daemon.proc.pid)))
        tick.wait(min(sample_every, began + seconds - now))  # the sampling period, not a wait for state
    for thread in threads:
        thread.join(60)
        if thread.is_alive():
            tally.fail(f"a client ({thread.name}) was still running 60 s after the deadline")
    return SoakReport(time.monotonic() - began, samples, warmup, tally, build)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="how long (default 10)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds left out of the slope (default: a "
                        "fifth of the run, at most 120)")
    parser.add_argument("--plot", default=str(ROOT / "docs" / "soak-rss.png"), help="where the PNG goes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slotd", default=os.environ.get("SLOTD", str(ROOT / ".build" / "debug" / "slotd")))
    args = parser.parse_args(argv)
    if not os.access(args.slotd, os.X_OK):
        parser.error(f"no slotd binary at {args.slotd} — run `swift build` or pass --slotd")
    seconds = args.minutes * 60
    warmup = args.warmup if args.warmup is not None else min(120.0, seconds / 5)
    build = "release build" if "release" in args.slotd else "debug build"
    with tempfile.TemporaryDirectory(prefix="slotd-soak-", dir="/tmp") as directory:
        daemon = Daemon(args.slotd, Path(directory), rules=RULES).start()
        try:
            report = run_soak(daemon, seconds, warmup, seed=args.seed, build=build)
        finally:
            code = daemon.stop()
    for line in report.lines():
        print(line)
    print(f"RSS plot: {report.plot(Path(args.plot))}")
    if code != 0:
        print(f"slotd exited {code} on SIGTERM", file=sys.stderr)
    return 1 if report.tally.failures or code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
