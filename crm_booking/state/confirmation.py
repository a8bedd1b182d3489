"""/booking/[reference]: the outcome of booking and paying, with a retry while the seat is held."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from crm_booking import clock
from crm_booking.errors import DomainError
from crm_booking.models import Booking
from crm_booking.services import booking, calendar, checkin, payment, receipts
from crm_booking.services.booking import BookingRow
from crm_booking.services.views import absolute_url
from crm_booking.state import formatting as fmt
from crm_booking.state.session import last_path_segment, login_redirect, signed_in_user


@dataclasses.dataclass
class BookingView:
    reference: str = ""
    event_id: int = 0
    event_title: str = ""
    when: str = ""
    place: str = ""
    amount: str = ""
    status: str = ""
    status_label: str = ""
    payment_status: str = ""
    payment_label: str = ""
    tone: str = "amber"
    secured: bool = False  # paid or free and still on: the seat is theirs
    join_link: str = ""  # only for a secured seat
    calendar_ics_url: str = ""
    google_calendar_url: str = ""
    # Shown only for a seat that is really the attendee's (paid or free, still on).
    ticket_code: str = ""
    ticket_qr: str = ""
    checked_in: bool = False


def booking_view(row: BookingRow) -> BookingView:
    b, e = row.booking, row.event
    words = fmt.booking_words(status=b.status, payment_status=b.payment_status, amount=b.amount,
                              hold_expires_at=b.hold_expires_at,
                              cancellation_reason=b.cancellation_reason, tz_name=e.timezone,
                              now=clock.now())
    secured = calendar.is_secured(b)
    if b.paid_with == "pass":
        # Issue 17: no money on the booking, one class of a pass; never "Free".
        words = fmt.BookingWords(words.status.replace("Free", "Paid with a pass"),
                                 words.payment.replace("Free", "Paid with a pass"), words.tone)
    return BookingView(
        reference=b.booking_reference or "",
        event_id=e.id or 0,
        event_title=e.title,
        when=fmt.schedule(e.start_at, e.end_at, e.timezone),
        place=e.location or "Online",
        amount="1 class of your pass" if b.paid_with == "pass" else fmt.inr(b.amount),
        status=b.status,
        status_label=words.status,
        payment_status=b.payment_status,
        payment_label=words.payment,
        tone=words.tone,
        secured=secured,
        join_link=(e.virtual_link or "") if secured else "",
        calendar_ics_url=(absolute_url(calendar.ics_path(b)) or "") if secured else "",
        google_calendar_url=calendar.google_calendar_url(b, e) if secured else "",
        **_ticket(b),
    )


def _ticket(b: Booking) -> dict[str, Any]:
    if not calendar.is_secured(b) or b.id is None:
        return {}
    code = checkin.ticket_code(b.id)
    return {"ticket_code": code, "ticket_qr": checkin.ticket_qr_svg_uri(code),
            "checked_in": b.checked_in_at is not None}


def receipt_links(found: list[receipts.ReceiptSummary]) -> list[dict[str, str]]:
    return [{"number": r.number,
             "label": ("Refund receipt " if r.kind == "refund" else "Receipt ") + r.number
                      + " (PDF, " + fmt.inr(r.amount) + ")",
             "url": absolute_url(f"/bookings/{r.booking_id}/receipts/{r.number}") or ""}
            for r in found]


def _hold_minutes(row: BookingRow) -> int:
    if row.booking.hold_expires_at is None:
        return 0
    seconds = (clock.as_utc(row.booking.hold_expires_at) - clock.now()).total_seconds()
    return max(math.ceil(seconds / 60), 0)


def _explanation(row: BookingRow, minutes: int) -> str:
    """What happened, in words, for an unpaid or failed booking."""
    b = row.booking
    if b.status == "cancelled" and b.cancellation_reason == "hold_expired":
        return "The payment was not completed in time, so the seat was released."
    if b.status == "cancelled":
        return "This booking was cancelled."
    if b.payment_status == "failed":
        # Our own words: the failure callback is unsigned, its description could be anyone's.
        return (f"Payment failed: the payment did not go through. Your seat is held for "
                f"{fmt.minutes_phrase(minutes)} more.")
    if b.payment_status == "pending":
        return (f"We have not received your payment yet. Your seat is held for "
                f"{fmt.minutes_phrase(minutes)}.")
    return ""


class ConfirmationState(rx.State):
    booking: BookingView = BookingView()
    explanation: str = ""
    pay_url: str = ""
    receipts: list[dict[str, str]] = []
    found: bool = True
    loading: bool = True

    @rx.var
    def pay_label(self) -> str:
        return "Retry payment" if self.booking.payment_status == "failed" else "Pay now"

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        reference = last_path_segment(self)
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect(f"/booking/{reference}")
            return
        self.loading = True
        yield None
        try:
            row = await asyncio.to_thread(booking.get_own_booking_by_reference,
                                          user_id=user_id, reference=reference)
        except DomainError:
            self.found, self.loading = False, False
            return
        minutes = _hold_minutes(row)
        found = await asyncio.to_thread(receipts.booking_receipts, user_id=user_id,
                                        booking_id=row.booking.id or 0)
        self.receipts = receipt_links(found)
        self.found = True
        self.booking = booking_view(row)
        self.explanation = _explanation(row, minutes)
        self.pay_url = (payment.checkout_url(reference)
                        if payment.needs_payment(row.booking) and minutes > 0 else "")
        self.loading = False
