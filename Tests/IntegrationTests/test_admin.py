"""The barber's admin page on the web listener (issue 13): logins, sessions, CSRF, roles, the day view's data,
the live feed and the booking actions, end to end against the real slotd."""

from __future__ import annotations

import json
import statistics
import time

import pytest

from admin_site import AdminClient, AdminEvents, password_hash, start_admin, with_chairs
from conftest import Client, assert_problem, future_day, same_instant, local_iso, wall

USERS = [("mehmet", "admin", "kamm-und-schere", "ben"), ("lena", "read", "nur-schauen-bitte", None),
         ("tom", "staff", "tom-arbeitet-hier", "anna")]


@pytest.fixture
def site(daemons, slotctl_binary):
    return start_admin(daemons, slotctl_binary, USERS)


def logged_in(port: int, name: str = "mehmet") -> AdminClient:
    client = AdminClient(port)
    password = next(p for n, _, p, _ in USERS if n == name)
    assert client.login(name, password).status == 200
    return client


# MARK: - Login and sessions


def test_a_login_sets_an_http_only_strict_session_cookie_and_me_names_the_user(site):
    _, port = site
    client = AdminClient(port)
    resp = client.login("mehmet", "kamm-und-schere")
    assert resp.status == 200, resp
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith("slotd_admin=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/admin" in cookie
    # public_url is http here: no Secure flag (the https case is below).
    assert "Secure" not in cookie
    assert resp.headers["cache-control"] == "no-store"
    me = client.get("/admin/api/me").json()
    assert (me["user"], me["role"], me["staff"], me["time_zone"]) == ("mehmet", "admin", "ben", "Europe/Berlin")
    assert len(me["csrf_token"]) == 64 and me["csrf_token"] == client.csrf


def test_the_cookie_is_secure_when_the_public_url_is_https(daemons, slotctl_binary):
    _, port = start_admin(daemons, slotctl_binary, USERS[:1], public_url="https://shop.example/")
    client = AdminClient(port)
    client.origin = "https://shop.example"
    resp = client.login("mehmet", "kamm-und-schere")
    assert resp.status == 200, resp
    assert "; Secure" in resp.headers["set-cookie"]


def test_without_a_session_every_admin_route_is_401_and_the_page_itself_loads(site):
    _, port = site
    client = AdminClient(port)
    page = client.get("/admin/")
    assert page.status == 200 and "Log in" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    for path in ["/admin/api/me", "/admin/api/day", "/admin/api/events", "/admin/api/find?q=ab"]:
        assert_problem(client.get(path), 401, "unauthenticated")
    assert_problem(client.post("/admin/api/bookings/bk_x/cancel", json={}), 401, "unauthenticated")
    client.cookie = "slotd_admin=" + "0" * 64
    assert_problem(client.get("/admin/api/me"), 401, "unauthenticated")


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer_in_similar_time(site):
    _, port = site
    client = AdminClient(port)

    def attempt(name: str) -> tuple[float, dict]:
        started = time.perf_counter()
        resp = client.login(name, "not-the-password")
        took = time.perf_counter() - started
        problem = assert_problem(resp, 401, "unauthenticated")
        assert "set-cookie" not in resp.headers
        return took, problem

    wrong = [attempt("mehmet") for _ in range(2)] + [attempt("tom") for _ in range(2)]
    unknown = [attempt(f"ghost{i}") for i in range(4)]
    assert {p["detail"] for _, p in wrong} == {p["detail"] for _, p in unknown} == {"wrong name or password"}
    wrong_time = statistics.median(t for t, _ in wrong)
    unknown_time = statistics.median(t for t, _ in unknown)
    # Both run the same PBKDF2 (the unknown name against a decoy hash); loaded CI machines jitter, so the bound
    # is loose, but a skipped hash (10x faster) would fail it.
    assert unknown_time > wrong_time / 3 and wrong_time > unknown_time / 3, (wrong_time, unknown_time)


def test_five_wrong_passwords_lock_the_name_even_for_the_right_password_with_retry_after(site):
    _, port = site
    client = AdminClient(port)
    for _ in range(5):
        assert_problem(client.login("mehmet", "guess"), 401, "unauthenticated")
    locked = client.login("mehmet", "kamm-und-schere")
    assert_problem(locked, 429, "rate_limited")
    assert 200 <= int(locked.headers["retry-after"]) <= 300
    # An unknown name locks the same way, and other names are not affected.
    for _ in range(5):
        client.login("ghost", "guess")
    assert_problem(client.login("ghost", "guess"), 429, "rate_limited")
    assert logged_in(port, "tom").get("/admin/api/me").status == 200


def test_logout_ends_the_session_and_clears_the_cookie(site):
    _, port = site
    client = logged_in(port)
    resp = client.post("/admin/api/logout")
    assert resp.status == 204
    assert "Max-Age=0" in resp.headers["set-cookie"]
    assert_problem(client.get("/admin/api/me"), 401, "unauthenticated")


def test_sessions_are_in_memory_so_a_restart_logs_everyone_out(site):
    daemon, port = site
    client = logged_in(port)
    daemon.restart()
    probe = AdminClient(port)
    from conftest import wait_for
    wait_for(lambda: probe.get("/admin/").status == 200, timeout=15, what="the admin page after the restart")
    assert_problem(client.get("/admin/api/me"), 401, "unauthenticated")


# MARK: - CSRF


def test_changes_need_the_pages_origin_and_the_sessions_token(site):
    daemon, port = site
    client = logged_in(port)
    start = wall(future_day(3), "10:00")
    assert_problem(client.book(start, csrf=None), 403, "forbidden")
    assert_problem(client.book(start, csrf="f" * 64), 403, "forbidden")
    assert_problem(client.book(start, origin="https://evil.example"), 403, "forbidden")
    assert_problem(client.book(start, origin=None), 403, "forbidden")
    assert_problem(client.post("/admin/api/login", json={"name": "mehmet", "password": "kamm-und-schere"},
                               origin="https://evil.example"), 403, "forbidden")
    assert daemon.booking_count() == 0
    assert client.book(start).status == 201


# MARK: - One authorisation for the socket and the web


def test_a_read_user_cannot_book_over_the_web_just_as_a_read_uid_cannot_over_the_socket(daemons, slotctl_binary):
    daemon, port = start_admin(daemons, slotctl_binary, USERS, socket_role="read")
    start = wall(future_day(3), "11:00")
    over_socket = assert_problem(
        daemon.client.post("/v1/bookings", json={"service": "haircut", "staff": "anna", "start": start,
                                                 "customer": {"name": "X"}}), 403, "forbidden")
    over_web = assert_problem(logged_in(port, "lena").book(start), 403, "forbidden")
    assert over_web["detail"] == over_socket["detail"]
    assert "role 'read' may not do this" in over_web["detail"]
    # Reading is allowed to both; staff may book and move, but only admin may do admin things.
    assert logged_in(port, "lena").get(f"/admin/api/day?date={future_day(3)}").status == 200
    assert logged_in(port, "tom").book(start).status == 201
    assert daemon.booking_count() == 1


def test_walk_ins_and_forced_bookings_over_the_web_follow_the_logins_role_and_name_it(daemons, slotctl_binary):
    daemon, port = start_admin(daemons, slotctl_binary, USERS)
    day = future_day(3)
    # 07:05 is before the shop opens and off the grid: forced, by staff, with the reason and the login recorded.
    forced = {"service": "haircut", "staff": "anna", "start": wall(day, "07:05"), "customer": {"name": "Early Ed"},
              "force": {"reason": "opens up for a regular"}}
    created = logged_in(port, "tom").post("/admin/api/bookings", json=forced)
    assert created.status == 201, created
    events = [json.loads(line) for line in daemon.client.get("/v1/events?follow=false").text.splitlines() if line]
    [event] = [e for e in events if e["type"] == "booking.created" and e["data"]["booking"] == created.json()["id"]]
    assert event["data"]["override"] == {
        "kind": "forced", "reason": "opens up for a regular", "user": "tom", "waived": ["shop_closed"]}
    # A read login may not, whatever it sets aside; the same 403 text as for any booking.
    refused = assert_problem(logged_in(port, "lena").post("/admin/api/bookings", json=forced), 403, "forbidden")
    assert "role 'read' may not do this" in refused["detail"]
    # Without `force` the same start is refused with the rules' reasons, as for a customer.
    plain = dict(forced, force=None, walk_in=True, customer={"name": "Early Ed II"})
    del plain["force"]
    assert_problem(logged_in(port, "mehmet").post("/admin/api/bookings", json=plain), 422, "validation_failed")
    assert daemon.booking_count() == 1


# MARK: - Views and the live feed


def test_the_day_has_a_column_per_barber_with_open_time_and_the_bookings(site):
    daemon, port = site
    day = future_day(4)
    made = daemon.client.book(wall(day, "10:00"), service="beard_trim", staff="anna", name="Olaf",
                              notes="short on the sides")
    assert made.status == 201, made
    client = logged_in(port)
    data = client.get(f"/admin/api/day?date={day}").json()
    assert data["from"] == day and data["time_zone"] == "Europe/Berlin"
    assert (data["first_minute"], data["last_minute"]) == (9 * 60, 18 * 60)
    columns = {c["staff"]: c for c in data["days"][0]["columns"]}
    assert set(columns) == {"anna", "ben"}
    assert columns["anna"]["open"] == [{"start": 540, "end": 1080}]
    # Ben works 10-16 with a break 12:00-12:30: shown closed.
    assert columns["ben"]["open"] == [{"start": 600, "end": 720}, {"start": 750, "end": 960}]
    [block] = columns["anna"]["bookings"]
    assert (block["start"], block["end"], block["buffer_before"], block["buffer_after"]) == (600, 620, 0, 5)
    assert block["booking"]["customer"]["name"] == "Olaf" and block["booking"]["notes"] == "short on the sides"
    assert block["booking"]["id"] == made.json()["id"]
    assert block.get("conflicts") is None
    week = client.get(f"/admin/api/day?date={day}&days=7").json()
    assert len(week["days"]) == 7 and week["days"][6]["date"] > day
    assert_problem(client.get("/admin/api/day?date=tomorrow"), 422, "validation_failed")
    assert_problem(client.get("/admin/api/day?days=8"), 422, "validation_failed")


def test_the_day_counts_the_chairs_in_use_as_the_engine_does(site):
    daemon, port = site
    with_chairs(daemon.rules)
    assert daemon.client.post("/v1/rules/reload").status == 200
    day = future_day(11)
    assert daemon.client.book(wall(day, "10:00"), staff="anna", name="One").status == 201
    assert daemon.client.book(wall(day, "10:15"), staff="ben", name="Two", service="beard_trim").status == 201
    cancelled = daemon.client.book(wall(day, "11:00"), staff="ben", name="Gone").json()["id"]
    assert daemon.client.post(f"/v1/bookings/{cancelled}/cancel", json={}).status == 200
    client = logged_in(port)
    [chairs] = client.get(f"/admin/api/day?date={day}").json()["days"][0]["occupancy"]
    assert (chairs["resource"], chairs["name"], chairs["capacity"]) == ("chair", "Barber chair", 2)
    # Spans without buffers (the engine holds a resource for the service itself); the cancellation frees its chair.
    assert [(lv["start"], lv["end"], lv["units"]) for lv in chairs["levels"]] == [
        (600, 615, 1), (615, 630, 2), (630, 635, 1)], chairs
    assert client.get(f"/admin/api/day?date={future_day(12)}").json()["days"][0]["occupancy"] == [
        {"resource": "chair", "name": "Barber chair", "capacity": 2, "levels": []}]


def test_the_live_feed_sends_socket_bookings_and_resumes_from_last_event_id(site):
    daemon, port = site
    client = logged_in(port)
    day = future_day(5)
    cursor = client.get(f"/admin/api/day?date={day}").json()["cursor"]
    with AdminEvents(client, f"/admin/api/events?since={cursor}") as feed:
        assert feed.status == 200 and feed.headers["content-type"].startswith("text/event-stream")
        first = daemon.client.book(wall(day, "09:00"), name="First").json()["id"]
        event_id, line = feed.next_line()
        assert line["type"] == "booking.created" and line["data"]["booking"] == first
        assert int(event_id) == line["cursor"] > cursor
    # The phone slept: the browser reconnects with the last id it saw and misses nothing.
    second = daemon.client.book(wall(day, "09:30"), name="Second").json()["id"]
    with AdminEvents(client, f"/admin/api/events?since={cursor}", last_event_id=event_id) as feed:
        _, line = feed.next_line()
        assert line["type"] == "booking.created" and line["data"]["booking"] == second


# MARK: - Actions


def test_the_live_day_is_pushed_whole_after_every_change_and_again_on_reconnect(site):
    daemon, port = site
    day = future_day(13)
    client = logged_in(port)
    assert_problem(AdminClient(port).get(f"/admin/api/day/live?date={day}"), 401, "unauthenticated")
    assert_problem(client.get("/admin/api/day/live?date=tomorrow"), 422, "validation_failed")
    with AdminEvents(client, f"/admin/api/day/live?date={day}") as live:
        assert live.headers["content-type"] == "text/event-stream"
        name, first = live.next_event()
        assert name == "day" and first["from"] == day and first["days"][0]["columns"][0]["bookings"] == []
        booking = daemon.client.book(wall(day, "10:00"), staff="anna", name="Pushed").json()["id"]
        name, pushed = live.next_event()
        [block] = {c["staff"]: c for c in pushed["days"][0]["columns"]}["anna"]["bookings"]
        assert name == "day" and block["booking"]["id"] == booking and pushed["cursor"] > first["cursor"]
    # A page that comes back gets the whole day at once: nothing to replay.
    with AdminEvents(client, f"/admin/api/day/live?date={day}") as again:
        _, current = again.next_event()
        assert [b["booking"]["id"] for b in current["days"][0]["columns"][0]["bookings"]] == [booking]


def test_book_cancel_with_its_fee_reschedule_to_the_other_barber_and_complete(site):
    daemon, port = site
    client = logged_in(port)
    day = future_day(6)
    created = client.book(wall(day, "10:00"), staff="anna", name="Kemal")
    assert created.status == 201, created
    booking = created.json()["id"]
    answer = client.get(f"/admin/api/bookings/{booking}").json()
    # Six days ahead is outside the 24 h window: cancelling costs nothing.
    assert (answer["cancel_fee_cents"], answer["cancel_inside_window"], answer["conflicts"]) == (0, False, [])
    moved = client.post(f"/admin/api/bookings/{booking}/reschedule", json={"start": wall(day, "11:00"), "staff": "ben"})
    assert moved.status == 200, moved
    assert moved.json()["staff"] == "ben" and same_instant(moved.json()["start"], local_iso(day, "11:00"))
    # Ben's break is closed time: moving into it is refused as on the socket, with the nearest free starts.
    refused = client.post(f"/admin/api/bookings/{booking}/reschedule", json={"start": wall(day, "12:00")})
    on_socket = daemon.client.post(f"/v1/bookings/{booking}/reschedule", json={"start": wall(day, "12:00")})
    problem = assert_problem(refused, on_socket.status, on_socket.json()["code"])
    assert problem["alternatives"], problem
    cancelled = client.post(f"/admin/api/bookings/{booking}/cancel", json={})
    assert cancelled.status == 200 and cancelled.json()["status"] == "cancelled"
    stored = daemon.client.get(f"/v1/bookings/{booking}").json()
    assert stored["status"] == "cancelled" and stored["staff"] == "ben"
    assert_problem(client.post(f"/admin/api/bookings/{booking}/complete"), 409, "invalid_transition")


def test_a_note_from_the_page_is_the_sockets_operation_and_reaches_other_pages_live(site):
    daemon, port = site
    client = logged_in(port, "tom")
    booking = client.book(wall(future_day(6), "10:00"), name="Noted Customer").json()["id"]
    cursor = daemon.sql("SELECT max(cursor) FROM events")[0][0]
    with AdminEvents(logged_in(port), f"/admin/api/events?since={cursor}") as other_page:
        noted = client.post(f"/admin/api/bookings/{booking}/notes", json={"notes": "allergic to lavender"})
        assert noted.status == 200 and noted.json()["notes"] == "allergic to lavender", noted
        _, line = other_page.next_line()
        assert line["type"] == "booking.noted" and line["data"]["booking"] == booking, line
    assert daemon.client.get(f"/v1/bookings/{booking}").json()["notes"] == "allergic to lavender"
    # The socket's checks and the socket's permissions: a read user may not, a control character is refused.
    problem = assert_problem(client.post(f"/admin/api/bookings/{booking}/notes", json={"notes": "bell\u0007"}),
                             422, "validation_failed")
    assert problem["fields"][0]["field"] == "notes"
    assert_problem(logged_in(port, "lena").post(f"/admin/api/bookings/{booking}/notes", json={"notes": "x"}),
                   403, "forbidden")
    assert_problem(client.post(f"/admin/api/bookings/{booking}/notes", json={"notes": "x"}, csrf=None),
                   403, "forbidden")
    assert daemon.client.get(f"/v1/bookings/{booking}").json()["notes"] == "allergic to lavender"


def test_find_by_name_phone_or_id(site):
    _, port = site
    client = logged_in(port)
    booking = client.book(wall(future_day(7), "10:00"), name="Zeynep Kaya").json()["id"]
    for query in ["zeynep", "KAYA", "1234567", booking[-6:]]:
        found = client.get(f"/admin/api/find?q={query}").json()["bookings"]
        assert [b["id"] for b in found] == [booking], query
    assert client.get("/admin/api/find?q=nobody").json()["bookings"] == []
    assert_problem(client.get("/admin/api/find?q=a"), 422, "validation_failed")


def test_a_booking_the_rules_no_longer_allow_is_marked_with_the_reason(site):
    daemon, port = site
    day = future_day(8)
    booking = daemon.client.book(wall(day, "15:00"), staff="ben", name="Late").json()["id"]
    staff = daemon.rules / "staff.yaml"
    staff.write_text(staff.read_text().replace("hours: Mo-Su 10:00-16:00", "hours: Mo-Su 10:00-14:00"))
    assert daemon.client.post("/v1/rules/reload").status == 200
    client = logged_in(port)
    columns = {c["staff"]: c for c in client.get(f"/admin/api/day?date={day}").json()["days"][0]["columns"]}
    [block] = columns["ben"]["bookings"]
    assert block["booking"]["id"] == booking and block["conflicts"], block
    assert client.get(f"/admin/api/bookings/{booking}").json()["conflicts"] == block["conflicts"]


# MARK: - The rule editor


@pytest.fixture
def editing_site(daemons, slotctl_binary):
    return start_admin(daemons, slotctl_binary, USERS, extra="  rules_editing: true\n")


def test_the_rule_editor_checks_at_the_line_previews_the_conflict_saves_and_restores(editing_site):
    daemon, port = editing_site
    day = future_day(9)
    late = daemon.client.book(wall(day, "15:00"), staff="ben", name="Late Customer").json()["id"]
    client = logged_in(port)
    files = client.get("/admin/api/rules").json()
    assert files["editable"] is True and files.get("reason") is None
    original = next(f["text"] for f in files["files"] if f["name"] == "staff.yaml")
    line = original.splitlines().index("    hours: Mo-Su 10:00-16:00") + 1

    typo = original.replace("Mo-Su 10:00-16:00", "Mo-Sx 10:00-14:00")
    checked = client.post("/admin/api/rules/check?name=staff.yaml", json={"text": typo}).json()
    assert checked["ok"] is False
    assert any(d["severity"] == "error" and d["line"] == line and d["file"] == "staff.yaml"
               for d in checked["diagnostics"]), checked
    assert_problem(client.post("/admin/api/rules/save?name=staff.yaml", json={"text": typo}), 422, "rules_invalid")
    assert (daemon.rules / "staff.yaml").read_text() == original

    fixed = original.replace("Mo-Su 10:00-16:00", "Mo-Su 10:00-14:00")
    assert client.post("/admin/api/rules/check?name=staff.yaml", json={"text": fixed}).json()["ok"] is True
    preview = client.post("/admin/api/rules/preview?name=staff.yaml", json={"text": fixed}).json()
    assert [b["id"] for b in preview["no_longer_allowed"]] == [late]
    assert preview["counts"]["lost"] > 0 and preview["counts"]["gained"] == 0

    saved = client.post("/admin/api/rules/save?name=staff.yaml", json={"text": fixed})
    assert saved.status == 200, saved
    assert saved.json()["changed"] is True and saved.json()["conflicts"] == 1
    assert (daemon.rules / "staff.yaml").read_text() == fixed
    assert not [p for p in daemon.rules.iterdir() if p.name.startswith(".staff.yaml.saving")]
    columns = {c["staff"]: c for c in client.get(f"/admin/api/day?date={day}").json()["days"][0]["columns"]}
    assert columns["ben"]["open"][-1]["end"] == 14 * 60
    assert columns["ben"]["bookings"][0]["conflicts"]

    history = client.get("/admin/api/rules/history?name=staff.yaml").json()["versions"]
    assert len(history) == 1
    assert (daemon.rules / ".history" / f"staff.yaml.{history[0]['version']}").read_text() == original
    restored = client.post(f"/admin/api/rules/restore?name=staff.yaml&version={history[0]['version']}")
    assert restored.status == 200, restored
    assert (daemon.rules / "staff.yaml").read_text() == original
    columns = {c["staff"]: c for c in client.get(f"/admin/api/day?date={day}").json()["days"][0]["columns"]}
    assert columns["ben"]["open"][-1]["end"] == 16 * 60 and columns["ben"]["bookings"][0].get("conflicts") is None


def test_rule_editing_is_off_unless_configured_and_only_for_admins(site, editing_site):
    _, port = site
    client = logged_in(port)
    files = client.get("/admin/api/rules").json()
    assert files["editable"] is False and "rules_editing" in files["reason"]
    text = files["files"][0]["text"]
    assert_problem(client.post(f"/admin/api/rules/save?name={files['files'][0]['name']}", json={"text": text}),
                   403, "forbidden")
    _, editing_port = editing_site
    staff_user = logged_in(editing_port, "tom")
    assert_problem(staff_user.get("/admin/api/rules"), 403, "forbidden")
    assert_problem(staff_user.post("/admin/api/rules/check?name=staff.yaml", json={"text": text}), 403, "forbidden")
    assert_problem(logged_in(editing_port).post("/admin/api/rules/save?name=../x.yaml", json={"text": text}),
                   422, "validation_failed")


# MARK: - Configuration


def test_web_users_mistakes_are_all_reported_with_their_lines(daemons, slotctl_binary):
    import re

    good = password_hash(slotctl_binary, "kamm-und-schere")
    weak = good.replace("$100000$", "$1000$")
    daemon = daemons(config=(
        "web:\n"
        "  listen: 127.0.0.1:9\n"
        "  public_url: https://shop.example/\n"
        "  secret_file: web.secret\n"
        "  users:\n"
        f'    - {{ name: a, role: boss, password_hash: "{good}" }}\n'
        '    - { name: b, role: admin, password_hash: "5f4dcc3b5aa765d61d8327deb882cf99" }\n'
        f'    - {{ name: c, role: read, password_hash: "{weak}" }}\n'
        "    - { name: d, role: read }\n"
        f'    - {{ name: A, role: read, password_hash: "{good}" }}\n'
        "  session_idle: forever\n"
        "  rules_editing: maybe\n"), start=False)
    with pytest.raises(RuntimeError) as failure:
        daemon.start()
    message = str(failure.value)
    for line, words in [(6, "unknown role 'boss'"), (7, "slotctl passwd"), (8, "at least 100000"),
                        (9, "needs `password_hash`"), (10, "appears twice"), (11, "session_idle"),
                        (12, "rules_editing")]:
        assert re.search(rf"slotd\.yaml:{line}(:\d+)?: .*{re.escape(words)}", message), (line, words, message)
