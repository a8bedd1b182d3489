"""iCalendar (.ics) invitations and cancellations for a booking, built with `icalendar`."""

from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from crm_service.payloads import NotifyRequest

CalendarMethod = Literal["REQUEST", "CANCEL"]


def booking_uid(booking_id: int) -> str:
    """Stable per booking, so a cancellation replaces the invitation in the calendar."""
    return f"booking-{booking_id}@crm-booking"


def build_invite(
    request: NotifyRequest, method: CalendarMethod, sequence: int, organizer_email: str
) -> bytes | None:
    """The .ics for this booking, or None when the event time is unknown (DTSTART is required)."""
    event_info = request.event
    if event_info.start_datetime is None:
        return None
    zone = ZoneInfo(event_info.timezone)
    vevent = Event()
    vevent.add("uid", booking_uid(request.booking_id))
    vevent.add("dtstamp", datetime.now(UTC))
    vevent.add("sequence", sequence)
    vevent.add("summary", event_info.title)
    vevent.add("dtstart", event_info.start_datetime.astimezone(zone))
    if event_info.end_datetime is not None:
        vevent.add("dtend", event_info.end_datetime.astimezone(zone))
    vevent.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if event_info.location:
        vevent.add("location", event_info.location)
    if event_info.virtual_link:
        vevent.add("url", event_info.virtual_link)
    vevent.add("organizer", _address(organizer_email, event_info.facilitator_name))
    vevent.add("attendee", _address(request.user.email, request.user.name, attendee=True))
    calendar = Calendar()
    calendar.add("prodid", "-//crm-booking//CRM service//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(vevent)
    # VTIMEZONE blocks let clients place TZID=... times without their own zone database.
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _address(email: str, name: str | None, attendee: bool = False) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["cn"] = vText(name)
    if attendee:
        address.params["role"] = vText("REQ-PARTICIPANT")
    return address
