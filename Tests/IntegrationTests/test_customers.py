"""Customers are records, and bookings have codes (issue 14), over the real socket with the real SQLite store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from conftest import Client, assert_problem, future_day, local_iso, same_instant, wall

DAY = future_day(6)


def book(client: Client, time_of_day: str, name: str, email: str | None = None, phone: str | None = None,
         staff: str = "anna"):
    customer = {"name": name, **({"email": email} if email else {}), **({"phone": phone} if phone else {})}
    return client.post("/v1/bookings", json={"service": "haircut", "staff": staff, "start": wall(DAY, time_of_day),
                                             "customer": customer})


def booked(client: Client, *args, **kw) -> dict:
    resp = book(client, *args, **kw)
    assert resp.status == 201, resp
    return resp.json()


def customer_file(client: Client, customer_id: str) -> dict:
    resp = client.get(f"/v1/customers/{customer_id}")
    assert resp.status == 200, resp
    return resp.json()


def events(daemon, prefix: str) -> list[tuple[str, dict]]:
    return [(kind, json.loads(data)) for kind, data in
            daemon.sql("SELECT type, data FROM events WHERE type LIKE ? ORDER BY cursor", prefix + "%")]


# MARK: - Matching


def test_the_overwrite_bug_a_second_name_renames_nothing_and_inherits_no_phone(daemon, client):
    first = booked(client, "10:00", "Anna Alt", email="e@example.com", phone="0151 2345678")
    second = booked(client, "11:00", "Bea Berg", email="E@example.com")
    assert first["customer"] == {"name": "Anna Alt", "email": "e@example.com", "phone": "+491512345678"}
    assert first["customer_id"] == second["customer_id"]
    # Every booking reads the name and contact it was made with; B's has no phone, so no SMS goes to A's.
    assert client.get(f"/v1/bookings/{first['id']}").json()["customer"]["name"] == "Anna Alt"
    again = client.get(f"/v1/bookings/{second['id']}").json()["customer"]
    assert again == {"name": "Bea Berg", "email": "E@example.com"}
    record = customer_file(client, first["customer_id"])
    assert record["customer"]["name"] == "Anna Alt" and record["customer"]["phone"] == "+491512345678"
    assert [b["customer"]["name"] for b in record["bookings"]] == ["Anna Alt", "Bea Berg"]
    [conflict] = record["conflicts"]
    assert conflict["kind"] == "different_name" and conflict["booking"] == second["id"]
    assert "Bea Berg" in conflict["detail"] and "Anna Alt" in conflict["detail"]
    waiting = client.get("/v1/customers?conflicts=true").json()["customers"]
    assert [c["id"] for c in waiting] == [first["customer_id"]] and waiting[0]["open_conflicts"] == 1
    assert [kind for kind, _ in events(daemon, "customer.")] == ["customer.conflict"]


def test_the_same_phone_however_typed_is_one_customer(client):
    first = booked(client, "10:00", "Cem", phone="0151 1111111")
    second = booked(client, "11:00", "Cem", phone="+49 151 1111111")
    third = booked(client, "12:00", "Cem", phone="0049-151-1111111")
    assert first["customer_id"] == second["customer_id"] == third["customer_id"]
    assert {b["customer"]["phone"] for b in (first, second, third)} == {"+491511111111"}
    assert customer_file(client, first["customer_id"])["conflicts"] == []


def test_a_phone_of_one_customer_and_an_email_of_another_is_recorded_for_the_desk(client):
    x = booked(client, "10:00", "Dan", phone="0151 2222222")
    y = booked(client, "11:00", "Dan", email="dan@example.com")
    both = booked(client, "12:00", "Dan", email="dan@example.com", phone="0151 2222222")
    assert both["customer_id"] == x["customer_id"] != y["customer_id"]
    [conflict] = customer_file(client, x["customer_id"])["conflicts"]
    assert conflict["kind"] == "two_records" and conflict["other"] == y["customer_id"]
    assert customer_file(client, y["customer_id"])["conflicts"] == [conflict]


@pytest.mark.parametrize("phone", ["abc", "12", "+49 151 12345678901234", "0151 1234 x"])
def test_a_phone_that_is_not_one_is_refused_with_how_to_write_it(daemon, client, phone):
    problem = assert_problem(book(client, "10:00", "Eva", phone=phone), 422, "validation_failed")
    [field] = problem["fields"]
    assert field["field"] == "customer.phone"
    assert f"'{phone}' is not a phone number" in field["reason"] and "+49 151 12345678" in field["reason"], field
    assert daemon.booking_count() == 0


def test_the_shops_country_gives_phones_without_plus_their_calling_code(daemons):
    daemon = daemons(config="country: at\n")
    booking = booked(daemon.client, "10:00", "Pia", phone="0664 1234567")
    assert booking["customer"]["phone"] == "+436641234567"
    problem = assert_problem(book(daemon.client, "11:00", "Pia", phone="abc"), 422, "validation_failed")
    assert "for a number in AT" in problem["fields"][0]["reason"]


def test_an_unknown_country_stops_slotd_at_start_with_its_location(daemons):
    daemon = daemons(config="country: XX\n", start=False)
    out = subprocess.run(daemon.args, capture_output=True, text=True, timeout=30, cwd=daemon.dir)
    assert out.returncode == 78, out
    assert "slotd.yaml:1" in out.stderr and "`country` must be an ISO 3166 code" in out.stderr, out.stderr


# MARK: - Search, file, note, merge, erase


def test_search_finds_parts_of_names_emails_and_phones(client):
    ben = booked(client, "10:00", "Ben Meyer", email="ben@mail.example", phone="0151 3333333")
    booked(client, "11:00", "Cleo", email="cleo@example.com")

    def search(query: str) -> list[str]:
        resp = client.get(f"/v1/customers?q={query}")
        assert resp.status == 200, resp
        return [c["name"] for c in resp.json()["customers"]]

    assert search("mey") == ["Ben Meyer"]
    assert search("MAIL.EX") == ["Ben Meyer"]
    assert search("0151%203333") == ["Ben Meyer"], "a phone as people type it"
    assert search("151333") == ["Ben Meyer"]
    assert search("nobody") == []
    # Made in the same second: ordered by id then, which is random.
    assert sorted(search("")) == ["Ben Meyer", "Cleo"]
    assert len(client.get("/v1/customers?limit=1").json()["customers"]) == 1
    assert client.get("/v1/customers?q=ben").json()["customers"][0]["id"] == ben["customer_id"]
    for query, field in [("limit=0", "limit"), ("limit=x", "limit"), ("conflicts=maybe", "conflicts"),
                         ("q=" + "a" * 201, "q")]:
        problem = assert_problem(client.get(f"/v1/customers?{query}"), 422, "validation_failed")
        assert problem["fields"][0]["field"] == field


def test_a_customer_file_has_the_history_and_totals(daemon, client):
    kept = booked(client, "10:00", "Fay", phone="0151 4444444")
    cancelled = booked(client, "11:00", "Fay", phone="0151 4444444")
    assert client.post(f"/v1/bookings/{cancelled['id']}/cancel", json={"reason": "ill"}).status == 200
    record = customer_file(client, kept["customer_id"])
    assert [b["id"] for b in record["bookings"]] == [kept["id"], cancelled["id"]]
    totals = record["totals"]
    assert (totals["bookings"], totals["cancellations"], totals["completed"], totals["no_shows"]) == (2, 1, 0, 0)
    assert record["customer"]["bookings"] == 2
    assert_problem(client.get("/v1/customers/cu_nobody"), 404, "not_found")


def test_a_note_is_kept_and_bad_notes_are_refused(daemon, client):
    customer = booked(client, "10:00", "Gil", phone="0151 5555555")["customer_id"]
    saved = client.request("PATCH", f"/v1/customers/{customer}", json={"note": "prefers Lena\nno beard"})
    assert saved.status == 200, saved
    assert saved.json()["customer"]["note"] == "prefers Lena\nno beard"
    assert customer_file(client, customer)["customer"]["note"] == "prefers Lena\nno beard"
    assert [kind for kind, _ in events(daemon, "customer.")] == ["customer.noted"]
    assert_problem(client.request("PATCH", f"/v1/customers/{customer}", json={}), 422, "validation_failed")
    assert_problem(client.request("PATCH", f"/v1/customers/{customer}", json={"note": "a\u0000b"}), 422,
                   "validation_failed")
    assert_problem(client.request("PATCH", f"/v1/customers/{customer}", json={"note": "x" * 2001}), 422,
                   "validation_failed")
    assert_problem(client.request("PATCH", f"/v1/customers/{customer}", body="{", headers={
        "Content-Type": "application/json"}), 400, "malformed_json")
    assert_problem(client.request("PATCH", "/v1/customers/cu_nobody", json={"note": "x"}), 404, "not_found")
    assert customer_file(client, customer)["customer"]["note"] == "prefers Lena\nno beard"


def test_merging_moves_the_bookings_and_settles_the_conflict(daemon, client):
    x = booked(client, "10:00", "Hal", phone="0151 6666666")
    y = booked(client, "11:00", "Hal", email="hal@example.com")
    booked(client, "12:00", "Hal", email="hal@example.com", phone="0151 6666666")
    for body, status, field in [({"from": ""}, 422, "from"), ({"from": x["customer_id"]}, 422, "from"),
                                ({"from": "cu_nobody"}, 422, "from"), ({}, 422, None)]:
        problem = assert_problem(client.post(f"/v1/customers/{x['customer_id']}/merge", json=body), status)
        if field:
            assert problem["fields"][0]["field"] == field, problem
    assert_problem(client.post("/v1/customers/cu_nobody/merge", json={"from": y["customer_id"]}), 404, "not_found")
    merged = client.post(f"/v1/customers/{x['customer_id']}/merge", json={"from": y["customer_id"]})
    assert merged.status == 200, merged
    record = merged.json()
    assert record["customer"]["email"] == "hal@example.com" and record["customer"]["phone"] == "+491516666666"
    assert len(record["bookings"]) == 3 and record["conflicts"] == []
    assert_problem(client.get(f"/v1/customers/{y['customer_id']}"), 404, "not_found")
    assert client.get(f"/v1/bookings/{y['id']}").json()["customer_id"] == x["customer_id"]
    [(_, data)] = [e for e in events(daemon, "customer.") if e[0] == "customer.merged"]
    assert data == {"customer": x["customer_id"], "other": y["customer_id"], "bookings": 1}


def test_resolving_closes_the_conflicts_and_keeps_the_records(daemon, client):
    booked(client, "10:00", "Rita", email="rita@example.com")
    renamed = booked(client, "11:00", "Rita R.", email="rita@example.com")
    customer = renamed["customer_id"]
    assert customer_file(client, customer)["customer"]["open_conflicts"] == 1
    resolved = client.post(f"/v1/customers/{customer}/resolve")
    assert resolved.status == 200, resolved
    assert resolved.json()["conflicts"] == [] and resolved.json()["customer"]["name"] == "Rita"
    assert client.get("/v1/customers?conflicts=true").json()["customers"] == []
    [(_, data)] = [e for e in events(daemon, "customer.") if e[0] == "customer.conflicts_resolved"]
    assert data == {"customer": customer, "conflicts": 1}
    assert_problem(client.post("/v1/customers/cu_nobody/resolve"), 404, "not_found")


def test_erasing_removes_personal_data_keeps_bookings_and_records_an_event(daemon, client):
    answer = client.post("/v1/bookings", headers={"Idempotency-Key": "ida-1"}, json={
        "service": "haircut", "staff": "anna", "start": wall(DAY, "10:00"),
        "customer": {"name": "Ida Imhof", "email": "ida@example.com", "phone": "0151 7777777"}})
    assert answer.status == 201, answer
    booking = answer.json()
    customer = booking["customer_id"]
    assert client.request("PATCH", f"/v1/customers/{customer}", json={"note": "regular"}).status == 200
    erased = client.post(f"/v1/customers/{customer}/erase")
    assert erased.status == 200, erased
    record = erased.json()
    assert record["customer"]["name"] == "(erased)" and record["customer"]["erased_at"]
    assert "email" not in record["customer"] and "phone" not in record["customer"]
    assert record["customer"]["note"] == ""
    kept = client.get(f"/v1/bookings/{booking['id']}").json()
    assert kept["status"] == "confirmed" and kept["customer"] == {"name": "(erased)"}
    assert [kind for kind, _ in events(daemon, "customer.")][-1] == "customer.erased"
    # Nothing of Ida is left in the database but her bookings' facts.
    dump = "\n".join(str(row) for table in ("customers", "bookings", "events", "customer_conflicts", "outbox",
                                             "idempotency_keys")
                     for row in daemon.sql(f"SELECT * FROM {table}"))
    assert "Ida" not in dump and "ida@" not in dump and "7777777" not in dump
    assert client.get("/v1/customers?q=ida").json()["customers"] == []
    assert_problem(client.post("/v1/customers/cu_nobody/erase"), 404, "not_found")


def test_the_export_lists_each_customer_once(client):
    for time_of_day in ("10:00", "11:00", "12:00"):
        booked(client, time_of_day, "Jo", phone="0151 8888888")
    booked(client, "13:00", "Kai", email="kai@example.com")
    export = client.get("/v1/export").json()
    assert sorted(c["name"] for c in export["customers"]) == ["Jo", "Kai"]
    ids = {c["id"] for c in export["customers"]}
    assert len(export["bookings"]) == 4 and {b["customer_id"] for b in export["bookings"]} == ids


# MARK: - Booking codes


def test_a_booking_code_is_short_readable_and_accepted_wherever_the_id_is(daemon, client):
    booking = booked(client, "10:00", "Lu", phone="0151 9999999")
    code = booking["code"]
    assert len(code) == 6 and not set(code) & set("01OIL"), code
    assert booking["id"].startswith("bk_")
    spoken = (code[:3] + "-" + code[3:]).lower()
    for ref in (code, spoken):
        assert client.get(f"/v1/bookings/{ref}").json()["id"] == booking["id"]
    # A reschedule by code overlapping the booking's own time is not blocked by the booking itself.
    moved = client.post(f"/v1/bookings/{spoken}/reschedule", json={"start": wall(DAY, "10:15")})
    assert moved.status == 200, moved
    assert same_instant(moved.json()["start"], local_iso(DAY, "10:15")) and moved.json()["code"] == code
    cancelled = client.post(f"/v1/bookings/{code}/cancel", json={})
    assert cancelled.status == 200 and cancelled.json()["status"] == "cancelled"
    assert_problem(client.get("/v1/bookings/ZZZZZZ"), 404, "booking_not_found")
    codes = [c for (c,) in daemon.sql("SELECT code FROM bookings")]
    assert codes == [code]


# MARK: - Roles


NOBODY = 65534


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to run a client as another uid")
def test_staff_keep_notes_and_merge_but_only_admin_erases_and_read_only_reads(daemons):
    from test_daemon_access import as_nobody
    for role, note_status, erase_status in [("staff", 200, 403), ("read", 403, 403)]:
        config = f'socket:\n  mode: "0666"\nroles:\n  "{os.getuid()}": admin\n  "{NOBODY}": {role}\n'
        daemon = daemons(config=config)
        customer = booked(daemon.client, "10:00", "Mo", phone="0151 1212121")["customer_id"]
        assert as_nobody(daemon, "GET", "/v1/customers?q=mo")["status"] == 200
        assert as_nobody(daemon, "GET", f"/v1/customers/{customer}")["status"] == 200
        assert as_nobody(daemon, "PATCH", f"/v1/customers/{customer}", {"note": "n"})["status"] == note_status
        denied = as_nobody(daemon, "POST", f"/v1/customers/{customer}/erase")
        assert denied["status"] == erase_status, denied
        assert daemon.client.get(f"/v1/customers/{customer}").json()["customer"]["name"] == "Mo"


# MARK: - slotctl


def test_slotctl_customers_lists_shows_notes_merges_and_erases(daemon, client, slotctl_for):
    x = booked(client, "10:00", "Nora Nagel", phone="0151 1313131")
    y = booked(client, "11:00", "Nora N.", email="nora@example.com")
    booked(client, "12:00", "Nora Nagel", email="nora@example.com", phone="0151 1313131")

    listing = slotctl_for(daemon, "customers", "--search", "nora").stdout
    assert listing.splitlines()[0].split() == ["ID", "NAME", "PHONE", "E-MAIL", "BOOKINGS", "CONFLICTS"]
    assert x["customer_id"] in listing and "+491511313131" in listing
    as_json = json.loads(slotctl_for(daemon, "customers", "--conflicts", "--json").stdout)
    assert [c["id"] for c in as_json["customers"]] == [x["customer_id"]]

    shown = slotctl_for(daemon, "customers", "show", x["customer_id"]).stdout
    assert "name:      Nora Nagel" in shown and "two_records" in shown
    assert (x["code"][:3] + "-" + x["code"][3:]) in shown

    noted = slotctl_for(daemon, "customers", "note", x["customer_id"], "prefers Lena").stdout
    assert "note:      prefers Lena" in noted
    merged = slotctl_for(daemon, "customers", "merge", x["customer_id"], "--from", y["customer_id"]).stdout
    assert f"{y['customer_id']} merged into {x['customer_id']}" in merged and "3 bookings" in merged
    assert "conflicts" not in merged.split("history:")[1], "the merge settled the two records' conflict"
    resolved = slotctl_for(daemon, "customers", "resolve", x["customer_id"]).stdout
    assert f"conflicts of {x['customer_id']} closed" in resolved

    refused = slotctl_for(daemon, "customers", "erase", x["customer_id"], check=None)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    erased = slotctl_for(daemon, "customers", "erase", x["customer_id"], "--yes").stdout
    assert "erased; its 3 bookings kept" in erased and "name:      (erased)" in erased

    missing = slotctl_for(daemon, "customers", "show", "cu_nobody", check=None)
    assert missing.returncode != 0 and "no customer with id 'cu_nobody'" in missing.stderr


def test_slotctl_shows_codes_and_takes_them_for_ids(daemon, client, slotctl_for):
    booking = booked(client, "10:00", "Olli")
    spoken = booking["code"][:3] + "-" + booking["code"][3:]
    assert f"code:      {spoken}" in slotctl_for(daemon, "show", spoken.lower()).stdout
    table = slotctl_for(daemon, "bookings", "--from", DAY).stdout
    assert "CODE" in table.splitlines()[0] and spoken in table
    cancelled = slotctl_for(daemon, "cancel", booking["code"]).stdout
    assert "cancelled" in cancelled and booking["id"] in cancelled


# MARK: - Phone numbers stored before E.164


def test_old_phone_numbers_are_normalised_at_start_with_the_shops_country(daemons):
    """Numbers stored as typed before slotd kept E.164 are rewritten at start with `country:`, so search and
    matching find them; one that is no number stays as stored and the log counts it."""
    import sqlite3
    daemon = daemons(config="country: AT\n")
    old = booked(daemon.client, "10:00", "Olga Old", email="olga@example.com", phone="+43 664 1234567")
    junk = booked(daemon.client, "11:00", "Jo Junk", email="jo@example.com", phone="+43 660 7654321")
    daemon.stop_checked()
    # As a database written before issue 14 holds them.
    conn = sqlite3.connect(daemon.db)
    for booking, phone in ((old, "0664 123 4567"), (junk, "ask at the desk")):
        conn.execute("UPDATE customers SET phone = ? WHERE id = ?", (phone, booking["customer_id"]))
        conn.execute("UPDATE bookings SET customer_phone = ? WHERE id = ?", (phone, booking["id"]))
    conn.commit()
    conn.close()
    daemon.start()
    log = daemon.log()
    [rewritten] = [line for line in log.splitlines() if "normalised stored phone numbers to E.164" in line]
    assert "customers=1" in rewritten and "bookings=1" in rewritten and "country=AT" in rewritten, rewritten
    [unreadable] = [line for line in log.splitlines() if "left as they are" in line]
    assert "customers=1" in unreadable and junk["customer_id"] in unreadable, unreadable
    assert "ask at the desk" not in log, "no personal data in the log"
    client = daemon.client
    found = client.get("/v1/customers?q=%2B436641234567").json()["customers"]
    assert [c["id"] for c in found] == [old["customer_id"]]
    assert client.get(f"/v1/bookings/{old['id']}").json()["customer"]["phone"] == "+436641234567"
    assert client.get(f"/v1/bookings/{junk['id']}").json()["customer"]["phone"] == "ask at the desk"
    # A booking typed with her number in the national form is filed under her record.
    again = booked(client, "12:00", "Olga Old", phone="0664 1234567")
    assert again["customer_id"] == old["customer_id"]
