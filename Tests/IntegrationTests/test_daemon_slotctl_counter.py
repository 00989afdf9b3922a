"""slotctl for people at a counter (issue 14): dates and times in words, times as people read them, names instead
of ids, errors once, waits in hours and minutes, payment state and cancellation fees, walk-ins, and a watch view
that shows what the desk needs. `--json` stays the API's."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import RULES, ROOT, SHOP_ZONE, add_haircut_variants, future_day, shop_today, wait_for, wall

DAY = future_day(6)
USAGE, CONFLICT, INVALID = 64, 4, 5


def spoken_day(day: dt.date) -> str:
    """`Fri 11 Dec`, with the year when it is not this year (slotctl's TimeText.day)."""
    text = f"{day:%a} {day.day} {day:%b}"
    return text if day.year == dt.date.today().year else f"{text} {day.year}"


def next_weekday(name: str) -> dt.date:
    """The next such weekday after the shop's today (what `tue` means)."""
    index = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].index(name)
    today = shop_today()
    return today + dt.timedelta(days=(index - today.weekday() + 6) % 7 + 1)


@pytest.fixture
def counter_rules(tmp_path):
    """The test rules, open around the clock, with variants of the haircut (the desk's view of a real shop)."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    shop = rules / "shop.yaml"
    shop.write_text(shop.read_text().replace("hours: Mo-Su 09:00-18:00", "hours: 24/7"))
    add_haircut_variants(rules)
    return rules


@pytest.fixture
def desk(daemons, counter_rules, slotctl_for):
    daemon = daemons(rules=counter_rules)

    def run(*args, check: int | None = 0):
        return slotctl_for(daemon, *args, check=check)
    run.daemon = daemon
    return run


def test_dates_and_times_in_words(desk):
    tomorrow = shop_today() + dt.timedelta(days=1)
    booked = json.loads(desk("book", "--service", "haircut", "--staff", "anna", "--at", "tomorrow 10:00",
                             "--name", "W", "--json").stdout)
    assert dt.datetime.fromisoformat(booked["start"]) == dt.datetime.combine(
        tomorrow, dt.time(10, 0), SHOP_ZONE)
    tuesday = next_weekday("tue")
    booked = json.loads(desk("book", "--service", "haircut", "--staff", "ben", "--at", "Tuesday 11:15",
                             "--name", "T", "--json").stdout)
    assert dt.datetime.fromisoformat(booked["start"]).date() == tuesday
    # HH:MM is today: explain answers for today's 10:00 whether or not it is still bookable.
    verdict = json.loads(desk("explain", "--service", "haircut", "--staff", "anna", "--at", "10:00",
                              "--json").stdout)
    assert dt.datetime.fromisoformat(verdict["at"]) == dt.datetime.combine(shop_today(), dt.time(10), SHOP_ZONE)
    slots = json.loads(desk("slots", "--service", "haircut", "--from", "tomorrow", "--to", "tue", "--json").stdout)
    assert slots["from"] == tomorrow.isoformat() and slots["to"] == tuesday.isoformat()
    listed = json.loads(desk("bookings", "--from", "today", "--to", "tue", "--json").stdout)["bookings"]
    assert len(listed) == 2
    text = desk("bookings", "--from", "tomorrow", "--to", "tomorrow").stdout
    assert spoken_day(tomorrow) in text and "Haircut" in text
    # A word that is not a date or time is a usage error naming what to write, before anything is sent.
    wrong = desk("book", "--service", "haircut", "--at", "someday 10:00", "--name", "X", check=USAGE)
    assert "--at 'someday 10:00' is not a time" in wrong.stderr and "tomorrow 10:00" in wrong.stderr
    wrong = desk("slots", "--service", "haircut", "--from", "soon", check=USAGE)
    assert "is not a date" in wrong.stderr and "tomorrow" in wrong.stderr


def test_messages_read_like_the_desk_speaks(desk):
    day = dt.date.fromisoformat(DAY)
    out = desk("book", "--service", "haircut", "--variant", "long", "--staff", "anna", "--at", wall(DAY, "10:00"),
               "--name", "Ben Meyer", "--phone", "0151 2345678").stdout
    first = out.splitlines()[0]
    assert first.startswith("booked bk_")
    assert f"Haircut, long hair with Anna, {spoken_day(day)} 10:00–10:45 (confirmed)" in first
    booking = first.split()[1]
    assert "service:   Haircut, long hair" in out and "staff:     Anna (anna)" in out
    moved = desk("reschedule", booking, "--start", wall(DAY, "11:00"), "--staff", "ben").stdout
    assert moved.splitlines()[0] == f"{booking} moved to {spoken_day(day)} 11:00–11:45 with Ben (ben)"
    # A wait says hours and minutes, not seconds.
    early = desk("complete", booking, check=CONFLICT)
    assert re.search(r"before it starts \((\d+ days? )?(\d+ hours? )?(\d+ minutes? )?to go\)", early.stderr), \
        early.stderr
    assert " s to go" not in early.stderr
    # An error is printed once: the detail, then only what it does not already say.
    desk("book", "--service", "haircut", "--staff", "anna", "--at", wall(DAY, "14:00"), "--name", "A")
    taken = desk("book", "--service", "haircut", "--staff", "anna", "--at", wall(DAY, "14:00"), "--name", "B",
                 check=CONFLICT)
    assert taken.stderr.count("overlaps booking") == 1, taken.stderr
    assert "(409 slot_unavailable)" in taken.stderr and "nearest free starts" in taken.stderr
    invalid = desk("book", "--service", "haircut", "--at", wall(DAY, "10:00"), "--name", " ", check=INVALID)
    assert invalid.stderr.count("must not be empty") == 1, invalid.stderr
    # Times in the daemon's reasons read as people read them, not as ISO 8601.
    soon = (dt.datetime.now(SHOP_ZONE) + dt.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M")
    too_soon = desk("book", "--service", "haircut", "--at", soon, "--name", "S", check=INVALID)
    assert "the minimum notice allows starts from " + spoken_day(shop_today()) in too_soon.stderr or \
        "the minimum notice allows starts from " + spoken_day(shop_today() + dt.timedelta(days=1)) in too_soon.stderr
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]", too_soon.stderr), too_soon.stderr


def test_show_and_cancel_say_what_is_paid_and_what_cancelling_costs(desk):
    daemon = desk.daemon
    far = json.loads(desk("book", "--service", "shave", "--staff", "anna", "--at", wall(DAY, "10:00"),
                          "--name", "S", "--json").stdout)
    shown = desk("show", far["id"]).stdout
    assert "deposit:   10.00 EUR, due at the shop" in shown
    assert "to cancel: free (more than 24h before the start); the deposit is refunded" in shown
    # --json stays the booking as the API has it.
    assert json.loads(desk("show", far["id"], "--json").stdout) == daemon.client.get(
        f"/v1/bookings/{far['id']}").json()
    # Within the 24-hour window: half the price (policies.cancellation).
    soon = (dt.datetime.now(SHOP_ZONE) + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    soon = soon.replace(minute=soon.minute - soon.minute % 15)
    late = json.loads(desk("book", "--service", "haircut", "--staff", "anna", "--at",
                           soon.strftime("%Y-%m-%dT%H:%M"), "--name", "L", "--json").stdout)
    quote = daemon.client.get(f"/v1/bookings/{late['id']}/cancellation").json()
    assert quote["late"] is True and quote["fee"]["display"] == "14.00 EUR" and quote["cancelled"] is False
    assert quote["window_minutes"] == 1440 and "deposit" not in quote
    assert "deposit:   none" in desk("show", late["id"]).stdout
    assert "to cancel: 14.00 EUR fee (within 24h of the start)" in desk("show", late["id"]).stdout
    cancelled = desk("cancel", late["id"], "--reason", "ill").stdout
    assert "is now cancelled" in cancelled and "cost:      14.00 EUR fee (within 24h of the start)" in cancelled
    assert daemon.client.get(f"/v1/bookings/{late['id']}/cancellation").json()["cancelled"] is True
    assert daemon.client.get("/v1/bookings/bk_nope/cancellation").status == 404


def test_walk_ins_from_slotctl(desk):
    out = desk("book", "--service", "beard_trim", "--walk-in", "--name", "Walk-in").stdout
    assert out.startswith("booked bk_") and "(walk-in)" in out.splitlines()[0]
    forced = desk("book", "--service", "haircut", "--staff", "ben", "--at", wall(DAY, "19:00"), "--force",
                  "--reason", "regular, stays late", "--name", "F").stdout
    assert "(forced: regular, stays late)" in forced
    assert "--force needs --reason" in desk("book", "--service", "haircut", "--force", "--name", "F",
                                            check=USAGE).stderr
    assert "--at is required" in desk("book", "--service", "haircut", "--name", "F", check=USAGE).stderr


def test_watch_shows_what_the_desk_needs(desk, slotctl_binary):
    daemon = desk.daemon
    client = daemon.client
    client.book(wall(DAY, "10:00"), name="Ben Meyer", notes="likes it short",
                customer={"name": "Ben Meyer", "phone": "+49 151 2345678"})
    client.book(wall(DAY, "11:00"), service="shave", name="Sam")
    # A break over Ben Meyer's booking: the booking stays, and is no longer allowed by the rules.
    staff = daemon.rules / "staff.yaml"
    staff.write_text(staff.read_text().replace(
        "    name: Anna\n", "    name: Anna\n    breaks:\n      - Mo-Su 10:00-10:15\n"))
    assert client.post("/v1/rules/reload").status == 200
    # Then a rejected reload: the old rules keep serving, and the desk should know.
    (daemon.rules / "broken.yaml").write_text("hours: Tue 10:00-16:00\n")
    client.post("/v1/rules/reload")
    wait_for(lambda: client.get("/v1/status").json()["last_reload"]["outcome"] == "rejected",
             what="the rejected reload")
    proc = subprocess.Popen([slotctl_binary, "--socket", daemon.socket, "watch", "--date", DAY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out = ""
        deadline = dt.datetime.now() + dt.timedelta(seconds=20)
        while "Ben (ben)" not in out and dt.datetime.now() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out += line
    finally:
        proc.terminate()
        proc.wait(10)
    assert f"Test Cuts — {spoken_day(dt.date.fromisoformat(DAY))}" in out, out
    assert "! rule reload rejected" in out and "previous rules keep serving" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.strip().startswith("TIME"))
    assert header.split() == ["TIME", "CUSTOMER", "PHONE", "SERVICE", "STATUS", "DEPOSIT", "NOTES", "ID"]
    ben = next(line for line in lines if "Ben Meyer" in line)
    # The phone as the customer record keeps it: E.164, whatever spacing it was typed with.
    assert "+491512345678" in ben and "Haircut" in ben and "confirmed" in ben and "likes it short" in ben
    sam = next(line for line in lines if "Sam" in line)
    assert "Hot-towel shave" in sam and "10.00 EUR, due at the shop" in sam
    # Aligned: every row's customer starts in the header's CUSTOMER column.
    assert ben.index("Ben Meyer") == sam.index("Sam") == header.index("CUSTOMER")
    conflict = lines[lines.index(ben) + 1]
    assert "! not allowed by the rules in force" in conflict and "break" in conflict


def test_help_examples_use_the_example_shop(slotctl_binary):
    staff_and_services = ["mehmet", "lena", "haircut", "beard_trim"]
    seen = ""
    for command in ("slots", "explain", "book", "bookings", "reschedule", "watch"):
        text = subprocess.run([slotctl_binary, command, "--help"], capture_output=True, text=True,
                              timeout=10).stdout
        examples = text[text.index("Example"):]
        assert "anna" not in examples and "2026-12-01" not in examples, (command, examples)
        seen += examples
    assert all(name in seen for name in staff_and_services)


def test_the_readme_quick_start_uses_dates_relative_to_today():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme[readme.index("## Quick start"):readme.index("\n## ", readme.index("## Quick start") + 5)]
    commands = [line for line in quick_start.splitlines() if "slotctl" in line]
    assert commands and not any(re.search(r"\d{4}-\d{2}-\d{2}", line) for line in commands), commands


def test_a_walk_in_by_the_booking_role_says_who_may(daemons, counter_rules, slotctl_for):
    daemon = daemons(config=f'roles:\n  "{os.getuid()}": booking\n', rules=counter_rules)
    out = slotctl_for(daemon, "book", "--service", "haircut", "--walk-in", "--name", "W", check=6)
    assert "role 'booking' may not book a walk-in" in out.stderr and "(403 forbidden)" in out.stderr
    assert "needs the 'booking' role" not in out.stderr and "staff (also walk-ins" in out.stderr
    assert daemon.booking_count() == 0


def test_reschedule_takes_at_like_book(desk):
    """At the counter people type the option they booked with: `reschedule --at` is `--start`."""
    booked = json.loads(desk("book", "--service", "haircut", "--staff", "anna", "--at", wall(DAY, "10:00"),
                             "--name", "Moves", "--json").stdout)
    moved = desk("reschedule", booked["code"], "--at", wall(DAY, "11:00")).stdout
    day = dt.date.fromisoformat(DAY)
    assert f"moved to {spoken_day(day)} 11:00–11:30 with Anna (anna)" in moved, moved
    assert "--at" in desk("reschedule", "--help").stdout
