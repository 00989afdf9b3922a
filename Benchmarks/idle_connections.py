#!/usr/bin/env python3
"""Idle-connection flood on slotd's socket: prints figures, asserts nothing (issue 15).

    python3 Benchmarks/idle_connections.py [--slotd PATH] [--connections 4000] [--config YAML] [--hold SECONDS]

Starts a daemon (`--slotd`, `SLOTD`, else `.build/debug/slotd`) on the integration tests' rules in a temporary
directory, opens N connections that send nothing, and reports the daemon's resident memory (VmRSS) before and
after, how many connections the daemon still holds open right after the flood and after `--hold` seconds, and
whether `/_ping` still answers. `--config` is slotd.yaml text (e.g. `server: { max_connections: 100 }`); an older
binary without the `server:` section runs with no config. The descriptor limit is raised to the hard limit for the
script and the daemon so the kernel, not the limit, decides.
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "Tests" / "IntegrationTests" / "rules"


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def ping(path: str, timeout: float = 10.0) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def still_open(sockets: list[socket.socket]) -> int:
    """How many of `sockets` the daemon has not closed: a closed one is readable with EOF (or a reset)."""
    poller = select.poll()
    by_fd = {sock.fileno(): sock for sock in sockets}
    for fd in by_fd:
        poller.register(fd, select.POLLIN)
    closed = 0
    for fd, _ in poller.poll(0):
        try:
            if by_fd[fd].recv(1, socket.MSG_PEEK) == b"":
                closed += 1
        except OSError:
            closed += 1
    return len(sockets) - closed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slotd", default=os.environ.get("SLOTD") or str(ROOT / ".build" / "debug" / "slotd"))
    parser.add_argument("--connections", type=int, default=4000)
    parser.add_argument("--config", default=None, help="slotd.yaml text")
    parser.add_argument("--hold", type=float, default=15.0, help="seconds to wait before the second count")
    args = parser.parse_args()

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    directory = Path(tempfile.mkdtemp(prefix="slotd-idle-", dir="/tmp"))
    shutil.copytree(RULES, directory / "rules")
    path = str(directory / "slotd.sock")
    command = [args.slotd]
    if args.config:
        (directory / "slotd.yaml").write_text(args.config)
        command += ["--config", str(directory / "slotd.yaml")]
    command += ["--rules", str(directory / "rules"), "--db", str(directory / "slotd.sqlite"), "--socket", path]
    log = open(directory / "slotd.log", "wb")
    daemon = subprocess.Popen(command, stdout=log, stderr=log)
    sockets: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 30
        while not ping(path, 1.0):
            if daemon.poll() is not None or time.monotonic() > deadline:
                print(f"slotd did not start:\n{(directory / 'slotd.log').read_text()}", file=sys.stderr)
                return 1
            time.sleep(0.05)
        print(f"binary: {args.slotd}")
        print(f"config: {args.config or '(none: built-in defaults)'}")
        print(f"RSS idle after start: {rss_kib(daemon.pid) / 1024:.1f} MiB")
        started = time.monotonic()
        refused: dict[str, int] = {}
        for _ in range(args.connections):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.setblocking(False)
            # A full backlog answers EAGAIN at once: retry while the daemon accepts, for up to 5 s.
            retry_until = time.monotonic() + 5
            while True:
                try:
                    sock.connect(path)
                    sockets.append(sock)
                    break
                except BlockingIOError:
                    if time.monotonic() < retry_until:
                        time.sleep(0.001)
                        continue
                    refused["backlog full for 5 s"] = refused.get("backlog full for 5 s", 0) + 1
                except OSError as error:
                    refused[error.strerror] = refused.get(error.strerror, 0) + 1
                sock.close()
                break
        print(f"opened {len(sockets)} of {args.connections} in {time.monotonic() - started:.1f} s "
              f"(refused: {refused or 'none'})")
        # Let the daemon accept what is queued before counting.
        time.sleep(2)
        print(f"after 2 s: {still_open(sockets)} open, RSS {rss_kib(daemon.pid) / 1024:.1f} MiB, "
              f"/_ping {'answers' if ping(path) else 'does NOT answer'}")
        time.sleep(args.hold)
        print(f"after {2 + args.hold:.0f} s: {still_open(sockets)} open, RSS {rss_kib(daemon.pid) / 1024:.1f} MiB, "
              f"/_ping {'answers' if ping(path) else 'does NOT answer'}")
        notices = [line for line in (directory / "slotd.log").read_text(errors="replace").splitlines()
                   if "limit=" in line or "connection" in line]
        print(f"log lines about connections: {len(notices)}")
        for line in notices[:6]:
            print(f"  {line[:200]}")
        return 0
    finally:
        for sock in sockets:
            sock.close()
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
