"""Payments: gateway orders for bookings, the checkout link, and reconciling what the gateway
reports (success/failure callbacks and webhooks).

Every captured payment goes through ONE function, `apply_captured`, so the callback, the webhook
and a late payment after the hold lapsed all end the same way: the booking is paid and holds a
seat, or the payment is refunded. Gateway calls happen only after the commit (no lock held).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock, pause
from crm_booking.db import read_session, reread, transaction
from crm_booking.errors import BadRequest, NotFound, ServiceUnavailable
from crm_booking.gateways.payments import GatewayFailure, SandboxGateway, get_gateway
from crm_booking.models import (
    Booking,
    BookingStatus,
    Event,
    Payment,
    PaymentStatus,
    Refund,
    User,
    WebhookEvent,
)
from crm_booking.services import checkout_links, refund
from crm_booking.services.notifications import Action
from crm_booking.services.passes import PassApplied, PurchaseRow
from crm_booking.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkout:
    booking: Booking
    payment_url: str | None


def checkout_token(reference: str) -> str:
    """Ties a checkout link to its booking, so references cannot be guessed into payments."""
    return checkout_links.token_for(f"checkout:{reference}")


def checkout_url(reference: str) -> str:
    return checkout_links.page_url(reference, checkout_token(reference))


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
        # The notes identify this booking of this database: an order found by its receipt after
        # a timeout is ours only if they match (see RazorpayGateway.create_order).
        notes={"booking_id": str(booking.id), "event_id": str(booking.event_id),
               "booking_reference": booking.booking_reference or "",
               "booking_created_at": clock.as_utc(booking.created_at).isoformat()},
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


def apply_captured(*, order_id: str, payment_id: str, amount_paise: int | None = None,
                   send_refund: bool = True) -> Applied:
    """Apply one captured payment to its booking, whichever channel reported it. Idempotent.

    A captured payment always ends with a seat or a refund: a booking whose hold lapsed gets a
    seat back if one is free; otherwise, or when the booking/event was cancelled meanwhile,
    a refund is recorded in the same transaction and sent to the gateway after the commit
    (`send_refund`), or left to the refund job (webhooks and jobs must not wait on the gateway).
    """
    from crm_booking.services.booking import lock_booking_and_event

    with transaction() as session:
        # Event first, then the booking (the one lock order): an event cancel in progress is
        # waited for, and this payment then sees its booking cancelled and is refunded.
        locked = lock_booking_and_event(session, col(Booking.razorpay_order_id) == order_id)
        if locked is None:
            raise NotFound("Booking not found")
        booking, event = locked
        pause.point("apply_captured.locked")
        applied = _apply_in(session, booking, event, payment_id, amount_paise)
        refund_id = applied.refund.id if applied.refund is not None else None
    if refund_id is not None and applied.outcome == Outcome.REFUNDING and send_refund:
        processed = refund.process(refund_id)
        return Applied(reread(Booking, booking.id), applied.outcome, processed)  # type: ignore[arg-type]
    return applied


def _apply_in(session: Session, booking: Booking, event: Event, payment_id: str,
              amount_paise: int | None) -> Applied:
    known = _payment_row(session, payment_id)
    if known is not None and known.status == "captured":
        owed = session.exec(select(Refund).where(Refund.razorpay_payment_id == payment_id)).first()
        return Applied(booking, Outcome.ALREADY_RECORDED, owed)
    _record_payment(session, booking, known, payment_id, amount_paise)
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
    """A payment that lands after its hold lapsed takes a seat again if one is free and the event
    is still open, future and not deleted (the same conditional UPDATE as booking creation)."""
    from crm_booking.services.booking import _take_seat

    rebooked = session.exec(select(Booking.id).where(
        Booking.user_id == booking.user_id, Booking.event_id == booking.event_id,
        Booking.status == BookingStatus.CONFIRMED.value, Booking.id != booking.id,
    )).first()
    if rebooked is not None:
        return False  # the attendee booked again meanwhile; this payment is refunded
    return _take_seat(session, event)


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
    # A second payment on a paid booking keeps the seat: its own notice, no calendar change.
    action = (Action.DUPLICATE_PAYMENT_REFUNDED if reason == "duplicate_payment"
              else Action.LATE_PAYMENT_REFUNDED)
    notify(session, action, booking, event, key_suffix=payment_id,
           extra={"payment_id": payment_id, "reason": reason,
                  "refund": refund.summary(pending)})
    return Applied(booking, Outcome.REFUNDING, pending)


def _captured_amount(session: Session, payment_id: str, booking: Booking) -> Decimal:
    payment = _payment_row(session, payment_id)
    return payment.amount if payment is not None else booking.amount


# --- callbacks ----------------------------------------------------------------------------------


def apply_any(*, order_id: str, payment_id: str, amount_paise: int | None,
              send_refund: bool) -> Applied | PassApplied:
    """A captured payment on one of our orders: a booking's, or (issue 17) a class pass's."""
    from crm_booking.services import passes

    if passes.owns_order(order_id):
        return passes.apply_captured(order_id=order_id, payment_id=payment_id,
                                     amount_paise=amount_paise, send_refund=send_refund)
    return apply_captured(order_id=order_id, payment_id=payment_id, amount_paise=amount_paise,
                          send_refund=send_refund)


def record_success(*, order_id: str, payment_id: str,
                   signature: str) -> Applied | PassApplied:
    """Endpoint 15: the checkout's success handler. The signature proves the gateway issued it,
    but only that the payment was *authorised*: the payment is fetched, captured when it is
    only `authorized`, and applied once it is `captured` (money in)."""
    if not get_gateway().verify_payment_signature(order_id=order_id, payment_id=payment_id,
                                                  signature=signature):
        raise BadRequest("Invalid payment signature")
    _require_order(order_id)
    try:
        entity = get_gateway().fetch_payment(payment_id)
        captured, amount = _money_in(entity, order_id)
    except GatewayFailure as failure:
        log.warning("payment %s not confirmed with the gateway: %s", payment_id, failure)
        if failure.retryable:
            raise ServiceUnavailable("The payment could not be confirmed with Razorpay yet; it "
                                     "will be reconciled automatically") from failure
        raise BadRequest("The payment could not be confirmed") from failure
    # A payment we recorded as captured may since have been refunded (a repeat callback).
    refunded_since = entity.get("status") == "refunded" and bool(_recorded_captures([payment_id]))
    if not captured and not refunded_since:
        raise BadRequest(f"The payment is not completed (status: {entity.get('status')})")
    return apply_any(order_id=order_id, payment_id=payment_id, amount_paise=amount,
                     send_refund=True)


def _require_order(order_id: str) -> None:
    from crm_booking.services import passes

    with read_session() as session:
        if session.exec(select(Booking.id).where(Booking.razorpay_order_id == order_id)).first() \
                is None and not passes.owns_order(order_id):
            raise NotFound("Booking not found")


def _money_in(entity: dict[str, Any], order_id: str) -> tuple[bool, int | None]:
    """Whether a gateway payment brought money in, and how much (paise, when the gateway says),
    capturing it first when it is only authorised. Only `captured` is money in."""
    if entity.get("order_id") not in (None, order_id):
        raise GatewayFailure(f"payment {entity.get('id')} belongs to another order",
                             retryable=False)
    if entity.get("status") == "authorized":
        entity = get_gateway().capture_payment(
            payment_id=str(entity["id"]), amount_paise=int(entity["amount"]),
            currency=str(entity.get("currency") or "INR"))
    if entity.get("status") != "captured":
        return False, None
    return True, _int_or_none(entity.get("amount"))


def record_failure(*, order_id: str, payment_id: str | None, error_code: str | None,
                   error_description: str | None) -> Booking | PurchaseRow:
    """Endpoint 16: pending → failed with the reason kept; the attendee may pay again on the same
    order while the hold lasts. A failure never overrides a success (a success after a failure
    wins, a failure after a success is ignored). A class pass's order: its own (issue 17)."""
    from crm_booking.services import passes
    from crm_booking.services.booking import lock_booking_and_event

    if passes.owns_order(order_id):
        return passes.record_failure(order_id=order_id, payment_id=payment_id,
                                     error_code=error_code, error_description=error_description)

    with transaction() as session:
        locked = lock_booking_and_event(session, col(Booking.razorpay_order_id) == order_id)
        if locked is None:
            raise NotFound("Booking not found")
        booking = locked[0]
        pause.point("record_failure.locked")
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

    first_failure = booking.payment_status == PaymentStatus.PENDING.value
    booking.payment_status = PaymentStatus.FAILED.value
    booking.payment_error_code = _clip(error_code, 100)
    booking.payment_error_description = _clip(error_description, 500)
    booking.updated_at = clock.now()
    session.add(booking)
    session.flush()
    if booking.status == BookingStatus.CONFIRMED.value and first_failure:
        event = session.get(Event, booking.event_id)
        assert event is not None
        # At most one failure notice per booking per hold (pending -> failed happens once per
        # hold; the key says which hold), however often the unsigned callback is called. The
        # caller's description is kept for staff, never sent to the attendee.
        notify(session, Action.PAYMENT_FAILED, booking, event, key_suffix=_hold_key(booking),
               extra={"error_code": booking.payment_error_code})


def _hold_key(booking: Booking) -> str:
    if booking.hold_expires_at is None:
        return "hold"
    return f"hold-{int(clock.as_utc(booking.hold_expires_at).timestamp())}"


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
    elif event_type in ("refund.processed", "refund.failed"):
        _webhook_refund(event_type, _entity(payload, "refund"))
    else:
        log.info("webhook %s ignored", event_type)


def _webhook_refund(event_type: str, entity: dict[str, Any]) -> None:
    notes = entity.get("notes") if isinstance(entity.get("notes"), dict) else {}
    if not entity.get("id"):
        return
    gateway_refund_id, payment_id = str(entity["id"]), entity.get("payment_id")
    key = (notes or {}).get("idempotency_key")
    if event_type == "refund.processed":
        refund.mark_processed(gateway_refund_id=gateway_refund_id, payment_id=payment_id,
                              idempotency_key=key)
    else:
        refund.mark_failed(gateway_refund_id=gateway_refund_id, payment_id=payment_id,
                           idempotency_key=key, reason=entity.get("error_description"))


def _webhook_captured(payment_entity: dict[str, Any], order_entity: dict[str, Any]) -> None:
    order_id = payment_entity.get("order_id") or order_entity.get("id")
    payment_id = payment_entity.get("id")
    if not order_id or not payment_id:
        # Not an order payment (a payment link, QR code...): not ours to apply. Acknowledged,
        # or Razorpay would retry it for a day.
        log.warning("captured payment %s without an order id acknowledged and ignored",
                    payment_id)
        return
    if payment_entity.get("status") not in (None, "captured"):
        log.info("webhook for payment %s in status %s ignored", payment_id,
                 payment_entity.get("status"))
        return
    try:
        # The refund a late payment owes is recorded here and sent by the refund job: a webhook
        # must be answered within 5 seconds, the gateway may take two timeouts.
        apply_any(order_id=str(order_id), payment_id=str(payment_id),
                  amount_paise=_int_or_none(payment_entity.get("amount")), send_refund=False)
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


# --- payments nobody reported (webhook retries ran out, the browser closed) -----------------------


def collect_unreported_for_bookings(booking_ids: Sequence[int]) -> int:
    """Before holds are expired: ask the gateway for the payments of these bookings' orders and
    apply any captured (or authorised, then captured) one nobody reported. If the gateway cannot
    be asked the holds are expired anyway (the seat is not kept hostage to an outage); the
    reconcile job finds such a payment later and `apply_captured` gives it a seat or a refund."""
    if not booking_ids:
        return 0
    with read_session() as session:
        orders = session.exec(select(Booking.razorpay_order_id).where(
            col(Booking.id).in_(booking_ids), col(Booking.razorpay_order_id).is_not(None))).all()
    applied = 0
    for order_id in orders:
        assert order_id is not None
        try:
            entities = get_gateway().order_payments(order_id)
        except GatewayFailure as failure:
            log.warning("payments of order %s not checked before its hold lapses: %s",
                        order_id, failure)
            if failure.retryable:
                break  # the gateway is down: do not wait on it once per hold
            continue
        applied += _apply_unknown(order_id, entities)
    return applied


def reconcile_recent_payments() -> int:
    """Scheduled job: the gateway's recent captured/authorised payments on our orders that we
    have not recorded are applied through `apply_captured` (seat or refund). Bounded: one
    listing of at most PAYMENT_RECONCILE_MAX_PAYMENTS, each call with its timeout."""
    settings = get_settings()
    since = int(time.time() - settings.PAYMENT_RECONCILE_HOURS * 3600)  # the gateway's clock
    try:
        entities = get_gateway().recent_payments(
            since=since, limit=settings.PAYMENT_RECONCILE_MAX_PAYMENTS)
    except GatewayFailure as failure:
        log.warning("payments not reconciled this time: %s", failure)
        return 0
    candidates = [e for e in entities if e.get("order_id") and e.get("id")
                  and e.get("status") in ("captured", "authorized")]
    known = _recorded_captures(str(e["id"]) for e in candidates)
    ours = _our_orders(str(e["order_id"]) for e in candidates)
    applied = 0
    for entity in candidates:
        if str(entity["id"]) not in known and str(entity["order_id"]) in ours:
            applied += _apply_unknown(str(entity["order_id"]), [entity])
    if applied:
        log.warning("reconcile: %d payment(s) nobody had reported were applied", applied)
    return applied


_reconcile_lock = threading.Lock()
_last_reconcile = [float("-inf")]


def reconcile_when_due() -> int:
    """`reconcile_recent_payments` at most every PAYMENT_RECONCILE_INTERVAL_SECONDS in this
    process (for a loop that ticks faster than that)."""
    with _reconcile_lock:
        now = time.monotonic()
        if now - _last_reconcile[0] < get_settings().PAYMENT_RECONCILE_INTERVAL_SECONDS:
            return 0
        _last_reconcile[0] = now
    return reconcile_recent_payments()


def _apply_unknown(order_id: str, entities: Iterable[dict[str, Any]]) -> int:
    applied = 0
    for entity in entities:
        payment_id = str(entity.get("id") or "")
        if entity.get("status") not in ("captured", "authorized") or not payment_id \
                or payment_id in _recorded_captures([payment_id]):
            continue
        try:
            captured, amount = _money_in(entity, order_id)
        except GatewayFailure as failure:
            log.warning("payment %s of order %s not captured yet: %s", payment_id, order_id,
                        failure)
            continue
        if captured:
            log.warning("payment %s of order %s was never reported; applying it",
                        payment_id, order_id)
            apply_any(order_id=order_id, payment_id=payment_id, amount_paise=amount,
                      send_refund=False)
            applied += 1
    return applied


def _recorded_captures(payment_ids: Iterable[str]) -> set[str]:
    wanted = list(payment_ids)
    if not wanted:
        return set()
    with read_session() as session:
        return {str(pid) for pid in session.exec(select(Payment.razorpay_payment_id).where(
            col(Payment.razorpay_payment_id).in_(wanted), Payment.status == "captured")).all()}


def _our_orders(order_ids: Iterable[str]) -> set[str]:
    wanted = list(set(order_ids))
    if not wanted:
        return set()
    from crm_booking.services import passes

    with read_session() as session:
        bookings = {str(oid) for oid in session.exec(select(Booking.razorpay_order_id).where(
            col(Booking.razorpay_order_id).in_(wanted))).all()}
    return bookings | passes.orders_among(wanted)


# --- checkout page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutPage:
    booking: Booking
    event: Event
    gateway: str  # razorpay | sandbox
    key_id: str
    payable: bool
    seconds_left: int | None  # of the seat hold (None: no hold); Razorpay Checkout's `timeout`
    prefill: dict[str, str]  # only the attendee's real values: a null breaks the card form


def open_checkout(reference: str, token: str) -> CheckoutPage:
    """What the checkout page shows; creates the gateway order first when it is still missing
    (a GatewayFailure then means the gateway is unreachable: the page says so)."""
    booking, event, attendee = _booking_for_link(reference, token)
    seconds_left = _hold_seconds_left(booking)
    payable = needs_payment(booking) and (seconds_left is None or seconds_left > 0)
    if payable and booking.razorpay_order_id is None:
        booking = ensure_order(booking.id)  # type: ignore[arg-type]
    gateway = get_gateway()
    return CheckoutPage(booking, event, gateway.name, gateway.key_id, payable,
                        seconds_left if payable else None, checkout_links.prefill(attendee))


def _booking_for_link(reference: str, token: str) -> tuple[Booking, Event, User | None]:
    if not checkout_links.token_matches(checkout_token(reference), token):
        raise NotFound("Booking not found")  # a wrong token looks exactly like a missing booking
    with read_session() as session:
        booking = session.exec(select(Booking).where(Booking.booking_reference == reference)).first()
        if booking is None:
            raise NotFound("Booking not found")
        event = session.get(Event, booking.event_id)
        assert event is not None
        return booking, event, session.get(User, booking.user_id)


def _hold_seconds_left(booking: Booking) -> int | None:
    """Whole seconds until the hold lapses (rounded down, so Checkout closes no later)."""
    if booking.hold_expires_at is None:
        return None
    return max(0, int((clock.as_utc(booking.hold_expires_at) - clock.now()).total_seconds()))


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
    return gateway.checkout_fields(page.booking.razorpay_order_id, succeed=succeed)
