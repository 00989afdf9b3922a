#!/usr/bin/env python3
"""The live slot feed's fan-out on the public listener: prints figures, asserts nothing.

    python3 Benchmarks/web_fanout_bench.py [--slotd PATH] [--clients 500] [--bookings 10] [--processes 4]

Uses `SLOTD` or `--slotd`, else `.build/release/slotd` when built, else `.build/debug/slotd`. Starts a fresh slotd
with a `web:` section on a loopback port (the integration tests' rules), then:

  1. opens N Server-Sent-Events clients on the TCP listener's live slot feed (`GET /public/v1/slots?watch=true`
     for one barber and one day, what the booking page follows), spread over several client processes so that the
     clients' own parsing does not dominate what is measured, each waiting for its first `slots` event;
  2. the daemon's resident memory (VmRSS from /proc) before and after connecting them: the difference per client;
  3. books the day's free starts one after another over the Unix socket (one booking at a time, each after every
     client has seen the previous one) and takes, for every client, the time from just before the booking's
     request was sent until that client has received the first `slots` event without the booked start
     (CLOCK_MONOTONIC, which all processes share): p50, p90, p99 and max over all clients and bookings
     (goal: p99 < 250 ms), and the booking request's own round trip beside them;
  4. the daemon's CPU time (user + system from /proc) over the bookings, per booking with its fan-out, and the
     machine's load average: on a shared machine the latencies include the wait for a core.
See docs/benchmarks.md ("Live slot feed fan-out") for the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from daemon_bench import KeepAlive, cpu_seconds, rss_kib  # noqa: E402
from web_page_bench import default_slotd, percentile, start_slotd, stop_slotd  # noqa: E402

GOAL_P99_MS = 250.0
STAFF = "anna"
SERVICE = "haircut"


class FeedReader:
    """One SSE client: the response head, then chunked transfer encoding, then SSE events (`event:`/`data:`)."""

    def __init__(self, reader: asyncio.StreamReader):
        self.reader = reader
        self.chunked = False
        self.text = b""

    async def head(self) -> None:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise RuntimeError(f"the feed answered {status}: {head[:200]!r}")
        self.chunked = b"transfer-encoding: chunked" in head.lower()

    async def _more(self) -> None:
        if not self.chunked:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("the feed closed")
            self.text += data
            return
        size_line = await self.reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            raise ConnectionError("the feed ended")
        self.text += (await self.reader.readexactly(size + 2))[:size]

    async def event(self) -> tuple[str, str]:
        """The next event's type and data (comments and heartbeats skipped)."""
        while True:
            while b"\n\n" not in self.text:
                await self._more()
            block, self.text = self.text.split(b"\n\n", 1)
            kind, data = "message", []
            for line in block.decode().split("\n"):
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())
            if data:
                return kind, "\n".join(data)


async def client_group(port: int, target: str, count: int, conn) -> None:
    """`count` feed clients in one event loop; answers the coordinator's `expect <start>` with arrival times."""
    readers: list[FeedReader] = []
    writers: list[asyncio.StreamWriter] = []  # kept: a writer that is garbage-collected closes its connection
    first = ""
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write(f"GET {target} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        writers.append(writer)
        feed = FeedReader(reader)
        await feed.head()
        kind, data = await feed.event()
        if kind != "slots":
            raise RuntimeError(f"the first event is {kind}: {data[:200]}")
        first = data
        readers.append(feed)
    conn.send(("ready", first))

    async def until_gone(feed: FeedReader, start: str) -> float:
        while True:
            kind, data = await feed.event()
            if kind == "slots" and start not in data:
                return time.monotonic()

    loop = asyncio.get_running_loop()
    while True:
        message = await loop.run_in_executor(None, conn.recv)
        if message[0] == "stop":
            return
        start = message[1]
        conn.send(("armed",))
        arrivals = await asyncio.gather(*(until_gone(feed, start) for feed in readers))
        conn.send(("seen", arrivals))


def client_process(port: int, target: str, count: int, conn) -> None:
    try:
        asyncio.run(client_group(port, target, count, conn))
    except Exception as error:  # the coordinator prints it and stops
        import traceback
        conn.send(("error", traceback.format_exc()))


def log_tail(directory: Path) -> str:
    """The end of the daemon's log, to say why a feed ended."""
    return "slotd's log ends:\n" + (directory / "slotd.log").read_text()[-2000:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slotd", default=default_slotd())
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--bookings", type=int, default=10)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()

    day = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    directory = Path(tempfile.mkdtemp(prefix="slotd-fanout-", dir="/tmp"))
    extra = (f'roles:\n  "{os.getuid()}": admin\n'
             # Room for every feed client on the public listener (the default cap is 512 connections).
             f"server:\n  max_connections: {args.clients + 100}\n")
    proc, base = start_slotd(args.slotd, directory, extra_config=extra)
    port = int(base.rsplit(":", 1)[1])
    socket_path = str(directory / "slotd.sock")
    target = f"/public/v1/slots?watch=true&service={SERVICE}&staff={STAFF}&from={day}&to={day}"
    children = []
    try:
        rss_before = rss_kib(proc.pid)
        connected = time.monotonic()
        shares = [args.clients // args.processes + (1 if i < args.clients % args.processes else 0)
                  for i in range(args.processes)]
        for share in shares:
            parent, child = multiprocessing.Pipe()
            process = multiprocessing.Process(target=client_process, args=(port, target, share, child), daemon=True)
            process.start()
            children.append((process, parent))
        firsts = []
        for _, conn in children:
            message = conn.recv()
            if message[0] == "error":
                sys.exit(f"a client process failed: {message[1]}\n{log_tail(directory)}")
            firsts.append(message[1])
        connect_seconds = time.monotonic() - connected
        rss_after = rss_kib(proc.pid)
        starts = [slot["start"] for slot in json.loads(firsts[0])["slots"]]
        print(f"slotd: {args.slotd}")
        print(f"{args.clients} SSE clients on {target.split('?')[0]} ({args.processes} client processes) connected "
              f"in {connect_seconds:.2f} s; {len(starts)} free starts on {day}")
        print(f"daemon RSS: {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB with the clients: "
              f"{(rss_after - rss_before) / args.clients:.1f} KiB per client")

        client = KeepAlive(socket_path)
        latencies: list[float] = []
        round_trips: list[float] = []
        per_booking: list[tuple[float, float]] = []
        cpu_before = cpu_seconds(proc.pid)
        # Every other start: a 30-minute haircut at a free start never overlaps the next booked one.
        for start in starts[::2][: args.bookings]:
            for _, conn in children:
                conn.send(("expect", start))
            for _, conn in children:
                conn.recv()  # armed
            body = json.dumps({"service": SERVICE, "staff": STAFF, "start": start[:16],
                               "customer": {"name": "Fan Out"}}).encode()
            sent = time.monotonic()
            status, answer = client.request("POST", "/v1/bookings", body)
            answered = time.monotonic()
            if status != 201:
                sys.exit(f"booking {start} answered {status}: {answer[:300]!r}")
            round_trips.append((answered - sent) * 1000)
            seen: list[float] = []
            for _, conn in children:
                message = conn.recv()
                if message[0] == "error":
                    sys.exit(f"a client process failed: {message[1]}\n{log_tail(directory)}")
                seen += message[1]
            booking_latencies = [(t - sent) * 1000 for t in seen]
            latencies += booking_latencies
            per_booking.append((statistics.median(booking_latencies), max(booking_latencies)))
        client.close()
        cpu = cpu_seconds(proc.pid) - cpu_before
        p99 = percentile(latencies, 0.99)
        print(f"delivery latency over {len(per_booking)} bookings x {args.clients} clients ({len(latencies)} "
              f"deliveries): p50 {percentile(latencies, 0.5):.1f} ms, p90 {percentile(latencies, 0.9):.1f} ms, "
              f"p99 {p99:.1f} ms, max {max(latencies):.1f} ms (goal p99 < {GOAL_P99_MS:.0f} ms: "
              f"{'met' if p99 < GOAL_P99_MS else 'NOT met'})")
        print("per booking (median / last client), ms: "
              + ", ".join(f"{median:.0f}/{last:.0f}" for median, last in per_booking))
        print(f"the booking's own round trip over the Unix socket: median {statistics.median(round_trips):.1f} ms, "
              f"max {max(round_trips):.1f} ms")
        print(f"daemon CPU over the bookings: {cpu:.2f} s, {cpu / len(per_booking) * 1000:.0f} ms per booking with "
              f"its fan-out to {args.clients} clients (user + system); machine load average "
              f"{' / '.join(f'{value:.1f}' for value in os.getloadavg())} (1/5/15 min) on {os.cpu_count()} cores")
        print(f"daemon RSS after the bookings: {rss_kib(proc.pid) / 1024:.1f} MiB")
    finally:
        for process, conn in children:
            try:
                conn.send(("stop",))
            except OSError:
                pass
            process.join(5)
            if process.is_alive():
                process.terminate()
        stop_slotd(proc, directory)


if __name__ == "__main__":
    main()
