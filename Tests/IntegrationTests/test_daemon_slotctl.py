"""`slotctl` online commands against a live daemon: human output, --json, exit codes, watch."""

from __future__ import annotations

import datetime as dt
import json
import os
import select
import subprocess
import time

import pytest

from conftest import future_day, local_iso, same_instant, shop_today, wall
from test_daemon_slotctl_counter import spoken_day

DAY = future_day(6)

# Exit codes (OnlineExit in Sources/slotctl/Online/OnlineFailure.swift).
NOT_FOUND, CONFLICT, INVALID, DENIED, UNAVAILABLE = 3, 4, 5, 6, 7


@pytest.fixture
def ctl(daemon, slotctl_binary):
    def run(*args, check: int | None = 0, env: dict | None = None):
        full_env = {**os.environ, "SLOTD_SOCKET": daemon.socket, **(env or {})}
        out = subprocess.run([slotctl_binary, *args], capture_output=True, text=True, timeout=30, env=full_env)
        if check is not None:
            assert out.returncode == check, (args, out.returncode, out.stdout, out.stderr)
        return out
    return run


def test_status_services_staff(ctl, daemon):
    status = ctl("status").stdout
    assert "is ok" in status and "admin" in status and "Test Cuts" in status
    health = json.loads(ctl("status", "--json").stdout)
    assert health["status"] == "ok"
    assert f"rules {health['rules_version']}" in status  # the rules version in force
    services = ctl("services").stdout
    assert "haircut" in services and "28.00 EUR" in services and "Hot-towel shave" in services
    assert [s["id"] for s in json.loads(ctl("services", "--json").stdout)["services"]] == \
        ["haircut", "beard_trim", "shave"]
    staff = ctl("staff").stdout.splitlines()
    assert staff[0].split() == ["ID", "NAME", "SERVICES"]
    assert staff[1].startswith("anna") and staff[2].startswith("ben")
    # --socket before the subcommand, and after it, both work
    assert ctl("--socket", daemon.socket, "status", env={"SLOTD_SOCKET": "/nonexistent"}).returncode == 0
    assert ctl("status", "--socket", daemon.socket, env={"SLOTD_SOCKET": "/nonexistent"}).returncode == 0


def test_slots_without_rules_asks_the_daemon(ctl, daemon):
    text = ctl("slots", "--service", "haircut", "--staff", "anna", "--from", DAY).stdout
    assert spoken_day(dt.date.fromisoformat(DAY)) in text
    assert "09:00–09:30  anna" in text and "17:30–18:00  anna" in text
    answer = json.loads(ctl("slots", "--service", "haircut", "--from", DAY, "--json").stdout)
    assert answer["service"] == "haircut" and answer["from"] == DAY and answer["to"] == DAY
    assert same_instant(answer["slots"][0]["start"], local_iso(DAY, "09:00"))
    # the daemon's bookings count: a booked start is gone from the online answer
    daemon.client.book(wall(DAY, "10:00"))
    after = json.loads(ctl("slots", "--service", "haircut", "--staff", "anna", "--from", DAY, "--json").stdout)
    assert not any(same_instant(s["start"], local_iso(DAY, "10:00")) for s in after["slots"])
    # what-if options belong to the offline mode
    usage = ctl("slots", "--service", "haircut", "--from", DAY, "--now", local_iso(DAY, "08:00"), check=64)
    assert "--now only applies offline" in usage.stderr
    unknown = ctl("slots", "--service", "perm", "--from", DAY, check=INVALID)
    assert "service" in unknown.stderr


def test_slots_json_is_one_shape_online_and_offline(ctl, daemon):
    # The same rules, no bookings, a day past any notice: the daemon's answer and the offline one are the same
    # document (the API's SlotList), byte for byte, so scripts need not care where the answer came from.
    query = ["--service", "haircut", "--staff", "anna", "--from", DAY, "--to", DAY, "--json"]
    online = ctl("slots", *query).stdout
    offline = ctl("slots", "--rules", str(daemon.rules), *query).stdout
    assert json.loads(offline)["rules_version"] == json.loads(online)["rules_version"]
    assert offline == online
    assert set(json.loads(offline)) == {"service", "staff", "from", "to", "rules_version", "slots"}


def test_explain_without_rules_asks_the_daemon(ctl, daemon):
    booking = daemon.client.book(wall(DAY, "10:00")).json()
    text = ctl("explain", "--service", "haircut", "--staff", "anna", "--at", wall(DAY, "10:00")).stdout
    assert "not bookable" in text and booking["id"] in text and "Nearest offered starts" in text
    verdict = json.loads(ctl("explain", "--service", "haircut", "--staff", "anna", "--at", wall(DAY, "10:30"),
                             "--json").stdout)
    assert verdict["bookable"] is True and verdict["reasons"] == [] and verdict["staff"] == "anna"
    taken = json.loads(ctl("explain", "--service", "haircut", "--staff", "anna", "--at", wall(DAY, "10:00"),
                           "--json").stdout)
    assert taken["bookable"] is False and taken["nearest"]
    assert any(r["code"] == "overlaps_booking" for r in taken["reasons"]), taken


def test_every_online_command_has_an_example_in_its_help(slotctl_binary):
    root = subprocess.run([slotctl_binary, "--help"], capture_output=True, text=True, timeout=10).stdout
    assert "Offline (rule files only" in root and "Online (a running slotd" in root
    for command in ("status", "services", "staff", "slots", "explain", "book", "bookings", "show", "cancel",
                    "reschedule", "confirm", "complete", "no-show", "note", "events", "watch"):
        text = subprocess.run([slotctl_binary, command, "--help"], capture_output=True, text=True,
                              timeout=10).stdout
        assert "Example" in text and f"slotctl {command}" in text, command


def test_book_show_list_and_transitions(ctl, daemon):
    booked = ctl("book", "--service", "haircut", "--staff", "anna", "--at", wall(DAY, "10:00"),
                 "--name", "Ben Meyer", "--email", "ben@example.com").stdout
    assert booked.startswith("booked bk_")
    booking_id = booked.split()[1]
    assert "Ben Meyer, ben@example.com" in booked and "10:00–10:30" in booked
    shown = json.loads(ctl("show", booking_id, "--json").stdout)
    assert shown["id"] == booking_id and shown["status"] == "confirmed"
    listing = ctl("bookings", "--from", DAY, "--to", DAY).stdout
    assert booking_id in listing and "Ben Meyer" in listing and "confirmed" in listing
    assert json.loads(ctl("bookings", "--json").stdout)["bookings"][0]["id"] == booking_id

    moved = ctl("reschedule", booking_id, "--to", wall(DAY, "11:00")).stdout  # --to is --start's old name
    assert "11:00–11:30" in moved
    early_done = ctl("complete", booking_id, check=CONFLICT)  # completing, too, only after the start
    assert "cannot complete a booking before it starts" in early_done.stderr

    other = json.loads(ctl("book", "--service", "haircut", "--at", wall(DAY, "12:00"), "--name", "N",
                           "--json").stdout)
    early = ctl("no-show", other["id"], check=CONFLICT)  # a no-show only after the start
    assert "invalid_transition" in early.stderr
    third = json.loads(ctl("book", "--service", "haircut", "--at", wall(DAY, "13:00"), "--name", "C",
                           "--json").stdout)
    assert "is now cancelled" in ctl("cancel", third["id"], "--reason", "ill").stdout


def test_reschedule_to_another_staff_member_prints_the_new_time_and_barber(ctl, daemon):
    booked = json.loads(ctl("book", "--service", "haircut", "--staff", "anna", "--at", wall(DAY, "10:00"),
                            "--name", "R", "--json").stdout)
    moved = ctl("reschedule", booked["id"], "--start", wall(DAY, "11:00"), "--staff", "ben").stdout
    assert f"{booked['id']} moved to" in moved and "11:00–11:30 with Ben (ben)" in moved
    anywhere = ctl("reschedule", booked["id"], "--start", wall(DAY, "09:15"), "--staff", "any").stdout
    assert "09:15–09:45 with Anna (anna)" in anywhere  # ben starts at 10:00
    unknown = ctl("reschedule", booked["id"], "--start", wall(DAY, "12:00"), "--staff", "nobody", check=INVALID)
    assert "unknown staff member 'nobody'" in unknown.stderr


def test_errors_are_clear_and_mapped_to_exit_codes(ctl, daemon):
    ctl("book", "--service", "haircut", "--staff", "anna", "--at", wall(DAY, "10:00"), "--name", "A")
    taken = ctl("book", "--service", "haircut", "--staff", "anna", "--at", wall(DAY, "10:00"), "--name", "B",
                check=CONFLICT)
    assert "that start is taken" in taken.stderr and "nearest free starts" in taken.stderr
    missing = ctl("show", "bk_nope", check=NOT_FOUND)
    assert "booking_not_found" in missing.stderr
    problem = json.loads(ctl("show", "bk_nope", "--json", check=NOT_FOUND).stdout)
    assert problem["code"] == "booking_not_found"
    invalid = ctl("book", "--service", "perm", "--at", wall(DAY, "10:00"), "--name", "C", check=INVALID)
    assert "service" in invalid.stderr
    assert daemon.booking_count() == 1


def test_not_running_says_how_to_start_it(slotctl_binary, tmp_path):
    out = subprocess.run([slotctl_binary, "--socket", str(tmp_path / "none.sock"), "status"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == UNAVAILABLE
    assert "slotd is not running at" in out.stderr and "start it with" in out.stderr
    env = {**os.environ, "SLOTD_SOCKET": str(tmp_path / "env.sock")}
    out = subprocess.run([slotctl_binary, "bookings", "--today"], capture_output=True, text=True, timeout=10,
                         env=env)
    assert out.returncode == UNAVAILABLE and "env.sock" in out.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run slotctl as another uid")
def test_access_denied_names_the_socket_or_the_role(slotctl_binary, daemons):
    closed = daemons()
    out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", slotctl_binary,
                          "--socket", closed.socket, "status"], capture_output=True, text=True, timeout=10)
    assert out.returncode == DENIED, out
    assert "access denied" in out.stderr
    reader = daemons(config=f'socket:\n  mode: "0666"\nroles:\n  "{os.getuid()}": admin\n  "65534": read\n')
    out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", slotctl_binary,
                          "--socket", reader.socket, "cancel", "bk_x"], capture_output=True, text=True, timeout=10)
    assert out.returncode == DENIED, out
    assert "403" in out.stderr and "role" in out.stderr


def test_events_prints_the_log_and_follows(ctl, daemon, slotctl_binary):
    first = json.loads(ctl("book", "--service", "haircut", "--at", wall(DAY, "10:00"), "--name", "A",
                           "--json").stdout)["id"]
    log = ctl("events").stdout
    assert "booking.created" in log and first in log
    lines = [json.loads(line) for line in ctl("events", "--json").stdout.splitlines()]
    cursor = lines[-1]["cursor"]
    proc = subprocess.Popen([slotctl_binary, "--socket", daemon.socket, "events", "--follow", "--json",
                             "--since", str(cursor), "--limit", "1"], stdout=subprocess.PIPE, text=True)
    try:
        # Made before or after slotctl subscribes, the booking reaches it: the stream replays from --since.
        second = daemon.client.book(wall(DAY, "11:00")).json()["id"]
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert events[-1]["type"] == "booking.created" and events[-1]["data"].get("booking") == second


def read_until(proc, needle: str, timeout: float = 15.0) -> str:
    """Reads the process's stdout until `needle` appears; returns what was read."""
    buffer = ""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while needle not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{needle!r} not seen in {timeout}s; got:\n{buffer}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 65536).decode()
            if not chunk:
                raise AssertionError(f"slotctl ended before {needle!r}; got:\n{buffer}")
            buffer += chunk
    return buffer


def test_watch_redraws_when_another_client_books(daemon, slotctl_binary):
    today = shop_today().isoformat()
    proc = subprocess.Popen([slotctl_binary, "--socket", daemon.socket, "watch", "--date", DAY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = read_until(proc, "Ben (ben)")
        assert "Test Cuts" in first and spoken_day(dt.date.fromisoformat(DAY)) in first
        assert "(free all day)" in first
        daemon.client.book(wall(DAY, "10:00"), name="Walk In")
        second = read_until(proc, "Walk In")
        row = next(line for line in second.splitlines() if "Walk In" in line)
        assert row.split()[:3] == ["10:00–10:30", "Walk", "In"] and "Haircut" in row
    finally:
        proc.terminate()
        proc.wait(10)
    assert today  # the default date is the shop's today; --date keeps this test independent of the clock
