#!/usr/bin/env python3
"""slotd exec plugin: SMS through a Twilio-shaped HTTP API (Python 3 standard library only).

Environment (set under `env:` in slotd.yaml):
  TWILIO_ACCOUNT_SID       the account sid (user name of HTTP basic auth, part of the URL)       required
  TWILIO_AUTH_TOKEN_FILE   a file holding the auth token (the basic-auth password)                required
  TWILIO_FROM              the sending number, E.164 (+4930123456) or a messaging service's sender required
  TWILIO_BASE_URL          default https://api.twilio.com (point it at a test double)
  TWILIO_TIMEOUT           seconds per HTTP request, default 8 (keep it below slotd's `timeout`)

For each `notify` it POSTs {base}/2010-04-01/Accounts/{sid}/Messages.json with form fields To, From, Body.
A 4xx answer is permanent (bad number, bad credentials), except 408 and 429; a 5xx or a network error is
temporary. A recipient without a phone number is permanent.
"""

import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

PROTOCOL = 1


class PluginError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Settings:
    def __init__(self, environ):
        missing = [name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN_FILE", "TWILIO_FROM")
                   if not environ.get(name)]
        if missing:
            raise PluginError("permanent", "missing environment: " + ", ".join(missing)
                              + " — set them under `env:` of this provider in slotd.yaml")
        self.sid = environ["TWILIO_ACCOUNT_SID"]
        self.sender = environ["TWILIO_FROM"]
        self.base_url = environ.get("TWILIO_BASE_URL", "https://api.twilio.com").rstrip("/")
        try:
            self.timeout = float(environ.get("TWILIO_TIMEOUT", "8"))
        except ValueError:
            raise PluginError("permanent", "TWILIO_TIMEOUT must be a number of seconds")
        path = environ["TWILIO_AUTH_TOKEN_FILE"]
        try:
            with open(path, encoding="utf-8") as handle:
                self.token = handle.read().strip()
        except OSError as error:
            raise PluginError("permanent", f"cannot read TWILIO_AUTH_TOKEN_FILE {path}: {error.strerror}")
        if not self.token:
            raise PluginError("permanent", f"TWILIO_AUTH_TOKEN_FILE {path} is empty")


SETTINGS = None


def settings() -> Settings:
    global SETTINGS
    if SETTINGS is None:
        SETTINGS = Settings(os.environ)
    return SETTINGS


def describe(params: dict) -> dict:
    return {"protocol": PROTOCOL, "name": "sms-twilio", "capabilities": ["notify"]}


def notify(params: dict) -> dict:
    recipient = params.get("recipient") or {}
    phone = (recipient.get("phone") or "").strip()
    if not phone:
        raise PluginError("permanent", f"{recipient.get('name') or 'the customer'} has no phone number, so no SMS "
                                       f"for {params.get('event')} — add a phone number or route this event elsewhere")
    config = settings()
    body = params.get("body") or params.get("subject") or ""
    url = f"{config.base_url}/2010-04-01/Accounts/{urllib.parse.quote(config.sid)}/Messages.json"
    form = urllib.parse.urlencode({"To": phone, "From": config.sender, "Body": body}).encode()
    credentials = base64.b64encode(f"{config.sid}:{config.token}".encode()).decode()
    request = urllib.request.Request(url, data=form, method="POST", headers={
        "Authorization": f"Basic {credentials}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        # Twilio ignores it; a gateway that deduplicates can use it (the same for every retry of a message).
        "I-Twilio-Idempotency-Token": str(params.get("id", "")),
    })
    try:
        with urllib.request.urlopen(request, timeout=config.timeout) as response:
            answer = json.loads(response.read() or b"{}")
            log(f"sent {params.get('event')} to {phone}: {answer.get('sid', '?')}")
            return {"reference": answer.get("sid")}
    except urllib.error.HTTPError as error:
        text = error.read()[:300].decode("utf-8", "replace")
        code = "temporary" if error.code >= 500 or error.code in (408, 429) else "permanent"
        raise PluginError(code, f"SMS gateway answered HTTP {error.code}: {text}")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PluginError("temporary", f"SMS gateway {config.base_url} unreachable: {reason}")


METHODS = {"describe": describe, "notify": notify}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            log(f"ignoring a line that is not JSON: {line[:200]!r}")
            continue
        reply = {"id": request.get("id")}
        try:
            method = METHODS.get(request.get("method"))
            if method is None:
                raise PluginError("permanent", f"unknown method {request.get('method')!r}")
            reply["result"] = method(request.get("params") or {})
        except PluginError as error:
            reply["error"] = {"code": error.code, "message": error.message}
        except Exception as error:
            reply["error"] = {"code": "temporary", "message": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
