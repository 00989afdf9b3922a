#!/usr/bin/env python3
"""CPU per request of the slotd daemon (issue 11): prints figures, asserts nothing.

    python3 Benchmarks/cpu_bench.py [--slotd PATH] [--requests N] [--rounds R] [--stores sqlite,memory]
                                    [--outbox both|on|off]

Wall time on this shared 2-core machine moves by 2x with the neighbours' builds; the CPU time the daemon process
spends per request moves much less, so that is what this prints. For each store (SQLite at `synchronous=FULL`, and
the in-memory store `--db :memory:`, whose figures are the request path without SQLite) a fresh daemon on the
integration tests' rules serves, over one keep-alive connection, rounds of N requests of each kind:

  ping     GET /_ping: the HTTP server, router and middleware alone
  slots    GET /v1/slots for one barber and one day
  create   POST /v1/bookings, one after the other, with the notification fan-out and delivery the outbox worker
           does for each (measured until the daemon is idle again, so deferred work counts)
  cancel   POST /v1/bookings/ID/cancel of the bookings just created, with their notifications likewise

Per request it prints the daemon's user and system CPU (utime + stime of every thread, from /proc/PID/stat) and,
when `perf` can attach (root, or perf_event_paranoid <= 1), from `perf stat -p` over the same rounds: task-clock,
context switches (each hop between NIO's event loop, the Swift task pool and GRDB's queues is one or two), futex
calls, all syscalls, `fdatasync`s, page faults and `madvise` calls (glibc's malloc giving memory back). Every figure
is the median of the rounds (with the spread, min..max), so a neighbour's burst in one round does not move it.
`store share` is sqlite minus memory: what SQLite and GRDB add.

Each store runs twice (`--outbox both`, the default): once as configured by default ("+outbox": the outbox worker
fans each booking's notification out and delivers it to the `log` provider, and that work counts), and once with
`outbox: workers: 0` in a configuration file ("request": the daemon runs no outbox job, so a create's figure is the
request alone: HTTP, decoding, the engine, the store's write of the booking with its event and outbox rows, the
answer). `outbox share` is the difference: what the deferred work of one request costs.

Build the release binary first (long on a loaded machine):

    swift build -c release --product slotd --scratch-path .build-release
    python3 Benchmarks/cpu_bench.py --slotd .build-release/release/slotd
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from daemon_bench import RULES, ZONE, KeepAlive, free_starts  # noqa: E402 — the same client and rules
from slot_query_bench import start  # noqa: E402 — the same way to start a daemon

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("ping", "slots", "create", "cancel")
PERF_EVENTS = ("task-clock", "context-switches", "syscalls:sys_enter_futex", "raw_syscalls:sys_enter",
               "syscalls:sys_enter_fdatasync", "page-faults", "syscalls:sys_enter_madvise")


def cpu_ticks(pid: int) -> tuple[int, int]:
    """utime and stime of the whole process (live and ended threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def live_cpu_ns(pid: int) -> int:
    """Nanoseconds run by the live threads (schedstat): fine-grained, for telling when the daemon is idle."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError):
            pass  # the thread ended meanwhile
    return total


def wait_idle(pid: int, timeout: float = 60.0) -> None:
    """Returns once the daemon used under 1 ms of CPU in 100 ms: its outbox has caught up with the last requests."""
    deadline = time.monotonic() + timeout
    before = live_cpu_ns(pid)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = live_cpu_ns(pid)
        if now - before < 1_000_000:
            return
        before = now
    print(f"   (the daemon did not become idle within {timeout:.0f} s; figures include whatever it was doing)")


class PerfStat:
    """`perf stat -p PID` over one measured phase; `counts()` after `stop()`. Empty when perf cannot attach.
    With `record`, `perf record -g` into that file instead (a call-graph profile of the phase, no counts)."""

    def __init__(self, pid: int, directory: Path, enabled: bool, record: Path | None = None):
        self.output = directory / "perf.csv"
        self.process: subprocess.Popen | None = None
        self.recording = record is not None
        if record is not None:
            command = ["perf", "record", "-F", "15000", "-g", "-p", str(pid), "-o", str(record)]
        else:
            command = ["perf", "stat", "-x", ",", "-e", ",".join(PERF_EVENTS), "-p", str(pid), "-o", str(self.output)]
        if enabled or record is not None:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.wait_attached(pid, 1 if record is not None else len(PERF_EVENTS))

    def wait_attached(self, pid: int, per_thread: int, timeout: float = 10.0) -> None:
        """Returns once perf holds a counter for every event on every thread of `pid` (on a loaded machine that
        takes a while, and a phase started earlier is counted only in part)."""
        assert self.process is not None
        threads = len(os.listdir(f"/proc/{pid}/task"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            opened = 0
            for fd in os.listdir(f"/proc/{self.process.pid}/fd"):
                try:
                    opened += "perf_event" in os.readlink(f"/proc/{self.process.pid}/fd/{fd}")
                except OSError:
                    pass
            if opened >= threads * per_thread:
                time.sleep(0.05)  # the counters are opened disabled and enabled together right after
                return
            time.sleep(0.02)
        print(f"   (perf did not attach to all {threads} threads within {timeout:.0f} s; its counts are partial)")

    def stop(self) -> dict[str, float]:
        if self.process is None:
            return {}
        self.process.send_signal(signal.SIGINT)
        self.process.wait(60)
        if self.recording:
            return {}
        counts: dict[str, float] = {}
        for line in self.output.read_text().splitlines():
            parts = line.split(",")
            if len(parts) > 2 and parts[2] in PERF_EVENTS:
                try:
                    counts[parts[2]] = float(parts[0])
                except ValueError:
                    pass  # "<not counted>" or "<not supported>"
        return counts


def perf_usable() -> bool:
    if shutil.which("perf") is None:
        return False
    probe = subprocess.run(["perf", "stat", "-x", ",", "-e", ",".join(PERF_EVENTS), "--", "true"],
                           capture_output=True, text=True)
    return probe.returncode == 0 and "not supported" not in probe.stderr


class Bench:
    """One daemon on one store, measured kind by kind."""

    def __init__(
        self, slotd: str, store: str, requests: int, use_perf: bool, record: str | None = None, outbox: bool = True
    ):
        self.directory = Path(tempfile.mkdtemp(prefix=f"slotd-cpu-{store}-", dir="/tmp"))
        shutil.copytree(RULES, self.directory / "rules")
        db = ":memory:" if store == "memory" else None
        config = None
        if not outbox:
            # The request alone: the daemon runs no outbox job (its jobs stay pending in the store).
            config = self.directory / "slotd.yaml"
            config.write_text("outbox:\n  workers: 0\n")
        # The daemon's default log level, as in production: the booking and delivery log lines are part of the cost.
        self.proc = start(slotd, self.directory, db=db, log_level="info", config=config)
        self.client = KeepAlive(str(self.directory / "slotd.sock"))
        self.requests = requests
        self.use_perf = use_perf
        # "create" records a profile of the creates to perf-<store>-<work>-create.data (in the working directory).
        self.record = record
        self.store = store
        self.work = "+outbox" if outbox else "request"
        day = (dt.datetime.now(ZONE).date() + dt.timedelta(days=3)).isoformat()
        self.slot_query = f"/v1/slots?service=haircut&staff=anna&from={day}&to={day}"
        # Create and cancel the same starts every round: a cancelled booking frees its start.
        self.starts = free_starts(days=(requests + 28) // 29 + 1)[:requests]
        self.created: list[str] = []
        self.samples: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}

    def rss_mib(self) -> float:
        """The daemon's resident memory now (VmRSS), in MiB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def close(self) -> None:
        self.client.close()
        self.proc.terminate()
        self.proc.wait(20)
        shutil.rmtree(self.directory, ignore_errors=True)

    def send(self, kind: str, index: int, round_index: int) -> None:
        if kind == "ping":
            status, body = self.client.request("GET", "/_ping")
        elif kind == "slots":
            status, body = self.client.request("GET", self.slot_query)
        elif kind == "create":
            staff, start_at = self.starts[index]
            payload = {"service": "haircut", "staff": staff, "start": start_at,
                       "customer": {"name": f"Bench {round_index}-{index}", "email": "bench@example.com"}}
            status, body = self.client.request("POST", "/v1/bookings", json.dumps(payload).encode())
            if status == 201:
                self.created.append(json.loads(body)["id"])
        else:
            status, body = self.client.request("POST", f"/v1/bookings/{self.created[index]}/cancel", b"")
        if status not in (200, 201):
            raise RuntimeError(f"{kind} #{index}: HTTP {status}: {body[:300]!r}")

    def warm_up(self) -> None:
        """Caches, statement caches, the compiled schedule and lazy paths, once, before anything is measured."""
        for kind in KINDS:
            for index in range(min(50, self.requests)):
                self.send(kind, index, -1)
            if kind == "cancel":
                self.created.clear()
        wait_idle(self.proc.pid)

    def measure(self, kind: str, round_index: int) -> None:
        wait_idle(self.proc.pid)
        work = "outbox" if self.work == "+outbox" else "request"
        profile = Path(f"perf-{self.store}-{work}-{kind}.data") if kind == self.record else None
        perf = PerfStat(self.proc.pid, self.directory, self.use_perf, record=profile)
        user, system = cpu_ticks(self.proc.pid)
        started = time.perf_counter()
        for index in range(self.requests):
            self.send(kind, index, round_index)
        wall = time.perf_counter() - started
        if kind in ("create", "cancel"):
            wait_idle(self.proc.pid)  # the outbox's fan-out and deliveries of these requests (if it runs)
        user_after, system_after = cpu_ticks(self.proc.pid)
        counts = perf.stop()
        if kind == "cancel":
            self.created.clear()
        per_tick = 1e6 / os.sysconf("SC_CLK_TCK") / self.requests
        sample = {"user": (user_after - user) * per_tick, "sys": (system_after - system) * per_tick,
                  "wall": wall * 1e6 / self.requests}
        sample["cpu"] = sample["user"] + sample["sys"]
        for event, value in counts.items():
            sample[event] = value * (1000 if event == "task-clock" else 1) / self.requests  # msec → µs
        self.samples[kind].append(sample)


def median_spread(values: list[float], digits: int = 0) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}..{max(values):.{digits}f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slotd", default=os.environ.get("SLOTD"))
    parser.add_argument("--requests", type=int, default=400, help="requests of each kind per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stores", default="sqlite,memory", help="comma-separated: sqlite, memory")
    parser.add_argument("--outbox", choices=("both", "on", "off"), default="both",
                        help="on: the outbox runs (its work counts); off: outbox.workers 0, the request alone")
    parser.add_argument("--no-perf", action="store_true", help="skip perf stat even where it works")
    parser.add_argument("--record", choices=KINDS, help="perf record -g this kind (perf-STORE-KIND.data) instead of"
                        " counting its events")
    args = parser.parse_args()
    slotd = args.slotd
    if not slotd:
        for candidate in (ROOT / ".build-release" / "release" / "slotd", ROOT / ".build" / "release" / "slotd"):
            if candidate.exists():
                slotd = str(candidate)
                break
    if not slotd or not os.access(slotd, os.X_OK):
        print("no release slotd: swift build -c release --product slotd --scratch-path .build-release, "
              "or pass --slotd", file=sys.stderr)
        return 2
    use_perf = not args.no_perf and perf_usable()
    stores = [name.strip() for name in args.stores.split(",") if name.strip()]
    unknown = [name for name in stores if name not in ("sqlite", "memory")]
    if unknown:
        print(f"unknown store {unknown}: use sqlite and/or memory", file=sys.stderr)
        return 2
    print(f"slotd: {slotd}")
    print(f"{args.rounds} rounds x {args.requests} requests per kind and store; medians (min..max) of the rounds;"
          f" perf stat: {'yes' if use_perf else 'no (not installed or not permitted)'}")
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n")

    works = {"both": ["request", "+outbox"], "on": ["+outbox"], "off": ["request"]}[args.outbox]
    # Results by (store, work): "request" ran with outbox.workers 0, "+outbox" as configured by default.
    results: dict[tuple[str, str], dict[str, list[dict[str, float]]]] = {}
    rss: dict[tuple[str, str], float] = {}
    for store in stores:
        for work in works:
            bench = Bench(slotd, store, args.requests, use_perf, args.record, outbox=work == "+outbox")
            try:
                bench.warm_up()
                for round_index in range(args.rounds):
                    for kind in KINDS:
                        bench.measure(kind, round_index)
                rss[(store, work)] = bench.rss_mib()
            finally:
                bench.close()
            results[(store, work)] = bench.samples
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n")

    # (key, title, digits, with the spread of the rounds)
    columns = [("cpu", "CPU µs", 0, True), ("user", "user", 0, False), ("sys", "sys", 0, False),
               ("task-clock", "perf task µs", 0, True), ("context-switches", "ctx sw", 1, False),
               ("syscalls:sys_enter_futex", "futex", 1, False), ("raw_syscalls:sys_enter", "syscalls", 0, False),
               ("syscalls:sys_enter_fdatasync", "fdatasync", 2, False), ("page-faults", "faults", 1, False),
               ("syscalls:sys_enter_madvise", "madvise", 1, False), ("wall", "wall µs", 0, False)]
    widths = [18 if spread else 9 for *_, spread in columns]
    print("per request, daemon process (work +outbox: create and cancel include their outbox notification work;")
    print("request: outbox.workers 0, the request alone); medians of the rounds, (min..max) where shown:")
    print(f"{'kind':7} {'store':7} {'work':8}"
          + "".join(f" {title:>{width}}" for (_, title, *_), width in zip(columns, widths)))
    for kind in KINDS:
        for store, work in results:
            samples = results[(store, work)][kind]
            cells = []
            for key, _, digits, spread in columns:
                values = [sample[key] for sample in samples if key in sample]
                if not values:
                    cells.append("-")
                elif spread:
                    cells.append(median_spread(values, digits))
                else:
                    cells.append(f"{statistics.median(values):.{digits}f}")
            print(f"{kind:7} {store:7} {work:8}"
                  + "".join(f" {cell:>{width}}" for cell, width in zip(cells, widths)))

    def median(store: str, work: str, kind: str) -> float | None:
        """perf's task-clock where it counted (finer than the tick counts), else utime + stime."""
        samples = results.get((store, work), {}).get(kind, [])
        for key in ("task-clock", "cpu"):
            values = [sample[key] for sample in samples if key in sample]
            if values:
                return statistics.median(values)
        return None

    print("\nresident memory after the rounds: "
          + ", ".join(f"{store} {work} {mib:.0f} MiB" for (store, work), mib in rss.items()))
    print("\nshares (median CPU µs per request; perf task-clock where measured):")
    for kind in ("create", "cancel"):
        for work in works:
            sqlite_cpu, memory_cpu = median("sqlite", work, kind), median("memory", work, kind)
            if sqlite_cpu is not None and memory_cpu is not None:
                print(f"  {kind:7} {work:8} before the store (memory) {memory_cpu:6.0f}   SQLite + GRDB"
                      f" {sqlite_cpu - memory_cpu:6.0f}   total (sqlite) {sqlite_cpu:6.0f}")
        for store in stores:
            alone, whole = median(store, "request", kind), median(store, "+outbox", kind)
            if alone is not None and whole is not None:
                print(f"  {kind:7} {store:8} request alone {alone:6.0f}   outbox work {whole - alone:6.0f}"
                      f"   request + outbox {whole:6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
