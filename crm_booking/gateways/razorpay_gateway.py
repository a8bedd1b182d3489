"""The real Razorpay adapter, built on the official `razorpay` client.

Every call carries an explicit timeout (the client passes request kwargs through to `requests`),
and every client error becomes a `GatewayFailure` that says whether trying again can help.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import razorpay
import requests
from razorpay.errors import BadRequestError, GatewayError, ServerError, SignatureVerificationError

from crm_booking.gateways.payments import GatewayFailure, GatewayRefund
from crm_booking.metrics import GATEWAY_ERRORS
from crm_booking.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# Razorpay limits a refund receipt to 40 characters.
RECEIPT_MAX = 40
# Razorpay's smallest automatic-capture window, in minutes; late authorisations after the
# window stay `authorized` until we capture them (allowed for up to five days).
AUTO_CAPTURE_MINUTES_MIN = 12
MANUAL_CAPTURE_MINUTES = 5 * 24 * 60
PAGE_SIZE = 100  # Razorpay's largest page of a collection
# Statuses that say nothing about the request itself: wrong keys, rate limit, gateway trouble.
TRANSIENT_STATUSES = (401, 408, 429)

_last_status = threading.local()


def _remember_status(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
    """The official client turns every answer into an exception by its error *code* only (a 401
    or 429 arrives as BAD_REQUEST_ERROR); this hook keeps the HTTP status for `_call`. The
    client's session is shared by threads, the status is kept per thread."""
    _last_status.value = response.status_code


class RazorpayGateway:
    name = "razorpay"

    def __init__(self, settings: Settings) -> None:
        self.key_id = settings.RAZORPAY_KEY_ID
        # During a rotation Razorpay may still sign with the previous secret for a while.
        self._webhook_secrets = [secret for secret in (settings.RAZORPAY_WEBHOOK_SECRET,
                                                       settings.RAZORPAY_WEBHOOK_SECRET_PREVIOUS)
                                 if secret]
        self._timeout = settings.RAZORPAY_TIMEOUT_SECONDS
        self._auto_capture_minutes = max(AUTO_CAPTURE_MINUTES_MIN, settings.BOOKING_HOLD_MINUTES)
        session = requests.Session()
        session.hooks["response"].append(_remember_status)
        self._client = razorpay.Client(
            session=session,
            auth=(settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET),
            base_url=settings.RAZORPAY_API_URL.rstrip("/"),
        )
        self._client.set_app_details({"title": "crm-booking", "version": "1.0"})

    # --- orders and payments ------------------------------------------------------------------

    def create_order(self, *, amount_paise: int, currency: str, receipt: str,
                     notes: dict[str, str]) -> str:
        """One order per booking. Receipts are unique per Razorpay account: when ours is refused
        as a duplicate, or the answer timed out, the order made earlier is found by its receipt
        (and accepted only if its amount and notes are ours: a second database on the same
        account has the same references, and then gets a receipt of its own)."""
        receipt = receipt[:RECEIPT_MAX]
        try:
            return self._new_order(amount_paise, currency, receipt, notes)
        except GatewayFailure as failure:
            if not failure.retryable and not _duplicate_receipt(failure):
                raise
            earlier = self._order_by_receipt(receipt, amount_paise, currency, notes)
            if earlier is not None:
                return earlier
            if not _duplicate_receipt(failure):
                raise
            log.warning("receipt %s is used by another order on this Razorpay account", receipt)
            return self._new_order(amount_paise, currency,
                                   f"{receipt[:RECEIPT_MAX - 7]}-{secrets.token_hex(3)}", notes)

    def _new_order(self, amount_paise: int, currency: str, receipt: str,
                   notes: dict[str, str]) -> str:
        # The current capture options (`payment_capture` is deprecated): capture automatically
        # within the hold; a later authorisation stays `authorized` and is captured by us.
        order = self._call("create order", lambda: self._client.order.create(
            {"amount": amount_paise, "currency": currency, "receipt": receipt, "notes": notes,
             "payment": {"capture": "automatic", "capture_options": {
                 "automatic_expiry_period": self._auto_capture_minutes,
                 "manual_expiry_period": MANUAL_CAPTURE_MINUTES,
                 "refund_speed": "normal"}}},
            timeout=self._timeout,
        ))
        return str(order["id"])

    def _order_by_receipt(self, receipt: str, amount_paise: int, currency: str,
                          notes: dict[str, str]) -> str | None:
        listed = self._call("find order by receipt", lambda: self._client.order.all(
            {"receipt": receipt}, timeout=self._timeout))
        for order in listed.get("items", []):
            if (order.get("receipt") == receipt and order.get("amount") == amount_paise
                    and order.get("currency") == currency and order.get("notes") == notes):
                return str(order["id"])
        return None

    def fetch_payment(self, payment_id: str) -> dict[str, Any]:
        return dict(self._call("fetch payment", lambda: self._client.payment.fetch(
            payment_id, timeout=self._timeout)))

    def capture_payment(self, *, payment_id: str, amount_paise: int,
                        currency: str) -> dict[str, Any]:
        """Capture an authorised payment. Capturing twice is refused by Razorpay; the payment
        as it now stands is returned then."""
        try:
            return dict(self._call("capture payment", lambda: self._client.payment.capture(
                payment_id, amount_paise, {"currency": currency}, timeout=self._timeout)))
        except GatewayFailure as failure:
            if failure.retryable:
                raise
            current = self.fetch_payment(payment_id)
            if current.get("status") == "captured":
                return current
            raise

    def order_payments(self, order_id: str) -> list[dict[str, Any]]:
        listed = self._call("list order payments", lambda: self._client.order.payments(
            order_id, timeout=self._timeout))
        return [dict(item) for item in listed.get("items", [])]

    def recent_payments(self, *, since: int, limit: int) -> list[dict[str, Any]]:
        """Payments created since `since` (unix seconds), newest first, at most `limit`."""
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            items = self._payments_page(since=since, skip=len(found))
            found.extend(items)
            if len(items) < PAGE_SIZE:
                break
        return found[:limit]

    def _payments_page(self, *, since: int, skip: int) -> list[dict[str, Any]]:
        page = self._call("list payments", lambda: self._client.payment.all(
            {"from": since, "count": PAGE_SIZE, "skip": skip}, timeout=self._timeout))
        return [dict(item) for item in page.get("items", [])]

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
        if not signature.isascii():  # hmac.compare_digest raises TypeError on non-ASCII text
            return False
        # Without a secret no webhook can be trusted (the list is empty then).
        return any(self._signed_with(secret, body, signature) for secret in self._webhook_secrets)

    def _signed_with(self, secret: str, body: str, signature: str) -> bool:
        try:
            return bool(self._client.utility.verify_webhook_signature(body, signature, secret))
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
        _last_status.value = None
        try:
            return action()
        except (BadRequestError, GatewayError, ServerError) as exc:
            failure = _classified(what, exc, getattr(_last_status, "value", None))
            GATEWAY_ERRORS.labels("razorpay", what,
                                  "server_error" if failure.retryable else "refused").inc()
            raise failure from exc
        except requests.Timeout as exc:
            GATEWAY_ERRORS.labels("razorpay", what, "timeout").inc()
            raise GatewayFailure(f"Razorpay did not answer in time ({what})", retryable=True) from exc
        except (requests.RequestException, ValueError) as exc:
            # Connection problems, or an answer that was not JSON (a proxy error page).
            GATEWAY_ERRORS.labels("razorpay", what, "unreachable").inc()
            raise GatewayFailure(f"Razorpay unreachable during {what}: {type(exc).__name__}",
                                 retryable=True) from exc


def _classified(what: str, exc: Exception, status: int | None) -> GatewayFailure:
    """By HTTP status first: only a 4xx about the request itself is a refusal. Wrong keys (401),
    a rate limit (429) and gateway trouble (5xx) are retried, and logged at error level because
    someone has to look (keys, quota, Razorpay's status page)."""
    if isinstance(exc, BadRequestError) and (
            status is None or (status < 500 and status not in TRANSIENT_STATUSES)):
        # The gateway understood and refused (bad amount, already refunded, ...).
        return GatewayFailure(f"Razorpay refused to {what}: {exc}", retryable=False, status=status)
    log.error("Razorpay answered %s during %s (%s): will retry; check the keys, the rate "
              "limit or Razorpay's status", status or "an error", what, exc)
    return GatewayFailure(f"Razorpay error during {what} (HTTP {status}): {exc}",
                          retryable=True, status=status)


def _duplicate_receipt(failure: GatewayFailure) -> bool:
    text = str(failure).lower()
    return "receipt" in text and ("already" in text or "duplicate" in text or "unique" in text)


def _as_refund(entity: dict[str, Any]) -> GatewayRefund:
    status = "processed" if entity.get("status") == "processed" else "pending"
    return GatewayRefund(refund_id=str(entity["id"]), status=status)
