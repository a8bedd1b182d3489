"""Refunds: recorded with an idempotency key inside the cancelling transaction, sent to the
gateway only after commit, and retried by the background job until the gateway accepts them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import lock_for_update, read_session, transaction
from crm_booking.errors import BadRequest, Forbidden, NotFound
from crm_booking.gateways.payments import GatewayFailure, get_gateway
from crm_booking.models import Booking, Event, PaymentStatus, Refund, RefundStatus, Role, User
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


def record_for_pass(session: Session, purchase: Any, *, payment_id: str, amount: Decimal,
                    reason: str) -> Refund:
    """The refund a class pass purchase owes for one payment (issue 17), once per payment."""
    key = f"pass-{purchase.id}-refund-{payment_id}"
    existing = session.exec(select(Refund).where(Refund.idempotency_key == key)).first()
    if existing is not None:
        return existing
    pending = Refund(pass_purchase_id=purchase.id, razorpay_payment_id=payment_id,
                     idempotency_key=key, reason=reason, amount=amount, currency=purchase.currency)
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

    The gateway adapter first looks for a live refund already created under this idempotency
    key, so an attempt whose answer was lost (timeout) is never refunded a second time."""
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
            notes=_notes(pending),
        )
    except GatewayFailure as failure:
        _log_attempt_failed(pending, str(failure))
        return _record_failure(refund_id, str(failure), retryable=failure.retryable)
    return _record_answer(refund_id, answer.refund_id, answer.status)


def _notes(pending: Refund) -> dict[str, str]:
    if pending.pass_purchase_id is not None:
        return {"pass_purchase_id": str(pending.pass_purchase_id), "reason": pending.reason}
    return {"booking_id": str(pending.booking_id), "reason": pending.reason}


def to_paise(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _locked(session: Session, condition: Any) -> Refund | None:
    """The refund row, locked after its booking or pass purchase (the one lock order: bookings
    → pass purchases → refunds), since settling a refund may change that row too."""
    from crm_booking.models import PassPurchase

    owner = session.exec(select(Refund.booking_id, Refund.pass_purchase_id).where(condition)).first()
    if owner is None:
        return None
    booking_id, purchase_id = owner
    if booking_id is not None:
        session.exec(lock_for_update(session, select(Booking.id).where(Booking.id == booking_id)))
    else:
        session.exec(lock_for_update(session, select(PassPurchase.id)
                                     .where(PassPurchase.id == purchase_id), key_share=True))
    query = select(Refund).where(condition).execution_options(populate_existing=True)
    return session.exec(lock_for_update(session, query)).first()


def _record_answer(refund_id: int, gateway_refund_id: str, status: str) -> Refund:
    """The gateway accepted the refund: `processed` settles it; `pending` waits for the
    `refund.processed` webhook or the poll."""
    with transaction() as session:
        stored = _locked(session, col(Refund.id) == refund_id)
        assert stored is not None
        if stored.status != RefundStatus.PROCESSED.value:  # a webhook may have been faster
            stored.razorpay_refund_id = gateway_refund_id
            stored.status = RefundStatus.PENDING.value
            if status == "processed":
                _settle(session, stored)
        stored.failure_reason = None
        stored.updated_at = clock.now()
        session.add(stored)
        return stored


def _settle(session: Session, stored: Refund) -> None:
    stored.status = RefundStatus.PROCESSED.value
    stored.failure_reason = None
    _mark_booking_refunded(session, stored)


def _mark_booking_refunded(session: Session, stored: Refund) -> None:
    """The booking shows `refunded` once the gateway has processed the refund of ITS payment
    (a refunded duplicate payment leaves a paid booking paid). A pass purchase's likewise."""
    if stored.pass_purchase_id is not None:
        from crm_booking.services import passes

        passes.mark_refunded(session, stored)
        return
    booking = session.get(Booking, stored.booking_id)
    if (booking is not None and booking.payment_status == PaymentStatus.COMPLETED.value
            and booking.payment_id == stored.razorpay_payment_id):
        booking.payment_status = PaymentStatus.REFUNDED.value
        booking.updated_at = clock.now()
        session.add(booking)


def _record_failure(refund_id: int, reason: str, *, retryable: bool) -> Refund:
    """Retryable problems (timeouts, gateway errors) stay `pending` for the job; a refusal is
    `failed` and listed for staff, who can retry it (`retry`)."""
    with transaction() as session:
        stored = _locked(session, col(Refund.id) == refund_id)
        assert stored is not None
        if stored.status == RefundStatus.PROCESSED.value or stored.razorpay_refund_id:
            return stored
        stored.status = RefundStatus.PENDING.value if retryable else RefundStatus.FAILED.value
        stored.failure_reason = reason[:500]
        stored.updated_at = clock.now()
        session.add(stored)
        return stored


# --- the retry and poll job ---------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: doubling from the base, capped, never shorter than one
    attempt's lease. There is no last attempt: a refund is owed until it is processed."""
    settings = get_settings()
    seconds = settings.REFUND_RETRY_BASE_SECONDS * (2 ** min(max(attempts - 1, 0), 30))
    return max(timedelta(seconds=min(seconds, settings.REFUND_RETRY_MAX_SECONDS)), _lease())


def is_overdue(stored: Refund, now: datetime | None = None) -> bool:
    """Unsettled for longer than the alert age: raised to staff with the refused ones."""
    age = timedelta(minutes=get_settings().REFUND_ALERT_AFTER_MINUTES)
    return (stored.status == RefundStatus.PENDING.value
            and clock.as_utc(stored.created_at) <= (now or clock.now()) - age)


def needs_attention(stored: Refund) -> bool:
    return stored.status == RefundStatus.FAILED.value or is_overdue(stored)


def _log_attempt_failed(stored: Refund, detail: str) -> None:
    if is_overdue(stored):
        log.error("refund %s (booking %s, %s) still not made after %d attempts since %s: %s",
                  stored.id, stored.booking_id, stored.reason, stored.attempts + 1,
                  clock.as_utc(stored.created_at).isoformat(), detail)
    else:
        log.warning("refund %s not done: %s", stored.id, detail)


def _due(candidates: list[Refund], now: datetime, limit: int) -> list[Refund]:
    due = [r for r in candidates if clock.as_utc(r.updated_at) + backoff(r.attempts) <= now]
    return due[:limit]


def _candidates(*, accepted: bool, now: datetime, scan: int) -> list[Refund]:
    """Unsettled refunds not touched for a lease: not yet accepted by the gateway (to send), or
    accepted and still pending there (to poll). Oldest attempt first, so none starves."""
    gateway_id = col(Refund.razorpay_refund_id)
    with read_session() as session:
        return list(session.exec(
            select(Refund).where(
                col(Refund.status) == RefundStatus.PENDING.value,
                gateway_id.is_not(None) if accepted else gateway_id.is_(None),
                col(Refund.updated_at) < now - _lease(),
            ).order_by(col(Refund.updated_at)).limit(scan)
        ).all())


def retry_unfinished(limit: int = 50, *, deadline: float | None = None) -> int:
    """Background job: send the refunds the gateway has not accepted yet (timeouts, gateway
    errors), each when its backoff has passed; stops early at `deadline` (time.monotonic)."""
    return _each_due(process, accepted=False, limit=limit, deadline=deadline)


def poll_pending(limit: int = 50, *, deadline: float | None = None) -> int:
    """Background job: ask the gateway about refunds it accepted but has not settled, in case
    the `refund.processed` / `refund.failed` webhook never comes."""
    return _each_due(poll, accepted=True, limit=limit, deadline=deadline)


def _each_due(step: Callable[[int], Refund], *, accepted: bool, limit: int,
              deadline: float | None) -> int:
    now = clock.now()
    done = 0
    for stored in _due(_candidates(accepted=accepted, now=now, scan=limit * 4), now, limit):
        if deadline is not None and time.monotonic() >= deadline:
            break
        step(stored.id)  # type: ignore[arg-type]
        done += 1
    return done


def poll(refund_id: int) -> Refund:
    """Ask the gateway where one accepted refund stands, and record it."""
    stored = _load(refund_id)
    if stored.status != RefundStatus.PENDING.value or not stored.razorpay_refund_id:
        return stored
    if not _claim(refund_id, stored.updated_at):
        return _load(refund_id)
    try:
        found = get_gateway().find_refund(payment_id=stored.razorpay_payment_id,
                                          idempotency_key=stored.idempotency_key)
    except GatewayFailure as failure:
        _log_attempt_failed(stored, str(failure))
        return _load(refund_id)
    if found is None:
        # The adapter skips failed refunds: this one failed at the gateway, so a new one is owed.
        return mark_failed(gateway_refund_id=stored.razorpay_refund_id, payment_id=None,
                           idempotency_key=None, reason="The gateway reports the refund failed") \
            or _load(refund_id)
    if found.status == "processed":
        return mark_processed(gateway_refund_id=found.refund_id, payment_id=None,
                              idempotency_key=stored.idempotency_key) or _load(refund_id)
    return _load(refund_id)


# --- webhooks and staff ---------------------------------------------------------------------


def _locked_reported(session: Session, gateway_refund_id: str, payment_id: str | None,
                     idempotency_key: str | None) -> Refund | None:
    """The refund a gateway report is about, locked: by its gateway id, or by our key in its
    notes when the answer to our request was lost; None when it is not ours (another payment)."""
    stored = _locked(session, col(Refund.razorpay_refund_id) == gateway_refund_id)
    if stored is None and idempotency_key:
        stored = _locked(session, col(Refund.idempotency_key) == idempotency_key)
    if stored is None or (payment_id and stored.razorpay_payment_id != payment_id):
        return None
    return stored


def mark_processed(*, gateway_refund_id: str, payment_id: str | None,
                   idempotency_key: str | None) -> Refund | None:
    """`refund.processed` webhook (or poll): the gateway finished a refund."""
    with transaction() as session:
        stored = _locked_reported(session, gateway_refund_id, payment_id, idempotency_key)
        if stored is None:
            return None
        stored.razorpay_refund_id = gateway_refund_id
        _settle(session, stored)
        stored.updated_at = clock.now()
        session.add(stored)
        return stored


def mark_failed(*, gateway_refund_id: str, payment_id: str | None, idempotency_key: str | None,
                reason: str | None) -> Refund | None:
    """`refund.failed` webhook (or poll): the gateway gave up on a refund it had accepted (no
    money moved). Ours goes back to the retry path: a new refund is sent under the same key,
    which the adapter does because it skips failed refunds when looking for an earlier one."""
    with transaction() as session:
        stored = _locked_reported(session, gateway_refund_id, payment_id, idempotency_key)
        if stored is None:
            return None
        if stored.status == RefundStatus.PROCESSED.value or (
                stored.razorpay_refund_id not in (None, gateway_refund_id)):
            return stored  # a later attempt already replaced the failed one
        stored.razorpay_refund_id = None
        stored.status = RefundStatus.PENDING.value
        stored.failure_reason = (f"Refund {gateway_refund_id} failed at the gateway"
                                 + (f": {reason}" if reason else ""))[:500]
        stored.updated_at = clock.now()
        session.add(stored)
        log.warning("refund %s failed at the gateway (%s); it will be sent again",
                    stored.id, gateway_refund_id)
        return stored


def retry(refund_id: int, actor_user_id: int) -> Refund:
    """Staff ask for one refund to be tried now (refused, or stuck pending): the facilitator of
    the booking's event, or an admin. A refund the gateway accepted is asked about instead."""
    from crm_booking.services import passes
    from crm_booking.services.events import ensure_can_manage

    with read_session() as session:
        stored = session.get(Refund, refund_id)
        actor = session.get(User, actor_user_id)
        booking = session.get(Booking, stored.booking_id) \
            if stored is not None and stored.booking_id is not None else None
        event = session.get(Event, booking.event_id) if booking is not None else None
        sold = passes.seller_of(session, stored.pass_purchase_id) \
            if stored is not None and stored.pass_purchase_id is not None else None
    if stored is None or (event is None and sold is None):
        raise NotFound("Refund not found")
    if actor is None:
        raise Forbidden()
    if event is not None:
        ensure_can_manage(actor, event)
    elif sold is not None:
        passes.ensure_can_manage_purchase(actor, sold[1])
    if stored.status == RefundStatus.PROCESSED.value:
        raise BadRequest("This refund has already been processed")
    if stored.razorpay_refund_id:
        return poll(refund_id)
    return process(refund_id)


@dataclass(frozen=True)
class AttentionRow:
    refund: Refund
    event: Event | None  # None for the refund of a class pass payment
    attendee: User
    title: str           # the event's title, or the pass's name


def needing_attention(actor_user_id: int, limit: int = 100) -> list[AttentionRow]:
    """Refused refunds, and ones unsettled past the alert age, of the actor's events and class
    passes (an admin's: of all of them), oldest first: what the dashboard offers to retry."""
    from crm_booking.models import PassProduct, PassPurchase

    age = timedelta(minutes=get_settings().REFUND_ALERT_AFTER_MINUTES)
    unsettled = sa.or_(
        col(Refund.status) == RefundStatus.FAILED.value,
        sa.and_(col(Refund.status) == RefundStatus.PENDING.value,
                col(Refund.created_at) <= clock.now() - age),
    )
    with read_session() as session:
        actor = session.get(User, actor_user_id)
        if actor is None or actor.role not in (Role.FACILITATOR.value, Role.ADMIN.value):
            return []
        query = (
            select(Refund, Event, User)
            .join(Booking, col(Booking.id) == Refund.booking_id)
            .join(Event, col(Event.id) == Booking.event_id)
            .join(User, col(User.id) == Booking.user_id)
            .where(unsettled).order_by(col(Refund.created_at), col(Refund.id)).limit(limit)
        )
        of_passes = (
            select(Refund, PassProduct, User)
            .join(PassPurchase, col(PassPurchase.id) == Refund.pass_purchase_id)
            .join(PassProduct, col(PassProduct.id) == PassPurchase.product_id)
            .join(User, col(User.id) == PassPurchase.user_id)
            .where(unsettled).order_by(col(Refund.created_at), col(Refund.id)).limit(limit)
        )
        if actor.role != Role.ADMIN.value:
            query = query.where(Event.facilitator_id == actor.id)
            of_passes = of_passes.where(PassProduct.facilitator_id == actor.id)
        rows = [AttentionRow(r, e, u, e.title) for r, e, u in session.exec(query)]
        rows += [AttentionRow(r, None, u, f"Class pass: {p.name}")
                 for r, p, u in session.exec(of_passes)]
    rows.sort(key=lambda row: (clock.as_utc(row.refund.created_at), row.refund.id or 0))
    return rows[:limit]


def event_of(refund_id: int) -> int | None:
    with read_session() as session:
        return session.exec(
            select(Booking.event_id).join(Refund, col(Refund.booking_id) == Booking.id)
            .where(Refund.id == refund_id)
        ).first()


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


