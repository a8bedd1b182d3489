"""One event, and booking it in one click (then paying, when it has a price)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import reflex as rx
from reflex.event import EventSpec

from crm_booking import clock
from crm_booking.errors import DomainError
from crm_booking.services import booking, events, payment
from crm_booking.state.cards import EventCard, event_card
from crm_booking.state.session import full_page_redirect, last_path_segment, login_redirect, signed_in_user


class EventDetailState(rx.State):
    event: EventCard = EventCard()
    virtual_link: str = ""
    bookable: bool = False
    closed_reason: str = ""
    found: bool = True
    loading: bool = True
    booking_in_progress: bool = False
    error: str = ""

    def _event_id(self) -> int | None:
        raw = last_path_segment(self)
        return int(raw) if raw.isdigit() else None

    @rx.event
    async def load(self) -> AsyncIterator[None]:
        self.loading, self.error = True, ""
        yield None
        event_id = self._event_id()
        try:
            row = await asyncio.to_thread(events.get_event, event_id or 0)
        except DomainError:
            self.found, self.loading = False, False
            return
        self.found = True
        self.event = event_card(row)
        self.virtual_link = row.event.virtual_link or ""
        self.closed_reason = self._closed_reason(row)
        self.bookable = self.closed_reason == ""
        self.loading = False

    @staticmethod
    def _closed_reason(row: events.EventRow) -> str:
        """Why the Book button is off; the service re-checks all of this when booking."""
        if row.event.cancelled_at is not None:
            return "This event has been cancelled."
        if not row.event.is_active:
            return "This event is not open for booking."
        if clock.as_utc(row.event.start_at) <= clock.now():
            return "This event has already started."
        if row.held >= row.event.max_participants:
            return "This event is full."
        return ""

    @rx.event
    async def book(self) -> AsyncIterator[EventSpec | None]:
        event_id = self._event_id()
        user_id = await signed_in_user(self)
        if user_id is None:
            # Back to this event after signing in, so nothing is lost.
            yield login_redirect(f"/events/{event_id}")
            return
        self.booking_in_progress, self.error = True, ""
        yield None
        try:
            row = await asyncio.to_thread(booking.create_booking, user_id=user_id,
                                          event_id=event_id or 0)
            checkout = await asyncio.to_thread(payment.start_checkout, row.booking)
        except DomainError as problem:
            self.error = problem.message
            self.booking_in_progress = False
            return
        self.booking_in_progress = False
        if checkout.payment_url:
            yield full_page_redirect(checkout.payment_url)
        else:
            yield rx.redirect(f"/booking/{row.booking.booking_reference}")
