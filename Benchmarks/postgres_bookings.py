"""slotd on PostgreSQL against the database's own speed and against SQLite (issue 16). Prints, for 1 and 16 concurrent
clients: bookings per second through 3 daemons on one database, `pgbench` running the same transaction on the same
cluster (Benchmarks/postgres_booking.pgbench: the statements one booking sends), their ratio, and slotd on SQLite
(one daemon); each client books distinct free slots of one staff member over one keep-alive connection to the
socket, checking nothing but the status (as pgbench keeps its connections and checks nothing). Then the slot query's
round trip (one day of one staff member's slots) on PostgreSQL and on SQLite, and, when the cluster has
pg_stat_statements loaded, the statements PostgreSQL ran per booking (the booking's own and the outbox's and event
readers' work after it).

Each client count runs in rounds (`--rounds N`, default 3): slotd on a fresh database, then `pgbench` on another for
as long as slotd's run lasted, so both sides of a ratio meet the machine in the same state and over the same window
(these machines are shared: one pair can differ from the next by a fifth); every round's ratio is printed, and the
median.

Usage: SLOTD_TEST_POSTGRES=postgres://… python3 Benchmarks/postgres_bookings.py [seconds] [--rounds N] [--statements]
(scripts/postgres-cluster start DIR prints such a URL). SLOTD=… picks the slotd binary (default the debug build;
`swift build -c release --scratch-path .build-release` makes .build-release/release/slotd). `--statements` prints
only the statement count. Figures, not a test.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "IntegrationTests"))

from conftest import ROOT, Client, Daemon, future_day, wall  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from daemon_bench import KeepAlive  # noqa: E402 — the benches' lean client
from postgres_cluster import fresh_database, psql  # noqa: E402

if any(arg in ("-h", "--help") for arg in sys.argv[1:]):
    print(__doc__)
    sys.exit(0)
# `--statements`: only the statement count (a cluster with pg_stat_statements), no timing.
STATEMENTS_ONLY = "--statements" in sys.argv[1:]
ARGS = [arg for arg in sys.argv[1:] if arg != "--statements"]
ROUNDS = 3
if "--rounds" in ARGS:
    at = ARGS.index("--rounds")
    ROUNDS = max(1, int(ARGS[at + 1]))
    del ARGS[at:at + 2]
SECONDS = float(ARGS[0]) if ARGS else 10.0
SLOTD = os.environ.get("SLOTD", str(ROOT / ".build" / "debug" / "slotd"))
PGBENCH_SCRIPT = Path(__file__).resolve().parent / "postgres_booking.pgbench"
TIMES = [f"{h:02d}:{m:02d}" for h in range(9, 18) for m in (0, 30)]
ROUND_TRIPS = 200


def start(db: str) -> Daemon:
    directory = Path(tempfile.mkdtemp(prefix="slotd-bench-", dir="/tmp"))
    directory.chmod(0o755)
    daemon = Daemon(SLOTD, directory)
    daemon.db = db
    return daemon.start()


def book(daemons: list[Daemon], clients: int, seconds: float = SECONDS) -> tuple[float, int, float]:
    """Bookings per second, how many, and the seconds it took, with `clients` threads spread over `daemons`."""
    slots = iter((day, t) for day in itertools.count(2) for t in TIMES)
    lock = threading.Lock()
    done = [0]
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        # One keep-alive connection per client and no check of the answers against the API's document, as pgbench
        # keeps its connections and checks nothing: the tests' client connected anew per request and validated
        # every answer, which cost the daemon an accept per booking and took the machine's CPU from the daemons.
        client = KeepAlive(daemons[index % len(daemons)].socket)
        while time.monotonic() < deadline:
            with lock:
                day, time_of_day = next(slots)
            if day > 88:
                return
            body = {"service": "haircut", "staff": "anna", "start": wall(future_day(day), time_of_day),
                    "customer": {"name": "Bench"}}
            status, _ = client.request("POST", "/v1/bookings", json.dumps(body).encode())
            if status == 201:
                with lock:
                    done[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - started
    return done[0] / took, done[0], took


def migrated_database() -> str:
    """A fresh database with slotd's schema (a daemon started on it once)."""
    url = fresh_database()
    start(url).stop()
    return url


def pgbench(clients: int, seconds: float = SECONDS) -> float:
    """Transactions per second of the booking's statements under pgbench for `seconds` (whole ones, at least one),
    on a fresh migrated database."""
    url = migrated_database()
    out = subprocess.run(
        ["pgbench", "--no-vacuum", "--protocol=extended", f"--file={PGBENCH_SCRIPT}", f"--client={clients}",
         f"--jobs={min(clients, 2)}", f"--time={max(1, round(seconds))}", url],
        capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{out.stdout}\n{out.stderr}")
    found = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out.stdout)
    if not found:
        raise RuntimeError(f"no tps in pgbench's output:\n{out.stdout}")
    return float(found.group(1))


def slot_round_trip_ms(daemon: Daemon) -> float:
    """Median milliseconds of `GET /v1/slots` for one day of one staff member, with a few bookings that day."""
    day = future_day(95)
    for time_of_day in ("10:00", "12:30", "15:00"):
        daemon.client.book(wall(day, time_of_day), name="Busy")
    client = Client(daemon.socket, timeout=30)
    timings = []
    for _ in range(ROUND_TRIPS):
        began = time.perf_counter()
        resp = client.get(f"/v1/slots?service=haircut&from={day}&to={day}&staff=anna")
        timings.append(time.perf_counter() - began)
        assert resp.status == 200, resp
    return statistics.median(timings) * 1000


def statements_per_booking(url: str, bookings: int = 30) -> str | None:
    """Statements PostgreSQL ran per booking with 3 daemons on the database, bookings made through each in turn, all
    in (the outbox's and the event relays' work too), from pg_stat_statements (None without it)."""
    try:
        psql(url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        psql(url, "SELECT pg_stat_statements_reset()")
    except AssertionError:
        return None
    trio = [start(url) for _ in range(3)]
    try:
        psql(url, "SELECT pg_stat_statements_reset()")
        clients = [Client(daemon.socket, timeout=30) for daemon in trio]
        for index in range(bookings):
            resp = clients[index % len(clients)].book(
                wall(future_day(2 + index // len(TIMES)), TIMES[index % len(TIMES)]), name="Count")
            assert resp.status == 201, resp
        # The outbox work each booking causes runs after its answer: wait until nothing is pending and due.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and psql(
                url, "SELECT /* bench poll */ count(*) FROM outbox WHERE state = 'pending' "
                     "AND due_at <= extract(epoch FROM now())"
        ) != [["0"]]:
            time.sleep(0.2)
        rows = psql(url, "SELECT calls, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements "
                         "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                         "AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%bench poll%' "
                         # slotd_staff_busy()'s body: it runs inside the booking's INSERT, not a round trip.
                         "AND query NOT LIKE 'SELECT coalesce(range_agg(%' AND toplevel")
    finally:
        for daemon in trio:
            daemon.stop()
    total = sum(int(calls) for calls, _ in rows)
    lines = [f"{int(calls) / bookings:5.1f}  {' '.join(query.split())[:100]}"
             for calls, query in sorted(rows, key=lambda row: -int(row[0]))]
    return f"{total / bookings:.1f} statements (round trips) per booking, all in:\n    " + "\n    ".join(lines)


def main() -> None:
    if STATEMENTS_ONLY:
        print(statements_per_booking(fresh_database()) or "pg_stat_statements is not loaded in the cluster")
        return
    print(f"slotd: {SLOTD}; at most {SECONDS:g} s per figure, {ROUNDS} rounds")
    print("clients   round   slotd on PostgreSQL (3 daemons)   pgbench, same transaction and window   ratio")
    for clients in (1, 16):
        ratios = []
        for round_number in range(1, ROUNDS + 1):
            trio = [start(fresh_database())]
            trio += [start(trio[0].db) for _ in range(2)]
            try:
                pg, _, took = book(trio, clients)
            finally:
                for daemon in trio:
                    daemon.stop()
            bench = pgbench(clients, took)
            ratios.append(pg / bench)
            print(f"{clients:7d}   {round_number:5d}   {pg:21.1f} bookings/s   {bench:17.1f} tx/s in {round(took):2d} s"
                  f"      {pg / bench:5.0%}")
        sqlite = start(str(Path(tempfile.mkdtemp(prefix="slotd-bench-", dir="/tmp")) / "slotd.sqlite"))
        try:
            lite, _, _ = book([sqlite], clients)
        finally:
            sqlite.stop()
        rounds = ", ".join(f"{ratio:.0%}" for ratio in ratios)
        print(f"{clients:7d}   median ratio {statistics.median(ratios):.0%} (rounds {rounds}); "
              f"slotd on SQLite (1 daemon) {lite:.1f} bookings/s")
    on_postgres = start(fresh_database())
    on_sqlite = start(str(Path(tempfile.mkdtemp(prefix="slotd-bench-", dir="/tmp")) / "slotd.sqlite"))
    try:
        pg_ms, lite_ms = slot_round_trip_ms(on_postgres), slot_round_trip_ms(on_sqlite)
    finally:
        on_postgres.stop()
        on_sqlite.stop()
    print(f"slot query round trip (median of {ROUND_TRIPS}): PostgreSQL {pg_ms:.2f} ms   SQLite {lite_ms:.2f} ms")
    counted = statements_per_booking(fresh_database())
    print(counted or "statements per booking: load pg_stat_statements in the cluster (shared_preload_libraries) "
                     "to count them")


if __name__ == "__main__":
    main()
