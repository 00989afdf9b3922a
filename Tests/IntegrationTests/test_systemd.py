"""slotd as a systemd citizen: sd_notify messages in order, the watchdog, socket activation, and the example units.

A fake notify socket (a Python datagram socket) stands in for systemd; `systemd-socket-activate` hands the daemon a
listening socket the way `slotd.socket` does; `systemd-analyze` checks Examples/systemd/.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, STARTUP_TIMEOUT, Client, UnixHTTPConnection

UNITS = ROOT / "Examples" / "systemd"


class NotifySocket:
    """What systemd listens on for sd_notify: a datagram socket; each datagram is `KEY=value` lines."""

    def __init__(self, path: Path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def next(self, timeout: float = STARTUP_TIMEOUT) -> dict[str, str]:
        """The next message as a dict; raises TimeoutError when none arrives in time."""
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.splitlines() if line)

    def next_skipping_watchdog(self, timeout: float = STARTUP_TIMEOUT) -> dict[str, str]:
        while True:
            message = self.next(timeout)
            if set(message) != {"WATCHDOG"}:
                return message

    def drain(self, seconds: float) -> list[dict[str, str]]:
        """Every message arriving within `seconds`."""
        messages, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                messages.append(self.next(left))
            except (TimeoutError, socket.timeout):
                break
        return messages

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify(daemons):
    sock = NotifySocket(daemons.new_dir() / "notify.sock")
    yield sock
    sock.close()


def start_notified(daemon, notify: NotifySocket, **environment: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LISTEN_", "WATCHDOG_"))}
    env.update(NOTIFY_SOCKET=notify.path, **environment)
    log = open(daemon.log_path, "ab")
    daemon.proc = subprocess.Popen(daemon.args, stdout=log, stderr=log, cwd=daemon.dir, env=env)
    log.close()
    return daemon.proc


def slotctl(slotctl_binary: str, socket_path: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([slotctl_binary, "--socket", socket_path, *args], capture_output=True, text=True,
                          timeout=30)


def next_reload(notify: NotifySocket, watched: list[str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The next reload's RELOADING=1 and READY=1 that the directory watcher did not start.

    A test that writes a rule file also wakes the watcher, whose reload comes 300 ms after the last write: before or
    after the one the test asked for, depending on the machine's load. Its pairs are skipped; their READY STATUS is
    appended to `watched`.
    """
    while True:
        reloading = notify.next_skipping_watchdog()
        assert reloading.get("RELOADING") == "1", reloading
        ready = notify.next_skipping_watchdog()
        assert ready.get("READY") == "1", ready
        if "(file change)" not in ready["STATUS"]:
            return reloading, ready
        if watched is not None:
            watched.append(ready["STATUS"])


def assert_reload(notify: NotifySocket, status: str, watched: list[str] | None = None) -> None:
    """RELOADING=1 with a current MONOTONIC_USEC, then READY=1 whose STATUS contains `status`."""
    reloading, ready = next_reload(notify, watched)
    # Python's monotonic clock is CLOCK_MONOTONIC on Linux: the stamp is from the last few seconds.
    now = time.monotonic_ns() // 1000
    assert now - 10_000_000 < int(reloading["MONOTONIC_USEC"]) <= now, reloading
    assert status in ready["STATUS"], ready


def test_notify_ready_reloading_and_stopping_in_order(daemons, notify, slotctl_binary):
    daemon = daemons(start=False)
    proc = start_notified(daemon, notify)

    ready = notify.next()
    # READY is the first message, and it comes only once the socket accepts connections.
    assert ready.get("READY") == "1", (ready, daemon.log())
    assert daemon.client.get("/v1/health").status == 200
    assert daemon.socket in ready["STATUS"] and "rules" in ready["STATUS"], ready

    proc.send_signal(signal.SIGHUP)
    assert_reload(notify, "unchanged (SIGHUP)")

    assert daemon.client.post("/v1/rules/reload").status == 200
    assert_reload(notify, "unchanged (API)")

    # A valid change through slotctl (ExecReload=): synchronous, says what happened.
    services = daemon.rules / "services.yaml"
    services.write_text(services.read_text() + "\n  - id: wash\n    name: Wash\n    duration: 15m\n    price: 8\n")
    out = slotctl(slotctl_binary, daemon.socket, "rules", "reload", "--wait")
    assert out.returncode == 0, out.stderr
    if out.stdout.startswith("Rules unchanged"):
        # The watcher's reload ended its 300 ms wait before slotctl's came (slotctl started slowly): it loaded the
        # change, and slotctl says the rules it asked for are those.
        watched: list[str] = []
        assert re.match(r"Rules unchanged: version [0-9a-f]{8}$", out.stdout.strip()), out.stdout
        assert_reload(notify, "unchanged (API)", watched)
        assert any("loaded (file change)" in status for status in watched), watched
    else:
        assert re.match(r"Rules reloaded: version [0-9a-f]{8} \(was [0-9a-f]{8}\)$", out.stdout.strip()), out.stdout
        assert_reload(notify, "loaded (API)")

    # A broken file: rejected, the errors printed, a non-zero exit; systemd hears the old rules still serve.
    services.write_text("services:\n  - id: haircut\n    duration: soon\n")
    out = slotctl(slotctl_binary, daemon.socket, "rules", "reload", "--wait")
    assert out.returncode == 5, (out.stdout, out.stderr)
    assert "services.yaml:3:" in out.stderr, out.stderr
    assert_reload(notify, "rules rejected (API): services.yaml:")
    proc.send_signal(signal.SIGHUP)
    _, ready = next_reload(notify)
    assert "rules rejected (SIGHUP)" in ready["STATUS"], ready
    assert "old rules" in ready["STATUS"] and "serving" in ready["STATUS"], ready
    assert "wash" in [s["id"] for s in daemon.client.get("/v1/services").json()["services"]]

    proc.send_signal(signal.SIGTERM)
    stopping = notify.next_skipping_watchdog()
    # The watcher's reload of the broken file may still come: its 300 ms wait can outlast the steps since the write.
    while stopping.get("RELOADING") == "1" or "(file change)" in stopping.get("STATUS", ""):
        stopping = notify.next_skipping_watchdog()
    assert stopping.get("STOPPING") == "1", stopping
    assert proc.wait(15) == 0, daemon.log()
    assert notify.drain(0.3) == []


def test_watchdog_pings_at_half_the_interval_when_asked(daemons, notify):
    daemon = daemons(start=False)
    proc = start_notified(daemon, notify, WATCHDOG_USEC="400000")
    assert notify.next().get("READY") == "1", daemon.log()
    start = time.monotonic()
    pings = [m for m in notify.drain(1.5) if m == {"WATCHDOG": "1"}]
    # Every 0.2 s: about 7 in 1.5 s; a loose lower bound keeps a loaded machine from failing the test.
    assert len(pings) >= 4, (pings, time.monotonic() - start)
    proc.send_signal(signal.SIGTERM)
    assert notify.next_skipping_watchdog().get("STOPPING") == "1"
    assert proc.wait(15) == 0, daemon.log()


def test_no_watchdog_pings_for_another_process_or_without_the_variable(daemons, notify):
    daemon = daemons(start=False)
    # WATCHDOG_PID names another process: the variables were inherited, not meant for slotd.
    proc = start_notified(daemon, notify, WATCHDOG_USEC="200000", WATCHDOG_PID="1")
    assert notify.next().get("READY") == "1", daemon.log()
    assert notify.drain(0.8) == []
    proc.send_signal(signal.SIGTERM)
    assert notify.next().get("STOPPING") == "1"
    assert proc.wait(15) == 0, daemon.log()


# MARK: - Socket activation


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None, reason="systemd-socket-activate not installed")
def test_socket_activation_serves_the_inherited_socket_and_leaves_it(daemons, notify, slotctl_binary):
    daemon = daemons(start=False)
    path = str(daemon.dir / "activated.sock")
    log = open(daemon.log_path, "ab")
    # Like slotd.socket: systemd owns the socket and starts slotd on the first connection. Only variables named
    # with -E reach the daemon. --socket names another path: the inherited socket wins.
    activator = subprocess.Popen(
        ["systemd-socket-activate", "-l", path, "-E", f"NOTIFY_SOCKET={notify.path}", *daemon.args],
        stdout=log, stderr=log, cwd=daemon.dir)
    log.close()
    daemon.proc = activator
    deadline = time.monotonic() + 10
    while not os.path.exists(path):
        assert time.monotonic() < deadline and activator.poll() is None, daemon.log()
        time.sleep(0.02)

    client = Client(path, timeout=STARTUP_TIMEOUT)
    health = client.get("/v1/health")  # queued by the kernel until slotd serves
    assert health.status == 200, (health, daemon.log())
    assert health.json()["role"] == "admin"  # peer credentials work on the inherited socket too
    ready = notify.next()
    assert ready.get("READY") == "1" and "from systemd" in ready["STATUS"], ready
    assert "socket activation" in daemon.log()
    assert not os.path.exists(daemon.socket), "slotd bound its own socket as well"

    # The API is the whole API: slotctl, a reload, a booking path all through systemd's socket.
    out = slotctl(slotctl_binary, path, "status")
    assert out.returncode == 0 and "is ok" in out.stdout, (out.stdout, out.stderr)
    out = slotctl(slotctl_binary, path, "rules", "reload", "--wait")
    assert out.returncode == 0 and out.stdout.startswith("Rules unchanged"), (out.stdout, out.stderr)
    assert_reload(notify, "unchanged (API)")

    # Graceful shutdown still drains here: an open event stream and an idle keep-alive connection end, exit 0.
    events = client.stream("/v1/events")
    idle = UnixHTTPConnection(path)
    idle.request("GET", "/_ping")
    assert idle.getresponse().read() == b"OK"
    try:
        started = time.monotonic()
        activator.send_signal(signal.SIGTERM)  # systemd-socket-activate exec()s: this is slotd
        assert notify.next_skipping_watchdog().get("STOPPING") == "1"
        assert activator.wait(15) == 0, daemon.log()
        assert time.monotonic() - started < 10
    finally:
        events.close()
        idle.close()
    # The socket is systemd's: slotd must not remove it (the next start, or queued clients, need it).
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None, reason="systemd-socket-activate not installed")
def test_socket_activation_refuses_a_datagram_socket_clearly(daemons):
    daemon = daemons(start=False)
    path = str(daemon.dir / "dgram.sock")
    activator = subprocess.Popen(["systemd-socket-activate", "--datagram", "-l", path, *daemon.args],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while not os.path.exists(path):
        assert time.monotonic() < deadline and activator.poll() is None
        time.sleep(0.02)
    # The activator starts slotd on the first datagram.
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.sendto(b"hello", path)
    try:
        stdout, stderr = activator.communicate(timeout=STARTUP_TIMEOUT)
    except subprocess.TimeoutExpired:
        activator.kill()
        raise
    out = subprocess.CompletedProcess(activator.args, activator.returncode, stdout, stderr)
    assert out.returncode == 1, (out.returncode, out.stderr)
    assert "not a stream socket" in out.stderr and "ListenStream=" in out.stderr, out.stderr


# MARK: - The example units


def units_with(binaries: Path, tmp: Path) -> Path:
    """Examples/systemd/ copied with /usr/local/bin/ pointing at `binaries` (verify needs ExecStart to exist)."""
    for name in ("slotd.service", "slotd.socket"):
        text = (UNITS / name).read_text().replace("/usr/local/bin/", f"{binaries}/")
        (tmp / name).write_text(text)
    return tmp


def analyze(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=60, cwd=tmp)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_units_verify(tmp_path, slotd_binary, slotctl_binary):
    binaries = tmp_path / "bin"
    binaries.mkdir()
    (binaries / "slotd").symlink_to(slotd_binary)
    (binaries / "slotctl").symlink_to(slotctl_binary)
    units = units_with(binaries, tmp_path)
    out = analyze(units, "verify", "./slotd.socket", "./slotd.service")
    assert out.returncode == 0 and out.stderr.strip() == "", out.stderr

    # The check is real: without the binary, verify fails.
    (binaries / "slotd").unlink()
    out = analyze(units, "verify", "./slotd.socket", "./slotd.service")
    assert out.returncode != 0 and "not executable" in out.stderr, out.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_service_security_score_is_the_one_the_readme_quotes(tmp_path):
    units = units_with(Path("/usr/bin"), tmp_path)
    out = analyze(units, "security", "--offline=true", "./slotd.service")
    assert out.returncode == 0, out.stderr
    score = re.search(r"Overall exposure level for slotd\.service: ([0-9.]+) (\w+)", out.stdout)
    assert score, out.stdout[-500:]
    assert float(score.group(1)) <= 2.0 and score.group(2) == "OK", score.group(0)
    readme = (ROOT / "README.md").read_text()
    assert f"exposure level {score.group(1)} OK" in readme, f"README should quote {score.group(0)}"


def test_example_configuration_loads(daemons):
    """Examples/systemd/slotd.yaml as slotd reads it (users and groups that do not exist here swapped for root)."""
    text = (UNITS / "slotd.yaml").read_text()
    have_user = subprocess.run(["getent", "passwd", "slotd"], capture_output=True).returncode == 0
    have_group = subprocess.run(["getent", "group", "slotd"], capture_output=True).returncode == 0
    if not have_user:
        text = text.replace("  slotd: admin", "  0: admin")
    if not have_group:
        text = text.replace("group: slotd", "group: root")
    daemon = daemons(config=text)  # --rules, --db and --socket from the test override the paths
    assert daemon.client.get("/v1/health").json()["role"] == "admin"
