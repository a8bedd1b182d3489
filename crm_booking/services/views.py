"""Plain dictionaries in the documented shapes, shared by the REST API and the Reflex states."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from crm_booking.clock import as_utc
from crm_booking.models import Booking, Event, Refund, User
from crm_booking.services import cancellation_policy
from crm_booking.settings import get_settings

GOOGLE_MAPS_SEARCH = "https://www.google.com/maps/search/"


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
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "email_verified": user.is_verified}


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


def absolute_url(path: str | None) -> str | None:
    return f"{get_settings().PUBLIC_BASE_URL.rstrip('/')}{path}" if path else None


def map_url(location: str | None) -> str | None:
    """A maps search for a physical place (Google Maps' documented universal link)."""
    if not location:
        return None
    return f"{GOOGLE_MAPS_SEARCH}?{urlencode({'api': '1', 'query': location})}"


def event_looks(event: Event) -> dict[str, Any]:
    from crm_booking.services.media import cover_url

    return {
        "cover_image_url": absolute_url(cover_url(event.cover_image)),
        "cover_image_alt": event.cover_image_alt if event.cover_image else None,
        "map_url": map_url(event.location),
    }


def event_detail(event: Event, facilitator: User | None, held: int, waitlist_count: int = 0, *,
                 show_link: bool = False) -> dict[str, Any]:
    """`virtual_link` is null unless the caller established that this viewer may join
    (services.events.events_with_join_link)."""
    body: dict[str, Any] = {
        "id": event.id,
        "title": event.title,
        "description": event.description,
        "event_type": event.event_type,
        **event_times(event),
        "location": event.location,
        "virtual_link": event.virtual_link if show_link else None,
        "max_participants": event.max_participants,
        "current_participants": held,
        "seats_available": max(event.max_participants - held, 0),
        "waitlist_count": waitlist_count,
        "price": money(event.price),
        "currency": event.currency,
        "is_active": event.is_active,
        "cancelled_at": utc_timestamp(event.cancelled_at),
        "created_at": utc_timestamp(event.created_at),
        **event_looks(event),
        **cancellation_policy.event_fields(event),
        "series_id": event.series_id,
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
        **ticket(booking),
        # Issue 17: how the seat was paid; bookings from before it are read by their price.
        "paid_with": booking.paid_with or ("payment" if booking.amount > 0 else "free"),
        "pass_id": booking.pass_purchase_id,
    }


def ticket(booking: Booking) -> dict[str, Any]:
    """The attendee's ticket (shown as a QR code) and whether they were checked in."""
    from crm_booking.services.checkin import ticket_code

    return {"ticket_code": ticket_code(booking.id) if booking.id else None,  # type: ignore[arg-type]
            "checked_in_at": utc_timestamp(booking.checked_in_at)}


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
            # Only a seat that is the attendee's (paid, or free, still on) shows how to join.
            "virtual_link": event.virtual_link if _secured(booking) else None,
            "price": money(event.price),
            "currency": event.currency,
        },
    }


def booking_detail(booking: Booking, event: Event, user: User) -> dict[str, Any]:
    listed = booking_in_list(booking, event)
    listed["event"]["description"] = event.description
    return {**listed, "user": booking_user(user), **calendar_links(booking, event),
            "receipts_url": f"/bookings/{booking.id}/receipts"}


def _secured(booking: Booking) -> bool:
    from crm_booking.services import calendar

    return calendar.is_secured(booking)


def calendar_links(booking: Booking, event: Event) -> dict[str, Any]:
    """Add-to-calendar links, once the seat is the attendee's (paid or free, still on)."""
    from crm_booking.services import calendar

    if not calendar.is_secured(booking):
        return {"calendar_ics_url": None, "google_calendar_url": None}
    return {"calendar_ics_url": calendar.ics_path(booking),
            "google_calendar_url": calendar.google_calendar_url(booking, event)}


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
        "checked_in_at": utc_timestamp(booking.checked_in_at),
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


def cancel_quote(quote: cancellation_policy.Quote, booking: Booking, event: Event) -> dict[str, Any]:
    return {
        "refundable": quote.refundable,
        "refund_amount": money(quote.refund_amount),
        "refund_percent": quote.refund_percent,
        "currency": quote.currency,
        "policy_tier": quote.policy_tier,
        "quote_valid_until": utc_timestamp(quote.valid_until),
        "refund_policy_text": cancellation_policy.booking_policy_text(booking, event),
    }


def waitlist_entry(row: Any) -> dict[str, Any]:
    """A `services.waitlist.EntryRow` in the spec's `waitlist_entry` shape (+ extras)."""
    entry = row.entry
    body: dict[str, Any] = {
        "id": entry.id,
        "event_id": entry.event_id,
        "status": entry.status,
        "position": row.position,
        "offer_expires_at": utc_timestamp(entry.offer_expires_at)
        if entry.status == "offered" else None,
        "created_at": utc_timestamp(entry.created_at),
        "booking_id": entry.booking_id,
    }
    if row.event is not None:
        body["event_title"] = row.event.title
    if row.user is not None:
        body["user"] = booking_user(row.user)
    return body


# --- class passes (issue 17) ----------------------------------------------------------------------


def pass_product(product: Any, facilitator: User | None = None) -> dict[str, Any]:
    """The spec's `pass_product`: `facilitator` is the seller's id and name."""
    return {
        "id": product.id, "name": product.name, "credits": product.credits,
        "valid_days": product.valid_days, "price": money(product.price),
        "currency": product.currency, "event_type": product.event_type,
        "facilitator": ({"id": facilitator.id, "name": facilitator.name} if facilitator
                        else {"id": product.facilitator_id}),
        "is_active": product.is_active,
    }


def pass_purchase(purchase: Any, product: Any) -> dict[str, Any]:
    from crm_booking.services.passes import reference, shown_status

    return {
        "id": purchase.id, "reference": reference(purchase.id), "name": product.name,
        "product_id": product.id, "status": shown_status(purchase),
        "credits_total": purchase.credits_total, "credits_left": purchase.credits_left,
        "expires_at": utc_timestamp(purchase.expires_at), "amount": money(purchase.amount),
        "currency": purchase.currency, "payment_id": purchase.payment_id,
        "payment_reference": purchase.razorpay_order_id,
        "paid_at": utc_timestamp(purchase.paid_at), "created_at": utc_timestamp(purchase.created_at),
        "event_type": product.event_type,
    }


def owned_pass(owned: Any) -> dict[str, Any]:
    """`GET /me/passes` items: the spec's fields plus what each credit paid for."""
    return {
        **pass_purchase(owned.purchase, owned.product),
        "history": [{"booking_id": row.booking.id,
                     "booking_reference": row.booking.booking_reference,
                     "event": {"id": row.event.id, "title": row.event.title,
                               "start_datetime": utc_timestamp(row.event.start_at)},
                     "credit": row.credit.status, "used_at": utc_timestamp(row.credit.used_at),
                     "settled_at": utc_timestamp(row.credit.settled_at)}
                    for row in owned.history],
    }
