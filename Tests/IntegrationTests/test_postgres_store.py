"""slotd on PostgreSQL (issue 16): one daemon books, lists and cancels; three daemons on one database never double
book; the database holds exactly what was acknowledged; a killed daemon's outbox claims are taken over by the others
once their lease runs out."""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from conftest import RULES, Client, assert_problem, future_day, wait_for, wall
from postgres_cluster import OwnCluster, fresh_database, psql, server_url, with_database
from test_outbox import Receiver, config as outbox_config

DAY = future_day(5)


def start_on(daemons, url: str):
    daemon = daemons(start=False)
    daemon.db = url
    return daemon.start()


def test_a_daemon_on_postgres_books_lists_and_cancels(daemons):
    url = fresh_database()
    daemon = start_on(daemons, url)
    created = daemon.client.book(wall(DAY, "10:00"), name="Pia Postgres")
    assert created.status == 201, created
    booking = created.json()
    listed = daemon.client.get(f"/v1/bookings?from={DAY}&to={DAY}")
    assert listed.status == 200, listed
    assert [b["id"] for b in listed.json()["bookings"]] == [booking["id"]]
    again = daemon.client.book(wall(DAY, "10:00"), name="Too Late")
    assert_problem(again, 409, "slot_unavailable")
    cancelled = daemon.client.post(f"/v1/bookings/{booking['id']}/cancel", json={"reason": "test"})
    assert cancelled.status == 200, cancelled
    assert cancelled.json()["status"] == "cancelled"
    assert psql(url, "SELECT status FROM bookings") == [["cancelled"]]
    assert [row[0] for row in psql(url, "SELECT type FROM events WHERE type LIKE 'booking.%' ORDER BY cursor")] == [
        "booking.created", "booking.cancelled"]
    # It survives a restart: the rows are in PostgreSQL, not in the daemon.
    daemon.restart()
    fetched = daemon.client.get(f"/v1/bookings/{booking['id']}")
    assert fetched.status == 200 and fetched.json()["status"] == "cancelled", fetched
    assert daemon.client.book(wall(DAY, "10:00"), name="Now Free").status == 201


def test_three_daemons_fifty_clients_one_slot_one_booking(daemons):
    url = fresh_database()
    trio = [start_on(daemons, url) for _ in range(3)]
    start = wall(DAY, "11:00")
    results = race(trio, 50, lambda client, i: client.book(start, name=f"Racer {i}"))
    statuses = sorted(getattr(r, "status", repr(r)) for r in results)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 49, statuses
    for resp in results:
        if resp.status == 409:
            assert_problem(resp, 409, "slot_unavailable")
    assert psql(url, "SELECT count(*) FROM bookings") == [["1"]]
    # Every daemon sees the one booking.
    for daemon in trio:
        listed = daemon.client.get(f"/v1/bookings?from={DAY}&to={DAY}")
        assert len(listed.json()["bookings"]) == 1, listed


def test_a_subscriber_on_one_daemon_sees_every_daemons_events_in_cursor_order(daemons):
    url = fresh_database()
    trio = [start_on(daemons, url) for _ in range(3)]
    times = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    with trio[0].client.stream("/v1/events?type=booking.*") as stream:
        assert stream.status == 200
        made = []
        # Each booking goes to another daemon; daemon 0's stream must show them all (LISTEN/NOTIFY fan-out), live.
        for index, time_of_day in enumerate(times):
            resp = trio[index % 3].client.book(wall(DAY, time_of_day), name=f"Fan {index}")
            assert resp.status == 201, resp
            made.append(resp.json()["id"])
            event = stream.next_json()
            assert event["type"] == "booking.created" and event["data"]["booking"] == made[-1], event
    cursors = [int(row[0]) for row in psql(url, "SELECT cursor FROM events ORDER BY cursor")]
    assert cursors == list(range(1, len(cursors) + 1)), "gap-free"


def test_postgres_down_answers_503_then_the_daemon_reconnects(daemons):
    cluster = OwnCluster(tempfile.mkdtemp(prefix="slotd-pg.", dir="/tmp"))
    try:
        url = cluster.start()
        daemon = start_on(daemons, url + "&timeout=2")
        before = daemon.client.book(wall(DAY, "09:00"), name="Before")
        assert before.status == 201, before
        cluster.stop_server()
        # Down: a clear 503 within the store's timeout, not a hang; the daemon itself stays up.
        down = Client(daemon.socket, timeout=20).book(wall(DAY, "10:00"), name="While Down")
        problem = assert_problem(down, 503, "unavailable")
        assert down.headers.get("retry-after") == "5", down.headers
        assert "did not answer" in problem["detail"] or "unreachable" in problem["detail"], problem
        assert daemon.client.get("/v1/health").status == 200
        cluster.start_server()
        # Up again: the pool reconnects on its own, and the acknowledged booking is there.
        after = wait_for(lambda: (r := Client(daemon.socket, timeout=20).book(wall(DAY, "11:00"), name="After"))
                         .status == 201 and r, timeout=30, what="a booking once PostgreSQL is back")
        assert after.status == 201
        fetched = daemon.client.get(f"/v1/bookings/{before.json()['id']}")
        assert fetched.status == 200, fetched
        # And it still stops cleanly: SIGTERM after PostgreSQL came back exits 0, in well under the 15 s bound.
        started = time.monotonic()
        daemon.stop_checked()
        assert time.monotonic() - started < 10, f"slotd took {time.monotonic() - started:.1f} s to stop"
    finally:
        cluster.remove()


CHAIR_RULES = {
    "shop.yaml": (RULES / "shop.yaml").read_text() + "\nresources:\n  - {id: chair, name: Barber chair, count: 2}\n",
    "services.yaml": "services:\n  - id: haircut\n    name: Haircut\n    duration: 30m\n    price: 28\n"
                     "    resources: [chair]\n",
    "staff.yaml": "staff:\n" + "".join(f"  - id: {name}\n    name: {name.title()}\n    services: [haircut]\n"
                                       for name in ("anna", "ben", "cara")),
}


def chair_rules(directory: Path) -> Path:
    directory.mkdir()
    for name, text in CHAIR_RULES.items():
        (directory / name).write_text(text)
    return directory


def race(trio, count: int, attempt) -> list:
    """Runs `attempt(client, index)` from `count` threads spread over the daemons, all released at once."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        client = Client(trio[index % len(trio)].socket, timeout=60)
        barrier.wait()
        try:
            results[index] = attempt(client, index)
        except Exception as error:  # noqa: BLE001 — recorded and asserted below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_two_chairs_three_barbers_on_three_daemons_book_two(daemons, tmp_path):
    url = fresh_database()
    rules = chair_rules(tmp_path / "rules")
    trio = []
    for _ in range(3):
        daemon = daemons(start=False, rules=rules)
        daemon.db = url
        trio.append(daemon.start())
    staff = ["anna", "ben", "cara"]
    results = race(trio, 3, lambda client, i: client.book(wall(DAY, "14:00"), staff=staff[i], name=f"Chair {i}"))
    statuses = sorted(getattr(r, "status", repr(r)) for r in results)
    assert statuses == [201, 201, 409], statuses
    assert psql(url, "SELECT count(*) FROM bookings WHERE active") == [["2"]]


def test_a_reschedule_race_into_one_slot_moves_one_booking(daemons):
    url = fresh_database()
    trio = [start_on(daemons, url) for _ in range(3)]
    ids = [trio[0].client.book(wall(DAY, t), name=f"Mover {i}").json()["id"]
           for i, t in enumerate(["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"])]
    target = wall(DAY, "15:00")
    results = race(trio, len(ids), lambda client, i: client.post(f"/v1/bookings/{ids[i]}/reschedule",
                                                                 json={"start": target}))
    statuses = sorted(getattr(r, "status", repr(r)) for r in results)
    assert statuses.count(200) == 1 and statuses.count(409) == len(ids) - 1, statuses
    rows = psql(url, "SELECT count(*) FROM bookings WHERE active AND start_at = (SELECT max(start_at) FROM bookings)")
    assert rows == [["1"]]


def test_kill_9_under_load_loses_no_booking_and_another_daemon_takes_over_its_jobs_after_the_lease(daemons):
    # Three daemons on one database under load, each delivering the booking webhook to a path of its own on one
    # receiver. The receiver holds daemon A's deliveries, so A holds claimed jobs; A is killed the moment one of its
    # calls arrives (well inside its 3 s call timeout). B and C must deliver A's jobs, but only once A's lease
    # (2 × call_timeout + 10 s = 16 s from the claim) has run out; every job arrives under one message id, and is
    # answered once.
    call_timeout = 3
    url = fresh_database()
    receiver = Receiver(mode="slow")
    receiver.path_modes["/hooks/a"] = "hang"
    receiver.start()
    try:
        trio = []
        for name in ("a", "b", "c"):
            daemon = daemons(start=False)
            daemon.db = url
            daemon.config = daemon.dir / "slotd.yaml"
            daemon.config.write_text(outbox_config(daemon.dir, receiver.url_for(f"/hooks/{name}"), workers=2,
                                                   call_timeout=f"{call_timeout}s"))
            trio.append(daemon.start())
        victim = trio[0]
        acknowledged: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        # Enough slots that the load outlasts the kill (A's next call arrives only after its first hung for the
        # call timeout): every half hour of 29 days each, all inside the booking horizon.
        times = [f"{hour:02d}:{minute:02d}" for hour in range(9, 18) for minute in (0, 30)]

        def writer(daemon, offset: int) -> None:
            client = Client(daemon.socket, timeout=10)
            for day_offset in range(offset, offset + 29):
                for time_of_day in times:
                    if stop.is_set():
                        return
                    try:
                        resp = client.book(wall(future_day(day_offset), time_of_day), name="Load")
                    except OSError:
                        return  # the victim is gone: that request was never acknowledged
                    if resp.status == 201:
                        with lock:
                            acknowledged.append(resp.json()["id"])

        threads = [threading.Thread(target=writer, args=(daemon, 2 + 29 * i)) for i, daemon in enumerate(trio)]
        for thread in threads:
            thread.start()
        wait_for(lambda: len(acknowledged) >= 9, timeout=60, what="9 acknowledged bookings")
        with receiver.arrived:
            seen = len(receiver.deliveries)
            assert receiver.arrived.wait_for(
                lambda: any(d["path"] == "/hooks/a" for d in receiver.deliveries[seen:]), timeout=60), \
                "daemon A never called the receiver"
            victim.kill()
            killed_at = time.time()
            # A's calls that arrived in the last second were still running (their timeout is 3 s): A's claims.
            held = {d["id"] for d in receiver.deliveries if d["path"] == "/hooks/a" and d["at"] > killed_at - 1}
        assert held
        quoted = ",".join(f"'{message_id}'" for message_id in held)
        leases = {message_id: (state, int(due)) for message_id, state, due in psql(
            url, f"SELECT payload::json->>'message_id', state, due_at FROM outbox "
                 f"WHERE kind = 'notify.send.hook' AND payload::json->>'message_id' IN ({quoted})")}
        for message_id in held:
            # Still pending and due at the lease's end, well after any retry delay (max_backoff is 2 s).
            state, lease_end = leases[message_id]
            assert state == "pending" and lease_end > killed_at + call_timeout, (message_id, state, lease_end,
                                                                                killed_at)
        # B and C go on booking, then the load stops.
        count = len(acknowledged)
        wait_for(lambda: len(acknowledged) >= count + 6, timeout=60, what="B and C to go on booking")
        stop.set()
        for thread in threads:
            thread.join(60)

        def answered() -> list[dict]:
            with receiver.lock:
                return [d for d in receiver.deliveries if d["path"] != "/hooks/a"]

        stored = {row[0] for row in psql(url, "SELECT id FROM bookings")}
        wait_for(lambda: {d["body"]["data"]["fields"]["booking"] for d in answered()} >= stored, timeout=180,
                 what="a delivery for every stored booking, A's claims taken over after their lease")
        missing = [booking for booking in acknowledged if booking not in stored]
        assert not missing, f"acknowledged but not stored: {missing}"
        # Answered calls are recorded as done right after the answer.
        jobs = wait_for(lambda: (rows := psql(
            url, "SELECT payload::json->>'message_id', state FROM outbox WHERE kind = 'notify.send.hook'"))
            and all(state == "done" for _, state in rows) and rows, timeout=30, what="every delivery recorded as done")
        assert len(jobs) == len(stored), jobs
        assert {message_id for message_id, _ in jobs} == receiver.ids()
        # One message id per booking, however often it went over the wire; each answered once (by B or C).
        ids_per_booking: dict[str, set[str]] = {}
        for delivery in receiver.deliveries:
            ids_per_booking.setdefault(delivery["body"]["data"]["fields"]["booking"], set()).add(delivery["id"])
        assert all(len(ids) == 1 for ids in ids_per_booking.values()), ids_per_booking
        answers = Counter(d["id"] for d in answered())
        assert all(n == 1 for n in answers.values()), {k: n for k, n in answers.items() if n > 1}
        # A's claims: taken over only once A's lease had run out.
        for message_id in held:
            taken_over = [d["at"] for d in answered() if d["id"] == message_id]
            assert taken_over and taken_over[0] >= leases[message_id][1], (message_id, taken_over, leases[message_id])
        assert receiver.bad_signatures == 0
        for daemon in trio[1:]:
            assert daemon.client.get("/v1/health").status == 200
    finally:
        receiver.release.set()
        receiver.stop()


# MARK: - The `postgres:` block of slotd.yaml


def password_database(url: str) -> tuple[str, str, str]:
    """A new database owned by `slotd_password`, the cluster's one role that must log in with a password
    (scripts/postgres-cluster); returns the socket directory, the database and a fresh password."""
    password = "pw " + uuid.uuid4().hex  # a space too: the file's whole first line is the password
    psql(url, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'slotd_password') THEN "
              "CREATE ROLE slotd_password LOGIN; END IF; END $$")
    psql(url, f"ALTER ROLE slotd_password PASSWORD '{password}'")
    name = "slotd_pw_" + uuid.uuid4().hex
    psql(url, f"CREATE DATABASE {name} OWNER slotd_password")
    return parse_qs(urlsplit(url).query)["host"][0], name, password


def test_a_postgres_block_with_a_password_file_runs_the_daemon(daemons):
    socket_dir, name, password = password_database(server_url())
    daemon = daemons(start=False, config=(
        f"postgres:\n  host: {socket_dir}\n  database: {name}\n  user: slotd_password\n"
        "  password_file: postgres.password\n  tls: disable\n  pool: 3\n  timeout: 5s\n"))
    secret = daemon.dir / "postgres.password"
    secret.write_text(password + "\n")
    secret.chmod(0o600)
    daemon.db = None
    daemon.start()
    created = daemon.client.book(wall(DAY, "10:00"), name="Pat Password")
    assert created.status == 201, created
    url = with_database(server_url(), name)
    assert psql(url, "SELECT id FROM bookings") == [[created.json()["id"]]]
    status = daemon.client.get("/v1/status").json()
    assert status["database"] == f"postgres://slotd_password@localhost/{name}?host={socket_dir}", status
    assert password not in daemon.log()
    daemon.stop_checked()
    # Without the password the server refuses the role, so the file is what logged it in: a wrong one fails the start.
    secret.write_text("wrong\n")
    out = subprocess.run(daemon.args, capture_output=True, text=True, timeout=60, cwd=daemon.dir)
    assert out.returncode == 1, out
    assert "cannot open the database" in out.stderr, out.stderr


def test_a_bad_postgres_block_is_reported_line_by_line(daemons, tmp_path):
    loose = tmp_path / "loose.password"
    loose.write_text("secret\n")
    loose.chmod(0o644)
    daemon = daemons(start=False, config=(
        "postgres:\n"
        "  host: /run/postgresql\n"
        "  port: 99999\n"
        f"  password_file: {loose}\n"
        "  tls: require\n"
        "  pool: 0\n"
        "  timeout: 2h\n"
        "  colour: blue\n"
        "  user: slotd\n"))
    daemon.db = None
    out = subprocess.run(daemon.args, capture_output=True, text=True, timeout=30, cwd=daemon.dir)
    assert out.returncode == 78, out
    for expected in [
        "slotd.yaml:2:3: `postgres` has no `database` — name the database slotd uses",
        "slotd.yaml:3:9: `port` must be a whole number from 1 to 65535 (got '99999')",
        f"slotd.yaml:4:18: the password file {loose} has mode 0644: other users may read it — chmod 600 {loose}",
        "slotd.yaml:5:8: `tls: require` needs a server host name: a Unix socket (`host: /…`) has no TLS",
        "slotd.yaml:6:9: `pool` must be a whole number from 1 to 1000 (got '0')",
        "slotd.yaml:7:12: `timeout` must be whole seconds from 1s to 3600s like 10s (got '2h')",
        "slotd.yaml:8:3: unknown key 'colour' in `postgres` — use host, port, database, user, password_file, tls,",
    ]:
        assert expected in out.stderr, out.stderr
    both = daemons(start=False, config="database: /tmp/x.sqlite\npostgres:\n  host: h\n  database: d\n  user: u\n")
    both.db = None
    out = subprocess.run(both.args, capture_output=True, text=True, timeout=30, cwd=both.dir)
    assert out.returncode == 78, out
    assert "slotd.yaml:2:1: `database` and `postgres` both name the store — keep one of them" in out.stderr, out.stderr


# MARK: - slotctl migrate


def test_slotctl_migrate_moves_a_sqlite_shop_and_the_daemon_carries_on_on_postgres(daemons, slotctl_binary):
    slotctl = slotctl_binary
    daemon = daemons()
    key = {"Idempotency-Key": "mig-key-1"}
    first = daemon.client.book(wall(DAY, "09:00"), name="Mia Moved", headers=key)
    assert first.status == 201, first
    second = daemon.client.book(wall(DAY, "10:00"), name="Ola Other")
    cancelled = daemon.client.post(f"/v1/bookings/{second.json()['id']}/cancel", json={"reason": "test"})
    assert cancelled.status == 200, cancelled
    events_before = daemon.client.get("/v1/events?follow=false&since=0").text.splitlines()
    sqlite_counts = {table: daemon.sql(f"SELECT count(*) FROM {table}")[0][0]
                     for table in ("bookings", "customers", "events", "outbox", "idempotency_keys")}
    last_job = daemon.sql("SELECT coalesce(max(id), 0) FROM outbox")[0][0]
    daemon.stop_checked()

    url = fresh_database()
    moved = subprocess.run([slotctl, "migrate", "--from", "sqlite", str(daemon.db), "--to", "postgres", url, "--json"],
                           capture_output=True, text=True, timeout=120)
    assert moved.returncode == 0, moved
    report = json.loads(moved.stdout)
    counts = {row["table"]: row for row in report["tables"]}
    for table, count in sqlite_counts.items():
        assert counts[table]["sqlite"] == counts[table]["postgres"] == count, (table, counts[table])
    assert report["last_event_cursor"] == json.loads(events_before[-1])["cursor"]
    # A second move into the same database is refused: it holds the shop now.
    again = subprocess.run([slotctl, "migrate", "--from", "sqlite", str(daemon.db), "--to", "postgres", url],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "--replace" in again.stderr, again

    daemon.db = url
    daemon.start()
    listed = daemon.client.get(f"/v1/bookings?from={DAY}&to={DAY}").json()["bookings"]
    assert sorted((b["id"], b["status"]) for b in listed) == sorted(
        [(first.json()["id"], "confirmed"), (second.json()["id"], "cancelled")])
    # The event log replays with the same cursors (whatever this start appended comes after them).
    replayed = daemon.client.get("/v1/events?follow=false&since=0").text.splitlines()
    assert replayed[:len(events_before)] == events_before
    # A retry with the old key answers the first booking again; the slot is taken; a free one books.
    retried = daemon.client.book(wall(DAY, "09:00"), name="Mia Moved", headers=key)
    assert retried.status == 201 and retried.json()["id"] == first.json()["id"], retried
    assert_problem(daemon.client.book(wall(DAY, "09:00"), name="Double"), 409, "slot_unavailable")
    third = daemon.client.book(wall(DAY, "11:00"), name="New On Postgres")
    assert third.status == 201, third
    after = [json.loads(line) for line in
             daemon.client.get(f"/v1/events?follow=false&since={report['last_event_cursor']}").text.splitlines()]
    assert after and after[0]["cursor"] == report["last_event_cursor"] + 1, after
    # The outbox's ids continue after the moved jobs too.
    assert int(psql(url, "SELECT last_value FROM outbox_id_seq")[0][0]) >= last_job
    assert int(psql(url, "SELECT count(*) FROM outbox")[0][0]) >= sqlite_counts["outbox"]
