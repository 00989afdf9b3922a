"""The shipped exec plugins, driven over stdin/stdout exactly as slotd drives them (JSON lines).

The SMS plugin talks to a fake Twilio-shaped HTTP server on 127.0.0.1 started here; the test checks what arrived
(basic auth, form fields, path) and how HTTP answers map to temporary/permanent errors.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMS = ROOT / "Plugins" / "sms-twilio" / "sms_twilio.py"
TEMPLATE = ROOT / "Plugins" / "template" / "plugin.py"


class Plugin:
    """A plugin process with the clean environment slotd gives it."""

    def __init__(self, path: Path, env: dict[str, str] | None = None):
        environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "SLOTD_PLUGIN_NAME": "test",
                       "SLOTD_PLUGIN_PROTOCOL": "1", **(env or {})}
        self.process = subprocess.Popen([str(path)], cwd=path.parent, env=environment, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.next_id = 1

    def call(self, method: str, params: dict) -> dict:
        request = {"id": self.next_id, "method": method, "params": params}
        self.next_id += 1
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line.endswith("\n"), f"no reply line to {method}: {line!r}"
        reply = json.loads(line)
        assert reply["id"] == request["id"]
        return reply

    def close(self) -> str:
        """Closes stdin as slotd does at shutdown; the plugin must exit 0 by itself. Returns its stderr."""
        assert self.process.stdin
        self.process.stdin.close()
        assert self.process.wait(timeout=5) == 0
        assert self.process.stderr
        return self.process.stderr.read()


def message(phone: str | None = "+4915112345678", body: str = "Your haircut is booked for Tue 10:00.") -> dict:
    recipient = {"name": "Ada"}
    if phone is not None:
        recipient["phone"] = phone
    return {"id": "17-sms", "event": "booking.created", "recipient": recipient, "subject": "Booked", "body": body,
            "data": {"booking": "b1"}}


# MARK: - The fake gateway


class Gateway:
    """A Twilio-shaped `Messages.json` endpoint that records requests and answers with a chosen status."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 201
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                gateway.requests.append({"path": self.path, "headers": dict(self.headers),
                                         "form": urllib.parse.parse_qs(body)})
                answer = (json.dumps({"sid": "SM123", "status": "queued"}) if gateway.status < 300
                          else json.dumps({"code": 21211, "message": "The 'To' number is not valid."}))
                data = answer.encode()
                self.send_response(gateway.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    server = Gateway()
    yield server
    server.stop()


@pytest.fixture
def sms(gateway, tmp_path):
    token = tmp_path / "twilio.token"
    token.write_text("tok3n\n")
    plugin = Plugin(SMS, {"TWILIO_ACCOUNT_SID": "AC42", "TWILIO_AUTH_TOKEN_FILE": str(token),
                          "TWILIO_FROM": "+4930000000", "TWILIO_BASE_URL": gateway.url})
    yield plugin
    if plugin.process.poll() is None:
        plugin.process.kill()


# MARK: - SMS


def test_sms_describe_announces_notify(sms):
    reply = sms.call("describe", {"protocol": 1})
    assert reply["result"] == {"protocol": 1, "name": "sms-twilio", "capabilities": ["notify"]}
    sms.close()


def test_sms_posts_the_message_with_basic_auth_and_form_fields(sms, gateway):
    sms.call("describe", {"protocol": 1})
    reply = sms.call("notify", message(body="Grüße: Tue 10:00 & bring cash"))
    assert reply == {"id": 2, "result": {"reference": "SM123"}}
    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request["path"] == "/2010-04-01/Accounts/AC42/Messages.json"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"AC42:tok3n").decode()
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {"To": ["+4915112345678"], "From": ["+4930000000"],
                               "Body": ["Grüße: Tue 10:00 & bring cash"]}
    stderr = sms.close()
    assert "sent booking.created to +4915112345678: SM123" in stderr
    # The secret never reaches the log.
    assert "tok3n" not in stderr


def test_sms_4xx_is_permanent_and_5xx_is_temporary(sms, gateway):
    gateway.status = 400
    reply = sms.call("notify", message())
    assert reply["error"]["code"] == "permanent"
    assert "HTTP 400" in reply["error"]["message"] and "not valid" in reply["error"]["message"]
    gateway.status = 503
    assert sms.call("notify", message())["error"]["code"] == "temporary"
    gateway.status = 429
    assert sms.call("notify", message())["error"]["code"] == "temporary"
    # Still alive and answering after errors.
    gateway.status = 201
    assert sms.call("notify", message())["result"] == {"reference": "SM123"}
    sms.close()


def test_sms_without_a_phone_is_permanent_and_sends_nothing(sms, gateway):
    reply = sms.call("notify", message(phone=None))
    assert reply["error"]["code"] == "permanent"
    assert "Ada has no phone number" in reply["error"]["message"]
    assert gateway.requests == []
    sms.close()


def test_sms_gateway_down_is_temporary(tmp_path):
    token = tmp_path / "token"
    token.write_text("t")
    # A port nothing listens on: bind one and close it.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    plugin = Plugin(SMS, {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN_FILE": str(token), "TWILIO_FROM": "+1",
                          "TWILIO_BASE_URL": f"http://127.0.0.1:{port}", "TWILIO_TIMEOUT": "2"})
    reply = plugin.call("notify", message())
    assert reply["error"]["code"] == "temporary"
    assert "unreachable" in reply["error"]["message"]
    plugin.close()


def test_sms_missing_settings_are_a_clear_permanent_error(tmp_path):
    plugin = Plugin(SMS, {"TWILIO_ACCOUNT_SID": "AC1"})
    # describe works without settings, so slotd can start it and report the real problem on the first message.
    assert plugin.call("describe", {"protocol": 1})["result"]["capabilities"] == ["notify"]
    reply = plugin.call("notify", message())
    assert reply["error"]["code"] == "permanent"
    assert "TWILIO_AUTH_TOKEN_FILE, TWILIO_FROM" in reply["error"]["message"]
    plugin.close()


# MARK: - Template


def test_template_answers_describe_and_notify_and_logs_to_stderr():
    plugin = Plugin(TEMPLATE)
    assert plugin.call("describe", {"protocol": 1})["result"] == {
        "protocol": 1, "name": "template", "capabilities": ["notify"]}
    assert plugin.call("notify", message())["result"] == {}
    unknown = plugin.call("refund", {})
    assert unknown["error"]["code"] == "permanent"
    stderr = plugin.close()
    assert "would send booking.created to Ada: Booked" in stderr
