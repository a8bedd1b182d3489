"""A fake Razorpay API on loopback, for the real `razorpay` client to talk to.

It speaks just enough of Razorpay's HTTP API (Basic auth, Razorpay-shaped JSON and error
bodies) for orders, payments and refunds, and signs exactly as Razorpay does:
- checkout:  razorpay_signature = HMAC-SHA256(f"{order_id}|{payment_id}", key_secret).hexdigest()
- webhooks:  X-Razorpay-Signature = HMAC-SHA256(raw body, webhook_secret).hexdigest()

Tests drive it through `pay`, `fail`, `send_webhook`, and the switches `refund_failures`
(refusals to answer with) and `refund_delay` (the refund is made, then the answer is late, as
when a gateway times out after doing the work).

It behaves as Razorpay documents where our fakes used to be kinder (issue 13):
- capture: a payment is `captured` only when its order asked for it (`payment.capture =
  "automatic"`) or the account captures automatically (`auto_capture_account`, True by default);
  otherwise, and for a late authorisation (`pay(..., authorize_only=True)`), it stays `authorized`
  until `POST /v1/payments/{id}/capture`. The deprecated `payment_capture` flag is ignored.
- receipts are unique per account: a second order with the same receipt is refused (400), and
  `GET /v1/orders?receipt=` finds the first one.
- `api_failures` answers the next API calls (any path under /v1 matching its prefix) with an
  error status (401, 429, 5xx), and `order_delay` answers an order creation late (after making it).
- refunds can be failed later (`fail_refund`), announced by a `refund.failed` webhook. `checkout_js()` is a stand-in for Razorpay's
checkout.js for browser tests: `window.Razorpay` opens nothing and calls the handler with a real
payment made on this server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response

from tests.support.servers import free_port

KEY_ID = "rzp_test_fakekey0001"
KEY_SECRET = "fake_key_secret_for_tests"
WEBHOOK_SECRET = "fake_webhook_secret_for_tests"


def hmac_hex(secret: str, message: str | bytes) -> str:
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(7)}"


def _error(status: int, code: str, description: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {
        "code": code, "description": description, "source": "business", "step": "payment_initiation",
        "reason": "input_validation_failed", "metadata": {}, "field": None,
    }})


@dataclass
class RefundFailure:
    status: int = 400
    code: str = "BAD_REQUEST_ERROR"
    description: str = "The refund could not be processed: insufficient balance"


@dataclass
class ApiFailure:
    """The next call whose path starts with `path_prefix` (and uses `method`, when given) is
    answered with this error."""
    path_prefix: str
    status: int
    code: str = "BAD_REQUEST_ERROR"
    description: str = "Too many requests"
    method: str | None = None


@dataclass
class FakeRazorpayState:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    refund_failures: list[RefundFailure] = field(default_factory=list)
    refund_delay: float = 0.0
    refund_status: str = "processed"  # "pending": finished later, announced by refund.processed
    refund_requests: int = 0
    auto_capture_account: bool = True  # the account-level capture setting of the Dashboard
    api_failures: list[ApiFailure] = field(default_factory=list)
    order_delay: float = 0.0
    capture_requests: int = 0
    # Seconds every refund call (create or list) waits before doing anything: a gateway that
    # answers too late for the client's timeout and does nothing meanwhile.
    refund_stall: float = 0.0
    stalled_calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeRazorpay:
    def __init__(self, key_id: str = KEY_ID, key_secret: str = KEY_SECRET,
                 webhook_secret: str = WEBHOOK_SECRET) -> None:
        self.key_id, self.key_secret, self.webhook_secret = key_id, key_secret, webhook_secret
        self.state = FakeRazorpayState()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(
            self._app(), host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeRazorpay:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("fake Razorpay did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def env(self, **extra: str) -> dict[str, str]:
        """The Booking app settings that point the real client at this server."""
        return {"RAZORPAY_KEY_ID": self.key_id, "RAZORPAY_KEY_SECRET": self.key_secret,
                "RAZORPAY_WEBHOOK_SECRET": self.webhook_secret, "RAZORPAY_API_URL": self.url,
                "RAZORPAY_CHECKOUT_JS_URL": f"{self.url}/checkout.js", **extra}

    # --- what tests do -------------------------------------------------------------------------

    def signature(self, order_id: str, payment_id: str) -> str:
        return hmac_hex(self.key_secret, f"{order_id}|{payment_id}")

    def pay(self, order_id: str, *, authorize_only: bool = False) -> dict[str, str]:
        """A customer pays the order; returns the checkout handler's fields. The payment is
        captured at once when the order or the account asks for automatic capture, otherwise
        (or for a late authorisation) it is only `authorized`, as at Razorpay."""
        order = self.state.orders[order_id]
        captured = not authorize_only and self._captures_automatically(order)
        payment = self._new_payment(order_id, status="captured" if captured else "authorized")
        return {"razorpay_payment_id": payment["id"], "razorpay_order_id": order_id,
                "razorpay_signature": self.signature(order_id, payment["id"])}

    def fail(self, order_id: str, code: str = "BAD_REQUEST_ERROR",
             description: str = "Payment was declined by the bank") -> dict[str, Any]:
        payment = self._new_payment(order_id, status="failed", error_code=code,
                                    error_description=description)
        return {"razorpay_payment_id": payment["id"], "razorpay_order_id": order_id,
                "error_code": code, "error_description": description}

    def finish_refund(self, refund_id: str) -> None:
        self.state.refunds[refund_id]["status"] = "processed"

    def fail_refund(self, refund_id: str, reason: str = "The beneficiary account is closed") -> None:
        """Razorpay gives up on a refund (the bank gave it back): the money returns to the
        merchant's balance and the payment is refundable again."""
        with self.state.lock:
            refund = self.state.refunds[refund_id]
            refund["status"] = "failed"
            refund["error_description"] = reason
            payment = self.state.payments[refund["payment_id"]]
            payment["amount_refunded"] -= refund["amount"]
            payment["refund_status"] = "partial" if payment["amount_refunded"] else None
            if payment["status"] == "refunded":
                payment["status"] = "captured"

    def _captures_automatically(self, order: dict[str, Any]) -> bool:
        capture = (order.get("payment") or {}).get("capture")
        if capture in ("automatic", "manual"):
            return bool(capture == "automatic")
        return self.state.auto_capture_account

    def reset(self) -> None:
        """Back to normal behaviour between tests (entities are kept)."""
        self.state.refund_failures.clear()
        self.state.refund_delay = 0.0
        self.state.refund_status = "processed"
        self.state.auto_capture_account = True
        self.state.api_failures.clear()
        self.state.order_delay = 0.0
        self.state.refund_stall = 0.0

    def payment_entity(self, payment_id: str) -> dict[str, Any]:
        return dict(self.state.payments[payment_id])

    def all_refunds(self) -> list[dict[str, Any]]:
        """A copy, taken under the lock: request threads add refunds meanwhile."""
        with self.state.lock:
            return [dict(r) for r in self.state.refunds.values()]

    def refunds_of(self, payment_id: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [r for r in self.state.refunds.values() if r["payment_id"] == payment_id]

    def webhook_body(self, event: str, *, payment_id: str | None = None,
                     refund_id: str | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if payment_id is not None:
            payment = self.state.payments[payment_id]
            payload["payment"] = {"entity": payment}
            if event == "order.paid":
                payload["order"] = {"entity": _public(self.state.orders[payment["order_id"]])}
        if refund_id is not None:
            payload["refund"] = {"entity": self.state.refunds[refund_id]}
        return {"entity": "event", "account_id": "acc_fake", "event": event,
                "contains": list(payload), "payload": payload, "created_at": int(time.time())}

    def send_webhook(self, app_url: str, body: dict[str, Any], *, event_id: str | None = None,
                     secret: str | None = None) -> httpx.Response:
        """POST a webhook the way Razorpay does: raw JSON body, signed with the webhook secret."""
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   "X-Razorpay-Signature": hmac_hex(secret or self.webhook_secret, raw),
                   "X-Razorpay-Event-Id": event_id or _id("evt")}
        return httpx.post(f"{app_url}/payment/webhook", content=raw, headers=headers, timeout=30)

    # --- entities ------------------------------------------------------------------------------

    def _new_payment(self, order_id: str, *, status: str, **extra: Any) -> dict[str, Any]:
        with self.state.lock:
            order = self.state.orders[order_id]
            payment = {
                "id": _id("pay"), "entity": "payment", "amount": order["amount"],
                "currency": order["currency"], "status": status, "order_id": order_id,
                "method": "card", "captured": status == "captured", "amount_refunded": 0,
                "refund_status": None, "email": "attendee@example.com", "contact": "+919999999999",
                "notes": order["notes"], "error_code": None, "error_description": None,
                "created_at": int(time.time()), **extra,
            }
            self.state.payments[payment["id"]] = payment
            order["attempts"] += 1
            if status in ("captured", "authorized"):
                # Razorpay: an order is `paid` once a payment on it is authorised (or captured).
                order.update(status="paid", amount_paid=order["amount"], amount_due=0)
            return payment

    def _create_refund(self, payment: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        amount = int(body.get("amount") or payment["amount"] - payment["amount_refunded"])
        refund = {
            "id": _id("rfnd"), "entity": "refund", "amount": amount,
            "currency": payment["currency"], "payment_id": payment["id"],
            "notes": body.get("notes") or {}, "receipt": body.get("receipt"),
            "status": self.state.refund_status, "speed_requested": body.get("speed", "normal"),
            "speed_processed": "normal", "created_at": int(time.time()),
        }
        self.state.refunds[refund["id"]] = refund
        payment["amount_refunded"] += amount
        payment["refund_status"] = "full" if payment["amount_refunded"] >= payment["amount"] else "partial"
        if payment["refund_status"] == "full":
            payment["status"] = "refunded"
        return refund

    # --- the HTTP API --------------------------------------------------------------------------

    def _next_failure(self, method: str, path: str) -> ApiFailure | None:
        with self.state.lock:
            for failure in self.state.api_failures:
                if path.startswith(failure.path_prefix) and failure.method in (None, method):
                    self.state.api_failures.remove(failure)
                    return failure
        return None

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user, self.key_id) and hmac.compare_digest(password, self.key_secret)

    def _app(self) -> FastAPI:  # noqa: C901  (one small route table)
        app = FastAPI()
        # The stand-in checkout.js runs in the Booking app's page and calls back here.
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"],
                           allow_headers=["*"])
        state = self.state

        @app.middleware("http")
        async def basic_auth(request: Request, call_next: Any) -> Response:
            if request.url.path.startswith("/v1/") and not self._authorised(request):
                return _error(401, "BAD_REQUEST_ERROR", "Authentication failed")
            failure = self._next_failure(request.method, request.url.path)
            if failure is not None:
                return _error(failure.status, failure.code, failure.description)
            response: Response = await call_next(request)
            return response

        @app.middleware("http")
        async def stall_refunds(request: Request, call_next: Any) -> Response:
            if state.refund_stall and "/refund" in request.url.path:
                with state.lock:
                    state.stalled_calls += 1
                await asyncio.sleep(state.refund_stall)
                return _error(504, "GATEWAY_ERROR", "Stalled by the test")
            response: Response = await call_next(request)
            return response

        @app.post("/v1/orders")
        def create_order(body: dict[str, Any]) -> Response:
            # A sync route: uvicorn runs it in a thread, so a delay does not block other calls.
            amount = body.get("amount")
            if not isinstance(amount, int) or amount < 100:
                return _error(400, "BAD_REQUEST_ERROR", "Order amount less than minimum amount allowed")
            if body.get("currency") != "INR":
                return _error(400, "BAD_REQUEST_ERROR", "The currency provided is invalid")
            capture = body.get("payment") if isinstance(body.get("payment"), dict) else None
            if capture is not None and capture.get("capture") not in ("automatic", "manual"):
                return _error(400, "BAD_REQUEST_ERROR", "payment.capture must be automatic or manual")
            order = {
                "id": _id("order"), "entity": "order", "amount": amount, "amount_paid": 0,
                "amount_due": amount, "currency": "INR", "receipt": body.get("receipt"),
                "offer_id": None, "status": "created", "attempts": 0,
                "notes": body.get("notes") or {}, "created_at": int(time.time()),
            }
            with state.lock:
                receipt = body.get("receipt")
                if receipt and any(o["receipt"] == receipt for o in state.orders.values()):
                    return _error(400, "BAD_REQUEST_ERROR",
                                  "An order with the same receipt value has already been created")
                state.orders[order["id"]] = {**order, "payment": capture}
                delay = state.order_delay
            if delay:
                time.sleep(delay)  # made, but answered too late for the client's timeout
            return JSONResponse(order)

        @app.get("/v1/orders")
        def list_orders(request: Request) -> Response:
            receipt = request.query_params.get("receipt")
            items = [_public(o) for o in state.orders.values()
                     if receipt is None or o["receipt"] == receipt]
            items.sort(key=lambda o: -int(o["created_at"]))
            return JSONResponse({"entity": "collection", "count": len(items), "items": items})

        @app.get("/v1/orders/{order_id}")
        def get_order(order_id: str) -> Response:
            order = state.orders.get(order_id)
            if order is None:
                return _error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
            return JSONResponse(_public(order))

        @app.get("/v1/orders/{order_id}/payments")
        def order_payments(order_id: str) -> Response:
            if order_id not in state.orders:
                return _error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
            items = [p for p in state.payments.values() if p["order_id"] == order_id]
            return JSONResponse({"entity": "collection", "count": len(items), "items": items})

        @app.get("/v1/payments")
        def list_payments(request: Request) -> Response:
            # Razorpay: newest first, `from`/`to` in unix seconds, `count` at most 100, `skip`.
            query = request.query_params
            since, until = int(query.get("from", 0)), int(query.get("to", 2**62))
            count, skip = min(int(query.get("count", 10)), 100), int(query.get("skip", 0))
            items = sorted((p for p in state.payments.values()
                            if since <= p["created_at"] <= until),
                           key=lambda p: (-p["created_at"], p["id"]))[skip:skip + count]
            return JSONResponse({"entity": "collection", "count": len(items), "items": items})

        @app.post("/v1/payments/{payment_id}/capture")
        def capture(payment_id: str, body: dict[str, Any]) -> Response:
            with state.lock:
                state.capture_requests += 1
                payment = state.payments.get(payment_id)
                if payment is None:
                    return _error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
                if payment["status"] != "authorized":
                    return _error(400, "BAD_REQUEST_ERROR",
                                  "This payment has already been captured")
                if body.get("amount") != payment["amount"] or body.get("currency") != payment["currency"]:
                    return _error(400, "BAD_REQUEST_ERROR",
                                  "Capture amount must be equal to the amount authorized")
                payment.update(status="captured", captured=True)
                return JSONResponse(dict(payment))

        @app.get("/v1/payments/{payment_id}")
        def get_payment(payment_id: str) -> Response:
            payment = state.payments.get(payment_id)
            if payment is None:
                return _error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
            return JSONResponse(payment)

        @app.post("/v1/payments/{payment_id}/refund")
        def refund(payment_id: str, body: dict[str, Any]) -> Response:
            # A sync route: uvicorn runs it in a thread, so a delay does not block other calls.
            with state.lock:
                state.refund_requests += 1
                payment = state.payments.get(payment_id)
                if payment is None:
                    return _error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
                if state.refund_failures:
                    failure = state.refund_failures.pop(0)
                    return _error(failure.status, failure.code, failure.description)
                if payment["status"] != "captured":
                    return _error(400, "BAD_REQUEST_ERROR",
                                  "The payment has been fully refunded already")
                created = self._create_refund(payment, body)
                delay = state.refund_delay
            if delay:
                time.sleep(delay)  # done, but answered too late for the client's timeout
            return JSONResponse(created)

        @app.get("/v1/payments/{payment_id}/refunds")
        def list_refunds(payment_id: str) -> Response:
            with state.lock:  # refunds are added by other request threads meanwhile
                items = [dict(r) for r in state.refunds.values() if r["payment_id"] == payment_id]
            return JSONResponse({"entity": "collection", "count": len(items), "items": items})

        @app.post("/test/orders/{order_id}/pay")
        def test_pay(order_id: str) -> Response:
            if order_id not in state.orders:
                return _error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
            return JSONResponse(self.pay(order_id))

        @app.get("/checkout.js")
        def checkout_script() -> Response:
            return Response(checkout_js(self.url), media_type="application/javascript")

        return app


def _public(order: dict[str, Any]) -> dict[str, Any]:
    """The order entity as Razorpay answers it (the capture options are not echoed)."""
    return {k: v for k, v in order.items() if k != "payment"}


def checkout_js(fake_url: str) -> str:
    """Stand-in for Razorpay's checkout.js: `new Razorpay(options).open()` makes a real captured
    payment on the fake server and calls `options.handler` with the signed fields, like a
    customer who paid. `window.__razorpayFail = true` makes it emit `payment.failed` instead."""
    return "(function () {\n  var base = " + json.dumps(fake_url) + ";" + _CHECKOUT_JS_BODY


_CHECKOUT_JS_BODY = """
  function Razorpay(options) {
    this.options = options; this.listeners = {};
    window.__razorpayOptions = options;  // for tests: what the page asked Checkout for
  }
  Razorpay.prototype.on = function (name, fn) { this.listeners[name] = fn; };
  Razorpay.prototype.open = function () {
    var self = this, o = this.options;
    if (window.__razorpayFail) {
      setTimeout(function () {
        (self.listeners["payment.failed"] || function () {})({error: {
          code: "BAD_REQUEST_ERROR", description: "Payment was declined by the bank",
          source: "bank", step: "payment_authorization", reason: "payment_failed",
          metadata: {order_id: o.order_id, payment_id: "pay_fakefailed" + Date.now()}}});
      }, 0);
      return;
    }
    fetch(base + "/test/orders/" + encodeURIComponent(o.order_id) + "/pay", {method: "POST"})
      .then(function (r) { return r.json(); })
      .then(function (fields) { o.handler(fields); });
  };
  window.Razorpay = Razorpay;
})();
"""
