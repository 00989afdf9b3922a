"""API fuzzing: schemathesis against the OpenAPI document, through a TCP bridge to the daemon's Unix socket.

schemathesis speaks HTTP over TCP only, so `TcpBridge` listens on 127.0.0.1 (an ephemeral port) and pipes each
connection to the socket: slotd sees a local peer with the test's uid, as for any other client. The checks are
the document's own: no 5xx, every status code, content type and body as documented. The two streams that never
end (`GET /v1/events`, `GET /v1/slots?watch=true`) are left out of the copy of the document schemathesis reads;
the integration tests validate their lines against the document (openapi_contract.py).

Importable (`run_schemathesis`, used by test_reliability.py) and a script (`scripts/apifuzz --examples 200`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import yaml  # noqa: E402

from conftest import ROOT, Daemon  # noqa: E402

OPENAPI = ROOT / "Sources" / "SlotServer" / "Resources" / "openapi.yaml"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# Streams: an answer that never ends cannot be checked as a whole.
STREAMING_PATHS = ("/v1/events",)
STREAMING_QUERY = {"/v1/slots": "watch"}


class TcpBridge:
    """127.0.0.1:<ephemeral port> → a Unix socket, one piped Unix connection per TCP connection."""

    def __init__(self, unix_path: str):
        self.unix_path = unix_path
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "TcpBridge":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.closed.set()
        self.listener.close()
        self.thread.join(5)

    def accept_loop(self) -> None:
        while not self.closed.is_set():
            try:
                tcp, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                unix.connect(self.unix_path)
            except OSError:
                tcp.close()
                unix.close()
                continue
            threading.Thread(target=self.pipe, args=(tcp, unix), daemon=True).start()
            threading.Thread(target=self.pipe, args=(unix, tcp), daemon=True).start()

    @staticmethod
    def pipe(source: socket.socket, sink: socket.socket) -> None:
        """Copies until either side ends, then half-closes the sink so the other direction can finish."""
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def document_without_streams(target: Path) -> Path:
    """A copy of openapi.yaml without the endless streams (see the module's comment)."""
    document = yaml.safe_load(OPENAPI.read_text())
    for path in STREAMING_PATHS:
        document["paths"].pop(path)
    for path, name in STREAMING_QUERY.items():
        operation = document["paths"][path]["get"]
        operation["parameters"] = [p for p in operation["parameters"] if p.get("name") != name]
    target.write_text(json.dumps(document))
    return target


@dataclass
class FuzzResult:
    returncode: int
    operations: int
    test_cases: int
    output: str

    def summary(self) -> str:
        return f"schemathesis: {self.operations} operations, {self.test_cases} test cases, exit {self.returncode}"


def existing_resources(daemon: Daemon, work: Path) -> Path:
    """A booking and an outbox job for the operations on `{id}` (random ids only ever reach the 404), named in a
    schemathesis.toml."""
    import datetime as dt

    from conftest import SHOP_ZONE

    day = (dt.datetime.now(SHOP_ZONE).date() + dt.timedelta(days=5)).isoformat()
    resp = daemon.client.book(f"{day}T11:00", name="Fuzz Target")
    assert resp.status == 201, resp
    booking = resp.json()["id"]
    jobs = daemon.client.get("/v1/outbox?limit=1").json()["jobs"]
    assert jobs, "no outbox job after a booking"
    config = work / "schemathesis.toml"
    config.write_text(
        "[[operations]]\n"
        'include-path-regex = "^/v1/bookings/\\\\{id\\\\}"\n'
        f'parameters = {{ "path.id" = "{booking}" }}\n\n'
        "[[operations]]\n"
        'include-path-regex = "^/v1/outbox/\\\\{id\\\\}"\n'
        f'parameters = {{ "path.id" = {jobs[0]["id"]} }}\n')
    return config


def run_schemathesis(daemon: Daemon, work: Path, max_examples: int, seed: int, workers: int = 1,
                     max_time: float | None = None) -> FuzzResult:
    """Runs schemathesis' CLI against the running daemon through a bridge; returns its exit code and counts.

    One worker by default: with two, hypothesis describing its strategies calls `ast.parse` from two threads at
    once, and CPython 3.11 then fails now and then with "SystemError: AST constructor recursion depth mismatch"
    (seen in the suite; schemathesis reports it as a runtime error of its own, not a finding)."""
    schema = document_without_streams(work / "openapi-fuzzed.json")
    report = work / "schemathesis-report"
    config = existing_resources(daemon, work)
    with TcpBridge(daemon.socket) as bridge:
        command = [
            sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()",
            "--config-file", str(config), "run", str(schema),
            "--url", bridge.url, "--checks", CHECKS, "--max-examples", str(max_examples), "--seed", str(seed),
            "--workers", str(workers), "--generation-database", "none", "--request-timeout", "20",
            "--phases", "examples,coverage,fuzzing", "--suppress-health-check", "all", "--no-color",
            "--report", "ndjson", "--report-dir", str(report),
        ]
        if max_time is not None:
            command += ["--max-time", str(int(max_time))]
        proc = subprocess.run(command, capture_output=True, text=True, cwd=work, timeout=1800,
                              env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "COLUMNS": "120"})
    output = proc.stdout + proc.stderr
    return FuzzResult(proc.returncode, *counts(output), output)


def counts(output: str) -> tuple[int, int]:
    """Operations tested and test cases generated, from the CLI's summary."""
    operations = re.search(r"API Operations:\s*\n?\s*Selected:\s*(\d+)/(\d+)", output)
    tested = re.search(r"Tested:\s*(\d+)", output)
    cases = re.search(r"Test cases:\s*\n?\s*(\d+) generated", output)
    return (int(tested.group(1)) if tested else int(operations.group(1)) if operations else 0,
            int(cases.group(1)) if cases else 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="most examples per operation (default 200)")
    parser.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "big"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--slotd", default=os.environ.get("SLOTD", str(ROOT / ".build" / "debug" / "slotd")))
    args = parser.parse_args(argv)
    if not os.access(args.slotd, os.X_OK):
        parser.error(f"no slotd binary at {args.slotd} — run `swift build` or pass --slotd")
    rules = ROOT / "Tests" / "IntegrationTests" / "rules"
    with tempfile.TemporaryDirectory(prefix="slotd-apifuzz-", dir="/tmp") as directory:
        daemon = Daemon(args.slotd, Path(directory), rules=rules).start()
        try:
            result = run_schemathesis(daemon, Path(directory), args.examples, args.seed, args.workers)
        finally:
            code = daemon.stop()
        print(result.output)
        print(f"{result.summary()}, seed {args.seed}; slotd exited {code}")
        return result.returncode or code


if __name__ == "__main__":
    sys.exit(main())
