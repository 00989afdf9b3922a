"""Fixtures for the daemon's end-to-end tests: a real `slotd` on a temporary socket and SQLite file.

Binaries: `SLOTD` / `SLOTCTL` from the environment, else `.build/debug/slotd` / `.build/debug/slotctl` at the
package root. Every daemon a test starts is stopped by the fixture (SIGTERM, and the test fails unless it exits 0);
one left running by a failing test is killed.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json as jsonlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest

from openapi_contract import CONTRACT, PUBLIC_CONTRACT

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RULES = HERE / "rules"
SHOP_ZONE = ZoneInfo("Europe/Berlin")
STARTUP_TIMEOUT = 30.0


def binary(env_name: str, name: str) -> str:
    path = os.environ.get(env_name) or str(ROOT / ".build" / "debug" / name)
    if not os.access(path, os.X_OK):
        pytest.skip(f"{name} not built at {path} — run `swift build` or set {env_name}")
    return path


def wait_for(predicate, timeout: float = 10.0, what: str = "the condition", interval: float = 0.05):
    """Bounded polling for an asynchronous effect (an outbox job, a webhook, a debounced reload): returns the first
    truthy value of `predicate()`, or fails the test after `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# MARK: - HTTP over the Unix socket


class UnixHTTPConnection(http.client.HTTPConnection):
    """`http.client` over a Unix domain socket."""

    def __init__(self, path: str, timeout: float = 10.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def json(self):
        return jsonlib.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.content_type} {self.body[:300]!r}>"


class Client:
    """A small API client: one connection per request, like slotctl."""

    # The document every answer is checked against (the public listener's client uses openapi-public.yaml).
    contract = CONTRACT

    def __init__(self, socket_path: str, timeout: float = 10.0):
        self.socket_path = socket_path
        self.timeout = timeout

    def connection(self) -> http.client.HTTPConnection:
        return UnixHTTPConnection(self.socket_path, timeout=self.timeout)

    def request(self, method: str, path: str, json=None, body: bytes | str | None = None,
                headers: dict[str, str] | None = None, check: bool = True) -> Response:
        headers = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode()
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            response = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()
        # Every answer a test receives is checked against the OpenAPI document (see openapi_contract.py); a gzip
        # body is checked by content type only.
        if check and method != "HEAD" and (problem := self.contract.violation(
                method, path, response.status, response.content_type,
                b"" if response.headers.get("content-encoding") == "gzip" else response.body)):
            raise AssertionError(f"response breaks the OpenAPI document: {problem}")
        return response

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json=None, **kw) -> Response:
        return self.request("POST", path, json=json, **kw)

    def stream(self, path: str, timeout: float = 10.0) -> "Stream":
        return Stream(self.socket_path, path, timeout)

    # Domain helpers

    def book(self, start: str, service: str = "haircut", staff: str | None = "anna", name: str = "Test Customer",
             headers: dict[str, str] | None = None, **extra) -> Response:
        payload = {"service": service, "start": start, "customer": {"name": name}, **extra}
        if staff is not None:
            payload["staff"] = staff
        return self.post("/v1/bookings", json=payload, headers=headers)

    def slots(self, day: str, service: str = "haircut", staff: str | None = "anna") -> list[dict]:
        query = f"/v1/slots?service={service}&from={day}&to={day}" + (f"&staff={staff}" if staff else "")
        resp = self.get(query)
        assert resp.status == 200, resp
        return resp.json()["slots"]


class Stream:
    """An NDJSON response read line by line (events, slot watches)."""

    def __init__(self, socket_path: str, path: str, timeout: float):
        self.path = path
        self.conn = UnixHTTPConnection(socket_path, timeout=timeout)
        self.conn.request("GET", path)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}

    def next_json(self, skip_control: bool = True):
        """The next JSON line; heartbeats skipped unless asked. Raises TimeoutError when nothing arrives."""
        while True:
            line = self.resp.readline()
            if not line:
                raise EOFError("stream ended")
            line = line.strip()
            if not line:
                continue
            value = jsonlib.loads(line)
            content_type = self.headers.get("content-type", "").split(";")[0].strip()
            if problem := CONTRACT.line_violation(self.path, self.status, content_type, value):
                raise AssertionError(f"stream line breaks openapi.yaml: {problem}")
            if skip_control and isinstance(value, dict) and value.get("type") in ("heartbeat", "overflow"):
                continue
            return value

    def close(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def pytest_terminal_summary(terminalreporter) -> None:
    for line in CONTRACT.summary():
        terminalreporter.write_line(line)
    for line in PUBLIC_CONTRACT.summary():
        terminalreporter.write_line("public listener — " + line)


# MARK: - The daemon


class Daemon:
    """A `slotd` process on a temporary directory (rules copy, database, socket, log)."""

    def __init__(self, slotd: str, directory: Path, rules: Path = RULES, config: str | None = None,
                 extra_args: list[str] | None = None):
        self.slotd = slotd
        self.dir = directory
        self.rules = directory / "rules"
        if not self.rules.exists():
            shutil.copytree(rules, self.rules)
        self.db = directory / "slotd.sqlite"
        self.socket = str(directory / "slotd.sock")
        self.log_path = directory / "slotd.log"
        self.config = None
        if config is not None:
            self.config = directory / "slotd.yaml"
            self.config.write_text(config)
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen | None = None
        self.client = Client(self.socket)

    @property
    def args(self) -> list[str]:
        args = [self.slotd]
        if self.config is not None:
            args += ["--config", str(self.config)]
        # db None: the configuration file names the store (a `postgres:` block).
        database = [] if self.db is None else ["--db", str(self.db)]
        return args + ["--rules", str(self.rules)] + database + ["--socket", self.socket] + self.extra_args

    def spawn(self) -> "Daemon":
        """Starts the process without waiting for it to serve (a crash test may kill it while it starts)."""
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=log, cwd=self.dir)
        log.close()
        return self

    def start(self) -> "Daemon":
        self.spawn()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"slotd exited with {self.proc.returncode} while starting:\n{self.log()}")
            try:
                if self.client.get("/v1/health").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"slotd did not answer /v1/health within {STARTUP_TIMEOUT}s:\n{self.log()}")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"slotd did not stop within {timeout}s of SIGTERM:\n{self.log()}")
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, no chance to clean up."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> "Daemon":
        self.stop_checked()
        return self.start()

    def stop_checked(self) -> None:
        code = self.stop()
        assert code == 0, f"slotd exited {code} on SIGTERM:\n{self.log()}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except OSError:
            return ""

    def sql(self, query: str, *params):
        """Runs a query on the daemon's database with Python's sqlite3 (read-only use)."""
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(query, params).fetchall()
        finally:
            conn.close()

    def booking_count(self) -> int:
        return self.sql("SELECT count(*) FROM bookings")[0][0]

    def rss_kib(self) -> int:
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1


class DaemonFactory:
    """Starts daemons for one test and stops them all afterwards."""

    def __init__(self, slotd: str):
        self.slotd = slotd
        self.daemons: list[Daemon] = []
        self.dirs: list[Path] = []

    def new_dir(self) -> Path:
        # Short paths (sun_path holds 108 bytes) that other uids can traverse, for the access tests.
        path = Path(tempfile.mkdtemp(prefix="slotd-it-", dir="/tmp"))
        path.chmod(0o755)
        self.dirs.append(path)
        return path

    def __call__(self, config: str | None = None, start: bool = True, **kw) -> Daemon:
        daemon = Daemon(self.slotd, self.new_dir(), config=config, **kw)
        self.daemons.append(daemon)
        return daemon.start() if start else daemon

    def cleanup(self) -> list[str]:
        problems = []
        for daemon in self.daemons:
            if daemon.running:
                code = daemon.stop()
                if code != 0:
                    problems.append(f"slotd exited {code} on SIGTERM:\n{daemon.log()}")
        for path in self.dirs:
            shutil.rmtree(path, ignore_errors=True)
        return problems


@pytest.fixture(scope="session")
def slotd_binary() -> str:
    return binary("SLOTD", "slotd")


@pytest.fixture(scope="session")
def slotctl_binary() -> str:
    return binary("SLOTCTL", "slotctl")


@pytest.fixture
def slotctl_for(slotctl_binary):
    """Runs slotctl against a daemon's socket: `slotctl_for(daemon, *args, check=EXIT)` (check=None: any status)."""
    def run(daemon, *args, check: int | None = 0):
        env = {**os.environ, "SLOTD_SOCKET": daemon.socket}
        out = subprocess.run([slotctl_binary, *args], capture_output=True, text=True, timeout=60, env=env)
        if check is not None:
            assert out.returncode == check, (args, out.returncode, out.stdout, out.stderr)
        return out
    return run


@pytest.fixture
def daemons(slotd_binary) -> Iterator[DaemonFactory]:
    """A factory of daemons, each stopped with SIGTERM (which must exit 0) after the test."""
    factory = DaemonFactory(slotd_binary)
    yield factory
    problems = factory.cleanup()
    assert not problems, "\n".join(problems)


@pytest.fixture
def daemon(daemons) -> Daemon:
    """One running daemon with the test rules."""
    return daemons()


@pytest.fixture
def client(daemon) -> Client:
    return daemon.client


# MARK: - Time


def shop_today() -> dt.date:
    return dt.datetime.now(SHOP_ZONE).date()


def future_day(days: int = 3) -> str:
    """A shop-local date `days` ahead, `YYYY-MM-DD` (the test shop is open every day 09:00-18:00)."""
    return (shop_today() + dt.timedelta(days=days)).isoformat()


def wall(day: str, time_of_day: str) -> str:
    """A shop-local wall time as the API accepts it: `YYYY-MM-DDTHH:MM`."""
    return f"{day}T{time_of_day}"


def same_instant(a: str, b: str) -> bool:
    return dt.datetime.fromisoformat(a) == dt.datetime.fromisoformat(b)


def local_iso(day: str, time_of_day: str) -> str:
    """The ISO 8601 instant (with the shop's offset) of a wall time, e.g. `2026-12-01T10:00:00+01:00`."""
    naive = dt.datetime.fromisoformat(f"{day}T{time_of_day}")
    return naive.replace(tzinfo=SHOP_ZONE).isoformat()


def assert_problem(resp: Response, status: int | tuple[int, ...], code: str | tuple[str, ...] | None = None) -> dict:
    """The response is an RFC 9457 problem with the expected status (and code); returns it."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert resp.status in statuses, resp
    assert resp.content_type == "application/problem+json", resp
    problem = resp.json()
    for key in ("type", "title", "status", "detail", "code"):
        assert key in problem, (key, problem)
    assert problem["status"] == resp.status
    if code is not None:
        codes = code if isinstance(code, tuple) else (code,)
        assert problem["code"] in codes, problem
    return problem


# MARK: - Payments


def stripe_config(api_base: str = "http://127.0.0.1:9", tolerance: str = "300s") -> str:
    """A slotd.yaml taking deposits with Stripe at `api_base` (the default is a closed port: jobs just retry)."""
    return (
        f'roles:\n  "{os.getuid()}": admin\n'
        "payments: stripe\n"
        "providers:\n"
        "  stripe:\n"
        "    type: stripe\n"
        f"    api_base: {api_base}\n"
        "    secret_key_file: stripe.key\n"
        "    webhook_secret_file: stripe.whsec\n"
        f"    webhook_tolerance: {tolerance}\n"
        "    timeout: 5s\n"
    )


def start_with_stripe(daemons: DaemonFactory, api_base: str = "http://127.0.0.1:9",
                      webhook_secret: str = "whsec_test_slotd", start: bool = True, **kw) -> Daemon:
    """A daemon whose payment provider is Stripe at `api_base`, its secrets in files beside slotd.yaml."""
    daemon = daemons(config=stripe_config(api_base, **kw), start=False)
    (daemon.dir / "stripe.key").write_text("sk_test_slotd_integration\n")
    (daemon.dir / "stripe.whsec").write_text(webhook_secret + "\n")
    return daemon.start() if start else daemon


def add_haircut_variants(rules: Path) -> None:
    """Gives the test rules' haircut (in a copy at `rules`) a short and a long variant (30m 28.00, 45m 38.00)."""
    services = rules / "services.yaml"
    services.write_text(services.read_text().replace(
        "    duration: 30m\n    price: 28\n",
        "    duration: 30m\n    price: 28\n    variants:\n"
        "      - {id: short, name: Short hair, duration: 30m, price: 28}\n"
        "      - {id: long, name: Long hair, duration: 45m, price: 38}\n", 1))
