"""localstripe on 127.0.0.1 only, on a free port, with its own state file, recording every API request.

localstripe's own command line binds every interface and keeps its state in a fixed file in /tmp, so the payment
tests start it through this helper instead:

    python3 localstripe_server.py --state /tmp/x/localstripe.pickle

prints `PORT <n>` once it listens. What it adds for the tests:
- `GET /_config/requests`: every `/v1/...` request so far (method, path, `Idempotency-Key`, whether it carried a
  Bearer key, the form body), because localstripe ignores `Idempotency-Key` and the tests assert the keys on the
  wire themselves.
- PaymentIntents accept Stripe's `description` and `receipt_email` (localstripe refuses unknown parameters; they are
  kept in the recorded request body).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
import socket
import sys
import urllib.parse

from aiohttp import web

import localstripe.resources as resources
import localstripe.server as server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", required=True, help="where localstripe keeps its state (a pickle file)")
    args = parser.parse_args()

    def dump_to_disk(self) -> None:
        with open(args.state, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.dump_to_disk = dump_to_disk
    resources.Store.try_load_from_disk = lambda self: None

    original_init = resources.PaymentIntent.__init__

    def payment_intent_init(self, *a, description=None, receipt_email=None, **kw):
        original_init(self, *a, **kw)
        self.description = description
        self.receipt_email = receipt_email

    resources.PaymentIntent.__init__ = payment_intent_init

    recorded: list[dict] = []

    @web.middleware
    async def record(request, handler):
        if request.path.startswith("/v1/"):
            body = await request.read()
            recorded.append({
                "method": request.method,
                "path": request.path,
                "idempotency_key": request.headers.get("Idempotency-Key"),
                "bearer": request.headers.get("Authorization", "").startswith("Bearer sk_"),
                "form": dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)),
            })
        return await handler(request)

    async def requests(_request):
        return web.json_response(recorded)

    app = server.app
    app.middlewares.insert(0, record)
    app.router.add_get("/_config/requests", requests)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    async def serve() -> None:
        runner = web.AppRunner(app)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        print(f"PORT {port}", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
