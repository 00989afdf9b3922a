"""Slow, idle and surplus clients on the socket (issue 15): the `server:` section's header timeout, idle timeout and
connection cap, each hit logged once, and live streams left alone."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import STARTUP_TIMEOUT, Client, UnixHTTPConnection, future_day, wait_for, wall

DAY = future_day(3)
PING = b"GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n"


def server_config(**settings) -> str:
    return "server:\n" + "".join(f"  {key}: {value}\n" for key, value in settings.items())


def connect(daemon, path: str | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(path or daemon.socket)
    return sock


def wait_closed(sock: socket.socket, within: float, dribble: bytes = b"") -> float:
    """Waits for the daemon to close `sock` (EOF or a reset), sending `dribble` a byte at a time every 0.1 s
    meanwhile; returns the seconds it took, or fails after `within` seconds. Nothing but EOF may arrive."""
    started = time.monotonic()
    pending = dribble
    while True:
        left = started + within - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the daemon kept the connection open for {within}s")
        sock.settimeout(min(left, 0.1) if pending else left)
        try:
            data = sock.recv(4096)
        except socket.timeout:
            try:
                sock.send(pending[:1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started
            pending = pending[1:]
            continue
        except ConnectionResetError:
            return time.monotonic() - started
        assert data == b"", f"expected the connection closed, got {data[:200]!r}"
        return time.monotonic() - started


def ping_on(sock: socket.socket) -> bytes:
    """One `/_ping` on a kept-alive connection; returns the status line."""
    sock.settimeout(10)
    sock.sendall(PING)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        assert chunk, "closed instead of answering"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(4096)
    return head.split(b"\r\n")[0]


def served_connection(daemon, path: str | None = None) -> socket.socket | None:
    """A new connection that got its `/_ping` answered, or None when the daemon closed it: a connection that just
    closed (the start-up health check's) may still be counted for a moment, so callers retry with `wait_for`."""
    sock = connect(daemon, path)
    try:
        return sock if ping_on(sock) == b"HTTP/1.1 200 OK" else None
    except (AssertionError, OSError):
        sock.close()
        return None


def limit_lines(daemon, limit: str) -> list[str]:
    return [line for line in daemon.log().splitlines() if f"limit={limit}" in line]


def test_a_slowloris_client_is_closed_within_the_header_timeout(daemons):
    d = daemons(config=server_config(header_timeout="1s", idle_timeout="30s"))
    sock = connect(d)
    # A head that never ends: one header byte every 0.1 s.
    dribble = b"GET /_ping HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200
    took = wait_closed(sock, within=5, dribble=dribble)
    assert 0.8 <= took <= 5, took
    assert d.client.get("/_ping").status == 200


def test_silent_connections_are_closed_after_the_header_timeout_and_logged_once(daemons):
    d = daemons(config=server_config(header_timeout="1s"))
    silent = [connect(d) for _ in range(5)]
    for sock in silent:
        wait_closed(sock, within=5)
    lines = wait_for(lambda: limit_lines(d, "header_timeout"), what="the header-timeout notice")
    assert len(lines) == 1, lines
    assert "count=1" in lines[0] and "listener=socket" in lines[0], lines[0]


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(daemons):
    d = daemons(config=server_config(idle_timeout="1s", header_timeout="30s"))
    conn = UnixHTTPConnection(d.socket)
    conn.request("GET", "/_ping")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Connection", "keep-alive") != "close"
    resp.read()
    took = wait_closed(conn.sock, within=5)
    assert 0.8 <= took <= 5, took
    assert wait_for(lambda: limit_lines(d, "idle_timeout"), what="the idle-timeout notice")


def test_the_connection_cap_refuses_the_next_connection_until_one_closes(daemons):
    d = daemons(config=server_config(max_connections=3))
    first = [wait_for(lambda: served_connection(d), what="a served connection") for _ in range(3)]
    for _ in range(3):
        surplus = connect(d)
        try:
            surplus.sendall(PING)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon closed it before the request went out: the refusal this test expects, only sooner
        wait_closed(surplus, within=2)
    assert [ping_on(sock) for sock in first] == [b"HTTP/1.1 200 OK"] * 3, "the first three still work"
    first[0].close()
    replacement = wait_for(lambda: served_connection(d), what="a connection served once one closed")
    assert ping_on(replacement) == b"HTTP/1.1 200 OK"
    lines = limit_lines(d, "max_connections")
    assert len(lines) == 1 and "count=1" in lines[0] and "setting=3" in lines[0], lines


def test_live_streams_outlast_the_header_and_idle_timeouts(daemons):
    d = daemons(config=server_config(header_timeout="1s", idle_timeout="1s"))
    events = d.client.stream("/v1/events?follow=true")
    watch = d.client.stream(f"/v1/slots?service=haircut&staff=anna&from={DAY}&to={DAY}&watch=true")
    try:
        initial = watch.next_json()
        # Past both timeouts (twice over) with nothing sent either way but the answers' start.
        time.sleep(2.5)
        assert Client(d.socket).book(wall(DAY, "10:00")).status == 201
        event = events.next_json()
        while event["type"] != "booking.created":
            event = events.next_json()
        changed = watch.next_json()
        assert len(changed["slots"]) < len(initial["slots"])
    finally:
        events.close()
        watch.close()


def test_bad_server_settings_are_each_reported_with_their_location(daemons):
    d = daemons(start=False)
    d.config = d.dir / "slotd.yaml"
    d.config.write_text("server:\n  header_timeout: -5s\n  idle_timeout: 0\n  max_connections: lots\n"
                        "  stream_stall_limit: never\n")
    out = subprocess.run(d.args, capture_output=True, text=True, timeout=30, cwd=d.dir)
    assert out.returncode == 78, out
    for expected in [
        "slotd.yaml:2:19: `header_timeout` must be a positive duration like 10s, 500ms or 2m (got '-5s')",
        "slotd.yaml:3:17: `idle_timeout` must be a positive duration like 10s, 500ms or 2m (got '0')",
        "slotd.yaml:4:20: `max_connections` must be a whole number from 1 to 1000000 (got 'lots')",
        "slotd.yaml:5:23: `stream_stall_limit` must be a positive duration like 10s, 500ms or 2m (got 'never')",
    ]:
        assert expected in out.stderr, out.stderr


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None, reason="systemd-socket-activate not installed")
def test_the_socket_handed_over_by_systemd_has_the_same_limits(daemons):
    d = daemons(config=server_config(header_timeout="1s", max_connections=2), start=False)
    path = str(d.dir / "activated.sock")
    log = open(d.log_path, "ab")
    d.proc = subprocess.Popen(["systemd-socket-activate", "-l", path, *d.args], stdout=log, stderr=log, cwd=d.dir)
    log.close()
    wait_for(lambda: os.path.exists(path), what="systemd-socket-activate's socket")
    assert Client(path, timeout=STARTUP_TIMEOUT).get("/v1/health").status == 200
    assert "socket activation" in d.log()

    took = wait_closed(connect(d, path), within=5)
    assert 0.8 <= took <= 5, took
    kept = [wait_for(lambda: served_connection(d, path), what="a served connection") for _ in range(2)]
    surplus = connect(d, path)
    surplus.sendall(PING)
    wait_closed(surplus, within=2)
    assert [ping_on(sock) for sock in kept] == [b"HTTP/1.1 200 OK"] * 2
    assert len(limit_lines(d, "header_timeout")) == 1 and len(limit_lines(d, "max_connections")) == 1, d.log()


def test_the_web_listener_closes_slow_clients_and_counts_its_connections_apart(daemons):
    from test_web import start_web

    d, web = start_web(daemons, extra=server_config(header_timeout="1s", max_connections=2))
    slow = socket.create_connection(("127.0.0.1", web.port), timeout=10)
    took = wait_closed(slow, within=5, dribble=b"GET /public/v1/shop HTTP/1.1\r\nHost: shop\r\nX-Slow: " + b"a" * 200)
    assert 0.8 <= took <= 5, took
    lines = wait_for(lambda: [line for line in limit_lines(d, "header_timeout") if "listener=web" in line],
                     what="the web listener's header-timeout notice")
    assert len(lines) == 1, lines
    # The socket's cap is its own: two silent TCP connections leave the socket serving.
    held = [socket.create_connection(("127.0.0.1", web.port), timeout=10) for _ in range(2)]
    try:
        assert d.client.get("/_ping").status == 200
    finally:
        for sock in held:
            sock.close()

    def served() -> bool:
        try:
            return web.get("/public/v1/shop").status == 200
        except OSError:  # refused while the daemon has not yet seen the held ones close
            return False

    assert wait_for(served, what="the web listener serving again")
