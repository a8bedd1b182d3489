"""Refunds: recorded with an idempotency key inside the cancelling transaction, sent to the
gateway only after commit, and retried by the background job until the gateway accepts them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import read_session, transaction
from crm_booking.gateways.payments import GatewayFailure, get_gateway
from crm_booking.models import Booking, PaymentStatus, Refund, RefundStatus
from crm_booking.services.views import money


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


def process(refund_id: int) -> Refund:
    """Send one recorded refund to the gateway (no lock held) and record the answer."""
    with read_session() as session:
        pending = session.get(Refund, refund_id)
        assert pending is not None
    if pending.status == RefundStatus.PROCESSED.value:
        return pending
    try:
        answer = get_gateway().refund(
            payment_id=pending.razorpay_payment_id,
            amount_paise=int(pending.amount * 100),
            idempotency_key=pending.idempotency_key,
            notes={"booking_id": str(pending.booking_id), "reason": pending.reason},
        )
    except GatewayFailure as failure:
        return _record_failure(refund_id, str(failure))
    return _record_success(refund_id, answer.refund_id, answer.status)


def _record_success(refund_id: int, gateway_refund_id: str, status: str) -> Refund:
    with transaction() as session:
        stored = session.get(Refund, refund_id)
        assert stored is not None
        stored.razorpay_refund_id = gateway_refund_id
        stored.status = RefundStatus.PROCESSED.value if status == "processed" else RefundStatus.PENDING.value
        stored.attempts += 1
        stored.failure_reason = None
        stored.updated_at = clock.now()
        session.add(stored)
        booking = session.get(Booking, stored.booking_id)
        if booking is not None and booking.payment_status == PaymentStatus.COMPLETED.value:
            booking.payment_status = PaymentStatus.REFUNDED.value
            booking.updated_at = clock.now()
            session.add(booking)
        return stored


def _record_failure(refund_id: int, reason: str) -> Refund:
    with transaction() as session:
        stored = session.get(Refund, refund_id)
        assert stored is not None
        stored.status = RefundStatus.FAILED.value
        stored.failure_reason = reason[:500]
        stored.attempts += 1
        stored.updated_at = clock.now()
        session.add(stored)
        return stored


def retry_unfinished(limit: int = 50, max_attempts: int = 10) -> int:
    """Background job: refunds not yet accepted by the gateway are tried again."""
    with read_session() as session:
        ids = session.exec(
            select(Refund.id).where(
                col(Refund.status).in_([RefundStatus.PENDING.value, RefundStatus.FAILED.value]),
                col(Refund.razorpay_refund_id).is_(None),
                Refund.attempts < max_attempts,
            ).order_by(col(Refund.id)).limit(limit)
        ).all()
    for refund_id in ids:
        process(refund_id)  # type: ignore[arg-type]
    return len(ids)


def refunds_for_event(event_id: int, reason: str = "event_cancelled") -> list[Refund]:
    with read_session() as session:
        return list(session.exec(
            select(Refund).join(Booking, col(Booking.id) == Refund.booking_id)
            .where(Booking.event_id == event_id, Refund.reason == reason)
            .order_by(col(Refund.id))
        ).all())


def total(refunds: list[Refund]) -> float:
    return money(sum((r.amount for r in refunds), Decimal("0")))


