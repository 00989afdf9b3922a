"""Bookings per second through slotd on PostgreSQL (3 daemons on one database) next to slotd on SQLite (one
daemon), with 1 and 16 concurrent clients, each booking distinct free slots over the socket (issue 16).

Usage: SLOTD_TEST_POSTGRES=postgres://… python3 Benchmarks/postgres_bookings.py [seconds]
(scripts/postgres-cluster start DIR prints such a URL). Figures, not a test.
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "IntegrationTests"))

from conftest import ROOT, Client, Daemon, future_day, wall  # noqa: E402
from postgres_cluster import fresh_database  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
SLOTD = str(ROOT / ".build" / "debug" / "slotd")
TIMES = [f"{h:02d}:{m:02d}" for h in range(9, 18) for m in (0, 30)]


def start(db: str) -> Daemon:
    directory = Path(tempfile.mkdtemp(prefix="slotd-bench-", dir="/tmp"))
    directory.chmod(0o755)
    daemon = Daemon(SLOTD, directory)
    daemon.db = db
    return daemon.start()


def run(daemons: list[Daemon], clients: int) -> float:
    slots = iter((day, t) for day in itertools.count(2) for t in TIMES)
    lock = threading.Lock()
    done = [0]
    deadline = time.monotonic() + SECONDS

    def worker(index: int) -> None:
        client = Client(daemons[index % len(daemons)].socket, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                day, time_of_day = next(slots)
            if day > 88:
                return
            resp = client.book(wall(future_day(day), time_of_day), name="Bench")
            if resp.status == 201:
                with lock:
                    done[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.monotonic() - started)


def main() -> None:
    for clients in (1, 16):
        trio = [start(fresh_database())]
        trio += [start(trio[0].db) for _ in range(2)]
        sqlite = start(str(Path(tempfile.mkdtemp(prefix="slotd-bench-", dir="/tmp")) / "slotd.sqlite"))
        try:
            pg = run(trio, clients)
            lite = run([sqlite], clients)
        finally:
            for daemon in trio + [sqlite]:
                daemon.stop()
        print(f"{clients:2d} clients: PostgreSQL (3 daemons) {pg:7.1f} bookings/s   SQLite (1 daemon) {lite:7.1f}/s")


if __name__ == "__main__":
    os.environ.setdefault("SLOTD_TEST_POSTGRES", "")
    main()
