"""Plain dictionaries in the documented shapes, shared by the REST API and the Reflex states."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from crm_booking.clock import as_utc
from crm_booking.models import Booking, Event, Refund, User


def money(value: Decimal | float | int) -> float:
    return float(Decimal(value).quantize(Decimal("0.01")))


def utc_timestamp(value: datetime | None) -> str | None:
    """System timestamps: UTC, ISO 8601, seconds precision, as the spec shows them."""
    if value is None:
        return None
    return as_utc(value).replace(tzinfo=None, microsecond=0).isoformat()


def local_timestamp(value: datetime, tz_name: str) -> str:
    """Event times: wall-clock time in the event's own timezone (named in `timezone`)."""
    return as_utc(value).astimezone(ZoneInfo(tz_name)).replace(tzinfo=None).isoformat()


def user_summary(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}


def user_with_google(user: User) -> dict[str, Any]:
    return {**user_summary(user), "google_id": user.google_id, "profile_picture": user.profile_picture}


def profile(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "role": user.role,
        "is_active": user.is_active,
        "is_verified": user.is_verified,
        "google_id": user.google_id,
        "profile_picture": user.profile_picture,
        "created_at": utc_timestamp(user.created_at),
    }


def facilitator_summary(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "email": user.email}


def event_times(event: Event) -> dict[str, Any]:
    return {
        "start_datetime": local_timestamp(event.start_at, event.timezone),
        "end_datetime": local_timestamp(event.end_at, event.timezone),
        "timezone": event.timezone,
    }


def event_detail(event: Event, facilitator: User | None, held: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": event.id,
        "title": event.title,
        "description": event.description,
        "event_type": event.event_type,
        **event_times(event),
        "location": event.location,
        "virtual_link": event.virtual_link,
        "max_participants": event.max_participants,
        "current_participants": held,
        "seats_available": max(event.max_participants - held, 0),
        "price": money(event.price),
        "currency": event.currency,
        "is_active": event.is_active,
        "cancelled_at": utc_timestamp(event.cancelled_at),
        "created_at": utc_timestamp(event.created_at),
    }
    if facilitator is not None:
        body["facilitator"] = facilitator_summary(facilitator)
    return body


def booking_user(user: User, *, with_phone: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"id": user.id, "name": user.name, "email": user.email}
    if with_phone:
        body["phone"] = user.phone
    return body


def _booking_core(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "booking_reference": booking.booking_reference,
        "status": booking.status,
        "notes": booking.notes,
        "payment_status": booking.payment_status,
        "payment_id": booking.payment_id,
        "payment_reference": booking.payment_reference,
        "amount": money(booking.amount),
        "currency": booking.currency,
        "hold_expires_at": utc_timestamp(booking.hold_expires_at)
        if booking.payment_status in ("pending", "failed") and booking.status == "confirmed"
        else None,
        "cancelled_at": utc_timestamp(booking.cancelled_at),
        "cancellation_reason": booking.cancellation_reason,
        "created_at": utc_timestamp(booking.created_at),
    }


def booking_created(booking: Booking, event: Event, user: User) -> dict[str, Any]:
    return {
        **_booking_core(booking),
        "user": booking_user(user),
        "event": {
            "id": event.id,
            "title": event.title,
            "price": money(event.price),
            "currency": event.currency,
        },
    }


def booking_in_list(booking: Booking, event: Event) -> dict[str, Any]:
    return {
        **_booking_core(booking),
        "event": {
            "id": event.id,
            "title": event.title,
            **event_times(event),
            "location": event.location,
            "virtual_link": event.virtual_link,
            "price": money(event.price),
            "currency": event.currency,
        },
    }


def booking_detail(booking: Booking, event: Event, user: User) -> dict[str, Any]:
    listed = booking_in_list(booking, event)
    listed["event"]["description"] = event.description
    return {**listed, "user": booking_user(user)}


def booking_for_facilitator(booking: Booking, user: User) -> dict[str, Any]:
    return {
        "id": booking.id,
        "booking_reference": booking.booking_reference,
        "status": booking.status,
        "payment_status": booking.payment_status,
        "amount": money(booking.amount),
        "notes": booking.notes,
        "user": booking_user(user, with_phone=True),
        "created_at": utc_timestamp(booking.created_at),
    }


def payment_result(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "booking_reference": booking.booking_reference,
        "payment_status": booking.payment_status,
        "status": booking.status,
    }


def refund(refund: Refund | None) -> dict[str, Any] | None:
    if refund is None:
        return None
    return {
        "refund_id": refund.razorpay_refund_id,
        "amount": money(refund.amount),
        "currency": refund.currency,
        "status": refund.status,
        "failure_reason": refund.failure_reason,
    }
