"""The real Razorpay adapter, built on the official `razorpay` client.

Every call carries an explicit timeout (the client passes request kwargs through to `requests`),
and every client error becomes a `GatewayFailure` that says whether trying again can help.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import razorpay
import requests
from razorpay.errors import BadRequestError, GatewayError, ServerError, SignatureVerificationError

from crm_booking.gateways.payments import GatewayFailure, GatewayRefund
from crm_booking.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# Razorpay limits a refund receipt to 40 characters.
RECEIPT_MAX = 40


class RazorpayGateway:
    name = "razorpay"

    def __init__(self, settings: Settings) -> None:
        self.key_id = settings.RAZORPAY_KEY_ID
        self._webhook_secret = settings.RAZORPAY_WEBHOOK_SECRET
        self._timeout = settings.RAZORPAY_TIMEOUT_SECONDS
        self._client = razorpay.Client(
            auth=(settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET),
            base_url=settings.RAZORPAY_API_URL.rstrip("/"),
        )
        self._client.set_app_details({"title": "crm-booking", "version": "1.0"})

    # --- orders and payments ------------------------------------------------------------------

    def create_order(self, *, amount_paise: int, currency: str, receipt: str,
                     notes: dict[str, str]) -> str:
        # payment_capture=1: payments are captured at once, so a successful checkout is money in.
        order = self._call("create order", lambda: self._client.order.create(
            {"amount": amount_paise, "currency": currency, "receipt": receipt[:RECEIPT_MAX],
             "notes": notes, "payment_capture": 1},
            timeout=self._timeout,
        ))
        return str(order["id"])

    def fetch_payment(self, payment_id: str) -> dict[str, Any]:
        return dict(self._call("fetch payment", lambda: self._client.payment.fetch(
            payment_id, timeout=self._timeout)))

    # --- signatures ---------------------------------------------------------------------------

    def verify_payment_signature(self, *, order_id: str, payment_id: str, signature: str) -> bool:
        if not signature.isascii():  # hmac.compare_digest raises TypeError on non-ASCII text
            return False
        try:
            return bool(self._client.utility.verify_payment_signature({
                "razorpay_order_id": order_id, "razorpay_payment_id": payment_id,
                "razorpay_signature": signature,
            }))
        except SignatureVerificationError:
            return False

    def verify_webhook_signature(self, *, body: str, signature: str) -> bool:
        if not self._webhook_secret:
            return False  # without a secret no webhook can be trusted
        if not signature.isascii():  # hmac.compare_digest raises TypeError on non-ASCII text
            return False
        try:
            return bool(self._client.utility.verify_webhook_signature(
                body, signature, self._webhook_secret))
        except SignatureVerificationError:
            return False

    # --- refunds ------------------------------------------------------------------------------

    def refund(self, *, payment_id: str, amount_paise: int, idempotency_key: str,
               notes: dict[str, str]) -> GatewayRefund:
        """Refund once per idempotency key: a refund an earlier (timed-out) attempt created at the
        gateway is found by its notes/receipt and returned instead of refunding again."""
        earlier = self.find_refund(payment_id=payment_id, idempotency_key=idempotency_key)
        if earlier is not None:
            return earlier
        created = self._call("refund", lambda: self._client.payment.refund(
            payment_id,
            {"amount": amount_paise, "speed": "normal",
             "receipt": idempotency_key[:RECEIPT_MAX],
             "notes": {**notes, "idempotency_key": idempotency_key}},
            timeout=self._timeout,
        ))
        return _as_refund(created)

    def find_refund(self, *, payment_id: str, idempotency_key: str) -> GatewayRefund | None:
        listed = self._call("list refunds", lambda: self._client.payment.fetch_multiple_refund(
            payment_id, {"count": 100}, timeout=self._timeout))
        for item in listed.get("items", []):
            if item.get("status") == "failed":
                continue  # a failed refund moved no money; a new attempt is owed
            notes = item.get("notes") or {}
            if isinstance(notes, dict) and notes.get("idempotency_key") == idempotency_key:
                return _as_refund(item)
            if item.get("receipt") == idempotency_key[:RECEIPT_MAX]:
                return _as_refund(item)
        return None

    # --- errors -------------------------------------------------------------------------------

    def _call(self, what: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except BadRequestError as exc:
            # The gateway understood and refused (bad amount, already refunded, ...).
            raise GatewayFailure(f"Razorpay refused to {what}: {exc}", retryable=False) from exc
        except (GatewayError, ServerError) as exc:
            raise GatewayFailure(f"Razorpay error during {what}: {exc}", retryable=True) from exc
        except requests.Timeout as exc:
            raise GatewayFailure(f"Razorpay did not answer in time ({what})", retryable=True) from exc
        except (requests.RequestException, ValueError) as exc:
            # Connection problems, or an answer that was not JSON (a proxy error page).
            raise GatewayFailure(f"Razorpay unreachable during {what}: {type(exc).__name__}",
                                 retryable=True) from exc


def _as_refund(entity: dict[str, Any]) -> GatewayRefund:
    status = "processed" if entity.get("status") == "processed" else "pending"
    return GatewayRefund(refund_id=str(entity["id"]), status=status)
