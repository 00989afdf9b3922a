"""Operations end to end: live rule reload (inotify, temp+rename, bad files), rule conflicts, backups while writing,
export, metrics, status, doctor, and a database newer than the binary."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import assert_problem, future_day, wait_for, wall

DAY = future_day(5)
SHOP_HOURS = "hours: Mo-Su 09:00-18:00"


@pytest.fixture
def ctl(slotctl_for):
    return slotctl_for


def events(daemon, prefix: str) -> list[dict]:
    resp = daemon.client.get(f"/v1/events?follow=false&type={prefix}*")
    assert resp.status == 200, resp
    return [json.loads(line) for line in resp.text.splitlines() if line.strip()
            and json.loads(line).get("type", "").startswith(prefix)]


def rules_version(daemon) -> str:
    return daemon.client.get("/v1/rules").json()["version"]


def set_shop_hours(daemon, hours: str, how: str = "in-place") -> None:
    shop = daemon.rules / "shop.yaml"
    text = shop.read_text().replace(SHOP_HOURS, hours) if SHOP_HOURS in shop.read_text() else re.sub(
        r"(?m)^hours: .*$", hours, shop.read_text())
    if how == "in-place":
        with open(shop, "w") as f:
            f.write(text)
    else:
        # Like vim: a swap file, a probe file, the new text in a temp file, renamed over the original.
        (daemon.rules / ".shop.yaml.swp").write_text("swap")
        (daemon.rules / "4913").write_text("")
        (daemon.rules / "4913").unlink()
        tmp = daemon.rules / "shop.yaml.tmp"
        tmp.write_text(text)
        os.replace(tmp, shop)
        (daemon.rules / ".shop.yaml.swp").unlink()


# MARK: - Live reload


def test_editing_a_rule_file_in_place_reloads_it(daemon):
    before = rules_version(daemon)
    set_shop_hours(daemon, "hours: Mo-Su 08:00-18:00")
    after = wait_for(lambda: (v := rules_version(daemon)) != before and v, what="the watcher's reload")
    reloaded = wait_for(lambda: events(daemon, "rules.reloaded"), what="rules.reloaded")
    assert reloaded[-1]["data"]["version"] == after and reloaded[-1]["data"]["trigger"] == "watch"
    assert reloaded[-1]["data"]["previous_version"] == before
    assert "shop.yaml" in reloaded[-1]["data"]["files"]
    assert any(s["start"].endswith("08:00:00+01:00") or "T08:00:00" in s["start"] for s in daemon.client.slots(DAY))


def watch_reloads(daemon) -> int:
    """Valid reloads the directory watcher asked for, changed or not (`slotd_rule_reloads_total`)."""
    metrics = daemon.client.get("/v1/metrics").text
    match = re.search(r'^slotd_rule_reloads_total\{trigger="watch"\} (\d+)$', metrics, re.MULTILINE)
    assert match, metrics
    return int(match.group(1))


def test_temp_file_and_rename_is_one_reload(daemon):
    before = rules_version(daemon)
    set_shop_hours(daemon, "hours: Mo-Su 08:30-18:00", how="rename")
    renamed = wait_for(lambda: (v := rules_version(daemon)) != before and v, what="the watcher's reload")
    # A second edit, made once the rename's reload is in: a reload the rename's burst could still cause was asked
    # before this edit's, and reloads run in the order asked, so once this one is in the count is final.
    set_shop_hours(daemon, "hours: Mo-Su 08:45-18:00")
    wait_for(lambda: rules_version(daemon) not in (before, renamed), what="the second edit's reload")
    assert watch_reloads(daemon) == 2, "one reload for the editor's whole burst, one for the second edit"
    assert not events(daemon, "rules.rejected")


def test_a_bad_file_is_rejected_with_locations_and_the_old_rules_keep_serving(daemon, ctl):
    before = rules_version(daemon)
    staff = daemon.rules / "staff.yaml"
    good = staff.read_text()
    staff.write_text(good.replace("hours: Mo-Su 10:00-16:00", "hours: Tue 10:00-16:00"))
    rejected = wait_for(lambda: events(daemon, "rules.rejected"), what="rules.rejected")
    data = rejected[-1]["data"]
    assert data["trigger"] == "watch" and data["version"] == before
    assert data["errors"], data
    for error in data["errors"]:
        assert error["file"] == "staff.yaml" and error["line"] > 0 and error["column"] > 0
        assert re.match(r"staff\.yaml:\d+:\d+: ", error["text"]), error
    assert rules_version(daemon) == before
    assert daemon.client.slots(DAY), "the old rules still answer"
    # The same through the API and slotctl (synchronous, for ExecReload=).
    problem = assert_problem(daemon.client.post("/v1/rules/reload"), 422, "rules_invalid")
    assert any(d["file"] == "staff.yaml" for d in problem["diagnostics"])
    out = ctl(daemon, "rules", "reload", "--wait", check=None)
    assert out.returncode != 0 and re.search(r"staff\.yaml:\d+:\d+", out.stdout + out.stderr), out
    status = daemon.client.get("/v1/status").json()
    assert status["last_reload"]["outcome"] == "rejected" and status["last_reload"]["errors"]
    # Fixed: the next write reloads.
    staff.write_text(good)
    wait_for(lambda: daemon.client.get("/v1/status").json()["last_reload"]["outcome"] in ("loaded", "unchanged"),
             what="a good reload")
    assert ctl(daemon, "rules", "reload").stdout.startswith("Rules unchanged")


def test_sighup_reloads_through_the_same_path(daemon):
    import signal
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: daemon.client.get("/v1/status").json()["last_reload"]["trigger"] == "signal", what="SIGHUP")


# MARK: - Conflicts


def test_a_booking_outside_new_hours_stays_and_is_reported(daemon, ctl):
    booked = daemon.client.book(wall(DAY, "17:00"))
    assert booked.status == 201, booked
    booking = booked.json()["id"]
    assert ctl(daemon, "bookings", "--conflicts").stdout.startswith("no bookings conflict")
    set_shop_hours(daemon, "hours: Mo-Su 09:00-16:00")
    conflict = wait_for(lambda: events(daemon, "booking.conflicts_rules"), what="booking.conflicts_rules")
    assert conflict[-1]["data"]["booking"] == booking
    assert conflict[-1]["data"]["reasons"] and conflict[-1]["data"]["reasons"][0]["code"] == "shop_closed"
    assert daemon.client.get(f"/v1/bookings/{booking}").json()["status"] == "confirmed"
    listed = daemon.client.get("/v1/bookings?conflicts=true").json()
    assert [b["id"] for b in listed["bookings"]] == [booking]
    assert listed["conflicts"][0]["booking"] == booking
    text = ctl(daemon, "bookings", "--conflicts").stdout
    assert booking in text and "1 booking(s) conflict" in text
    assert json.loads(ctl(daemon, "bookings", "--conflicts", "--json").stdout)["bookings"][0]["id"] == booking
    # Computed on demand: back to the old hours, no conflict.
    set_shop_hours(daemon, SHOP_HOURS)
    wait_for(lambda: not daemon.client.get("/v1/bookings?conflicts=true").json()["bookings"],
             what="the conflict to clear")


# MARK: - Backups


def test_backup_while_writing_is_consistent(daemon, ctl, tmp_path):
    created: list[str] = []
    stop = threading.Event()

    def writer():
        day_index = 0
        while not stop.is_set() and day_index < 40:
            day = future_day(2 + day_index)
            for hour in range(9, 18):
                if stop.is_set():
                    return
                resp = daemon.client.book(wall(day, f"{hour:02d}:00"))
                if resp.status == 201:
                    created.append(resp.json()["id"])
            day_index += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for(lambda: len(created) >= 5, what="some bookings")
        target = tmp_path / "backup.sqlite"
        out = ctl(daemon, "backup", str(target))
        assert "integrity checked" in out.stdout
    finally:
        stop.set()
        thread.join()
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {row[0] for row in conn.execute("SELECT id FROM bookings")}
        created_events = {json.loads(row[0])["booking"]
                          for row in conn.execute("SELECT data FROM events WHERE type = 'booking.created'")}
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    # A prefix of what the (sequential) writer created, with each booking's event: one consistent moment.
    assert ids == set(created[: len(ids)]), "the backup is not a prefix of the writes"
    assert ids == created_events
    assert version >= 1
    # Not overwritten without --force, and the file is left whole.
    assert ctl(daemon, "backup", str(target), check=None).returncode == 64
    ctl(daemon, "backup", "--force", str(target))


def test_backup_restores_by_copying_it_over_the_database(daemons, ctl, tmp_path):
    daemon = daemons()
    booking = daemon.client.book(wall(DAY, "10:00")).json()["id"]
    ctl(daemon, "backup", str(tmp_path / "b.sqlite"))
    daemon.client.post(f"/v1/bookings/{booking}/cancel", json={"reason": "after the backup"})
    daemon.stop_checked()
    for suffix in ("-wal", "-shm"):
        Path(str(daemon.db) + suffix).unlink(missing_ok=True)
    daemon.db.write_bytes((tmp_path / "b.sqlite").read_bytes())
    daemon.start()
    assert daemon.client.get(f"/v1/bookings/{booking}").json()["status"] == "confirmed"


# MARK: - Export


def test_export_shape(daemon, ctl, tmp_path):
    booked = daemon.client.book(wall(DAY, "11:00"), customer={"name": "Ada Export", "email": "ada@example.com"})
    assert booked.status == 201, booked
    booked = booked.json()
    target = tmp_path / "export.json"
    ctl(daemon, "export", "--json", str(target))
    doc = json.loads(target.read_text())
    assert doc["format"] == "slotd-export" and doc["format_version"] == 1
    for key in ("slotd_version", "exported_at", "rules_version", "shop", "services", "staff", "customers",
                "bookings"):
        assert key in doc, key
    assert doc["shop"]["timezone"] == "Europe/Berlin"
    assert {s["id"] for s in doc["services"]} >= {"haircut"}
    assert [s["id"] for s in doc["staff"]] == ["anna", "ben"]
    assert all(set(c) == {"id", "name", "email", "phone", "created_at", "updated_at"} for c in doc["customers"])
    customer = next(c for c in doc["customers"] if c["email"] == "ada@example.com")
    exported = next(b for b in doc["bookings"] if b["id"] == booked["id"])
    assert exported["customer_id"] == customer["id"] and exported["status"] == "confirmed"
    offset = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
    assert offset.match(exported["start"]) and offset.match(exported["end"]) and offset.match(doc["exported_at"])
    assert exported["price"]["amount"] > 0 and exported["price"]["currency"] == "EUR"
    # Standard output too; --json is required.
    assert json.loads(ctl(daemon, "export", "--json").stdout)["format"] == "slotd-export"
    assert ctl(daemon, "export", check=None).returncode == 64


# MARK: - Metrics, status, doctor

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$')


def scrape(daemon) -> dict[str, float]:
    resp = daemon.client.get("/v1/metrics")
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/plain; version=0.0.4"), resp
    samples: dict[str, float] = {}
    typed: set[str] = set()
    for line in resp.text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        match = SAMPLE.match(line)
        assert match, f"not Prometheus text: {line!r}"
        name = match.group(1)
        assert any(name == t or name.startswith(t + "_") for t in typed), f"{name} has no # TYPE"
        samples[line.rsplit(" ", 1)[0]] = float(match.group(4))
    return samples


def test_metrics_parse_and_counters_move(daemon):
    health = 'slotd_http_requests_total{route="/v1/health",method="GET",status="200"}'
    first = scrape(daemon)
    for _ in range(3):
        daemon.client.get("/v1/health")
    daemon.client.get("/v1/bookings/bk_nope")
    daemon.client.post("/v1/rules/reload")
    daemon.client.book(wall(DAY, "12:00"))
    second = scrape(daemon)
    assert second[health] >= first.get(health, 0) + 3
    assert second['slotd_http_requests_total{route="/v1/bookings/{id}",method="GET",status="404"}'] >= 1
    assert second['slotd_rule_reloads_total{trigger="api"}'] == first['slotd_rule_reloads_total{trigger="api"}'] + 1
    assert second['slotd_bookings{state="confirmed"}'] == first['slotd_bookings{state="confirmed"}'] + 1
    bucket = 'slotd_http_request_duration_seconds_bucket{route="/v1/health",le="+Inf"}'
    assert second[bucket] >= 3
    assert 'slotd_outbox_jobs{state="pending"}' in second and "slotd_event_subscribers" in second
    assert second["slotd_uptime_seconds"] >= 0 and "slotd_rule_rejections_total" in second
    assert not any("bk_nope" in key for key in second), "raw paths must not become labels"


def test_status_summarises_health(daemon, ctl):
    daemon.client.book(wall(future_day(1), "12:00"))
    out = ctl(daemon, "status").stdout
    for text in ("bookings:", "last reload: loaded", "database:", "writable"):
        assert text in out, (text, out)
    assert re.search(r"outbox: \d+ pending, 0 failed", out), out
    status = daemon.client.get("/v1/status").json()
    assert status["store"]["writable"] and status["store"]["detail"] == "ok"
    assert status["providers"]["payment"] == "manual"


def test_doctor_on_a_good_installation(daemon, ctl):
    out = ctl(daemon, "doctor")
    for check in ("socket", "reachable", "role", "rules", "rules served", "database", "providers"):
        assert re.search(rf"^ok\s+{check}:", out.stdout, re.M), (check, out.stdout)
    assert "FAIL" not in out.stdout


def test_doctor_on_a_broken_installation(daemon, ctl, slotctl_binary, tmp_path):
    # No daemon at the socket.
    out = subprocess.run([slotctl_binary, "doctor", "--socket", str(tmp_path / "none.sock")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and re.search(r"^FAIL\s+socket: .* — start slotd", out.stdout, re.M), out.stdout
    # A plain file where the socket should be.
    (tmp_path / "file.sock").write_text("")
    out = subprocess.run([slotctl_binary, "doctor", "--socket", str(tmp_path / "file.sock")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "is not a socket" in out.stdout
    # A running daemon, but the rules on disk are broken: FAIL with their locations and what to run.
    staff = daemon.rules / "staff.yaml"
    staff.write_text(staff.read_text().replace("hours: Mo-Su 10:00-16:00", "hours: Tue 10:00-16:00"))
    out = ctl(daemon, "doctor", check=1)
    assert re.search(r"^FAIL\s+rules: staff\.yaml:\d+:\d+", out.stdout, re.M), out.stdout
    assert re.search(r"^ok\s+database:", out.stdout, re.M)


# MARK: - Versions


def test_a_database_newer_than_the_binary_refuses_to_start(daemons, slotd_binary):
    daemon = daemons(start=False)
    conn = sqlite3.connect(daemon.db)
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    out = subprocess.run(daemon.args, capture_output=True, text=True, timeout=60, cwd=daemon.dir)
    assert out.returncode != 0
    assert "schema version 999, newer than this slotd knows" in out.stderr + out.stdout, out
    assert not Path(daemon.socket).exists()


def test_a_replaced_rules_directory_is_watched_again(daemon):
    import shutil
    before = rules_version(daemon)
    moved = daemon.dir / "rules.old"
    daemon.rules.rename(moved)
    wait_for(lambda: events(daemon, "rules.rejected"), what="the rejection of a missing directory")
    assert rules_version(daemon) == before, "the old rules keep serving while the directory is gone"
    shutil.copytree(moved, daemon.rules)
    set_shop_hours(daemon, "hours: Mo-Su 08:00-18:00")
    wait_for(lambda: rules_version(daemon) != before, what="a reload from the new directory")


def test_new_commands_explain_themselves(slotctl_binary):
    for command in (["rules", "reload"], ["backup"], ["export"], ["doctor"], ["bookings"]):
        text = subprocess.run([slotctl_binary, *command, "--help"], capture_output=True, text=True, timeout=10).stdout
        assert "Example" in text and f"slotctl {' '.join(command)}" in text, command
    assert "--conflicts" in subprocess.run([slotctl_binary, "bookings", "--help"], capture_output=True, text=True,
                                           timeout=10).stdout
    root = subprocess.run([slotctl_binary, "--help"], capture_output=True, text=True, timeout=10).stdout
    for line in ("rules reload", "backup FILE", "export --json", "doctor"):
        assert line in root, line
