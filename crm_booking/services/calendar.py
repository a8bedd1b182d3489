"""Add to calendar: an .ics download and a Google Calendar link for a booking.

The download is the same calendar event as the invite the CRM emails: the same UID scheme
(`crm_service.calendar_invites.booking_uid`), times in the event's own zone with its VTIMEZONE,
and the SEQUENCE agreed for invites (`booking.version + event.version`). A calendar that already
holds the emailed invite therefore updates that entry instead of adding a second one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from icalendar import Calendar, vCalAddress, vText
from icalendar import Event as CalendarEvent

from crm_booking import clock
from crm_booking.db import read_session
from crm_booking.errors import BadRequest
from crm_booking.models import Booking, BookingStatus, Event, PaymentStatus, User
from crm_booking.settings import get_settings

GOOGLE_TEMPLATE_URL = "https://calendar.google.com/calendar/render"


def booking_uid(booking_id: int) -> str:
    """Must equal the CRM's invite UID (tests/api/test_attendee_calendar.py checks both)."""
    return f"booking-{booking_id}@crm-booking"


def invite_sequence(booking: Booking, event: Event) -> int:
    return int(booking.version or 0) + int(event.version or 0)


def is_secured(booking: Booking) -> bool:
    """A seat that is really the attendee's: live, and paid or free (never an unpaid hold)."""
    return (booking.status in (BookingStatus.CONFIRMED.value, BookingStatus.COMPLETED.value)
            and booking.payment_status == PaymentStatus.COMPLETED.value)


def booking_page_url(booking: Booking) -> str:
    return f"{get_settings().PUBLIC_BASE_URL.rstrip('/')}/app/booking/{booking.booking_reference}"


def _description(booking: Booking, event: Event) -> str:
    lines = [f"Booking {booking.booking_reference}: {booking_page_url(booking)}"]
    if event.virtual_link:
        lines.insert(0, f"Join online: {event.virtual_link}")
    return "\n".join(lines)


def build_ics(booking: Booking, event: Event, attendee: User, facilitator: User) -> bytes:
    zone = ZoneInfo(event.timezone)
    vevent = CalendarEvent()
    vevent.add("uid", booking_uid(booking.id))  # type: ignore[arg-type]
    vevent.add("dtstamp", datetime.now(UTC))
    vevent.add("sequence", invite_sequence(booking, event))
    vevent.add("summary", event.title)
    vevent.add("dtstart", clock.as_utc(event.start_at).astimezone(zone))
    vevent.add("dtend", clock.as_utc(event.end_at).astimezone(zone))
    vevent.add("status", "CONFIRMED")
    if event.location:
        vevent.add("location", event.location)
    if event.virtual_link:
        vevent.add("url", event.virtual_link)
    vevent.add("description", _description(booking, event))
    organizer = vCalAddress(f"mailto:{facilitator.email}")
    organizer.params["cn"] = vText(facilitator.name)
    vevent.add("organizer", organizer)
    calendar = Calendar()
    calendar.add("prodid", "-//crm-booking//Booking app//EN")
    calendar.add("version", "2.0")
    # PUBLISH: a file the person adds themselves; the emailed one is the REQUEST (an invite).
    calendar.add("method", "PUBLISH")
    calendar.add_component(vevent)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def _google_time(value: datetime) -> str:
    return clock.as_utc(value).strftime("%Y%m%dT%H%M%SZ")


def google_calendar_url(booking: Booking, event: Event) -> str:
    """Google's 'create event' template link (times in UTC, shown in the event's zone)."""
    params = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{_google_time(event.start_at)}/{_google_time(event.end_at)}",
        "details": _description(booking, event),
        "ctz": event.timezone,
    }
    if event.location:
        params["location"] = event.location
    return f"{GOOGLE_TEMPLATE_URL}?{urlencode(params)}"


def ics_path(booking: Booking) -> str:
    return f"/bookings/{booking.id}/calendar.ics"


def booking_calendar(*, user_id: int, booking_id: int) -> tuple[str, bytes]:
    """The owner's .ics and a file name for it; another person's booking is a 404."""
    from crm_booking.services import booking as booking_service

    row = booking_service.get_booking(user_id=user_id, booking_id=booking_id)
    if not is_secured(row.booking):
        raise BadRequest("Only a paid or free booking that is still on can be added to a calendar")
    with read_session() as session:
        facilitator = session.get(User, row.event.facilitator_id)
    assert facilitator is not None
    body = build_ics(row.booking, row.event, row.user, facilitator)
    return f"{row.booking.booking_reference}.ics", body
