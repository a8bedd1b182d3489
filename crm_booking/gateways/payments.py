"""Payment gateway adapters: the real Razorpay client, or the local sandbox when no keys are set.

Both expose the same small interface so services never branch on which one is in use.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from crm_booking.settings import get_settings


class GatewayFailure(Exception):
    """The gateway answered with an error, or did not answer in time. `retryable` is False only
    for a refusal of the request itself (a 400 about what we asked); timeouts, 401, 429 and 5xx
    can go away and are retried."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True)
class GatewayRefund:
    refund_id: str
    status: str  # processed | pending


class PaymentGateway(Protocol):
    name: str
    key_id: str

    def create_order(self, *, amount_paise: int, currency: str, receipt: str,
                     notes: dict[str, str]) -> str: ...

    def verify_payment_signature(self, *, order_id: str, payment_id: str, signature: str) -> bool: ...

    def verify_webhook_signature(self, *, body: str, signature: str) -> bool: ...

    def refund(self, *, payment_id: str, amount_paise: int, idempotency_key: str,
               notes: dict[str, str]) -> GatewayRefund: ...

    def find_refund(self, *, payment_id: str, idempotency_key: str) -> GatewayRefund | None: ...

    def fetch_payment(self, payment_id: str) -> dict[str, Any]: ...

    def capture_payment(self, *, payment_id: str, amount_paise: int,
                        currency: str) -> dict[str, Any]: ...

    def order_payments(self, order_id: str) -> list[dict[str, Any]]: ...

    def recent_payments(self, *, since: int, limit: int) -> list[dict[str, Any]]: ...


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class SandboxGateway:
    """Offline stand-in used when no Razorpay keys are configured. Clearly labelled in the UI;
    refused in production by the settings check."""

    name = "sandbox"
    key_id = "sandbox"

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def create_order(self, *, amount_paise: int, currency: str, receipt: str,
                     notes: dict[str, str]) -> str:
        return f"order_sbx_{uuid.uuid4().hex[:14]}"

    def signature_for(self, *, order_id: str, payment_id: str) -> str:
        return sign(self._secret, f"{order_id}|{payment_id}")

    def checkout_fields(self, order_id: str, *, succeed: bool) -> dict[str, str]:
        """What Razorpay's checkout would hand the page for a payment on `order_id`: a made-up
        payment signed with the sandbox secret, or the fields of a declined one. The sandbox
        page posts them to /payment/success or /payment/failure like real ones."""
        payment_id = f"pay_sbx_{secrets.token_hex(7)}"
        if succeed:
            return {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id,
                    "razorpay_signature": self.signature_for(order_id=order_id, payment_id=payment_id)}
        return {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id,
                "error_code": "SANDBOX_DECLINED",
                "error_description": "Declined in the sandbox checkout (no real money)"}

    def verify_payment_signature(self, *, order_id: str, payment_id: str, signature: str) -> bool:
        # compare_digest raises TypeError on non-ASCII text: such a signature is simply wrong.
        return signature.isascii() and hmac.compare_digest(
            self.signature_for(order_id=order_id, payment_id=payment_id), signature)

    def verify_webhook_signature(self, *, body: str, signature: str) -> bool:
        return signature.isascii() and hmac.compare_digest(sign(self._secret, body), signature)

    def refund(self, *, payment_id: str, amount_paise: int, idempotency_key: str,
               notes: dict[str, str]) -> GatewayRefund:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:14]
        return GatewayRefund(refund_id=f"rfnd_sbx_{digest}", status="processed")

    def find_refund(self, *, payment_id: str, idempotency_key: str) -> GatewayRefund | None:
        return self.refund(payment_id=payment_id, amount_paise=0, idempotency_key=idempotency_key,
                           notes={})  # sandbox refunds are processed at once

    def fetch_payment(self, payment_id: str) -> dict[str, Any]:
        # The sandbox only ever signs payments it made up as paid: they are captured.
        return {"id": payment_id, "status": "captured"}

    def capture_payment(self, *, payment_id: str, amount_paise: int,
                        currency: str) -> dict[str, Any]:
        return {"id": payment_id, "status": "captured", "amount": amount_paise,
                "currency": currency}

    def order_payments(self, order_id: str) -> list[dict[str, Any]]:
        return []  # sandbox payments exist only as signed callbacks; nothing to ask

    def recent_payments(self, *, since: int, limit: int) -> list[dict[str, Any]]:
        return []


@lru_cache
def get_gateway() -> PaymentGateway:
    settings = get_settings()
    if settings.razorpay_enabled or settings.is_production:
        # Production never falls back to the sandbox (the start is refused without keys;
        # this is the second line of defence).
        from crm_booking.gateways.razorpay_gateway import RazorpayGateway

        return RazorpayGateway(settings)
    return SandboxGateway(settings.SANDBOX_PAYMENT_SECRET)
