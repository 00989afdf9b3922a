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

from conftest import wait_for

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


# MARK: - Through the real daemon: book → email and SMS arrive


class MailSink:
    """aiosmtpd on 127.0.0.1 that keeps every delivered message (and who logged in, over which transport).

    `tls="starttls"` offers STARTTLS and requires it plus a login; `tls="implicit"` is TLS from the first byte
    (smtps); both with the certificate in `cert_dir`.
    """

    def __init__(self, tls: str | None = None, cert_dir: Path | None = None, login: tuple[str, str] | None = None):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult
        import socket
        import ssl

        self.messages: list[dict] = []
        self.logins: list[str] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.messages.append({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                                      "data": envelope.content, "tls": session.ssl is not None})
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = login is not None and (auth_data.login.decode(), auth_data.password.decode()) == login
            if ok:
                sink.logins.append(auth_data.login.decode())
            return AuthResult(success=ok)

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        kwargs: dict = {}
        server_kwargs: dict = {}
        if tls:
            assert cert_dir is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert_dir / "cert.pem", cert_dir / "key.pem")
            if tls == "implicit":
                kwargs["ssl_context"] = context
                # aiosmtpd does not count implicit TLS as TLS for AUTH (it looks for STARTTLS); it is TLS here.
                server_kwargs["auth_require_tls"] = False
            else:
                server_kwargs = {"tls_context": context, "require_starttls": True}
        if login is not None:
            server_kwargs.update({"authenticator": authenticator, "auth_required": True})
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **server_kwargs, **kwargs)
        self.controller.start()

    def stop(self):
        self.controller.stop()


@pytest.fixture
def mail_sink():
    sink = MailSink()
    yield sink
    sink.stop()


def providers_config(directory: Path, smtp_port: int, gateway_url: str) -> str:
    token = directory / "twilio.token"
    token.write_text("tok3n\n")
    return f"""
providers:
  mail:
    type: smtp
    url: "smtp://127.0.0.1:{smtp_port}"
    from: "Salon Kiez <shop@salon.example>"
    reply_to: desk@salon.example
    timeout: 10s
  sms:
    type: exec
    command: [{SMS}]
    timeout: 10s
    env:
      TWILIO_ACCOUNT_SID: AC42
      TWILIO_AUTH_TOKEN_FILE: {token}
      TWILIO_FROM: "+4930000000"
      TWILIO_BASE_URL: {gateway_url}
outbox:
  workers: 2
  initial_backoff: 1s
  max_backoff: 2s
notifications:
  language: en
  routes:
    - on: [booking.created]
      to: [mail, sms]
"""


def test_a_booking_sends_an_email_and_an_sms_through_the_daemon(daemons, mail_sink, gateway):
    import email
    import email.policy
    from conftest import future_day, wall

    d = daemons(start=False)
    d.config = d.dir / "slotd.yaml"
    d.config.write_text(providers_config(d.dir, mail_sink.port, gateway.url))
    d.start()
    # The plugin is started and shaken hands with when slotd starts, so the log tells at once whether it works.
    wait_for(lambda: "plugin 'sms' started" in d.log() and "offers notify" in d.log(), 10, "the plugin's handshake")
    day = future_day(3)
    resp = d.client.book(wall(day, "10:00"), service="haircut", staff="anna", name="Zoë Brandt",
                         customer={"name": "Zoë Brandt", "email": "zoe@example.org", "phone": "+4915112345678"})
    assert resp.status == 201, resp
    booking = resp.json()["id"]

    wait_for(lambda: mail_sink.messages and gateway.requests, 30, "the email and the SMS")
    mail = mail_sink.messages[0]
    assert mail["from"] == "shop@salon.example"
    assert mail["to"] == ["zoe@example.org"]
    parsed = email.message_from_bytes(mail["data"], policy=email.policy.default)
    assert parsed["To"] == "Zoë Brandt <zoe@example.org>"
    assert parsed["Reply-To"] == "desk@salon.example"
    assert parsed["X-Slotd-Event"] == "booking.created"
    assert parsed["Message-ID"].startswith("<slotd.") and parsed["Message-ID"].endswith("@salon.example>")
    assert parsed["Subject"], parsed
    body = parsed.get_content()
    assert "Zoë Brandt" in body or "Haircut" in body or booking in body, body

    sms = gateway.requests[0]
    assert sms["path"] == "/2010-04-01/Accounts/AC42/Messages.json"
    assert sms["headers"]["Authorization"] == "Basic " + base64.b64encode(b"AC42:tok3n").decode()
    assert sms["form"]["To"] == ["+4915112345678"]
    assert sms["form"]["From"] == ["+4930000000"]
    assert sms["form"]["Body"][0].strip()

    # The plugin's stderr reaches slotd's log with its name; SIGTERM stops it cleanly (slotd exits 0).
    wait_for(lambda: "sent booking.created to +4915112345678" in d.log(), 10, "the plugin's stderr in the log")
    d.stop_checked()
    assert "plugin 'sms' stopped (status 0)" in d.log()
    assert "tok3n" not in d.log()


def test_a_plugin_that_cannot_start_does_not_stop_slotd_and_its_jobs_wait(daemons, mail_sink, gateway, tmp_path):
    from conftest import future_day, wall

    broken = tmp_path / "broken.py"
    broken.write_text("#!/usr/bin/env python3\nimport sys\nprint('cannot reach the gateway', file=sys.stderr)\n"
                      "sys.exit(1)\n")
    broken.chmod(0o755)
    d = daemons(start=False)
    d.config = d.dir / "slotd.yaml"
    d.config.write_text(providers_config(d.dir, mail_sink.port, gateway.url).replace(str(SMS), str(broken)))
    d.start()
    assert d.client.get("/v1/health").status == 200
    wait_for(lambda: "plugin 'sms' failed its handshake" in d.log(), 10, "the failed start in the log")
    resp = d.client.book(wall(future_day(3), "11:00"), service="haircut", staff="anna", name="Ada",
                         customer={"name": "Ada", "email": "ada@example.org", "phone": "+4915112345679"})
    assert resp.status == 201, resp
    # The email still goes; the SMS job is retried, not lost, and the log says why.
    wait_for(lambda: mail_sink.messages, 30, "the email")

    def sms_job():
        jobs = d.client.get("/v1/outbox?limit=100").json()["jobs"]
        return next((j for j in jobs if j["kind"].endswith(".sms") and j.get("last_error")), None)

    job = wait_for(sms_job, 30, "the SMS job to record its failure")
    assert job["state"] in ("pending", "failed")
    assert "sms" in job["last_error"]
    wait_for(lambda: "cannot reach the gateway" in d.log(), 10, "the plugin's stderr in the log")
    d.stop_checked()


def test_an_exec_command_that_does_not_exist_is_a_configuration_error(daemons, mail_sink, gateway):
    d = daemons(start=False)
    d.config = d.dir / "slotd.yaml"
    d.config.write_text(providers_config(d.dir, mail_sink.port, gateway.url).replace(str(SMS), "./no-such-plugin"))
    result = subprocess.run(d.args, capture_output=True, text=True, timeout=30)
    assert result.returncode == 78, result
    assert "slotd.yaml:" in result.stderr
    assert "not an executable file" in result.stderr


def self_signed(directory: Path) -> Path:
    """A certificate for 127.0.0.1 (its own CA), made with openssl."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem"),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return directory / "cert.pem"


def mail_only_config(directory: Path, mail: str) -> str:
    return f"""
providers:
  mail:
    type: smtp
{mail}
outbox:
  initial_backoff: 1s
  max_backoff: 2s
notifications:
  routes:
    - on: [booking.created]
      to: [mail]
"""


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # the implicit-TLS quirk above
def test_email_over_tls_with_login_trusting_a_configured_ca(daemons, tmp_path, mode):
    from conftest import future_day, wall

    cert = self_signed(tmp_path)
    sink = MailSink(tls=mode, cert_dir=tmp_path, login=("shop", "pa55word"))
    try:
        d = daemons(start=False)
        (d.dir / "mail.password").write_text("pa55word\n")
        scheme = "smtp" if mode == "starttls" else "smtps"
        mail = f"""    url: "{scheme}://127.0.0.1:{sink.port}"
    from: "shop@salon.example"
    username: shop
    password_file: mail.password
    ca_file: {cert}
    timeout: 10s"""
        if mode == "starttls":
            mail += "\n    starttls: true"
        d.config = d.dir / "slotd.yaml"
        d.config.write_text(mail_only_config(d.dir, mail))
        d.start()
        resp = d.client.book(wall(future_day(3), "12:00"), service="haircut", staff="anna", name="Ada",
                             customer={"name": "Ada", "email": "ada@example.org"})
        assert resp.status == 201, resp
        try:
            wait_for(lambda: sink.messages, 30, f"the email over {mode}")
        except AssertionError:
            raise AssertionError(f"no email over {mode}: {d.client.get('/v1/outbox?limit=10').json()}")
        # After STARTTLS the session says so; an smtps port speaks nothing but TLS (aiosmtpd leaves `ssl` unset).
        if mode == "starttls":
            assert sink.messages[0]["tls"] is True
        assert sink.messages[0]["to"] == ["ada@example.org"]
        assert sink.logins == ["shop"]
        d.stop_checked()
        assert "pa55word" not in d.log()
    finally:
        sink.stop()


def test_email_to_a_server_with_an_untrusted_certificate_is_not_sent(daemons, tmp_path):
    from conftest import future_day, wall

    self_signed(tmp_path)
    sink = MailSink(tls="implicit", cert_dir=tmp_path)
    try:
        d = daemons(start=False)
        d.config = d.dir / "slotd.yaml"
        # No ca_file: the self-signed certificate is not trusted, so nothing may be sent.
        d.config.write_text(mail_only_config(d.dir, f"""    url: "smtps://127.0.0.1:{sink.port}"
    from: "shop@salon.example"
    timeout: 5s"""))
        d.start()
        resp = d.client.book(wall(future_day(3), "12:00"), service="haircut", staff="anna", name="Ada",
                             customer={"name": "Ada", "email": "ada@example.org"})
        assert resp.status == 201, resp

        def failed_attempt():
            jobs = d.client.get("/v1/outbox?limit=100").json()["jobs"]
            return next((j for j in jobs if j["kind"].endswith(".mail") and j.get("last_error")), None)

        job = wait_for(failed_attempt, 30, "the mail job to record its failure")
        assert "certificate" in job["last_error"].lower() or "ssl" in job["last_error"].lower(), job
        assert sink.messages == []
        d.stop_checked()
    finally:
        sink.stop()
