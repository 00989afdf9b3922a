"""Access control: the socket file's mode decides who may connect, the peer's uid (SO_PEERCRED) decides the role."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import future_day, wall

NOBODY = 65534

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to run a client as another uid")

# A client run as `nobody`: prints {"status", "body"} or {"error": errno name}.
AS_OTHER_UID = r"""
import errno, http.client, json, socket, sys
path, method, target = sys.argv[1:4]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
try:
    conn = C("localhost", timeout=10)
    conn.request(method, target, body=body, headers={"Content-Type": "application/json"} if body else {})
    resp = conn.getresponse()
    print(json.dumps({"status": resp.status, "body": resp.read().decode("utf-8", "replace"),
                      "type": resp.getheader("Content-Type")}))
except OSError as error:
    print(json.dumps({"error": errno.errorcode.get(error.errno, str(error))}))
"""


def as_nobody(daemon, method: str, target: str, body: dict | None = None) -> dict:
    args = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
            sys.executable, "-c", AS_OTHER_UID, daemon.socket, method, target]
    if body is not None:
        args.append(json.dumps(body))
    out = subprocess.run(args, capture_output=True, text=True, timeout=30, cwd="/")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_default_socket_mode_keeps_other_users_out(daemon):
    mode = os.stat(daemon.socket).st_mode & 0o777
    assert mode & 0o002 == 0, oct(mode)  # not world-writable, so other users cannot connect
    assert as_nobody(daemon, "GET", "/v1/health") == {"error": "EACCES"}
    assert daemon.client.get("/v1/health").json()["role"] == "admin"


def test_a_uid_with_the_read_role_may_read_but_not_book(daemons):
    config = f'socket:\n  mode: "0666"\nroles:\n  "{os.getuid()}": admin\n  "{NOBODY}": read\n'
    daemon = daemons(config=config)
    assert os.stat(daemon.socket).st_mode & 0o777 == 0o666
    health = as_nobody(daemon, "GET", "/v1/health")
    assert health["status"] == 200, health
    assert json.loads(health["body"])["role"] == "read"
    assert as_nobody(daemon, "GET", "/v1/services")["status"] == 200
    body = {"service": "haircut", "staff": "anna", "start": wall(future_day(3), "10:00"), "customer": {"name": "N"}}
    denied = as_nobody(daemon, "POST", "/v1/bookings", body)
    assert denied["status"] == 403, denied
    assert denied["type"].startswith("application/problem+json")
    problem = json.loads(denied["body"])
    assert problem["code"] == "forbidden"
    assert "booking" in problem["detail"] or "staff" in problem["detail"], problem
    assert as_nobody(daemon, "POST", "/v1/rules/reload")["status"] == 403
    # The rules preview needs what the rules check needs: admin.
    assert as_nobody(daemon, "POST", "/v1/rules/preview", {"files": {"shop.yaml": "x: 1\n"}})["status"] == 403
    assert daemon.booking_count() == 0
    # the owner still books
    assert daemon.client.post("/v1/bookings", json=body).status == 201


def test_a_uid_without_a_role_gets_403_everywhere_but_ping(daemons):
    config = f'socket:\n  mode: "0666"\nroles:\n  "{os.getuid()}": admin\n'
    daemon = daemons(config=config)
    assert as_nobody(daemon, "GET", "/_ping")["status"] == 200
    for method, target in (("GET", "/v1/health"), ("GET", "/v1/bookings"), ("GET", "/v1/events?follow=false"),
                           ("POST", "/v1/bookings/bk_x/cancel")):
        answer = as_nobody(daemon, method, target)
        assert answer["status"] == 403, (target, answer)
        assert json.loads(answer["body"])["code"] == "forbidden"
    assert daemon.client.get("/v1/health").status == 200
