"""The outbox: CRM notifications recorded in the same transaction as the change they report.

`enqueue` is called inside a service's transaction. Delivery (`deliver_due`) runs later, from the
background job, outside any row lock.
"""

from __future__ import annotations

import json
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from crm_booking.models import Booking, Event, OutboxMessage, User


class Action(StrEnum):
    BOOKING_CREATED = "booking_created"
    PAYMENT_COMPLETED = "payment_completed"
    PAYMENT_FAILED = "payment_failed"
    BOOKING_CANCELLED = "booking_cancelled"
    HOLD_EXPIRED = "hold_expired"
    LATE_PAYMENT_REFUNDED = "late_payment_refunded"
    EVENT_CANCELLED = "event_cancelled"


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def build_payload(
    *, action: Action, booking: Booking, event: Event, attendee: User, facilitator: User,
    idempotency_key: str, extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The documented /notify fields plus what the emails need."""
    from crm_booking.clock import as_utc

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
            "start_datetime": as_utc(event.start_at).isoformat(),
            "end_datetime": as_utc(event.end_at).isoformat(),
            "timezone": event.timezone,
            "location": event.location,
            "virtual_link": event.virtual_link,
        },
        "amount": _money(booking.amount),
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
    return message
