"""Crash loops: a real slotd on a real SQLite file, killed with SIGKILL under mixed load, restarted, and checked.

Each cycle starts (or keeps) the daemon, lets several client threads book, cancel and reschedule, kills it at a
random moment (in some cycles while it is still starting), and then checks the database as the crash left it and
the daemon after a restart:

- every acknowledged operation is there in its acknowledged state (an operation whose answer never came may be in
  its old or its new state, nothing else), and every create appears at most once;
- no staff member has two active bookings whose busy times (active segments and buffers) overlap, no resource is
  used beyond its count, no daily limit (`max_bookings`, `max_hours`) is exceeded;
- event cursors run 1…N without gap or duplicate, every event a live subscriber saw before the kill is in the log
  as it saw it, and the replay over the API after the restart equals the log;
- every outbox job is `done` or `pending`, and no job is there twice;
- `PRAGMA integrity_check` is ok and no foreign key dangles.

Importable (`run_crash_loop`, used by test_reliability.py with a few cycles) and a script
(`scripts/crashloop --cycles 100`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import os
import random
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import yaml  # noqa: E402

from conftest import ROOT, SHOP_ZONE, Client, Daemon  # noqa: E402

RULES = HERE / "rules"
# Errors that mean "the answer never came": the daemon died or was not up yet.
NO_ANSWER = (OSError, http.client.HTTPException)
# Answers the load may get besides success: a refused slot or input the rules do not allow.
EXPECTED_REFUSALS = (409, 422)
ACTIVE = ("held", "confirmed")


class CheckFailed(AssertionError):
    """An invariant the crash broke."""


# MARK: - The shop's constraints, from the rule files


def minutes(text: str) -> int:
    """`3h`, `30m`, `1h30m` → minutes (the rule files' duration form)."""
    total, number = 0, ""
    for char in str(text):
        if char.isdigit():
            number += char
        else:
            total += int(number) * {"d": 1440, "h": 60, "m": 1}[char]
            number = ""
    return total


@dataclass
class ShopConstraints:
    staff: list[str]
    services: list[str]
    capacity: dict[str, int]
    max_bookings: dict[str, int]
    max_minutes: dict[str, int]

    @classmethod
    def load(cls, rules: Path) -> "ShopConstraints":
        merged: dict[str, list] = {}
        for path in sorted(rules.glob("*.yaml")):
            for key, value in (yaml.safe_load(path.read_text()) or {}).items():
                if isinstance(value, list):
                    merged.setdefault(key, []).extend(value)
        limits = {member["id"]: member.get("limits", {}) for member in merged["staff"]}
        return cls(
            staff=[member["id"] for member in merged["staff"]],
            services=[service["id"] for service in merged["services"]],
            capacity={resource["id"]: resource.get("count", 1) for resource in merged.get("resources", [])},
            max_bookings={s: v["max_bookings"] for s, v in limits.items() if "max_bookings" in v},
            max_minutes={s: minutes(v["max_hours"]) for s, v in limits.items() if "max_hours" in v},
        )


# MARK: - What the clients were told


@dataclass
class Tracked:
    """One booking a client created: its acknowledged state, and the state of an operation left unanswered."""

    id: str
    name: str
    state: tuple[str, int]  # (status, start as Unix seconds)
    unanswered: tuple[str, int] | None = None


@dataclass
class Ledger:
    """Everything acknowledged so far, shared by the client threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    bookings: dict[str, Tracked] = field(default_factory=dict)
    # Creates whose answer never came: customer name → the request, to be replayed with its Idempotency-Key.
    unanswered_creates: dict[str, dict] = field(default_factory=dict)
    acknowledged_operations: int = 0
    refused: int = 0
    answered_after_start: int = 0

    def track(self, name: str, booking: dict) -> None:
        """Starts tracking a booking a create made (call with the lock held)."""
        self.bookings[booking["id"]] = Tracked(booking["id"], name, (booking["status"], unix(booking["start"])))

    def settle(self, what: str, resp, success: int, acknowledge) -> None:
        """Records an answer: the acknowledged one through `acknowledge`, a refusal counted, anything else fails."""
        if resp.status == success:
            answer = resp.json()
            with self.lock:
                acknowledge(answer)
                self.acknowledged_operations += 1
        elif resp.status in EXPECTED_REFUSALS:
            with self.lock:
                self.refused += 1
        else:
            raise CheckFailed(f"{what}: unexpected answer {resp!r}")

    def active_of(self, worker: str) -> list[Tracked]:
        with self.lock:
            return [b for b in self.bookings.values()
                    if b.name.startswith(worker) and b.state[0] in ACTIVE and b.unanswered is None]


def unix(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp())


# MARK: - Load


class Worker(threading.Thread):
    """A client that books, cancels and reschedules its own bookings until told to stop or the daemon dies."""

    def __init__(self, socket_path: str, tag: str, cycle: int, ledger: Ledger, constraints: ShopConstraints, days: list[str],
                 rng: random.Random, stop: threading.Event):
        super().__init__(daemon=True)
        self.client = Client(socket_path, timeout=10)
        self.tag = tag
        self.cycle = cycle
        self.ledger = ledger
        self.constraints = constraints
        self.days = days
        self.rng = rng
        self.stop = stop
        self.serial = itertools.count()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                if not self.step():
                    return
        except BaseException as error:  # reported by the cycle, which fails the run
            self.failure = error

    def random_start(self) -> str:
        quarter = self.rng.randrange(0, 9 * 4 - 1)
        return f"{self.rng.choice(self.days)}T{9 + quarter // 4:02d}:{quarter % 4 * 15:02d}"

    def step(self) -> bool:
        """One operation; False once the daemon no longer answers."""
        roll = self.rng.random()
        own = self.ledger.active_of(self.tag + "-") if roll >= 0.55 else []
        if not own:
            return self.create()
        booking = self.rng.choice(own)
        if roll < 0.8:
            return self.transition(booking, "cancel", {"reason": "crash loop"})
        return self.transition(booking, "reschedule", {"start": self.random_start()})

    def create(self) -> bool:
        name = f"{self.tag}-{self.cycle}-{next(self.serial)}"
        payload = {"service": self.rng.choice(self.constraints.services), "start": self.random_start(),
                   "customer": {"name": name}}
        if self.rng.random() < 0.8:
            payload["staff"] = self.rng.choice(self.constraints.staff)
        try:
            resp = self.client.post("/v1/bookings", json=payload, headers={"Idempotency-Key": name})
        except NO_ANSWER:
            with self.ledger.lock:
                self.ledger.unanswered_creates[name] = payload
            return False
        self.ledger.settle(f"create {name}", resp, 201, lambda answer: self.ledger.track(name, answer))
        return True

    def transition(self, booking: Tracked, action: str, body: dict) -> bool:
        try:
            resp = self.client.post(f"/v1/bookings/{booking.id}/{action}", json=body)
        except NO_ANSWER:
            with self.ledger.lock:
                booking.unanswered = (("cancelled", booking.state[1]) if action == "cancel"
                                      else (booking.state[0], unix_of_wall(body["start"])))
            return False

        def acknowledge(answer: dict) -> None:
            booking.state = (answer["status"], unix(answer["start"]))

        self.ledger.settle(f"{action} {booking.id}", resp, 200, acknowledge)
        return True


def unix_of_wall(wall: str) -> int:
    return int(dt.datetime.fromisoformat(wall).replace(tzinfo=SHOP_ZONE).timestamp())


class EventRecorder(threading.Thread):
    """A live subscriber: records every event it is sent until the stream dies with the daemon."""

    def __init__(self, socket_path: str, since: int):
        super().__init__(daemon=True)
        self.client = Client(socket_path, timeout=30)
        self.since = since
        self.seen: list[dict] = []
        self.connected = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            with self.client.stream(f"/v1/events?since={self.since}", timeout=30) as stream:
                if stream.status != 200:
                    raise CheckFailed(f"event stream answered {stream.status}")
                self.connected.set()
                while True:
                    self.seen.append(stream.next_json())
        except (EOFError, *NO_ANSWER):
            pass
        except BaseException as error:
            self.failure = error
        finally:
            self.connected.set()


# MARK: - Checks


@dataclass
class Figures:
    cycles: int = 0
    kills_while_starting: int = 0
    acknowledged_operations: int = 0
    refused_operations: int = 0
    unanswered_operations: int = 0
    booking_states_checked: int = 0
    events_checked: int = 0
    outbox_jobs_checked: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"crash loop: {self.cycles} cycles ({self.kills_while_starting} killed while starting), "
                f"{self.acknowledged_operations} acknowledged operations, {self.refused_operations} refused "
                f"(409/422), {self.unanswered_operations} unanswered at the kill; checked "
                f"{self.booking_states_checked} booking states, {self.events_checked} events, "
                f"{self.outbox_jobs_checked} outbox jobs; {self.seconds:.0f} s")


def open_read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def check_database(db: Path, ledger: Ledger, constraints: ShopConstraints, figures: Figures,
                   live_events: list[dict]) -> int:
    """Every invariant on the database as the crash left it; returns the last event cursor."""
    if not db.exists():
        if ledger.bookings:
            raise CheckFailed("the database is gone")
        return 0
    conn = open_read_only(db)
    try:
        if (result := conn.execute("PRAGMA integrity_check").fetchall()) != [("ok",)]:
            raise CheckFailed(f"integrity_check: {result}")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "bookings" not in tables:  # killed before the first migration committed
            if ledger.bookings:
                raise CheckFailed("the bookings table is gone")
            return 0
        if dangling := conn.execute("PRAGMA foreign_key_check").fetchall():
            raise CheckFailed(f"dangling foreign keys: {dangling[:5]}")
        check_acknowledged(conn, ledger, figures)
        check_no_overlap(conn, constraints)
        if "outbox" in tables:
            check_outbox(conn, figures)
        return check_events(conn, live_events, figures) if "events" in tables else 0
    finally:
        conn.close()


def check_acknowledged(conn: sqlite3.Connection, ledger: Ledger, figures: Figures) -> None:
    rows = {row[0]: (row[1], row[2], row[3]) for row in conn.execute(
        "SELECT b.id, b.status, b.start_at, c.name FROM bookings b JOIN customers c ON c.id = b.customer_id")}
    by_name: dict[str, list[str]] = {}
    for booking_id, (_, _, name) in rows.items():
        by_name.setdefault(name, []).append(booking_id)
    doubled = {name: ids for name, ids in by_name.items() if len(ids) > 1}
    if doubled:
        raise CheckFailed(f"a create made more than one booking: {dict(list(doubled.items())[:5])}")
    with ledger.lock:
        for booking in ledger.bookings.values():
            if booking.id not in rows:
                raise CheckFailed(f"acknowledged booking {booking.id} ({booking.name}) is missing")
            status, start, _ = rows[booking.id]
            allowed = [booking.state] + ([booking.unanswered] if booking.unanswered else [])
            if (status, start) not in allowed:
                raise CheckFailed(f"booking {booking.id}: stored {(status, start)}, acknowledged {booking.state}"
                                  f"{f', unanswered {booking.unanswered}' if booking.unanswered else ''}")
            # The crash settled it: adopt what survived.
            booking.state, booking.unanswered = (status, start), None
            figures.booking_states_checked += 1
        # A create whose answer never came either committed (then it is tracked from now on) or left nothing.
        for name in ledger.unanswered_creates:
            for booking_id in by_name.get(name, []):
                status, start, _ = rows[booking_id]
                ledger.bookings[booking_id] = Tracked(booking_id, name, (status, start))


def busy_parts(start: int, segments: list[dict], before_min: int, after_min: int) -> list[tuple[int, int]]:
    """The staff member's busy instants of a booking: active segments widened by its buffers (see Footprint)."""
    parts, offset = [], start
    for segment in segments:
        length = segment["minutes"] * 60
        if segment["kind"] == "active" and length > 0:
            if parts and parts[-1][1] == offset:
                parts[-1] = (parts[-1][0], offset + length)
            else:
                parts.append((offset, offset + length))
        offset += length
    if before_min:
        parts.insert(0, (start - before_min * 60, start))
    if after_min:
        parts.append((offset, offset + after_min * 60))
    return parts or [(start, max(offset, start + 60))]


def check_no_overlap(conn: sqlite3.Connection, constraints: ShopConstraints) -> None:
    rows = conn.execute(
        "SELECT id, staff_id, start_at, end_at, segments, buffer_before_min, buffer_after_min, resources "
        f"FROM bookings WHERE status IN {ACTIVE}").fetchall()
    busy: dict[str, list[tuple[int, int, str]]] = {}
    usage: dict[str, list[tuple[int, int]]] = {}
    per_day: dict[tuple[str, dt.date], list[int]] = {}
    for booking_id, staff, start, end, segments, before, after, resources in rows:
        for lower, upper in busy_parts(start, json.loads(segments), before, after):
            busy.setdefault(staff, []).append((lower, upper, booking_id))
        for need in json.loads(resources):
            usage.setdefault(need["resource"], []).extend([(start, need["count"]), (end, -need["count"])])
        date = dt.datetime.fromtimestamp(start, SHOP_ZONE).date()
        per_day.setdefault((staff, date), []).append((end - start) // 60)
    for staff, parts in busy.items():
        parts.sort()
        for (_, upper, first), (lower, _, second) in zip(parts, parts[1:]):
            if lower < upper and first != second:
                raise CheckFailed(f"staff {staff}: active bookings {first} and {second} overlap")
    for resource, changes in usage.items():
        level = 0
        for at, delta in sorted(changes):  # an end sorts before a start at the same instant
            level += delta
            if level > constraints.capacity.get(resource, 0):
                raise CheckFailed(f"resource {resource}: {level} in use at {at}, capacity "
                                  f"{constraints.capacity.get(resource, 0)}")
    for (staff, date), durations in per_day.items():
        if (limit := constraints.max_bookings.get(staff)) is not None and len(durations) > limit:
            raise CheckFailed(f"staff {staff} on {date}: {len(durations)} bookings, limit {limit}")
        if (limit := constraints.max_minutes.get(staff)) is not None and sum(durations) > limit:
            raise CheckFailed(f"staff {staff} on {date}: {sum(durations)} minutes booked, limit {limit}")


def check_events(conn: sqlite3.Connection, live_events: list[dict], figures: Figures) -> int:
    log = {cursor: (kind, json.loads(data)) for cursor, kind, data in
           conn.execute("SELECT cursor, type, data FROM events ORDER BY cursor")}
    cursors = sorted(log)
    if cursors != list(range(1, len(cursors) + 1)):
        missing = sorted(set(range(1, (cursors[-1] if cursors else 0) + 1)) - set(cursors))
        raise CheckFailed(f"event cursors have gaps: missing {missing[:10]}")
    check_stream_against_log(live_events, log, "live before the kill")
    figures.events_checked += len(live_events)
    return cursors[-1] if cursors else 0


def check_stream_against_log(events: list[dict], log: dict[int, tuple[str, dict]], what: str) -> None:
    cursors = [event["cursor"] for event in events]
    if cursors and cursors != list(range(cursors[0], cursors[0] + len(cursors))):
        raise CheckFailed(f"events sent {what} are not consecutive: {cursors[:20]}")
    for event in events:
        stored = log.get(event["cursor"])
        if stored is None or stored[0] != event["type"] or not same_data(event["data"], stored[1]):
            raise CheckFailed(f"event {event['cursor']} sent {what} as {(event['type'], event['data'])}, "
                              f"the log has {log.get(event['cursor'])}")


def same_data(sent, stored) -> bool:
    """An event's data as sent equals the log's, where the log keeps instants as Unix seconds."""
    if isinstance(sent, dict) and isinstance(stored, dict):
        return sent.keys() == stored.keys() and all(same_data(sent[key], stored[key]) for key in sent)
    if isinstance(sent, list) and isinstance(stored, list):
        return len(sent) == len(stored) and all(map(same_data, sent, stored))
    if isinstance(sent, str) and isinstance(stored, int) and not isinstance(stored, bool):
        try:
            return unix(sent) == stored
        except ValueError:
            return False
    return sent == stored


def check_outbox(conn: sqlite3.Connection, figures: Figures) -> None:
    """Every job done or pending; one `notify.<event>` job per event of the log that it notifies, one delivery
    (`notify.send.<provider>`, by its stable message id) per fanned-out job and none for one not yet fanned out,
    at most one pending end-of-day sweep."""
    jobs = conn.execute("SELECT id, kind, state, payload FROM outbox").fetchall()
    if bad := [job[:3] for job in jobs if job[2] not in ("pending", "done")]:
        raise CheckFailed(f"outbox jobs neither done nor pending: {bad[:5]}")
    notified: dict[tuple[str, str], list[int]] = {}
    deliveries: dict[str, list[int]] = {}
    sweeps = [job[0] for job in jobs if job[1].startswith("sweep.") and job[2] == "pending"]
    for job_id, kind, _, payload in jobs:
        body = json.loads(payload)
        if kind.startswith("notify.send."):
            deliveries.setdefault(body["message_id"], []).append(job_id)
        elif kind.startswith("notify.booking_"):
            event_type = "booking." + kind.removeprefix("notify.booking_")
            notified.setdefault((event_type, body["booking"]), []).append(job_id)
    if doubled := {key: ids for key, ids in deliveries.items() if len(ids) > 1}:
        raise CheckFailed(f"deliveries doubled: {list(doubled.items())[:5]}")
    if len(sweeps) > 1:
        raise CheckFailed(f"{len(sweeps)} end-of-day sweeps pending: {sweeps}")
    events: dict[tuple[str, str], int] = {}
    kinds = {event_type for event_type, _ in notified}
    for event_type, booking in conn.execute("SELECT type, json_extract(data, '$.booking') FROM events"):
        if event_type in kinds:
            events[(event_type, booking)] = events.get((event_type, booking), 0) + 1
    for key in events.keys() | notified.keys():
        if events.get(key, 0) != len(notified.get(key, [])):
            raise CheckFailed(f"{key[0]} of {key[1]}: {events.get(key, 0)} events but notify jobs "
                              f"{notified.get(key, [])}")
    states = {job[0]: job[2] for job in jobs}
    for job_ids in notified.values():
        for job_id in job_ids:
            sent = deliveries.get(f"slotd-{job_id}-log", [])
            if len(sent) != (1 if states[job_id] == "done" else 0):
                raise CheckFailed(f"notify job {job_id} is {states[job_id]} with deliveries {sent}")
    figures.outbox_jobs_checked += len(jobs)


def check_replay(daemon: Daemon, since: int, until: int, figures: Figures, live: list[dict] = ()) -> None:
    """The events replayed over the API from `since` up to `until` equal the log, and each event a live
    subscriber was sent before the kill is replayed exactly as it was sent."""
    if until <= since:
        return
    replayed: list[dict] = []
    with daemon.client.stream(f"/v1/events?since={since}", timeout=30) as stream:
        if stream.status != 200:
            raise CheckFailed(f"event replay answered {stream.status}")
        while not replayed or replayed[-1]["cursor"] < until:
            replayed.append(stream.next_json())
    conn = open_read_only(daemon.db)
    try:
        log = {cursor: (kind, json.loads(data)) for cursor, kind, data in conn.execute(
            "SELECT cursor, type, data FROM events WHERE cursor > ? AND cursor <= ?", (since, until))}
    finally:
        conn.close()
    replayed = [event for event in replayed if event["cursor"] <= until]
    if [event["cursor"] for event in replayed] != list(range(since + 1, until + 1)):
        raise CheckFailed(f"replay since {since} sent cursors {[e['cursor'] for e in replayed][:20]}…")
    check_stream_against_log(replayed, log, "in the replay")
    by_cursor = {event["cursor"]: event for event in replayed}
    for event in live:
        if by_cursor.get(event["cursor"]) != event:
            raise CheckFailed(f"event sent live as {event}, replayed as {by_cursor.get(event['cursor'])}")
    figures.events_checked += len(replayed)


def replay_unanswered_creates(daemon: Daemon, ledger: Ledger) -> None:
    """Sends each create whose answer never came again with its Idempotency-Key: a create that committed answers
    with the booking it made, one that did not is decided afresh; none may make a second booking."""
    with ledger.lock:
        pending = dict(ledger.unanswered_creates)
        ledger.unanswered_creates.clear()
        committed = {b.name: b for b in ledger.bookings.values()}
    for name, payload in pending.items():
        resp = daemon.client.post("/v1/bookings", json=payload, headers={"Idempotency-Key": name})
        if name in committed:
            if resp.status not in (200, 201) or resp.json()["id"] != committed[name].id:
                raise CheckFailed(f"create {name} committed as {committed[name].id} before the kill, but its "
                                  f"Idempotency-Key now answers {resp!r}")
        else:
            ledger.settle(f"create {name} replayed after the kill", resp, 201,
                          lambda answer, name=name: ledger.track(name, answer))


def check_through_api(daemon: Daemon, ledger: Ledger, rng: random.Random, sample: int = 20) -> None:
    """A sample of the tracked bookings read back over the API after the restart."""
    with ledger.lock:
        chosen = rng.sample(list(ledger.bookings.values()), min(sample, len(ledger.bookings)))
    for booking in chosen:
        resp = daemon.client.get(f"/v1/bookings/{booking.id}")
        if resp.status != 200:
            raise CheckFailed(f"GET /v1/bookings/{booking.id} after the restart: {resp!r}")
        body = resp.json()
        if (body["status"], unix(body["start"])) != booking.state:
            raise CheckFailed(f"booking {booking.id} over the API: {body['status']} {body['start']}, "
                              f"stored {booking.state}")


# MARK: - The loop


def shop_days(count: int, first: int = 2) -> list[str]:
    today = dt.datetime.now(SHOP_ZONE).date()
    return [(today + dt.timedelta(days=first + offset)).isoformat() for offset in range(count)]


def run_crash_loop(slotd: str, directory: Path, cycles: int, workers: int = 4, max_load_seconds: float = 2.0,
                   seed: int | None = None, log=print) -> Figures:
    """Runs `cycles` kill-and-check cycles on a fresh daemon in `directory`; raises CheckFailed on a violation."""
    seed = seed if seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    log(f"crash loop: seed {seed}, {cycles} cycles, {workers} clients, slotd {slotd}")
    constraints = ShopConstraints.load(RULES)
    ledger = Ledger()
    figures = Figures()
    days = shop_days(3)
    daemon = Daemon(slotd, directory, rules=RULES)
    checked_cursor = 0
    began = time.monotonic()
    try:
        for cycle in range(cycles):
            live: list[dict] = []
            if cycle > 0 and rng.random() < 0.2:
                # A crash while idle, then one while starting (opening the database, binding the socket).
                daemon.kill()
                daemon.spawn()
                threading.Event().wait(rng.uniform(0.0, 0.3))  # the random moment of the kill, not a wait for state
                figures.kills_while_starting += 1
                daemon.kill()
            else:
                if not daemon.running:
                    daemon.start()
                live = run_load(daemon, ledger, constraints, days, rng, workers, max_load_seconds, checked_cursor,
                                figures)
            last_cursor = check_database(daemon.db, ledger, constraints, figures, live)
            daemon.start()
            check_replay(daemon, checked_cursor, last_cursor, figures, live)
            checked_cursor = max(checked_cursor, last_cursor)
            replay_unanswered_creates(daemon, ledger)
            check_through_api(daemon, ledger, rng)
            figures.cycles += 1
            log(f"cycle {cycle + 1}/{cycles}: ok — {len(ledger.bookings)} bookings tracked, "
                f"{ledger.acknowledged_operations} acknowledged operations, events up to {checked_cursor}")
        # The end: a clean stop, then the whole log replayed and the outbox settled.
        if (code := daemon.stop()) != 0:
            raise CheckFailed(f"slotd exited {code} on SIGTERM:\n{daemon.log()}")
        last_cursor = check_database(daemon.db, ledger, constraints, figures, [])
        daemon.start()
        check_replay(daemon, 0, last_cursor, figures)
        if (code := daemon.stop()) != 0:
            raise CheckFailed(f"slotd exited {code} on SIGTERM:\n{daemon.log()}")
    except BaseException:
        log(f"crash loop failed (seed {seed}); slotd's log ends:\n{daemon.log()}")
        raise
    finally:
        daemon.kill()
    figures.acknowledged_operations = ledger.acknowledged_operations
    figures.refused_operations = ledger.refused
    figures.seconds = time.monotonic() - began
    return figures


def run_load(daemon: Daemon, ledger: Ledger, constraints: ShopConstraints, days: list[str], rng: random.Random,
             workers: int, max_load_seconds: float, since: int, figures: Figures) -> list[dict]:
    """Mixed load with a live event subscriber, then `kill -9` at a random moment; returns the events seen."""
    recorder = EventRecorder(daemon.socket, since)
    recorder.start()
    recorder.connected.wait(10)
    stop = threading.Event()
    threads = [Worker(daemon.socket, f"w{index}", figures.cycles, ledger, constraints, days,
                      random.Random(rng.random()), stop) for index in range(workers)]
    with ledger.lock:
        before = len(ledger.unanswered_creates) + sum(1 for b in ledger.bookings.values() if b.unanswered)
    for thread in threads:
        thread.start()
    # Let the load run for a random time, then crash the daemon in the middle of it.
    stop.wait(rng.uniform(0.05, max_load_seconds))
    daemon.kill()
    stop.set()
    for thread in threads + [recorder]:
        thread.join(30)
        if thread.is_alive():
            raise CheckFailed(f"{thread.name} still running 30 s after the kill")
        if thread.failure is not None:
            raise CheckFailed(f"{thread.name}: {thread.failure}") from thread.failure
    with ledger.lock:
        after = len(ledger.unanswered_creates) + sum(1 for b in ledger.bookings.values() if b.unanswered)
    figures.unanswered_operations += after - before
    return recorder.seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=100, help="kill-and-check cycles (default 100)")
    parser.add_argument("--clients", type=int, default=4, help="client threads during each cycle (default 4)")
    parser.add_argument("--max-load", type=float, default=2.0, help="longest load before a kill, seconds")
    parser.add_argument("--seed", type=int, help="random seed (printed; repeat a run with it)")
    parser.add_argument("--slotd", default=os.environ.get("SLOTD", str(ROOT / ".build" / "debug" / "slotd")),
                        help="the slotd binary (default $SLOTD, else .build/debug/slotd)")
    args = parser.parse_args(argv)
    if not os.access(args.slotd, os.X_OK):
        parser.error(f"no slotd binary at {args.slotd} — run `swift build` or pass --slotd")
    import tempfile
    with tempfile.TemporaryDirectory(prefix="slotd-crash-", dir="/tmp") as directory:
        try:
            figures = run_crash_loop(args.slotd, Path(directory), args.cycles, args.clients, args.max_load,
                                     args.seed)
        except CheckFailed as failure:
            print(f"FAILED: {failure}", file=sys.stderr)
            return 1
    print(figures.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
