"""/booking/[reference]: the outcome of booking and paying, with a retry while the seat is held."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import AsyncIterator

import reflex as rx
from reflex.event import EventSpec

from crm_booking import clock
from crm_booking.errors import DomainError
from crm_booking.services import booking, payment
from crm_booking.services.booking import BookingRow
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


def booking_view(row: BookingRow) -> BookingView:
    b, e = row.booking, row.event
    return BookingView(
        reference=b.booking_reference or "",
        event_id=e.id or 0,
        event_title=e.title,
        when=fmt.schedule(e.start_at, e.end_at, e.timezone),
        place=e.location or "Online",
        amount=fmt.inr(b.amount),
        status=b.status,
        status_label=fmt.STATUS_LABELS.get(b.status, b.status),
        payment_status=b.payment_status,
        payment_label=fmt.PAYMENT_LABELS.get(b.payment_status, b.payment_status),
    )


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
        reason = (b.payment_error_description or "The payment did not go through").rstrip(". ")
        return f"Payment failed: {reason}. Your seat is held for {fmt.minutes_phrase(minutes)} more."
    if b.payment_status == "pending":
        return (f"We have not received your payment yet. Your seat is held for "
                f"{fmt.minutes_phrase(minutes)}.")
    return ""


class ConfirmationState(rx.State):
    booking: BookingView = BookingView()
    explanation: str = ""
    pay_url: str = ""
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
        self.found = True
        self.booking = booking_view(row)
        self.explanation = _explanation(row, minutes)
        self.pay_url = (payment.checkout_url(reference)
                        if payment.needs_payment(row.booking) and minutes > 0 else "")
        self.loading = False
