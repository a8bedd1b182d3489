"""Reminder emails 24 hours and 1 hour before an event starts, scheduled through the outbox.

Every worker runs `enqueue_due` on its timer. A reminder is one outbox row whose idempotency key
names the booking and the reminder (`booking-<id>-reminder-24h`); the row is inserted with
ON CONFLICT DO NOTHING on that unique key, so however many workers find the same booking due at
the same moment, one row is written and the outbox delivers it once (the CRM drops a repeated
key too). Candidate bookings are read with FOR UPDATE SKIP LOCKED: a booking being cancelled
right now is skipped (and looked at again next tick, when it is no longer live), and two
workers never wait on each other.

Who gets one: a live booking (confirmed, paid or free) of an event that is not cancelled, with
the event's setting on, made before the reminder time. A reminder is due from its time until
the next one (the 24 h one until 1 h before; the 1 h one until the start), so a worker that was
down at the reminder time still sends it late, but never after the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import transaction
from crm_booking.models import Booking, BookingStatus, Event, OutboxMessage, PaymentStatus, User
from crm_booking.services import notifications
from crm_booking.services.notifications import Action
from crm_booking.services.views import map_url


@dataclass(frozen=True)
class Reminder:
    kind: str  # "24h" or "1h", as the CRM knows them
    lead: timedelta  # how long before the start it goes out
    until: timedelta  # no later than this long before the start
    enabled: Any  # the event's setting (a column)


REMINDERS = (
    Reminder("24h", timedelta(hours=24), timedelta(hours=1), Event.remind_24h),
    Reminder("1h", timedelta(hours=1), timedelta(0), Event.remind_1h),
)


def reminder_key(booking_id: int, kind: str) -> str:
    return f"booking-{booking_id}-{Action.REMINDER.value}-{kind}"


def enqueue_due(limit: int = 500) -> int:
    """Background job: write the reminders that are due now; returns how many were written."""
    return sum(_enqueue(reminder, clock.now(), limit) for reminder in REMINDERS)


def _key_expression(reminder: Reminder) -> Any:
    return (sa.literal("booking-") + sa.cast(col(Booking.id), sa.String)
            + sa.literal(f"-{Action.REMINDER.value}-{reminder.kind}"))


def _due(reminder: Reminder, now: datetime, limit: int) -> Any:
    already = select(OutboxMessage.id).where(OutboxMessage.idempotency_key == _key_expression(reminder))
    return (
        select(Booking, Event)
        .join(Event, col(Event.id) == Booking.event_id)
        .where(
            reminder.enabled.is_(True),
            col(Event.cancelled_at).is_(None),
            col(Event.deleted_at).is_(None),
            col(Event.start_at) <= now + reminder.lead,
            col(Event.start_at) > now + reminder.until,
            Booking.status == BookingStatus.CONFIRMED.value,
            Booking.payment_status == PaymentStatus.COMPLETED.value,
            ~sa.exists(already),
        )
        .order_by(col(Booking.id))
        .limit(limit)
    )


def _made_in_time(booking: Booking, event: Event, reminder: Reminder) -> bool:
    """A seat secured after the reminder time gets no reminder (the booking email was fresh)."""
    made = clock.as_utc(booking.paid_at or booking.created_at)
    return made <= clock.as_utc(event.start_at) - reminder.lead


def _enqueue(reminder: Reminder, now: datetime, limit: int) -> int:
    with transaction() as session:
        query = _due(reminder, now, limit)
        if session.get_bind().dialect.name != "sqlite":
            query = query.with_for_update(skip_locked=True, of=Booking)  # type: ignore[arg-type]
        written = 0
        for booking, event in session.exec(query).all():
            if _made_in_time(booking, event, reminder):
                written += _insert_once(session, booking, event, reminder)
        if written:
            session.info["outbox_written"] = True
        return written


def _insert_once(session: Session, booking: Booking, event: Event, reminder: Reminder) -> int:
    attendee = session.get(User, booking.user_id)
    facilitator = session.get(User, event.facilitator_id)
    assert attendee is not None and facilitator is not None and booking.id is not None
    key = reminder_key(booking.id, reminder.kind)
    payload = notifications.build_payload(
        action=Action.REMINDER, booking=booking, event=event, attendee=attendee,
        facilitator=facilitator, idempotency_key=key,
        extra={"reminder": reminder.kind, "map_url": map_url(event.location)},
    )
    return int(notifications.write_outbox_once(session, key=key, action=Action.REMINDER.value,
                                               booking_id=booking.id, payload=payload))
