"""/dashboard/events/[event_id]: who booked, and a CSV of it."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import re
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import reflex as rx
from reflex.event import EventSpec

from crm_booking import clock
from crm_booking.clock import as_utc
from crm_booking.errors import DomainError
from crm_booking.models import Booking, User
from crm_booking.services import events, waitlist
from crm_booking.state import formatting as fmt
from crm_booking.state.session import last_path_segment, login_redirect, signed_in_user

CSV_COLUMNS = ["Name", "Email", "Phone", "Booking reference", "Booking status", "Payment status",
               "Amount (INR)", "Booked at (UTC)", "Checked in at (UTC)"]
_PHONE = re.compile(r"^\+?[\d\s-]+$")


@dataclasses.dataclass
class Attendee:
    name: str = ""
    email: str = ""
    phone: str = ""
    reference: str = ""
    status: str = ""
    payment_status: str = ""
    payment_label: str = ""
    tone: str = "amber"
    checked_in: str = ""  # the time, in the event's zone, or empty


def _attendee(booking: Booking, user: User, tz_name: str) -> Attendee:
    words = fmt.booking_words(
        status=booking.status, payment_status=booking.payment_status, amount=booking.amount,
        hold_expires_at=booking.hold_expires_at, cancellation_reason=booking.cancellation_reason,
        tz_name=tz_name, now=clock.now())
    return Attendee(
        name=user.name, email=user.email, phone=user.phone or "",
        reference=booking.booking_reference or "",
        status="Cancelled" if booking.status == "cancelled" else words.status,
        payment_status=booking.payment_status,
        payment_label=words.payment,
        tone=words.tone,
        checked_in=_checked_in_time(booking, tz_name),
    )


def _checked_in_time(booking: Booking, tz_name: str) -> str:
    if booking.checked_in_at is None:
        return ""
    return as_utc(booking.checked_in_at).astimezone(ZoneInfo(tz_name)).strftime("%H:%M")


def spreadsheet_safe(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; phone numbers stay readable."""
    if value and value[0] in "=+-@\t\r" and not _PHONE.match(value):
        return "'" + value
    return value


def attendees_csv(rows: list[tuple[Booking, User]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for booking, user in rows:
        writer.writerow([spreadsheet_safe(v) for v in (
            user.name, user.email, user.phone or "", booking.booking_reference or "",
            booking.status, booking.payment_status, f"{booking.amount:.2f}",
            booking.created_at.strftime("%Y-%m-%d %H:%M") if booking.created_at else "",
            as_utc(booking.checked_in_at).strftime("%Y-%m-%d %H:%M") if booking.checked_in_at else "",
        )])
    return out.getvalue()


@dataclasses.dataclass
class WaitingPerson:
    place: str = ""  # "1", "2", ... while waiting; the status otherwise
    name: str = ""
    email: str = ""
    status: str = ""


def _waiting_person(row: waitlist.EntryRow) -> WaitingPerson:
    assert row.user is not None
    status = {"offered": "Seat offered", "waiting": "Waiting"}.get(row.entry.status,
                                                                   row.entry.status.title())
    return WaitingPerson(place=str(row.position) if row.position else "—", name=row.user.name,
                         email=row.user.email, status=status)


class AttendeesState(rx.State):
    title: str = ""
    seats: str = ""
    attendees: list[Attendee] = []
    event_number: int = 0
    waitlist: list[WaitingPerson] = []
    loading: bool = True
    error: str = ""

    def _event_id(self) -> int:
        raw = last_path_segment(self)
        return int(raw) if raw.isdigit() else 0

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect(f"/dashboard/events/{self._event_id()}")
            return
        self.loading = True
        self.event_number = self._event_id()
        yield None
        try:
            row, rows = await asyncio.to_thread(events.event_bookings, actor_id=user_id,
                                                event_id=self._event_id())
        except DomainError as problem:
            self.title, self.attendees, self.error = "", [], problem.message
            self.loading = False
            return
        self.error = ""
        self.title = row.event.title
        self.seats = f"{row.held} of {row.event.max_participants} seats taken"
        self.attendees = [_attendee(b, u, row.event.timezone) for b, u in rows]
        queue = await asyncio.to_thread(waitlist.event_queue, actor_id=user_id,
                                        event_id=self._event_id())
        self.waitlist = [_waiting_person(r) for r in queue
                         if r.entry.status in ("waiting", "offered")]
        self.loading = False

    @rx.event
    async def export_csv(self) -> EventSpec | None:
        """Built fresh from the database, so the file matches what is true now."""
        user_id = await signed_in_user(self)
        if user_id is None:
            return None
        try:
            _, rows = await asyncio.to_thread(events.event_bookings, actor_id=user_id,
                                              event_id=self._event_id())
        except DomainError as problem:
            self.error = problem.message
            return None
        return rx.download(data=attendees_csv(rows),
                           filename=f"attendees-event-{self._event_id()}.csv")
