#!/usr/bin/env python3
"""A slot query's round trip next to the size of the store (issue 10): prints figures, asserts nothing.

    python3 Benchmarks/slot_query_bench.py [--slotd PATH] [--seeder PATH] [--bookings N] [--requests N]

Two daemons on the same rules (10 barbers, a 15-minute grid): one on an empty store, one on a store seeded with
20,000 bookings (8 a day per barber, Monday to Saturday, the newest 50 days ahead, the rest in the past and still
active, as in a shop that never marks bookings completed), seeded by `SlotQueryBenchmarks --seed`. Each query runs
over a keep-alive connection to each daemon, request by request in alternation, so both see the same moments of
this shared machine. Goals: a one-day, one-barber query on a busy day at most 1.2x the empty store's; a 90-day "any" query under
2x. Build release binaries for real figures:

    swift build -c release --product slotd && swift build -c release --product SlotQueryBenchmarks
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from daemon_bench import KeepAlive  # noqa: E402 — the same minimal client as the daemon benchmark

ROOT = Path(__file__).resolve().parents[1]


def built(name: str) -> str:
    for configuration in ("release", "debug"):
        path = ROOT / ".build" / configuration / name
        if path.exists():
            return str(path)
    raise SystemExit(f"{name} is not built: swift build -c release --product {name}")


def start(slotd: str, directory: Path, db: str | None = None, log_level: str = "warning") -> subprocess.Popen:
    """A daemon on `directory`'s rules and socket, on `db` (default `directory/slotd.sqlite`; `:memory:` works)."""
    socket_path = directory / "slotd.sock"
    log = open(directory / "slotd.log", "ab")
    proc = subprocess.Popen(
        [slotd, "--rules", str(directory / "rules"), "--db", db or str(directory / "slotd.sqlite"), "--socket",
         str(socket_path), "--log-level", log_level], stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if socket_path.exists():
            try:
                KeepAlive(str(socket_path)).request("GET", "/_ping")
                return proc
            except OSError:
                pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"slotd did not start on {directory}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slotd", default=os.environ.get("SLOTD"))
    parser.add_argument("--seeder", default=None)
    parser.add_argument("--bookings", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=600, help="round trips per query and store")
    args = parser.parse_args()
    slotd = args.slotd or built("slotd")
    seeder = args.seeder or built("SlotQueryBenchmarks")
    print(f"slotd: {slotd}")

    work = Path(tempfile.mkdtemp(prefix="slotq-", dir="/tmp"))
    stores = {"empty": work / "empty", f"{args.bookings} bookings": work / "full"}
    started = time.monotonic()
    for (name, directory), count in zip(stores.items(), (0, args.bookings)):
        subprocess.run([seeder, "--seed", str(directory), "--bookings", str(count)], check=True,
                       stdout=subprocess.DEVNULL)
        # As in a shop whose outbox has caught up: otherwise the daemon spends the whole measurement sending the
        # seeded bookings' notifications (to the log), which is not what a slot query costs.
        with sqlite3.connect(directory / "slotd.sqlite") as database:
            database.execute("UPDATE outbox SET state = 'done' WHERE state = 'pending'")
    print(f"seeded in {time.monotonic() - started:.1f}s")
    procs = {name: start(slotd, directory) for name, directory in stores.items()}
    try:
        today = dt.datetime.now(ZoneInfo("Europe/Berlin")).date()
        busy = next(today + dt.timedelta(days=n) for n in (2, 3, 4) if (today + dt.timedelta(days=n)).weekday() != 6)
        first, last = today + dt.timedelta(days=1), today + dt.timedelta(days=90)
        queries = [
            ("one day, one barber (busy day)", f"/v1/slots?service=haircut&staff=barber0&from={busy}&to={busy}", 1.2),
            ("90 days, any barber", f"/v1/slots?service=haircut&from={first}&to={last}", 2.0),
        ]
        clients = {name: KeepAlive(str(directory / "slotd.sock")) for name, directory in stores.items()}
        for title, target, goal in queries:
            samples: dict[str, list[float]] = {name: [] for name in stores}
            sizes: dict[str, int] = {}
            for _ in range(10):  # warm-up: compiled schedules, statement caches
                for name, client in clients.items():
                    client.request("GET", target)
            # Request by request, alternating which store goes first: both see the same moments of a shared,
            # noisy machine, so their ratio is fair even when the absolute times move.
            names = list(clients)
            for index in range(args.requests):
                for name in names if index % 2 == 0 else reversed(names):
                    began = time.perf_counter()
                    status, body = clients[name].request("GET", target)
                    samples[name].append((time.perf_counter() - began) * 1e6)
                    assert status == 200, (status, body[:200])
                    sizes[name] = body.count(b'"start"')
            print(f"{title}: {target}")
            medians = {}
            for name in stores:
                values = sorted(samples[name])
                medians[name] = statistics.median(values)
                print(f"  {medians[name]:9.1f} µs median  {values[len(values) * 9 // 10]:9.1f} µs p90"
                      f"  {sizes[name]:5d} slots  {name}")
            full, empty = list(stores)[1], list(stores)[0]
            ratio = medians[full] / medians[empty]
            print(f"  ratio {ratio:.2f}x (goal: at most {goal}x) — {'met' if ratio <= goal else 'NOT met'}")
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
