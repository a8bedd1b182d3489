"""Payments: gateway orders for bookings, the checkout link, and reconciling what the gateway
reports (success/failure callbacks and webhooks).

Every captured payment goes through ONE function, `apply_captured`, so the callback, the webhook
and a late payment after the hold lapsed all end the same way: the booking is paid and holds a
seat, or the payment is refunded. Gateway calls happen only after the commit (no lock held).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from crm_booking import clock
from crm_booking.db import lock_for_update, read_session, transaction
from crm_booking.errors import BadRequest, NotFound
from crm_booking.gateways.payments import GatewayFailure, SandboxGateway, get_gateway
from crm_booking.models import (
    Booking,
    BookingStatus,
    Event,
    Payment,
    PaymentStatus,
    Refund,
    WebhookEvent,
)
from crm_booking.services import refund
from crm_booking.services.notifications import Action
from crm_booking.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkout:
    booking: Booking
    payment_url: str | None


def checkout_token(reference: str) -> str:
    """Ties a checkout link to its booking, so references cannot be guessed into payments."""
    key = get_settings().JWT_SECRET_KEY.encode()
    return hmac.new(key, f"checkout:{reference}".encode(), hashlib.sha256).hexdigest()[:32]


def checkout_url(reference: str) -> str:
    base = get_settings().PUBLIC_BASE_URL.rstrip("/")
    return f"{base}/pay/{reference}?token={checkout_token(reference)}"


def needs_payment(booking: Booking) -> bool:
    return (
        booking.status == BookingStatus.CONFIRMED.value
        and booking.payment_status in (PaymentStatus.PENDING.value, PaymentStatus.FAILED.value)
    )


def ensure_order(booking_id: int) -> Booking:
    """Create the gateway order once (outside any lock) and remember it on the booking."""
    with transaction(write=False) as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
    if booking.razorpay_order_id or not needs_payment(booking):
        return booking
    order_id = get_gateway().create_order(
        amount_paise=refund.to_paise(booking.amount),
        currency=booking.currency,
        receipt=booking.booking_reference or str(booking.id),
        notes={"booking_id": str(booking.id), "event_id": str(booking.event_id)},
    )
    with transaction() as session:
        stored = session.get(Booking, booking_id)
        assert stored is not None
        if stored.razorpay_order_id is None:
            stored.razorpay_order_id = order_id
            stored.payment_reference = order_id
            session.add(stored)
        return stored


def start_checkout(booking: Booking) -> Checkout:
    if not needs_payment(booking):
        return Checkout(booking, None)
    try:
        booking = ensure_order(booking.id)  # type: ignore[arg-type]
    except GatewayFailure as failure:
        # The seat is held either way; the checkout page creates the order when it opens.
        log.warning("order for booking %s not created yet: %s", booking.id, failure)
    return Checkout(booking, checkout_url(booking.booking_reference or ""))


# --- reconciling captured payments ------------------------------------------------------------


class Outcome(StrEnum):
    PAID = "paid"                      # the booking is paid and holds its seat
    ALREADY_RECORDED = "already_recorded"  # a repeat (callback after webhook, replay)
    REFUNDING = "refunding"            # no seat for this payment: it is refunded


@dataclass(frozen=True)
class Applied:
    booking: Booking
    outcome: Outcome
    refund: Refund | None = None


def apply_captured(*, order_id: str, payment_id: str, amount_paise: int | None = None) -> Applied:
    """Apply one captured payment to its booking, whichever channel reported it. Idempotent.

    A captured payment always ends with a seat or a refund: a booking whose hold lapsed gets a
    seat back if one is free; otherwise, or when the booking/event was cancelled meanwhile,
    a refund is recorded in the same transaction and sent to the gateway after the commit.
    """
    with transaction() as session:
        booking = _locked_booking(session, order_id)
        applied = _apply_in(session, booking, payment_id, amount_paise)
        refund_id = applied.refund.id if applied.refund is not None else None
    if refund_id is not None and applied.outcome == Outcome.REFUNDING:
        processed = refund.process(refund_id)
        return Applied(_reload(booking.id), applied.outcome, processed)  # type: ignore[arg-type]
    return applied


def _locked_booking(session: Session, order_id: str) -> Booking:
    booking = session.exec(
        lock_for_update(session, select(Booking).where(Booking.razorpay_order_id == order_id))
    ).first()
    if booking is None:
        raise NotFound("Booking not found")
    return booking


def _reload(booking_id: int) -> Booking:
    with read_session() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        return booking


def _apply_in(session: Session, booking: Booking, payment_id: str,
              amount_paise: int | None) -> Applied:
    known = _payment_row(session, payment_id)
    if known is not None and known.status == "captured":
        owed = session.exec(select(Refund).where(Refund.razorpay_payment_id == payment_id)).first()
        return Applied(booking, Outcome.ALREADY_RECORDED, owed)
    _record_payment(session, booking, known, payment_id, amount_paise)
    event = session.get(Event, booking.event_id)
    assert event is not None
    if booking.payment_status in (PaymentStatus.COMPLETED.value, PaymentStatus.REFUNDED.value):
        # A second payment for an order already paid (paid twice): give that one back.
        return _refund_in(session, booking, event, payment_id, reason="duplicate_payment")
    if booking.status == BookingStatus.CONFIRMED.value:
        return _mark_paid(session, booking, event, payment_id)
    if booking.cancellation_reason == "hold_expired" and _seat_back(session, booking, event):
        return _mark_paid(session, booking, event, payment_id)
    return _refund_in(session, booking, event, payment_id, reason="late_payment")


def _payment_row(session: Session, payment_id: str) -> Payment | None:
    return session.exec(select(Payment).where(Payment.razorpay_payment_id == payment_id)).first()


def _record_payment(session: Session, booking: Booking, known: Payment | None, payment_id: str,
                    amount_paise: int | None) -> None:
    """Every captured payment is written down, so none can be forgotten."""
    payment = known or Payment(booking_id=booking.id,  # type: ignore[arg-type]
                               razorpay_payment_id=payment_id, status="captured")
    payment.razorpay_order_id = booking.razorpay_order_id
    payment.amount = (Decimal(amount_paise) / 100) if amount_paise is not None else booking.amount
    payment.currency = booking.currency
    payment.status = "captured"
    payment.error_code = None
    payment.error_description = None
    session.add(payment)


def _mark_paid(session: Session, booking: Booking, event: Event, payment_id: str) -> Applied:
    from crm_booking.services.booking import notify

    now = clock.now()
    booking.status = BookingStatus.CONFIRMED.value
    booking.payment_status = PaymentStatus.COMPLETED.value
    booking.payment_id = payment_id
    booking.paid_at = now
    booking.payment_error_code = None
    booking.payment_error_description = None
    booking.cancellation_reason = None
    booking.cancelled_at = None
    booking.updated_at = now
    session.add(booking)
    session.flush()
    notify(session, Action.PAYMENT_COMPLETED, booking, event, extra={"payment_id": payment_id})
    return Applied(booking, Outcome.PAID)


def _seat_back(session: Session, booking: Booking, event: Event) -> bool:
    """A payment that lands after its hold lapsed takes a seat again if one is free (the same
    conditional UPDATE as booking creation) and the event is still on."""
    from crm_booking.services.booking import _take_seat

    if not event.is_active or event.cancelled_at is not None or event.deleted_at is not None:
        return False
    if clock.as_utc(event.start_at) <= clock.now():
        return False
    rebooked = session.exec(select(Booking.id).where(
        Booking.user_id == booking.user_id, Booking.event_id == booking.event_id,
        Booking.status == BookingStatus.CONFIRMED.value, Booking.id != booking.id,
    )).first()
    if rebooked is not None:
        return False  # the attendee booked again meanwhile; this payment is refunded
    return _take_seat(session, event.id)  # type: ignore[arg-type]


def _refund_in(session: Session, booking: Booking, event: Event, payment_id: str, *,
               reason: str) -> Applied:
    from crm_booking.services.booking import notify

    if booking.payment_status in (PaymentStatus.PENDING.value, PaymentStatus.FAILED.value):
        # The booking's own payment arrived too late: it is the one being refunded.
        booking.payment_status = PaymentStatus.COMPLETED.value
        booking.payment_id = payment_id
        booking.paid_at = clock.now()
        booking.updated_at = clock.now()
        session.add(booking)
    pending = refund.record(session, booking, reason=reason, payment_id=payment_id,
                            amount=_captured_amount(session, payment_id, booking))
    session.flush()
    notify(session, Action.LATE_PAYMENT_REFUNDED, booking, event, key_suffix=payment_id,
           extra={"payment_id": payment_id, "reason": reason,
                  "refund": refund.summary(pending)})
    return Applied(booking, Outcome.REFUNDING, pending)


def _captured_amount(session: Session, payment_id: str, booking: Booking) -> Decimal:
    payment = _payment_row(session, payment_id)
    return payment.amount if payment is not None else booking.amount


# --- callbacks ----------------------------------------------------------------------------------


def record_success(*, order_id: str, payment_id: str, signature: str) -> Applied:
    """Endpoint 15: the checkout's success handler. The signature proves the gateway issued it."""
    if not get_gateway().verify_payment_signature(order_id=order_id, payment_id=payment_id,
                                                  signature=signature):
        raise BadRequest("Invalid payment signature")
    return apply_captured(order_id=order_id, payment_id=payment_id)


def record_failure(*, order_id: str, payment_id: str | None, error_code: str | None,
                   error_description: str | None) -> Booking:
    """Endpoint 16: pending → failed with the reason kept; the attendee may pay again on the same
    order while the hold lasts. A failure never overrides a success (a success after a failure
    wins, a failure after a success is ignored)."""
    with transaction() as session:
        booking = _locked_booking(session, order_id)
        if payment_id and _payment_row(session, payment_id) is not None:
            return booking  # this payment is already known (replay, or it was captured)
        if payment_id:
            session.add(Payment(
                booking_id=booking.id,  # type: ignore[arg-type]
                razorpay_payment_id=payment_id, razorpay_order_id=order_id,
                amount=booking.amount, currency=booking.currency, status="failed",
                error_code=_clip(error_code, 100), error_description=_clip(error_description, 500),
            ))
        if booking.payment_status == PaymentStatus.PENDING.value or (
            booking.payment_status == PaymentStatus.FAILED.value
        ):
            _mark_failed(session, booking, payment_id, error_code, error_description)
        return booking


def _mark_failed(session: Session, booking: Booking, payment_id: str | None,
                 error_code: str | None, error_description: str | None) -> None:
    from crm_booking.services.booking import notify

    booking.payment_status = PaymentStatus.FAILED.value
    booking.payment_error_code = _clip(error_code, 100)
    booking.payment_error_description = _clip(error_description, 500)
    booking.updated_at = clock.now()
    session.add(booking)
    session.flush()
    if booking.status == BookingStatus.CONFIRMED.value:
        event = session.get(Event, booking.event_id)
        assert event is not None
        notify(session, Action.PAYMENT_FAILED, booking, event,
               key_suffix=payment_id or secrets.token_hex(6),
               extra={"error_code": booking.payment_error_code,
                      "error_description": booking.payment_error_description})


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else value


# --- webhooks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    event_type: str
    duplicate: bool


def handle_webhook(*, raw_body: bytes, signature: str, event_id: str | None) -> WebhookResult:
    """Razorpay webhook: verify the signature over the raw body, ignore repeats by event id, and
    reconcile through the same functions as the callbacks."""
    text = raw_body.decode("utf-8", errors="replace")
    if not signature or not get_gateway().verify_webhook_signature(body=text, signature=signature):
        raise BadRequest("Invalid webhook signature")
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise BadRequest("Malformed webhook body") from exc
    event_type = str(body.get("event", ""))
    key = event_id or hashlib.sha256(raw_body).hexdigest()
    if _seen(key):
        return WebhookResult(event_type, duplicate=True)
    _dispatch(event_type, body.get("payload") or {})
    _remember(key, event_type)
    return WebhookResult(event_type, duplicate=False)


def _seen(key: str) -> bool:
    with read_session() as session:
        return session.exec(select(WebhookEvent.id).where(WebhookEvent.event_id == key)).first() \
            is not None


def _remember(key: str, event_type: str) -> None:
    """Written after the work succeeded, so a delivery that failed half-way is retried by the
    gateway; a concurrent twin is harmless because every handler is idempotent."""
    try:
        with transaction() as session:
            session.add(WebhookEvent(event_id=key[:100], event_type=event_type[:64]))
    except sa.exc.IntegrityError:
        pass


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = (payload.get(name) or {}).get("entity") or {}
    return value if isinstance(value, dict) else {}


def _dispatch(event_type: str, payload: dict[str, Any]) -> None:
    payment_entity = _entity(payload, "payment")
    if event_type in ("payment.captured", "order.paid"):
        _webhook_captured(payment_entity, _entity(payload, "order"))
    elif event_type == "payment.failed":
        _webhook_failed(payment_entity)
    elif event_type == "refund.processed":
        entity = _entity(payload, "refund")
        notes = entity.get("notes") if isinstance(entity.get("notes"), dict) else {}
        if entity.get("id"):
            refund.mark_processed(gateway_refund_id=str(entity["id"]),
                                  payment_id=entity.get("payment_id"),
                                  idempotency_key=(notes or {}).get("idempotency_key"))
    else:
        log.info("webhook %s ignored", event_type)


def _webhook_captured(payment_entity: dict[str, Any], order_entity: dict[str, Any]) -> None:
    order_id = payment_entity.get("order_id") or order_entity.get("id")
    payment_id = payment_entity.get("id")
    if not order_id or not payment_id:
        raise BadRequest("Webhook payload lacks the payment or order id")
    if payment_entity.get("status") not in (None, "captured"):
        log.info("webhook for payment %s in status %s ignored", payment_id,
                 payment_entity.get("status"))
        return
    try:
        apply_captured(order_id=str(order_id), payment_id=str(payment_id),
                       amount_paise=_int_or_none(payment_entity.get("amount")))
    except NotFound:
        # Not one of our orders (another integration on the same account): nothing to apply.
        log.warning("captured payment %s for unknown order %s", payment_id, order_id)


def _webhook_failed(payment_entity: dict[str, Any]) -> None:
    order_id, payment_id = payment_entity.get("order_id"), payment_entity.get("id")
    if not order_id:
        return
    try:
        record_failure(order_id=str(order_id), payment_id=str(payment_id) if payment_id else None,
                       error_code=payment_entity.get("error_code"),
                       error_description=payment_entity.get("error_description"))
    except NotFound:
        log.warning("failed payment %s for unknown order %s", payment_id, order_id)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- checkout page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutPage:
    booking: Booking
    event: Event
    gateway: str  # razorpay | sandbox
    key_id: str
    payable: bool


def open_checkout(reference: str, token: str) -> CheckoutPage:
    """What the checkout page shows; creates the gateway order first when it is still missing."""
    booking, event = _booking_for_link(reference, token)
    payable = needs_payment(booking) and not _hold_lapsed(booking)
    if payable and booking.razorpay_order_id is None:
        booking = ensure_order(booking.id)  # type: ignore[arg-type]
    gateway = get_gateway()
    return CheckoutPage(booking, event, gateway.name, gateway.key_id, payable)


def _booking_for_link(reference: str, token: str) -> tuple[Booking, Event]:
    if not hmac.compare_digest(checkout_token(reference), token or ""):
        raise NotFound("Booking not found")  # a wrong token looks exactly like a missing booking
    with read_session() as session:
        booking = session.exec(select(Booking).where(Booking.booking_reference == reference)).first()
        if booking is None:
            raise NotFound("Booking not found")
        event = session.get(Event, booking.event_id)
        assert event is not None
        return booking, event


def _hold_lapsed(booking: Booking) -> bool:
    return booking.hold_expires_at is not None and clock.as_utc(booking.hold_expires_at) <= clock.now()


def sandbox_callback(reference: str, token: str, *, succeed: bool) -> dict[str, str]:
    """The sandbox checkout's buttons: make up a payment on the booking's order and sign it with
    the sandbox secret. The page then posts these fields to /payment/success or /payment/failure,
    so the sandbox goes through exactly the checks a real Razorpay callback does."""
    gateway = get_gateway()
    if not isinstance(gateway, SandboxGateway):
        raise NotFound("Resource not found")  # real keys configured: no sandbox payments
    page = open_checkout(reference, token)
    if not page.payable or page.booking.razorpay_order_id is None:
        raise BadRequest("This booking cannot be paid now")
    order_id = page.booking.razorpay_order_id
    payment_id = f"pay_sbx_{secrets.token_hex(7)}"
    if succeed:
        return {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id,
                "razorpay_signature": gateway.signature_for(order_id=order_id,
                                                            payment_id=payment_id)}
    return {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id,
            "error_code": "SANDBOX_DECLINED",
            "error_description": "Declined in the sandbox checkout (no real money)"}
