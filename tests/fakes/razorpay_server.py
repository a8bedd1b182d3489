"""A fake Razorpay API on loopback, for the real `razorpay` client to talk to.

It speaks just enough of Razorpay's HTTP API (Basic auth, Razorpay-shaped JSON and error
bodies) for orders, payments and refunds, and signs exactly as Razorpay does:
- checkout:  razorpay_signature = HMAC-SHA256(f"{order_id}|{payment_id}", key_secret).hexdigest()
- webhooks:  X-Razorpay-Signature = HMAC-SHA256(raw body, webhook_secret).hexdigest()

Tests drive it through `pay`, `fail`, `send_webhook`, and the switches `refund_failures`
(refusals to answer with) and `refund_delay` (the refund is made, then the answer is late, as
when a gateway times out after doing the work). `checkout_js()` is a stand-in for Razorpay's
checkout.js for browser tests: `window.Razorpay` opens nothing and calls the handler with a real
payment made on this server.
"""

from __future__ import annotations

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
class FakeRazorpayState:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    refund_failures: list[RefundFailure] = field(default_factory=list)
    refund_delay: float = 0.0
    refund_status: str = "processed"  # "pending": finished later, announced by refund.processed
    refund_requests: int = 0
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

    def pay(self, order_id: str) -> dict[str, str]:
        """A customer pays the order: a captured payment; returns the checkout handler's fields."""
        payment = self._new_payment(order_id, status="captured")
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

    def reset(self) -> None:
        """Back to normal behaviour between tests (entities are kept)."""
        self.state.refund_failures.clear()
        self.state.refund_delay = 0.0
        self.state.refund_status = "processed"

    def payment_entity(self, payment_id: str) -> dict[str, Any]:
        return dict(self.state.payments[payment_id])

    def refunds_of(self, payment_id: str) -> list[dict[str, Any]]:
        return [r for r in self.state.refunds.values() if r["payment_id"] == payment_id]

    def webhook_body(self, event: str, *, payment_id: str | None = None,
                     refund_id: str | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if payment_id is not None:
            payment = self.state.payments[payment_id]
            payload["payment"] = {"entity": payment}
            if event == "order.paid":
                payload["order"] = {"entity": self.state.orders[payment["order_id"]]}
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
            if status == "captured":
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
            response: Response = await call_next(request)
            return response

        @app.post("/v1/orders")
        async def create_order(request: Request) -> Response:
            body = json.loads(await request.body() or b"{}")
            amount = body.get("amount")
            if not isinstance(amount, int) or amount < 100:
                return _error(400, "BAD_REQUEST_ERROR", "Order amount less than minimum amount allowed")
            if body.get("currency") != "INR":
                return _error(400, "BAD_REQUEST_ERROR", "The currency provided is invalid")
            order = {
                "id": _id("order"), "entity": "order", "amount": amount, "amount_paid": 0,
                "amount_due": amount, "currency": "INR", "receipt": body.get("receipt"),
                "offer_id": None, "status": "created", "attempts": 0,
                "notes": body.get("notes") or {}, "created_at": int(time.time()),
            }
            with state.lock:
                state.orders[order["id"]] = order
            return JSONResponse(order)

        @app.get("/v1/orders/{order_id}")
        def get_order(order_id: str) -> Response:
            order = state.orders.get(order_id)
            if order is None:
                return _error(400, "BAD_REQUEST_ERROR", "The id provided does not exist")
            return JSONResponse(order)

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
            items = [r for r in state.refunds.values() if r["payment_id"] == payment_id]
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


def checkout_js(fake_url: str) -> str:
    """Stand-in for Razorpay's checkout.js: `new Razorpay(options).open()` makes a real captured
    payment on the fake server and calls `options.handler` with the signed fields, like a
    customer who paid. `window.__razorpayFail = true` makes it emit `payment.failed` instead."""
    return "(function () {\n  var base = " + json.dumps(fake_url) + ";" + _CHECKOUT_JS_BODY


_CHECKOUT_JS_BODY = """
  function Razorpay(options) { this.options = options; this.listeners = {}; }
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
