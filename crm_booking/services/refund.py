"""Refunds: recorded with an idempotency key inside the cancelling transaction, sent to the
gateway only after commit, and retried by the background job until the gateway accepts them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import read_session, transaction
from crm_booking.gateways.payments import GatewayFailure, get_gateway
from crm_booking.models import Booking, PaymentStatus, Refund, RefundStatus
from crm_booking.services.views import money
from crm_booking.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quote:
    refundable: bool
    amount: float
    currency: str


def quote(booking: Booking) -> Quote:
    paid = booking.payment_status == PaymentStatus.COMPLETED.value and bool(booking.payment_id)
    amount = money(booking.amount) if paid and booking.amount > 0 else 0.0
    return Quote(refundable=amount > 0, amount=amount, currency=booking.currency)


def idempotency_key(booking: Booking, payment_id: str) -> str:
    return f"booking-{booking.id}-refund-{payment_id}"


def record(session: Session, booking: Booking, *, reason: str,
           payment_id: str | None = None, amount: Decimal | None = None) -> Refund | None:
    """Record the refund a cancellation owes, once per payment (the key makes repeats no-ops)."""
    payment_id = payment_id or (
        booking.payment_id if booking.payment_status == PaymentStatus.COMPLETED.value else None
    )
    amount = booking.amount if amount is None else amount
    if not payment_id or amount <= 0:
        return None
    key = idempotency_key(booking, payment_id)
    existing = session.exec(select(Refund).where(Refund.idempotency_key == key)).first()
    if existing is not None:
        return existing
    pending = Refund(
        booking_id=booking.id,  # type: ignore[arg-type]
        razorpay_payment_id=payment_id, idempotency_key=key, reason=reason,
        amount=amount, currency=booking.currency,
    )
    session.add(pending)
    session.flush()
    return pending


def summary(refund: Refund | None) -> dict[str, Any] | None:
    if refund is None:
        return None
    return {"refund_id": refund.razorpay_refund_id, "amount": money(refund.amount),
            "currency": refund.currency, "status": refund.status}


def _lease() -> timedelta:
    """How long one attempt may take (listing + creating at the gateway, each with its
    timeout): a younger attempt is presumed still running and is left alone by the job."""
    return timedelta(seconds=2 * get_settings().RAZORPAY_TIMEOUT_SECONDS + 2)


def _claim(refund_id: int, seen_updated_at: datetime) -> bool:
    """Take this attempt: a conditional UPDATE on the `updated_at` we read, so of two callers
    (a request and the job, or two workers) exactly one goes on to call the gateway."""
    with transaction() as session:
        result = session.execute(
            sa.update(Refund)
            .where(col(Refund.id) == refund_id, col(Refund.updated_at) == seen_updated_at,
                   col(Refund.status) != RefundStatus.PROCESSED.value)
            .values(updated_at=clock.now(), attempts=col(Refund.attempts) + 1)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _load(refund_id: int) -> Refund:
    with read_session() as session:
        stored = session.get(Refund, refund_id)
        assert stored is not None
        return stored


def process(refund_id: int) -> Refund:
    """Send one recorded refund to the gateway (no lock held) and record the answer.

    The gateway adapter first looks for a refund already created under this idempotency key,
    so an attempt whose answer was lost (timeout) is never refunded a second time."""
    pending = _load(refund_id)
    if pending.razorpay_refund_id or pending.status == RefundStatus.PROCESSED.value:
        return pending
    if not _claim(refund_id, pending.updated_at):
        return _load(refund_id)  # another request or worker is on it right now
    try:
        answer = get_gateway().refund(
            payment_id=pending.razorpay_payment_id,
            amount_paise=to_paise(pending.amount),
            idempotency_key=pending.idempotency_key,
            notes={"booking_id": str(pending.booking_id), "reason": pending.reason},
        )
    except GatewayFailure as failure:
        log.warning("refund %s not done: %s", refund_id, failure)
        return _record_failure(refund_id, str(failure), retryable=failure.retryable)
    return _record_success(refund_id, answer.refund_id, answer.status)


def to_paise(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _record_success(refund_id: int, gateway_refund_id: str, status: str) -> Refund:
    with transaction() as session:
        stored = session.get(Refund, refund_id)
        assert stored is not None
        stored.razorpay_refund_id = gateway_refund_id
        if stored.status != RefundStatus.PROCESSED.value:  # a webhook may have been faster
            stored.status = (RefundStatus.PROCESSED.value if status == "processed"
                             else RefundStatus.PENDING.value)
        stored.failure_reason = None
        stored.updated_at = clock.now()
        session.add(stored)
        _mark_booking_refunded(session, stored)
        return stored


def _mark_booking_refunded(session: Session, stored: Refund) -> None:
    """The booking shows `refunded` once the gateway accepted the refund of ITS payment (a
    refunded duplicate payment leaves a paid booking paid)."""
    booking = session.get(Booking, stored.booking_id)
    if (booking is not None and booking.payment_status == PaymentStatus.COMPLETED.value
            and booking.payment_id == stored.razorpay_payment_id):
        booking.payment_status = PaymentStatus.REFUNDED.value
        booking.updated_at = clock.now()
        session.add(booking)


def _record_failure(refund_id: int, reason: str, *, retryable: bool) -> Refund:
    """Retryable problems (timeouts, gateway errors) stay `pending` for the job; a refusal is
    `failed` and listed for the facilitator (cancelling the event again retries it)."""
    with transaction() as session:
        stored = session.get(Refund, refund_id)
        assert stored is not None
        if stored.status == RefundStatus.PROCESSED.value or stored.razorpay_refund_id:
            return stored
        stored.status = RefundStatus.PENDING.value if retryable else RefundStatus.FAILED.value
        stored.failure_reason = reason[:500]
        stored.updated_at = clock.now()
        session.add(stored)
        return stored


def retry_unfinished(limit: int = 50, max_attempts: int = 20) -> int:
    """Background job: refunds the gateway has not accepted yet (timeouts, gateway errors) are
    tried again, but only once no request has touched them for a lease period."""
    stale_before = clock.now() - _lease()
    with read_session() as session:
        ids = session.exec(
            select(Refund.id).where(
                col(Refund.status) == RefundStatus.PENDING.value,
                col(Refund.razorpay_refund_id).is_(None),
                col(Refund.updated_at) < stale_before,
                col(Refund.attempts) < max_attempts,
            ).order_by(col(Refund.id)).limit(limit)
        ).all()
    for refund_id in ids:
        process(refund_id)  # type: ignore[arg-type]
    return len(ids)


def mark_processed(*, gateway_refund_id: str, payment_id: str | None,
                   idempotency_key: str | None) -> Refund | None:
    """`refund.processed` webhook: the gateway finished a refund. Found by its gateway id, or by
    our key in its notes when the answer to our request was lost."""
    with transaction() as session:
        stored = session.exec(
            select(Refund).where(Refund.razorpay_refund_id == gateway_refund_id)
        ).first()
        if stored is None and idempotency_key:
            stored = session.exec(
                select(Refund).where(Refund.idempotency_key == idempotency_key)
            ).first()
        if stored is None or (payment_id and stored.razorpay_payment_id != payment_id):
            return None
        stored.razorpay_refund_id = gateway_refund_id
        stored.status = RefundStatus.PROCESSED.value
        stored.failure_reason = None
        stored.updated_at = clock.now()
        session.add(stored)
        _mark_booking_refunded(session, stored)
        return stored


def for_event(event_id: int) -> list[Refund]:
    """Every refund of an event's bookings, whatever the reason, oldest first."""
    with read_session() as session:
        return list(session.exec(
            select(Refund).join(Booking, col(Booking.id) == Refund.booking_id)
            .where(Booking.event_id == event_id).order_by(col(Refund.id))
        ).all())


def refunds_for_event(event_id: int, reason: str = "event_cancelled") -> list[Refund]:
    with read_session() as session:
        return list(session.exec(
            select(Refund).join(Booking, col(Booking.id) == Refund.booking_id)
            .where(Booking.event_id == event_id, Refund.reason == reason)
            .order_by(col(Refund.id))
        ).all())


def total(refunds: list[Refund]) -> float:
    return money(sum((r.amount for r in refunds), Decimal("0")))


