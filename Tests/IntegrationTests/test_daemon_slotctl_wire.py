"""slotctl's own HTTP/1.1 client against a scripted server on a Unix socket: framing the real daemon may never
produce (tiny chunks, lines split across chunks, read-until-close, odd headers) must still parse."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading

import pytest

HEALTH = {"status": "ok", "version": "9.9", "api_version": "1", "rules_version": "v", "uptime_seconds": 3,
          "role": "read"}


class ScriptedServer:
    """Answers each connection with the next canned reply (raw bytes), after reading the request head."""

    def __init__(self, path: str, replies: list[bytes]):
        self.path = path
        self.replies = list(replies)
        self.requests: list[bytes] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while self.replies:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                        while len(rest) < length:
                            rest += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + rest)
                reply = self.replies.pop(0)
                for piece in reply if isinstance(reply, list) else [reply]:
                    conn.sendall(piece)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def scripted(tmp_path, slotctl_binary):
    servers = []

    def run(replies, *args, code=0):
        path = str(tmp_path / f"s{len(servers)}.sock")
        server = ScriptedServer(path, replies)
        servers.append(server)
        out = subprocess.run([slotctl_binary, "--socket", path, *args], capture_output=True, text=True,
                             timeout=20)
        assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
        return out, server

    yield run
    for server in servers:
        server.close()


def chunked(body: bytes, size: int) -> bytes:
    out = b""
    for index in range(0, len(body), size):
        part = body[index:index + size]
        out += b"%x\r\n%s\r\n" % (len(part), part)
    return out + b"0\r\n\r\n"


def test_content_length_body(scripted):
    body = json.dumps(HEALTH).encode()
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    out, server = scripted([reply], "status", "--json")
    assert json.loads(out.stdout) == HEALTH
    request = server.requests[0]
    assert request.startswith(b"GET /v1/health HTTP/1.1\r\n") and b"Host: localhost" in request


def test_one_byte_chunks_with_extensions_and_trailers(scripted):
    body = json.dumps(HEALTH).encode()
    framed = chunked(body, 1).replace(b"1\r\n", b"1;ext=x\r\n", 3)[:-2] + b"X-Trailer: t\r\n\r\n"
    reply = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + framed
    out, _ = scripted([reply], "status", "--json")
    assert json.loads(out.stdout) == HEALTH


def test_body_read_until_close_and_split_writes(scripted):
    body = json.dumps(HEALTH).encode()
    reply = [b"HTTP/1.1 200 OK\r\nConte", b"nt-Type: application/json\r\n\r", b"\n" + body[:5], body[5:]]
    out, _ = scripted([reply], "status", "--json")
    assert json.loads(out.stdout) == HEALTH


def test_event_lines_split_across_chunks(scripted):
    lines = b"".join(json.dumps({"cursor": i, "type": "booking.created", "at": "2026-01-01T00:00:00Z",
                                 "data": {"booking": f"bk_{i}"}}).encode() + b"\n" for i in range(1, 6))
    heartbeat = json.dumps({"cursor": 5, "type": "heartbeat", "at": "x", "data": {}}).encode() + b"\n"
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n" + \
        chunked(lines + heartbeat, 7)
    out, server = scripted([reply], "events")
    printed = out.stdout.splitlines()
    assert [line.split()[0] for line in printed] == ["#1", "#2", "#3", "#4", "#5"]
    assert "booking=bk_3" in printed[2]
    assert b"follow=false" in server.requests[0]
    out, _ = scripted([reply], "events", "--json", "--limit", "2")
    assert [json.loads(line)["cursor"] for line in out.stdout.splitlines()] == [1, 2]


def test_problem_details_and_exit_codes(scripted):
    problem = {"type": "urn:slotd:problem:validation_failed", "title": "Invalid input", "status": 422,
               "detail": "customer.name: is required", "code": "validation_failed",
               "fields": [{"field": "customer.name", "reason": "is required"}]}
    body = json.dumps(problem).encode()
    reply = b"HTTP/1.1 422 Unprocessable\r\nContent-Type: application/problem+json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body), body)
    out, server = scripted([reply], "book", "--service", "haircut", "--at", "2030-01-01T10:00", "--name", "x",
                           "--idempotency-key", "k1", code=5)
    # Printed once: the detail already names the field, so the field is not listed again.
    assert "slotctl: customer.name: is required (422 validation_failed)" in out.stderr
    assert out.stderr.count("is required") == 1, out.stderr
    request = server.requests[0]
    assert request.startswith(b"POST /v1/bookings HTTP/1.1") and b"Idempotency-Key: k1" in request
    sent = json.loads(request.split(b"\r\n\r\n", 1)[1])
    assert sent == {"service": "haircut", "start": "2030-01-01T10:00", "customer": {"name": "x"}}

    forbidden = {"type": "urn:slotd:problem:forbidden", "title": "Forbidden", "status": 403,
                 "detail": "cancelling needs the role 'booking', 'staff' or 'admin'; you are 'read'",
                 "code": "forbidden"}
    body = json.dumps(forbidden).encode()
    reply = b"HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    out, server = scripted([reply], "cancel", "bk_1/../x", code=6)
    assert "(403 forbidden)" in out.stderr and "role" in out.stderr
    assert server.requests[0].startswith(b"POST /v1/bookings/bk_1%2F..%2Fx/cancel HTTP/1.1")


@pytest.mark.parametrize("reply, code", [
    (b"HTTP/1.1 500 Internal\r\nContent-Length: 5\r\n\r\noops!", 1),
    (b"HTTP/1.1 503 Unavailable\r\nContent-Type: application/problem+json\r\nContent-Length: 2\r\n\r\n{}", 1),
    (b"SSH-2.0-OpenSSH\r\n", 7),
    (b"", 7),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 7),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"short\"", 7),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 1),
])
def test_broken_replies_fail_cleanly(scripted, reply, code):
    out, _ = scripted([reply], "status", code=code)
    assert out.stderr.startswith("slotctl: ")
    assert "Fatal error" not in out.stderr


def test_socket_path_too_long_is_a_usage_error(slotctl_binary):
    out = subprocess.run([slotctl_binary, "--socket", "/tmp/" + "x" * 200, "status"], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 64 and "longer than" in out.stderr


def test_stale_socket_file_means_not_running(tmp_path, slotctl_binary):
    path = str(tmp_path / "stale.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.close()  # the file stays, nobody listens
    out = subprocess.run([slotctl_binary, "--socket", path, "staff"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 7 and "slotd is not running" in out.stderr
    assert os.path.exists(path)
