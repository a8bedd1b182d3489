"""/bookings: upcoming and past bookings; cancelling shows the refund before confirming."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import reflex as rx
from reflex.event import EventSpec

from crm_booking import clock
from crm_booking.errors import DomainError
from crm_booking.services import booking, cancellation_policy, views
from crm_booking.state import formatting as fmt
from crm_booking.state.confirmation import BookingView, booking_view
from crm_booking.state.session import login_redirect, signed_in_user


def _quote_sentence(row: booking.BookingRow, quote: cancellation_policy.Quote) -> str:
    """The cancel dialog's answer: exactly what the cancel-quote endpoint says."""
    if row.booking.paid_with == "pass":
        # Issue 17: the 100% tier gives the class back to the pass; later it is forfeited.
        if quote.refund_percent == 100:
            until = cancellation_policy.local_moment(quote.valid_until, row.event.timezone)
            return f"The class goes back to your pass if you cancel before {until}."
        return "By the cancellation policy of this booking, the class used from your pass " \
               "is not returned now."
    if cancellation_policy.paid_amount(row.booking) <= 0:
        return "There is no payment on this booking, so nothing is refunded."
    if not quote.refundable:
        return "By the cancellation policy of this booking, nothing is refunded now."
    share = "the full amount" if quote.refund_percent == 100 else f"{quote.refund_percent}%"
    until = cancellation_policy.local_moment(quote.valid_until, row.event.timezone)
    return (f"You will get {fmt.inr(quote.refund_amount)} back ({share}) to the card or account "
            f"you paid with, if you cancel before {until}.")


@dataclasses.dataclass
class BookingItem(BookingView):
    id: int = 0
    can_cancel: bool = False
    needs_payment: bool = False


def _item(row: booking.BookingRow) -> BookingItem:
    upcoming = clock.as_utc(row.event.start_at) > clock.now()
    return BookingItem(
        **dataclasses.asdict(booking_view(row)),
        id=row.booking.id or 0,
        # Offered only where the service would allow it; it checks again on confirm.
        can_cancel=upcoming and row.booking.status == "confirmed",
        needs_payment=row.booking.status == "confirmed"
        and row.booking.payment_status in ("pending", "failed"),
    )


def _refund_sentence(refund: dict[str, object] | None, reference: str, *,
                     paid: bool = False) -> str:
    if refund is None and paid:
        return f"Booking {reference} is cancelled. Its cancellation policy gives no refund now."
    if refund is None:
        return f"Booking {reference} is cancelled. There was no payment to refund."
    amount = fmt.inr(float(refund["amount"]), free_label="₹0")  # type: ignore[arg-type]
    if refund["status"] == "processed":
        return f"Booking {reference} is cancelled. Refund of {amount} processed."
    return (f"Booking {reference} is cancelled. Refund of {amount} is {refund['status']}; "
            "we keep retrying and will email you when it goes through.")


class MyBookingsState(rx.State):
    upcoming: list[BookingItem] = []
    past: list[BookingItem] = []
    loading: bool = True
    error: str = ""
    result: str = ""
    dialog_open: bool = False
    cancel_id: int = 0
    cancel_reference: str = ""
    cancel_question: str = ""
    cancelling: bool = False

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect("/bookings")
            return
        # A result belongs to the action that produced it, not to the next visit.
        self.result, self.error = "", ""
        await self._reload(user_id)

    @rx.event
    def dismiss_result(self) -> None:
        self.result = ""

    @rx.event
    def dismiss_error(self) -> None:
        self.error = ""

    async def _reload(self, user_id: int) -> None:
        rows = await asyncio.to_thread(booking.list_bookings, user_id=user_id, limit=200)
        items = [_item(r) for r in rows]
        now = clock.now()
        starts = {r.booking.id: clock.as_utc(r.event.start_at) for r in rows}
        # Cancelled bookings are history, whatever the event's date.
        ahead = [i for i in items if starts[i.id] > now and i.status != "cancelled"]
        self.upcoming = sorted(ahead, key=lambda i: starts[i.id])
        ahead_ids = {i.id for i in ahead}
        self.past = [i for i in items if i.id not in ahead_ids]
        self.loading = False

    @rx.event
    async def ask_cancel(self, booking_id: int) -> None:
        """Open the dialog with the refund this cancellation would give."""
        user_id = await signed_in_user(self)
        self.error, self.result = "", ""
        if user_id is None:
            return
        try:
            row, quote = await asyncio.to_thread(booking.cancellation_quote, user_id=user_id,
                                                 booking_id=booking_id)
        except DomainError as problem:
            self.error = problem.message
            return
        self.cancel_id = booking_id
        self.cancel_reference = next((i.reference for i in self.upcoming if i.id == booking_id), "")
        self.cancel_question = _quote_sentence(row, quote)
        self.dialog_open = True

    @rx.event
    def set_dialog_open(self, value: bool) -> None:
        self.dialog_open = value

    @rx.event
    async def confirm_cancel(self) -> AsyncIterator[None]:
        user_id = await signed_in_user(self)
        # A second click queued behind the first finds the question already answered.
        if user_id is None or self.cancelling or not self.cancel_id:
            return
        booking_id, self.cancel_id = self.cancel_id, 0
        self.cancelling, self.result, self.error = True, "", ""
        yield None
        try:
            outcome = await asyncio.to_thread(booking.cancel_booking, user_id=user_id,
                                              booking_id=booking_id)
            self.result = _refund_sentence(views.refund(outcome.refund), self.cancel_reference,
                                           paid=outcome.booking.payment_status == "completed")
            if outcome.booking.paid_with == "pass":
                self.result = f"Booking {self.cancel_reference} is cancelled. " + (
                    "The class is back on your pass." if outcome.credit_returned
                    else "The class used from your pass is not returned (cancellation policy).")
        except DomainError as problem:
            self.error = problem.message
        self.cancelling, self.dialog_open = False, False
        await self._reload(user_id)
