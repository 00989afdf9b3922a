"""Every endpoint of the v1 API, over the real socket of a real slotd."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import openapi_spec_validator
import pytest
import yaml

from openapi_contract import DOCUMENT_PATH
from conftest import assert_problem, future_day, local_iso, same_instant, start_with_stripe, wall

DAY = future_day(3)


def test_ping_answers_with_the_api_version_header(client):
    resp = client.get("/_ping")
    assert resp.status == 200
    assert resp.headers.get("api-version") == "1"


def test_health_reports_status_versions_and_the_callers_role(client):
    resp = client.get("/v1/health")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    health = resp.json()
    assert health["status"] == "ok"
    assert health["api_version"] == "1"
    assert health["rules_version"]
    assert health["role"] == "admin"  # the uid running slotd is admin without a config file
    assert isinstance(health["uptime_seconds"], int)


def test_openapi_document_is_served_and_names_every_route(client):
    resp = client.get("/v1/openapi.yaml")
    assert resp.status == 200
    text = resp.text
    assert text.startswith("openapi: 3.")
    assert text == DOCUMENT_PATH.read_text(), "slotd serves another openapi.yaml than the source tree's: rebuild"
    for route in ("/_ping", "/v1/health", "/v1/rules", "/v1/rules/check", "/v1/rules/reload", "/v1/services",
                  "/v1/staff", "/v1/slots", "/v1/slots/explain", "/v1/bookings", "/v1/bookings/{id}",
                  "/v1/bookings/{id}/cancel", "/v1/bookings/{id}/reschedule", "/v1/bookings/{id}/complete",
                  "/v1/bookings/{id}/no-show", "/v1/events"):
        assert f"  {route}:" in text, route


def test_openapi_document_is_valid_openapi_3_1():
    document = yaml.safe_load(DOCUMENT_PATH.read_text())
    assert document["openapi"].startswith("3.1")
    openapi_spec_validator.validate(document)  # raises with the location of the first problem


def test_rules_summary_names_the_shop_and_files(client):
    rules = client.get("/v1/rules").json()
    assert rules["shop"]["name"] == "Test Cuts"
    assert rules["shop"]["timezone"] == "Europe/Berlin"
    assert rules["services"] == 3
    assert rules["staff"] == 2
    assert sorted(f.rsplit("/", 1)[-1] for f in rules["files"]) == ["services.yaml", "shop.yaml", "staff.yaml"]
    assert rules["version"] == client.get("/v1/health").json()["rules_version"]


def test_services_and_staff_are_listed_in_declared_order(client):
    services = client.get("/v1/services").json()["services"]
    assert [s["id"] for s in services] == ["haircut", "beard_trim", "shave"]
    haircut = services[0]
    assert haircut["duration_minutes"] == 30
    assert haircut["price"] == {"amount": 2800, "currency": "EUR", "display": "28.00 EUR"}
    assert services[2]["deposit"]["amount"] == 1000
    staff = client.get("/v1/staff").json()["staff"]
    assert [(m["id"], m["name"]) for m in staff] == [("anna", "Anna"), ("ben", "Ben")]
    assert "shave" not in staff[1]["services"]


def test_slots_lists_starts_on_the_grid_with_offsets(client):
    resp = client.get(f"/v1/slots?service=haircut&from={DAY}&to={DAY}&staff=anna")
    assert resp.status == 200
    body = resp.json()
    assert body["service"] == "haircut" and body["staff"] == "anna"
    slots = body["slots"]
    # 09:00 .. 17:30 every 15 minutes for a 30-minute service
    assert len(slots) == 35
    assert same_instant(slots[0]["start"], local_iso(DAY, "09:00"))
    assert same_instant(slots[0]["end"], local_iso(DAY, "09:30"))
    assert same_instant(slots[-1]["start"], local_iso(DAY, "17:30"))
    assert all(s["staff"] == "anna" for s in slots)
    assert slots[0]["start"][-6:] in ("+01:00", "+02:00")


def test_slots_for_any_staff_and_a_missing_parameter(client):
    anyone = client.get(f"/v1/slots?service=haircut&from={DAY}").json()["slots"]
    assert {s["staff"] for s in anyone} == {"anna"}  # anna is free all day and first in order
    assert_problem(client.get("/v1/slots?from=" + DAY), (400, 422), ("bad_request", "validation_failed"))


def test_explain_says_why_a_start_is_or_is_not_bookable(client):
    ok = client.get(f"/v1/slots/explain?service=haircut&staff=anna&at={wall(DAY, '10:00')}")
    assert ok.status == 200
    assert ok.json()["bookable"] is True
    assert client.book(wall(DAY, "10:00")).status == 201
    taken = client.get(f"/v1/slots/explain?service=haircut&staff=anna&at={wall(DAY, '10:15')}").json()
    assert taken["bookable"] is False
    assert taken["reasons"], taken
    closed = client.get(f"/v1/slots/explain?service=haircut&staff=ben&at={wall(DAY, '09:00')}").json()
    assert closed["bookable"] is False


def test_booking_create_get_and_list(daemon, client):
    resp = client.book(wall(DAY, "10:00"), name="Ben Meyer", notes="short on the sides")
    assert resp.status == 201, resp
    booking = resp.json()
    assert booking["id"].startswith("bk_")
    assert booking["status"] == "confirmed"
    assert booking["service"] == "haircut" and booking["services"] == ["haircut"]
    assert booking["staff"] == "anna"
    assert same_instant(booking["start"], local_iso(DAY, "10:00"))
    assert same_instant(booking["end"], local_iso(DAY, "10:30"))
    assert booking["price"]["amount"] == 2800
    assert booking["customer"]["name"] == "Ben Meyer"

    got = client.get(f"/v1/bookings/{booking['id']}")
    assert got.status == 200 and got.json()["id"] == booking["id"]
    listed = client.get(f"/v1/bookings?from={DAY}&to={DAY}").json()["bookings"]
    assert [b["id"] for b in listed] == [booking["id"]]
    assert client.get(f"/v1/bookings?from={DAY}&to={DAY}&staff=ben").json()["bookings"] == []
    assert client.get(f"/v1/bookings?status=cancelled").json()["bookings"] == []
    # the slot is gone from the list
    starts = [s["start"] for s in client.slots(DAY)]
    assert not any(same_instant(s, local_iso(DAY, "10:00")) for s in starts)
    assert daemon.booking_count() == 1


def test_export_and_backup_carry_the_booking(client):
    # slotctl drives these two in other tests; here the shared client checks their bodies against openapi.yaml.
    booking = client.book(wall(DAY, "11:00"), name="Eva Export").json()
    export = client.get("/v1/export")
    assert export.status == 200, export
    exported = export.json()
    assert exported["format"] == "slotd-export"
    assert [b["id"] for b in exported["bookings"]] == [booking["id"]]
    assert [c["name"] for c in exported["customers"]] == ["Eva Export"]
    backup = client.get("/v1/backup")
    assert backup.status == 200 and backup.content_type == "application/vnd.sqlite3", backup
    assert backup.body.startswith(b"SQLite format 3\x00")


def test_booking_any_staff_and_several_services_back_to_back(client):
    anyone = client.book(wall(DAY, "11:00"), staff=None)
    assert anyone.status == 201 and anyone.json()["staff"] == "anna"
    second = client.book(wall(DAY, "11:00"), staff="any")
    assert second.status == 201 and second.json()["staff"] == "ben"
    combo = client.post("/v1/bookings", json={
        "services": ["haircut", "beard_trim"], "staff": "anna", "start": wall(DAY, "14:00"),
        "customer": {"name": "Combo"}})
    assert combo.status == 201, combo
    body = combo.json()
    assert body["services"] == ["haircut", "beard_trim"]
    assert same_instant(body["end"], local_iso(DAY, "14:50"))
    assert body["price"]["amount"] == 2800 + 1500


def test_taken_slot_is_409_with_alternatives(daemon, client):
    assert client.book(wall(DAY, "10:00")).status == 201
    problem = assert_problem(client.book(wall(DAY, "10:00"), name="Second"), 409, "slot_unavailable")
    assert problem["alternatives"], problem
    assert all(a["staff"] == "anna" for a in problem["alternatives"])
    assert daemon.booking_count() == 1


def test_transitions_complete_no_show_confirm_cancel(client):
    first = client.book(wall(DAY, "09:00")).json()
    # completing and a no-show can only be recorded once the start has passed (the daemon's clock is real here;
    # the successful completion is tested with a settable clock in Tests/SlotServerTests)
    early = assert_problem(client.post(f"/v1/bookings/{first['id']}/complete"), 409, "invalid_transition")
    assert "cannot complete a booking before it starts" in early["detail"]
    assert client.get(f"/v1/bookings/{first['id']}").json()["status"] == "confirmed"
    second = client.book(wall(DAY, "09:30")).json()
    early = assert_problem(client.post(f"/v1/bookings/{second['id']}/no-show"), 409, "invalid_transition")
    assert "before it starts" in early["detail"]

    # With the default `manual` payments a deposit is due at the shop: the booking is confirmed at once.
    at_shop = client.book(wall(DAY, "13:00"), service="shave").json()
    assert at_shop["status"] == "confirmed" and not at_shop.get("hold_expires_at"), at_shop
    assert at_shop["payment"] == {"provider": "manual", "status": "due_at_shop",
                                  "amount": at_shop["deposit"]}, at_shop
    assert "payment" not in first


def test_a_deposit_collected_online_holds_the_booking_until_confirmed(daemons):
    client = start_with_stripe(daemons).client
    held = client.book(wall(DAY, "11:00"), service="shave").json()
    assert held["status"] == "held" and held["deposit"]["amount"] == 1000 and held.get("hold_expires_at")
    assert held["payment"]["provider"] == "stripe" and held["payment"]["status"] == "pending", held
    confirmed = client.post(f"/v1/bookings/{held['id']}/confirm")
    assert confirmed.status == 200 and confirmed.json()["status"] == "confirmed"

    cancelled = client.post(f"/v1/bookings/{held['id']}/cancel", json={"reason": "changed plans"})
    assert cancelled.status == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "changed plans"
    # a cancelled booking frees its slot
    assert client.book(wall(DAY, "11:00"), service="shave").status == 201
    # and cannot be completed
    assert_problem(client.post(f"/v1/bookings/{held['id']}/complete"), 409, "invalid_transition")


def test_cancel_without_a_body(client):
    booking = client.book(wall(DAY, "12:00")).json()
    resp = client.post(f"/v1/bookings/{booking['id']}/cancel")
    assert resp.status == 200 and resp.json()["status"] == "cancelled"


def test_reschedule_moves_the_booking_atomically(daemon, client):
    booking = client.book(wall(DAY, "10:00")).json()
    other = client.book(wall(DAY, "15:00"), name="Other").json()
    moved = client.post(f"/v1/bookings/{booking['id']}/reschedule", json={"start": wall(DAY, "13:00")})
    assert moved.status == 200, moved
    assert moved.json()["id"] == booking["id"]
    assert same_instant(moved.json()["start"], local_iso(DAY, "13:00"))
    # the old start is free again, the new one taken
    starts = [s["start"] for s in client.slots(DAY)]
    assert any(same_instant(s, local_iso(DAY, "10:00")) for s in starts)
    assert not any(same_instant(s, local_iso(DAY, "13:00")) for s in starts)
    # onto a taken start: 409, and the booking stays where it was
    assert_problem(client.post(f"/v1/bookings/{booking['id']}/reschedule", json={"start": wall(DAY, "15:00")}),
                   409, "slot_unavailable")
    assert same_instant(client.get(f"/v1/bookings/{booking['id']}").json()["start"], local_iso(DAY, "13:00"))
    assert client.get(f"/v1/bookings/{other['id']}").json()["status"] == "confirmed"
    assert daemon.booking_count() == 2


def test_unknown_booking_and_route(client):
    assert_problem(client.get("/v1/bookings/bk_doesnotexist"), 404, "booking_not_found")
    assert_problem(client.post("/v1/bookings/bk_doesnotexist/cancel"), 404, "booking_not_found")
    assert_problem(client.get("/v1/nothing-here"), 404, "not_found")
    assert_problem(client.get("/nothing"), 404, "not_found")
    assert_problem(client.request("DELETE", "/v1/services"), (404, 405), ("method_not_allowed", "not_found"))


def test_idempotency_key_books_once_and_replays_the_first_answer(daemon, client):
    key = {"Idempotency-Key": "test-key-1"}
    first = client.book(wall(DAY, "10:00"), headers=key)
    again = client.book(wall(DAY, "10:00"), headers=key)
    assert first.status == 201 and again.status == 201
    assert again.json()["id"] == first.json()["id"]
    assert daemon.booking_count() == 1
    reused = client.book(wall(DAY, "11:00"), headers=key)
    assert_problem(reused, 422, "idempotency_key_reused")
    assert daemon.booking_count() == 1


def test_events_replay_the_log_and_end_without_follow(client):
    booking = client.book(wall(DAY, "10:00")).json()
    client.post(f"/v1/bookings/{booking['id']}/cancel")
    resp = client.get("/v1/events?follow=false")
    assert resp.status == 200
    assert resp.content_type == "application/x-ndjson"
    lines = [json.loads(line) for line in resp.text.splitlines() if line.strip()]
    events = [e for e in lines if e["type"] not in ("heartbeat", "overflow")]
    types = [e["type"] for e in events]
    assert "booking.created" in types and "booking.cancelled" in types
    cursors = [e["cursor"] for e in events]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    for e in events:
        assert set(e) >= {"cursor", "type", "at", "data"}
    since = client.get(f"/v1/events?follow=false&since={cursors[0]}").text.splitlines()
    assert [json.loads(line)["cursor"] for line in since if line.strip()] == cursors[1:]
    only = client.get("/v1/events?follow=false&type=booking.cancel*").text.splitlines()
    assert [json.loads(line)["type"] for line in only if line.strip()] == ["booking.cancelled"]


def test_rules_check_reports_located_errors_without_changing_the_rules(client):
    version = client.get("/v1/rules").json()["version"]
    bad = "services:\n  - id: haircut\n    name: Haircut\n    duration: 30 minutes\n    price: 28\n"
    resp = client.request("POST", "/v1/rules/check?name=services.yaml", body=bad,
                          headers={"Content-Type": "application/yaml"})
    assert resp.status == 200, resp
    verdict = resp.json()
    assert verdict["ok"] is False
    assert verdict["diagnostics"]
    first = verdict["diagnostics"][0]
    assert first["line"] == 4 and first["severity"] == "error"
    assert first["text"].startswith("services.yaml:4:")
    ok = client.request("POST", "/v1/rules/check?name=extra.yaml", body="# nothing new\n",
                        headers={"Content-Type": "application/yaml"})
    assert ok.status == 200 and ok.json()["ok"] is True, ok
    assert client.get("/v1/rules").json()["version"] == version


def test_rules_reload_swaps_good_rules_and_keeps_the_old_on_errors(daemon, client):
    unchanged = client.post("/v1/rules/reload")
    assert unchanged.status == 200 and unchanged.json()["changed"] is False
    services = daemon.rules / "services.yaml"
    services.write_text(services.read_text() + "\n  - id: wash\n    name: Wash\n    duration: 15m\n    price: 8\n")
    changed = client.post("/v1/rules/reload")
    assert changed.status == 200 and changed.json()["changed"] is True, changed
    assert "wash" in [s["id"] for s in client.get("/v1/services").json()["services"]]
    version = client.get("/v1/rules").json()["version"]

    services.write_text("services:\n  - id: haircut\n    duration: soon\n")
    problem = assert_problem(client.post("/v1/rules/reload"), 422, "rules_invalid")
    assert problem["diagnostics"]
    assert client.get("/v1/rules").json()["version"] == version
    assert "wash" in [s["id"] for s in client.get("/v1/services").json()["services"]]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_speaks_to_the_socket(daemon):
    def curl(*args):
        out = subprocess.run(["curl", "-sS", "--unix-socket", daemon.socket, *args],
                             capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, out.stderr
        return out.stdout

    health = json.loads(curl("http://localhost/v1/health"))
    assert health["status"] == "ok"
    body = json.dumps({"service": "haircut", "staff": "anna", "start": wall(DAY, "16:00"),
                       "customer": {"name": "Curl"}})
    created = curl("-w", "\n%{http_code}", "-H", "Content-Type: application/json", "-d", body,
                   "http://localhost/v1/bookings")
    payload, code = created.rsplit("\n", 1)
    assert code == "201", created
    assert json.loads(payload)["customer"]["name"] == "Curl"
    events = curl("http://localhost/v1/events?follow=false")
    assert "booking.created" in events


def test_the_database_files_are_readable_by_slotds_user_only(daemon):
    daemon.client.book(wall(future_day(3), "10:00"))
    for suffix in ("", "-wal", "-shm"):
        path = f"{daemon.db}{suffix}"
        assert os.stat(path).st_mode & 0o777 == 0o600, (path, oct(os.stat(path).st_mode))
