"""Rule warnings reach the user everywhere errors do, and the rules version depends on the files only (issue 14).

A rule set with only warnings loads and serves; `slotctl rules check`, the daemon's log, `GET /v1/rules` and
`POST /v1/rules/check` all show the warnings. However the rules directory is typed, slotctl and the daemon agree
on the version hash.
"""

from __future__ import annotations

import json
import subprocess

from conftest import wait_for

# Saturday closes at 13:00 in this shop, so the Tu-Sa lunch lies outside the hours on Saturdays.
SHOP_WITH_SHORT_SATURDAY = """shop:
  name: Test Cuts
  timezone: Europe/Berlin
  currency: EUR
  slot_step: 15m
  min_notice: 1h
  horizon: 90d

hours: Mo-Fr 09:00-18:00; Sa 09:00-13:00; Su 10:00-16:00
breaks:
  - Tu-Sa 13:00-13:45
"""


def slotctl(slotctl_binary: str, *args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([slotctl_binary, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_rules_version_is_the_same_however_the_directory_is_typed(daemons, slotctl_binary):
    daemon = daemons(start=False)
    versions = {}
    for typed in ("rules", "./rules", "rules/", str(daemon.rules), str(daemon.rules) + "/"):
        result = slotctl(slotctl_binary, "rules", "check", "--json", typed, cwd=daemon.dir)
        assert result.returncode == 0, result.stderr
        versions[typed] = json.loads(result.stdout)["version"]
    assert len(set(versions.values())) == 1, versions
    daemon.start()
    assert daemon.client.get("/v1/rules").json()["version"] == versions["rules"]
    assert daemon.client.get("/v1/health").json()["rules_version"] == versions["rules"]


def test_warnings_do_not_stop_the_rules_and_reach_every_surface(daemons, slotctl_binary):
    daemon = daemons(start=False)
    (daemon.rules / "shop.yaml").write_text(SHOP_WITH_SHORT_SATURDAY)

    checked = slotctl(slotctl_binary, "rules", "check", "rules", cwd=daemon.dir)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("Rules: ok"), checked.stdout
    assert "rules/shop.yaml:11:5: warning: break 'Tu-Sa 13:00-13:45' lies outside the shop's hours on Sa" \
        in checked.stderr, checked.stderr
    assert "write 'Tu-Sa 13:00-13:45; Sa off'" in checked.stderr

    daemon.start()
    summary = daemon.client.get("/v1/rules").json()
    [warning] = [w for w in summary["warnings"] if "lies outside" in w["message"]]
    assert warning["severity"] == "warning"
    assert (warning["file"], warning["line"], warning["column"]) == ("shop.yaml", 11, 5)
    assert "Tu-Sa 13:00-13:45; Sa off" in warning["fix"]
    wait_for(lambda: "rule warning" in daemon.log() and "lies outside the shop's hours" in daemon.log(),
             what="the warning in the daemon's log")

    verdict = daemon.client.request(
        "POST", "/v1/rules/check?name=shop.yaml", body=SHOP_WITH_SHORT_SATURDAY.replace("13:45", "13:50"),
        headers={"Content-Type": "application/yaml"})
    assert verdict.status == 200, verdict
    body = verdict.json()
    assert body["ok"] is True
    assert [d["severity"] for d in body["diagnostics"] if "lies outside" in d["message"]] == ["warning"]


def test_a_yaml_syntax_error_is_reported_alone(daemons, slotctl_binary):
    daemon = daemons(start=False)
    services = daemon.rules / "services.yaml"
    lines = services.read_text().splitlines()
    # A tab before the first item's second key: the one mistake, in the file other files depend on.
    index = next(i for i, line in enumerate(lines) if line.startswith("    ") and ":" in line)
    lines[index] = "\t" + lines[index].lstrip()
    services.write_text("\n".join(lines) + "\n")
    checked = slotctl(slotctl_binary, "rules", "check", "rules", cwd=daemon.dir)
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        f"rules/services.yaml:{index + 1}:1: error: a tab indents this line; YAML indents with spaces only — "
        "replace the tab with spaces (set your editor to insert spaces for Tab)"], checked.stdout
