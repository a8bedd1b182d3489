"""Tickets and check-in: the facilitator marks an attendee present at the door.

A ticket code is the booking id with an HMAC of it, so it needs no column and cannot be
guessed from a booking reference (those are sequential). The key is derived from
JWT_SECRET_KEY with a purpose label, so a ticket code is never a valid token of another kind.
Codes use only upper-case letters, digits and '-', which QR codes store in their compact
alphanumeric mode and people can type from a phone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import lock_for_update, read_session, transaction
from crm_booking.errors import BadRequest, DomainError, NotFound, ValidationFailed
from crm_booking.models import Booking, BookingStatus, Event, PaymentStatus, User
from crm_booking.services import events
from crm_booking.services.views import utc_timestamp
from crm_booking.settings import get_settings

_TICKET = re.compile(r"^TK([0-9A-Z]+)-([A-Z2-7]{16})$")
_SIGNATURE_CHARS = 16  # 80 bits of HMAC-SHA256, base32
OTHER_EVENT = "This booking is for another event"


class AlreadyCheckedIn(DomainError):
    """409 with the time of the first check-in, so the door can say when it happened."""

    status_code = 409


def _signature(booking_id: int) -> str:
    key = hmac.new(get_settings().JWT_SECRET_KEY.encode(), b"crm-booking ticket v1",
                   hashlib.sha256).digest()
    digest = hmac.new(key, str(booking_id).encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:_SIGNATURE_CHARS]


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


def ticket_code(booking_id: int) -> str:
    return f"TK{_base36(booking_id)}-{_signature(booking_id)}"


def booking_id_from_ticket(code: str) -> int | None:
    """The booking a ticket code names, or None when it is not one of ours (forged, mistyped)."""
    match = _TICKET.match(code.strip().upper())
    if match is None:
        return None
    booking_id = int(match.group(1), 36)
    if not hmac.compare_digest(_signature(booking_id), match.group(2)):
        return None
    return booking_id


def ticket_qr_svg_uri(code: str) -> str:
    """The ticket as a QR code (SVG data URI) for the booking page. Error correction M survives
    a scuffed or dimmed phone screen; the quiet zone of 4 modules is what scanners expect."""
    import segno

    return str(segno.make(code, error="m").svg_data_uri(scale=6, border=4))


@dataclass(frozen=True)
class CheckIn:
    booking: Booking
    attendee: User
    checked_in_at: datetime | None


def _find_booking(session: Session, *, booking_reference: str | None,
                  ticket: str | None) -> Booking | None:
    if ticket is not None:
        booking_id = booking_id_from_ticket(ticket)
        query = select(Booking).where(Booking.id == booking_id) if booking_id else None
    else:
        reference = (booking_reference or "").strip().upper()
        query = select(Booking).where(Booking.booking_reference == reference) if reference else None
    if query is None:
        return None
    return session.exec(lock_for_update(session, query)).first()


def _other_event_error(session: Session, booking: Booking, actor_id: int) -> NotFound:
    """Name the other event only to someone who manages it too (no leak across facilitators)."""
    other = session.get(Event, booking.event_id)
    actor = session.get(User, actor_id)
    extra = {}
    if other is not None and actor is not None:
        try:
            events.ensure_can_manage(actor, other)
            extra = {"other_event": {"id": other.id, "title": other.title}}
        except DomainError:
            pass
    return NotFound(OTHER_EVENT, **extra)


def _refuse_if_not_admissible(booking: Booking) -> None:
    if is_admissible(booking):
        return
    if booking.status == BookingStatus.CANCELLED.value:
        raise BadRequest("This booking is cancelled", booking_status=booking.status,
                         payment_status=booking.payment_status)
    raise BadRequest("This booking is not paid", booking_status=booking.status,
                     payment_status=booking.payment_status)


def check_in(*, actor_id: int, event_id: int, booking_reference: str | None = None,
             ticket: str | None = None) -> CheckIn:
    """Mark the booking's attendee present. Lock order: event, then the booking."""
    with transaction() as session:
        events.lock_managed_event(session, actor_id=actor_id, event_id=event_id)
        if (booking_reference is None) == (ticket is None):
            raise ValidationFailed({"body": "Give either booking_reference or ticket_code"})
        booking = _find_booking(session, booking_reference=booking_reference, ticket=ticket)
        if booking is None:
            raise NotFound("No booking with this reference or ticket code")
        if booking.event_id != event_id:
            raise _other_event_error(session, booking, actor_id)
        _refuse_if_not_admissible(booking)
        attendee = session.get(User, booking.user_id)
        assert attendee is not None
        if booking.checked_in_at is not None:
            raise AlreadyCheckedIn("Already checked in",
                                   checked_in_at=utc_timestamp(booking.checked_in_at),
                                   booking_reference=booking.booking_reference,
                                   attendee_name=attendee.name)
        booking.checked_in_at = clock.now()
        session.add(booking)
        return CheckIn(booking, attendee, booking.checked_in_at)


def undo_check_in(*, actor_id: int, event_id: int, booking_id: int) -> CheckIn:
    """Undo a check-in (a wrong scan). Undoing one that was never made changes nothing."""
    with transaction() as session:
        events.lock_managed_event(session, actor_id=actor_id, event_id=event_id)
        booking = session.exec(lock_for_update(
            session, select(Booking).where(Booking.id == booking_id))).first()
        if booking is None or booking.event_id != event_id:
            raise NotFound("Not a booking of this event")
        booking.checked_in_at = None
        session.add(booking)
        attendee = session.get(User, booking.user_id)
        assert attendee is not None
        return CheckIn(booking, attendee, None)


def checked_in_counts(session: Session, event_ids: list[int]) -> dict[int, int]:
    """Attendees marked present, per event, in one query."""
    if not event_ids:
        return {}
    rows = session.exec(
        select(Booking.event_id, sa.func.count(col(Booking.id)))
        .where(col(Booking.event_id).in_(event_ids), col(Booking.checked_in_at).is_not(None))
        .group_by(col(Booking.event_id))
    ).all()
    return {event_id: int(count) for event_id, count in rows}


def facilitator_events_with_attendance(
    *, actor_id: int, limit: int = events.DEFAULT_PAGE, offset: int = 0
) -> list[tuple[events.EventRow, int]]:
    """GET /facilitator/events: the page of events, each with how many were checked in."""
    rows = events.facilitator_events(actor_id=actor_id, limit=limit, offset=offset)
    with read_session() as session:
        counts = checked_in_counts(session, [r.event.id for r in rows if r.event.id])
    return [(row, counts.get(row.event.id or 0, 0)) for row in rows]


@dataclass(frozen=True)
class Roster:
    """Who is still expected at the door, and who is in (the check-in page's two lists)."""

    event: Event
    expected: list[tuple[Booking, User]]
    present: list[tuple[Booking, User]]


def roster(*, actor_id: int, event_id: int) -> Roster:
    row, bookings = events.event_bookings(actor_id=actor_id, event_id=event_id)
    present = sorted(((b, u) for b, u in bookings if b.checked_in_at is not None),
                     key=lambda pair: clock.as_utc(pair[0].checked_in_at), reverse=True)  # type: ignore[arg-type]
    expected = sorted(((b, u) for b, u in bookings if b.checked_in_at is None and is_admissible(b)),
                      key=lambda pair: pair[1].name.lower())
    return Roster(row.event, expected, present)


def is_admissible(booking: Booking) -> bool:
    """A live seat that is the attendee's: paid (or free) and not cancelled."""
    return (booking.status != BookingStatus.CANCELLED.value
            and booking.payment_status == PaymentStatus.COMPLETED.value)
