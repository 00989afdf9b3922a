"""Helpers for the admin page's tests (issue 13): a daemon with `web.users`, and a logged-in HTTP client.

The admin routes (`/admin/api/…`) belong to the web listener's page, not to the socket's or the public API's
OpenAPI documents, so this client checks answers itself (status, content type, problem+json shape).
"""

from __future__ import annotations

import http.client
import json as jsonlib
import os
import subprocess
import uuid
from pathlib import Path

from conftest import Response, wait_for
from test_web import EventStream, free_port

ITERATIONS = "100000"  # the least slotd accepts: keeps each login's PBKDF2 short in tests


def password_hash(slotctl: str, password: str) -> str:
    done = subprocess.run([slotctl, "passwd", "--iterations", ITERATIONS], input=password + "\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def admin_config(port: int, users: list[tuple[str, str, str, str | None]], socket_role: str = "admin",
                 public_url: str | None = None, extra: str = "") -> str:
    """slotd.yaml with a web listener on `port` and `users` as (name, role, hash, staff)."""
    lines = [f'roles:\n  "{os.getuid()}": {socket_role}', "web:", f"  listen: 127.0.0.1:{port}",
             f"  public_url: {public_url or f'http://127.0.0.1:{port}/'}", "  secret_file: secret/web.secret",
             "  locale: en", "  users:"]
    for name, role, hashed, staff in users:
        lines.append(f'    - {{ name: {name}, role: {role}, password_hash: "{hashed}"'
                     + (f", staff: {staff}" if staff else "") + " }")
    return "\n".join(lines) + "\n" + extra


def with_chairs(rules: Path) -> None:
    """Two barber chairs, which haircuts and beard trims need: the day view's chair occupancy has something to show."""
    shop = rules / "shop.yaml"
    shop.write_text(shop.read_text() + "\nresources:\n  - { id: chair, name: Barber chair, count: 2 }\n")
    services = rules / "services.yaml"
    text = services.read_text()
    for service in ("haircut", "beard_trim"):
        text = text.replace(f"  - id: {service}\n", f"  - id: {service}\n    resources: [chair]\n")
    assert text.count("resources: [chair]") == 2, text
    services.write_text(text)


class AdminClient:
    """HTTP to the web listener with the admin cookie and CSRF token, like the page's own fetches."""

    def __init__(self, port: int, timeout: float = 10.0):
        self.port = port
        self.timeout = timeout
        self.cookie: str | None = None
        self.csrf: str | None = None
        self.origin = f"http://127.0.0.1:{port}"

    def request(self, method: str, path: str, json=None, headers: dict[str, str] | None = None,
                origin: str | None = "default", csrf: str | None = "default") -> Response:
        sent = {"Accept": "application/json", **(headers or {})}
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        if self.cookie:
            sent["Cookie"] = self.cookie
        if method != "GET":
            origin = self.origin if origin == "default" else origin
            if origin:
                sent["Origin"] = origin
            csrf = self.csrf if csrf == "default" else csrf
            if csrf:
                sent["X-CSRF-Token"] = csrf
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=sent)
            resp = conn.getresponse()
            response = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()
        if response.status >= 400:
            assert response.content_type == "application/problem+json", response
            problem = response.json()
            assert problem["status"] == response.status and problem["code"] and problem["detail"], problem
        elif response.body:
            assert response.content_type.startswith(("application/json", "text/html")), response
        return response

    def login(self, name: str, password: str, **kw) -> Response:
        resp = self.request("POST", "/admin/api/login", json={"name": name, "password": password}, **kw)
        if resp.status == 200:
            self.cookie = resp.headers["set-cookie"].split(";")[0]
            self.csrf = resp.json()["csrf_token"]
        return resp

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json=None, **kw) -> Response:
        return self.request("POST", path, json=json, **kw)

    def book(self, start: str, staff: str = "anna", service: str = "haircut", name: str = "Walk In", **kw) -> Response:
        return self.post("/admin/api/bookings", json={"service": service, "staff": staff, "start": start,
                                                       "customer": {"name": name, "phone": "+49 151 1234567"}},
                         headers={"Idempotency-Key": uuid.uuid4().hex}, **kw)


def start_admin(daemons, slotctl: str, users: list[tuple[str, str, str, str | None]], **kw):
    """A daemon with the admin page; `users` as (name, role, password, staff). Returns (daemon, port)."""
    port = free_port()
    hashed = [(name, role, password_hash(slotctl, password), staff) for name, role, password, staff in users]
    daemon = daemons(config=admin_config(port, hashed, **kw))
    probe = AdminClient(port)

    def listening():
        try:
            return probe.get("/admin/").status == 200
        except OSError:
            return False

    wait_for(listening, timeout=15, what="the admin page")
    return daemon, port


class AdminEvents(EventStream):
    """The admin page's live feed (Server-Sent Events) with the session's cookie, read with each event's `id`."""

    def __init__(self, client: AdminClient, path: str, last_event_id: str | None = None, timeout: float = 10.0):
        headers = {"Cookie": client.cookie} if client.cookie else {}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        super().__init__(client.port, path, timeout, headers)

    def next_line(self, skip_heartbeats: bool = True) -> tuple[str | None, dict]:
        """The next event line as (its SSE id, the line)."""
        while True:
            _, line = self.next_event()
            if not (skip_heartbeats and line.get("type") == "heartbeat"):
                return self.last_id, line
