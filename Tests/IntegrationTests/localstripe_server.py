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
- The browser flow of real Stripe.js, which localstripe's fake Stripe.js lacks: `stripe.confirmCardPayment(secret,
  {payment_method: {card: cardElement}})` makes a PaymentMethod from the card element and confirms the PaymentIntent
  with the publishable key and the client secret (`POST /v1/payment_intents/{id}/confirm` with `key=pk_…`), then
  runs localstripe's own 3-D Secure modal when the card asks for it. The fake card element's five inputs get
  `aria-label`s (real Stripe's iframe has its own), so the booking page's accessibility check covers the page.
- SetupIntents (`policies.card_on_file`): localstripe's own `confirmCardSetup` with the card element works as real
  Stripe.js does, and so do `POST /v1/customers`, `POST /v1/setup_intents` and an off-session
  `POST /v1/payment_intents` with `customer`, `payment_method`, `off_session=true`, `confirm=true` (a declining card
  such as 4000 0000 0000 0341 answers 402 `card_declined`, as Stripe does). What it lacks: a SetupIntent that
  succeeds sends no `setup_intent.succeeded` webhook and leaves the card unattached to the SetupIntent's customer;
  real Stripe does both, so the helper does both when the card is attached (`SetupIntent._attach_pm`; the 3-D Secure
  path's second confirm is not covered).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import pickle
import re
import socket
import sys
import urllib.parse

from aiohttp import web

import localstripe.resources as resources
import localstripe.server as server
from localstripe.webhooks import schedule_webhook


# The confirmCardPayment of real Stripe.js for a card element: PaymentMethod + confirm, then 3-D Secure if asked.
CONFIRM_WITH_CARD = """
async function localstripeConfirmWithCard(apiKey, clientSecret, element) {
  const pi = clientSecret.match(/^(pi_\\w+)_secret_/)[1];
  const card = (element.value || {}).card || {};
  const response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_intents/${pi}/confirm`, {
    method: 'POST',  // no Content-Type header: a "simple" request, no CORS preflight (as localstripe's own calls)
    body: JSON.stringify({key: apiKey, client_secret: clientSecret,
                          payment_method_data: {type: 'card', card}}),
  });
  const body = await response.json().catch(() => ({}));
  if (response.status !== 200 || body.error) {
    return {error: body.error || {message: `HTTP ${response.status}`}};
  }
  return body;
}
"""

CONFIRM_HEAD = "    confirmCardPayment: async (clientSecret, data) => {\n"
CONFIRM_PATCH = """
      if (data && data.payment_method && data.payment_method.card instanceof Element) {
        const intent = await localstripeConfirmWithCard(apiKey, clientSecret, data.payment_method.card);
        if (intent.error) return {error: intent.error};
        if (intent.status === 'succeeded') return {paymentIntent: intent};
        if (intent.status !== 'requires_action') {
          return {error: {message: `payment_intent has status ${intent.status}`}};
        }
      }
"""
LABEL_HEAD = "      this._inputs[field].setAttribute('placeholder', field);\n"
LABEL_PATCH = "      this._inputs[field].setAttribute('aria-label', 'Card ' + field.replace('_', ' '));\n"


def browser_stripe_js() -> str:
    """localstripe's Stripe.js with the card-element confirmation and labelled inputs (see the module's note)."""
    original = (pathlib.Path(server.__file__).parent / "localstripe-v3.js").read_text()
    for anchor in (CONFIRM_HEAD, LABEL_HEAD):
        if anchor not in original:
            raise SystemExit(f"localstripe_server.py: localstripe's Stripe.js changed, {anchor.strip()!r} is gone")
    patched = original.replace(CONFIRM_HEAD, CONFIRM_HEAD + CONFIRM_PATCH).replace(LABEL_HEAD, LABEL_HEAD + LABEL_PATCH)
    return patched + CONFIRM_WITH_CARD


def confirm_from_browser(intent_id: str, data: dict) -> web.Response:
    """`POST /v1/payment_intents/{id}/confirm` as Stripe.js sends it: publishable key, client secret, card data."""
    def error(status: int, message: str) -> web.Response:
        return web.json_response({"error": {"type": "invalid_request_error", "message": message}}, status=status)

    if not str(data.get("key", "")).startswith("pk_"):
        return error(401, "Unauthorized: a publishable key (pk_…) is required")
    try:
        intent = resources.PaymentIntent._api_retrieve(intent_id)
        if data.get("client_secret") != intent.client_secret:
            return error(401, "Unauthorized: the client secret does not match")
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            return error(400, f"payment_intent has status {intent.status}")
        method_data = dict(data.get("payment_method_data") or {})
        method = resources.PaymentMethod._api_create(type=method_data.get("type", "card"),
                                                     card=dict(method_data.get("card") or {}))
        intent.payment_method = method.id
        intent._confirm(on_failure_now=intent._report_failure)
    except resources.UserError as failure:
        return error(failure.code, str(failure.body.get("error", {}).get("message", "Bad request")))
    resources.store.dump_to_disk()
    return web.json_response(intent._export())


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

    original_attach = resources.SetupIntent._attach_pm

    def setup_intent_attach(self, pm):
        original_attach(self, pm)
        if self.status == "succeeded":
            if self.customer:
                pm.customer = self.customer
            schedule_webhook(resources.Event("setup_intent.succeeded", self))

    resources.SetupIntent._attach_pm = setup_intent_attach

    recorded: list[dict] = []

    stripe_js = browser_stripe_js()

    @web.middleware
    async def browser_flow(request, handler):
        if request.method == "GET" and request.path == "/js.stripe.com/v3/":
            return web.Response(text=stripe_js, content_type="application/javascript")
        confirm = re.fullmatch(r"/v1/payment_intents/(pi_\w+)/confirm", request.path)
        if request.method == "POST" and confirm and "Authorization" not in request.headers:
            return confirm_from_browser(confirm.group(1), await request.json())
        return await handler(request)

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
    app.middlewares.insert(0, browser_flow)
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
