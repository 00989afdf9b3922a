#!/usr/bin/env python3
"""The smallest slotd exec plugin: copy this folder, rename it, and fill in `notify`.

slotd starts this program, writes one JSON request per line to its stdin and reads one JSON reply per line from
its stdout (see Plugins/README.md for the protocol). Rules of thumb:
- stdout is for replies only: print diagnostics to stderr (slotd logs each line with the plugin's name);
- answer every request with the same `id`, a `result` or an `error` ("temporary" is retried, "permanent" is not);
- exit when stdin ends (slotd is shutting down or restarting you).
"""

import json
import sys

PROTOCOL = 1


class PluginError(Exception):
    """A failure to report to slotd: `temporary` (retry later) or `permanent` (give up on this job)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def describe(params: dict) -> dict:
    # slotd says which protocol it speaks; answer with ours and what we can do.
    return {"protocol": PROTOCOL, "name": "template", "capabilities": ["notify"]}


def notify(params: dict) -> dict:
    # params: id (unique per message: deduplicate on it), event, recipient {name, email?, phone?},
    #         subject, body, data (the booking's fields)
    recipient = params.get("recipient", {})
    print(f"would send {params.get('event')} to {recipient.get('name')}: {params.get('subject')}",
          file=sys.stderr, flush=True)
    return {}


METHODS = {"describe": describe, "notify": notify}


def main() -> None:
    for line in sys.stdin:  # ends when slotd closes our stdin
        if not line.strip():
            continue
        request = json.loads(line)
        reply = {"id": request.get("id")}
        try:
            method = METHODS.get(request.get("method"))
            if method is None:
                raise PluginError("permanent", f"unknown method {request.get('method')!r}")
            reply["result"] = method(request.get("params") or {})
        except PluginError as error:
            reply["error"] = {"code": error.code, "message": error.message}
        except Exception as error:  # a bug here should not kill the plugin: report it and carry on
            reply["error"] = {"code": "temporary", "message": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()  # a reply sitting in a buffer is a timeout in slotd


if __name__ == "__main__":
    main()
