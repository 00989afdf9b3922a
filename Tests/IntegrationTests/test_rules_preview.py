"""`POST /v1/rules/preview` and `slotctl rules diff`: what a candidate rule set would change, before it is saved —
the starts gained and lost per staff member and service, and the bookings it would no longer allow, with the
engine's reason. Nothing is loaded; a candidate with errors is a located 422 and computes nothing (issue 13)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import assert_problem, future_day, local_iso, wall

DAY = future_day(3)
LATER = future_day(4)
ANNA_BREAK = "    services: [haircut, beard_trim, shave]\n    breaks:\n      - Mo-Su 13:00-14:00\n"


def staff_with_anna_break(daemon) -> str:
    text = (daemon.rules / "staff.yaml").read_text()
    assert "    services: [haircut, beard_trim, shave]\n" in text
    return text.replace("    services: [haircut, beard_trim, shave]\n", ANNA_BREAK, 1)


def rule_files(daemon) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(daemon.rules.iterdir()) if path.suffix == ".yaml"}


def preview_file(client, text: str, name: str = "staff.yaml", query: str = ""):
    return client.request("POST", f"/v1/rules/preview?name={name}{query}", body=text,
                          headers={"Content-Type": "application/yaml"})


@pytest.fixture
def ctl(slotctl_for):
    return slotctl_for


def test_a_break_loses_starts_and_refuses_the_booking_inside_it(daemon, client):
    booked = client.book(wall(DAY, "13:00"), name="Preview Customer")
    assert booked.status == 201, booked
    booking = booked.json()["id"]
    version = client.get("/v1/rules").json()["version"]

    resp = preview_file(client, staff_with_anna_break(daemon))
    assert resp.status == 200, resp
    preview = resp.json()
    assert preview["rules_version_before"] == version and preview["rules_version_after"] != version
    assert preview["days"] == 28 and preview["diagnostics"] == []
    assert preview["gained"] == []
    lost = {(s["staff"], s["service"], s["start"]) for s in preview["lost"]}
    assert ("anna", "haircut", local_iso(LATER, "13:00")) in lost
    assert ("anna", "haircut", local_iso(LATER, "12:45")) in lost, "a 30-minute cut at 12:45 runs into the break"
    assert ("anna", "haircut", local_iso(LATER, "14:00")) not in lost
    assert all(s["staff"] == "anna" for s in preview["lost"]), "ben's starts do not change"
    assert [b["id"] for b in preview["no_longer_allowed"]] == [booking]
    refused = preview["no_longer_allowed"][0]
    assert refused["customer"] == "Preview Customer" and refused["staff"] == "anna"
    assert refused["service"] == "haircut" and refused["start"] == local_iso(DAY, "13:00")
    assert refused["reason"]["code"] == "staff_break" and "break" in refused["reason"]["message"]
    assert preview["counts"] == {"gained": 0, "lost": len(preview["lost"]), "no_longer_allowed": 1}
    # Nothing was loaded.
    assert client.get("/v1/rules").json()["version"] == version
    assert client.get("/v1/bookings?conflicts=true").json()["bookings"] == []


def test_a_whole_candidate_directory_with_longer_hours_gains_starts(daemon, client):
    files = rule_files(daemon)
    files["shop.yaml"] = files["shop.yaml"].replace("hours: Mo-Su 09:00-18:00", "hours: Mo-Su 09:00-19:00")
    resp = client.post("/v1/rules/preview?days=3", json={"files": files})
    assert resp.status == 200, resp
    preview = resp.json()
    assert preview["days"] == 3 and preview["lost"] == [] and preview["no_longer_allowed"] == []
    gained = {(s["staff"], s["service"], s["start"]) for s in preview["gained"]}
    assert ("anna", "haircut", local_iso(future_day(1), "18:00")) in gained
    assert ("anna", "haircut", local_iso(future_day(1), "18:30")) in gained
    assert not any(s["staff"] == "ben" for s in preview["gained"]), "ben's own hours end at 16:00"
    assert all(s["start"][:10] <= future_day(2) for s in preview["gained"]), "three days from today"


def test_an_unchanged_candidate_changes_nothing(daemon, client):
    assert client.book(wall(DAY, "10:00")).status == 201
    preview = client.post("/v1/rules/preview", json={"files": rule_files(daemon)}).json()
    assert preview["rules_version_before"] == preview["rules_version_after"]
    assert preview["counts"] == {"gained": 0, "lost": 0, "no_longer_allowed": 0}
    same = preview_file(client, (daemon.rules / "staff.yaml").read_text())
    assert same.status == 200 and same.json()["counts"]["lost"] == 0, same


def test_a_broken_candidate_is_a_located_422_and_computes_nothing(daemon, client):
    broken = staff_with_anna_break(daemon).replace("Mo-Su 13:00-14:00", "Mo-Su 13:00-14:00:00", 1)
    problem = assert_problem(preview_file(client, broken), 422, "rules_invalid")
    located = [d for d in problem["diagnostics"] if d["severity"] == "error"]
    assert located and all(d["file"] == "staff.yaml" and d["line"] > 0 and d["column"] > 0 for d in located)
    assert located[0]["text"].startswith(f"staff.yaml:{located[0]['line']}:{located[0]['column']}: ")
    assert "gained" not in problem

    files = rule_files(daemon)
    files["services.yaml"] = "services:\n  - id: haircut\n    duration: [\n"
    problem = assert_problem(client.post("/v1/rules/preview", json={"files": files}), 422, "rules_invalid")
    assert any(d["file"] == "services.yaml" and d["line"] > 0 for d in problem["diagnostics"]), problem


@pytest.mark.parametrize("request_kind, path, payload, status, code", [
    ("yaml", "/v1/rules/preview?name=../staff.yaml", "staff: []\n", 422, "validation_failed"),
    ("yaml", "/v1/rules/preview?days=0", "# nothing\n", 422, "validation_failed"),
    ("yaml", "/v1/rules/preview?days=soon", "# nothing\n", 422, "validation_failed"),
    ("json", "/v1/rules/preview", {"files": {"../shop.yaml": "shop: {}\n"}}, 422, "validation_failed"),
    ("json", "/v1/rules/preview", {"files": {"shop.txt": "x"}}, 422, "validation_failed"),
    ("json", "/v1/rules/preview", {"files": {"holidays.ics": "BEGIN:VCALENDAR\n"}}, 422, "validation_failed"),
    ("json", "/v1/rules/preview?name=shop.yaml", {"files": {"shop.yaml": "x: 1\n"}}, 422, "validation_failed"),
    ("json", "/v1/rules/preview", {"file": {}}, (400, 422), None),
    ("raw-json", "/v1/rules/preview", "{not json", 400, "malformed_json"),
])
def test_bad_preview_requests_say_what_to_fix(client, request_kind, path, payload, status, code):
    if request_kind == "json":
        resp = client.post(path, json=payload)
    else:
        content_type = "application/json" if request_kind == "raw-json" else "application/yaml"
        resp = client.request("POST", path, body=payload, headers={"Content-Type": content_type})
    problem = assert_problem(resp, status, code)
    assert problem["detail"], problem


# MARK: - slotctl rules diff


def test_slotctl_rules_diff_prints_the_change_and_fails_when_bookings_are_refused(daemon, client, ctl, tmp_path):
    booking = client.book(wall(DAY, "13:00"), name="Diff Customer").json()["id"]
    candidate = tmp_path / "candidate"
    shutil.copytree(daemon.rules, candidate)
    (candidate / "staff.yaml").write_text(staff_with_anna_break(daemon))

    out = ctl(daemon, "rules", "diff", str(candidate), check=4)
    assert "Starts gained: 0, lost: " in out.stdout and "bookings no longer allowed: 1" in out.stdout
    assert booking in out.stdout and "Diff Customer" in out.stdout and "staff_break" in out.stdout
    assert "13:00" in out.stdout and "anna" in out.stdout
    assert "would no longer allow 1 booking" in out.stderr

    answer = json.loads(ctl(daemon, "rules", "diff", str(candidate), "--days", "7", "--json", check=4).stdout)
    assert answer["days"] == 7 and answer["no_longer_allowed"][0]["id"] == booking

    unchanged = ctl(daemon, "rules", "diff", str(daemon.rules))
    assert "No change" in unchanged.stdout

    (candidate / "staff.yaml").write_text("staff:\n  - id: anna\n    hours: Tue 10:00-16:00\n")
    broken = ctl(daemon, "rules", "diff", str(candidate), check=5)
    assert "staff.yaml:" in broken.stderr, broken.stderr

    missing = ctl(daemon, "rules", "diff", str(tmp_path / "nowhere"), check=64)
    assert "nowhere" in missing.stderr


def test_rules_diff_explains_itself(slotctl_binary):
    text = subprocess.run([slotctl_binary, "rules", "diff", "--help"], capture_output=True, text=True,
                          timeout=10).stdout
    assert "Example" in text and "slotctl rules diff" in text and "Exit status" in text
    root = subprocess.run([slotctl_binary, "--help"], capture_output=True, text=True, timeout=10).stdout
    assert "rules diff DIR" in root
