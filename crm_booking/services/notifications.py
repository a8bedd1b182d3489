"""The outbox: CRM notifications recorded in the same transaction as the change they report,
then delivered by a background worker with retries, so a crash or a CRM outage loses nothing.

Delivery claims rows with a short lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and commits
before calling the CRM, so no lock is held during the HTTP call. Each message carries an
idempotency key; if a worker dies after the CRM stored it but before marking it sent, the next
attempt is answered with the first result and no second email goes out.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import lock_for_update, transaction
from crm_booking.gateways.crm_client import post_notification
from crm_booking.models import Booking, Event, OutboxMessage, OutboxStatus, User
from crm_booking.services.views import money
from crm_booking.settings import get_settings

log = logging.getLogger(__name__)

# Set after a commit that wrote outbox rows, so the delivery loop runs at once instead of
# waiting for its next tick (keeps notification latency low).
wakeup = threading.Event()
LEASE = timedelta(seconds=30)


class Action(StrEnum):
    BOOKING_CREATED = "booking_created"
    PAYMENT_COMPLETED = "payment_completed"
    PAYMENT_FAILED = "payment_failed"
    BOOKING_CANCELLED = "booking_cancelled"
    HOLD_EXPIRED = "hold_expired"
    LATE_PAYMENT_REFUNDED = "late_payment_refunded"
    EVENT_CANCELLED = "event_cancelled"


def build_payload(
    *, action: Action, booking: Booking, event: Event, attendee: User, facilitator: User,
    idempotency_key: str, extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The documented /notify fields plus what the emails need."""
    return {
        "booking_id": booking.id,
        "booking_reference": booking.booking_reference,
        "action": action.value,
        "idempotency_key": idempotency_key,
        "user": {"id": attendee.id, "name": attendee.name, "email": attendee.email},
        "event": {
            "id": event.id,
            "title": event.title,
            "facilitator_id": event.facilitator_id,
            "facilitator_name": facilitator.name,
            "facilitator_email": facilitator.email,
            "start_datetime": clock.as_utc(event.start_at).isoformat(),
            "end_datetime": clock.as_utc(event.end_at).isoformat(),
            "timezone": event.timezone,
            "location": event.location,
            "virtual_link": event.virtual_link,
        },
        "amount": money(booking.amount),
        "currency": booking.currency,
        "status": booking.status,
        "payment_status": booking.payment_status,
        **(extra or {}),
    }


def enqueue(
    session: Session, *, action: Action, booking: Booking, event: Event, attendee: User,
    facilitator: User, key_suffix: str = "", extra: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Record a notification in the caller's transaction. The key makes a repeat harmless:
    the same (booking, action, suffix) is recorded once and the CRM sends it once."""
    key = f"booking-{booking.id}-{action.value}{('-' + key_suffix) if key_suffix else ''}"
    payload = build_payload(
        action=action, booking=booking, event=event, attendee=attendee, facilitator=facilitator,
        idempotency_key=key, extra=extra,
    )
    message = OutboxMessage(
        idempotency_key=key, action=action.value, booking_id=booking.id,
        payload=json.dumps(payload, default=str),
    )
    session.add(message)
    session.info["outbox_written"] = True
    return message


@sa_event.listens_for(Session, "after_commit")
def _wake_delivery(session: Session) -> None:
    if session.info.pop("outbox_written", False):
        wakeup.set()


# --- delivery ---------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    settings = get_settings()
    seconds = settings.OUTBOX_BACKOFF_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.OUTBOX_BACKOFF_MAX_SECONDS))


def _claim(limit: int) -> list[OutboxMessage]:
    """Lease due messages to this worker; commit before any network call."""
    with transaction() as session:
        now = clock.now()
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING.value,
                   col(OutboxMessage.next_attempt_at) <= now)
            # Receipts, failures and cancellations go before "booking created" notices: under
            # a booking rush those are the bulk, and a paid receipt should not queue behind them.
            .order_by(sa.case((col(OutboxMessage.action) == Action.BOOKING_CREATED.value, 1), else_=0),
                      col(OutboxMessage.id))
            .limit(limit)
        )
        claimed = list(session.exec(lock_for_update(session, query, skip_locked=True)).all())
        for message in claimed:
            message.attempts += 1
            message.next_attempt_at = now + LEASE
            session.add(message)
        return claimed


def _record(message_id: int, *, ok: bool, permanent: bool, notification_id: int | None,
            detail: str, attempts: int) -> None:
    with transaction() as session:
        stored = session.get(OutboxMessage, message_id)
        if stored is None or stored.status != OutboxStatus.PENDING.value:
            return
        now = clock.now()
        if ok:
            stored.status = OutboxStatus.SENT.value
            stored.sent_at = now
            stored.crm_notification_id = notification_id
            stored.last_error = None
        elif permanent:
            stored.status = OutboxStatus.DEAD.value
            stored.last_error = detail[:1000]
            log.error("notification %s refused by the CRM: %s", stored.idempotency_key, detail)
        else:
            stored.next_attempt_at = now + backoff(attempts)
            stored.last_error = detail[:1000]
        session.add(stored)


def _deliver_one(message: OutboxMessage) -> bool:
    delivery = post_notification(json.loads(message.payload))
    _record(message.id, ok=delivery.ok, permanent=delivery.permanent_failure,  # type: ignore[arg-type]
            notification_id=delivery.notification_id, detail=delivery.detail,
            attempts=message.attempts)
    if not delivery.ok:
        log.warning("notification %s not delivered (attempt %d): %s",
                    message.idempotency_key, message.attempts, delivery.detail)
    return delivery.ok


def deliver_due(limit: int = 100) -> int:
    """Deliver what is due; returns how many were sent. Safe to run in every worker.

    The claimed batch is posted several at a time: one request after another could not keep up
    with a busy booking rate, and the queue (and the notification delay) would grow."""
    claimed = _claim(limit)
    if not claimed:
        return 0
    workers = min(get_settings().OUTBOX_CONCURRENCY, len(claimed))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox") as pool:
        return sum(pool.map(_deliver_one, claimed))


def pending_count() -> int:
    with transaction(write=False) as session:
        return int(session.exec(
            select(sa.func.count(col(OutboxMessage.id)))
            .where(OutboxMessage.status == OutboxStatus.PENDING.value)
        ).one())


