"""One event, and booking it in one click (then paying, when it has a price)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from crm_booking import clock
from crm_booking.errors import DomainError
from crm_booking.services import booking, cancellation_policy, events, passes, payment, series, waitlist
from crm_booking.state.cards import EventCard, SeriesDate, event_card, series_dates, with_viewer_time
from crm_booking.state.home import VIEWER_ZONE_SCRIPT
from crm_booking.state.session import full_page_redirect, last_path_segment, login_redirect, signed_in_user

FULL = "This event is full."


@dataclasses.dataclass
class PassOption:
    """One of the viewer's passes that can pay for this event now (issue 17)."""

    id: int = 0
    label: str = ""  # "Three classes (2 of 3 left)"


class EventDetailState(rx.State):
    event: EventCard = EventCard()
    virtual_link: str = ""  # only for the facilitator and people whose seat is paid or free
    my_booking: str = ""  # the viewer's live booking reference: "view booking", not "Book"
    bookable: bool = False
    closed_reason: str = ""
    found: bool = True
    loading: bool = True
    booking_in_progress: bool = False
    error: str = ""
    viewer_zone: str = ""
    refund_policy_text: str = ""
    # waitlist: "" (not on it), "waiting" or "offered"
    can_join_waitlist: bool = False
    waitlist_status: str = ""
    waitlist_position: int = 0
    waitlist_entry_id: int = 0
    offer_until: str = ""
    waitlist_busy: bool = False
    waitlist_message: str = ""
    # A session of a recurring series: the series in words and its upcoming dates to pick from.
    series_text: str = ""
    series_dates: list[SeriesDate] = []
    pass_options: list[PassOption] = []

    def _event_id(self) -> int | None:
        raw = last_path_segment(self)
        return int(raw) if raw.isdigit() else None

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        self.loading, self.error = True, ""
        yield None
        event_id = self._event_id()
        try:
            row = await asyncio.to_thread(events.get_event, event_id or 0)
        except DomainError:
            self.found, self.loading = False, False
            return
        self.found = True
        self.event = with_viewer_time(event_card(row), self.viewer_zone)
        user_id = await signed_in_user(self)
        link = await asyncio.to_thread(events.join_link_for, user_id, row.event)
        mine = await asyncio.to_thread(events.live_booking_reference, user_id, row.event.id or 0)
        self.virtual_link, self.my_booking = link or "", mine or ""
        self.refund_policy_text = cancellation_policy.event_fields(row.event)["refund_policy_text"] or ""
        self.closed_reason = self._closed_reason(row)
        self.bookable = self.closed_reason == "" and self.my_booking == ""
        await self._load_waitlist(row)
        await self._load_series(row)
        usable = (await asyncio.to_thread(passes.usable_for, user_id=user_id, event=row.event)
                  if user_id is not None and self.bookable else [])
        self.pass_options = [PassOption(o.purchase.id or 0,
                                        f"{o.product.name} ({o.purchase.credits_left} of "
                                        f"{o.purchase.credits_total} left)") for o in usable]
        self.loading = False
        if not self.viewer_zone:
            yield rx.call_script(VIEWER_ZONE_SCRIPT, callback=EventDetailState.set_viewer_zone)

    async def _load_series(self, row: events.EventRow) -> None:
        self.series_text, self.series_dates = "", []
        if row.event.series_id is None:
            return
        view = await asyncio.to_thread(series.get_series, row.event.series_id)
        upcoming = view.upcoming()
        if row.event.id not in {r.event.id for r in upcoming}:  # keep this one in the list
            upcoming = sorted([*upcoming, row], key=lambda r: (r.event.start_at, r.event.id or 0))
        self.series_text = view.summary
        self.series_dates = series_dates(upcoming, row.event.id or 0)

    @rx.event
    def set_viewer_zone(self, zone: str) -> None:
        self.viewer_zone = str(zone)[:64]
        self.event = with_viewer_time(self.event, self.viewer_zone)

    @staticmethod
    def _closed_reason(row: events.EventRow) -> str:
        """Why the Book button is off; the service re-checks all of this when booking."""
        if row.event.cancelled_at is not None:
            return "This event has been cancelled."
        if not row.event.is_active:
            return "This event is not open for booking."
        if clock.as_utc(row.event.start_at) <= clock.now():
            return "This event has already started."
        if row.held >= row.event.max_participants or row.waiting > 0:
            return FULL
        return ""

    @rx.event
    async def book(self) -> AsyncIterator[EventSpec | None]:
        async for step in self._book(pass_id=None):
            yield step

    @rx.event
    async def book_with_pass(self, pass_id: int) -> AsyncIterator[EventSpec | None]:
        """One credit of the viewer's pass pays the seat: no checkout, straight to the booking."""
        async for step in self._book(pass_id=int(pass_id)):
            yield step

    async def _book(self, *, pass_id: int | None) -> AsyncIterator[EventSpec | None]:
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
                                          event_id=event_id or 0, pass_id=pass_id)
            payment_url = None if pass_id is not None else (
                await asyncio.to_thread(payment.start_checkout, row.booking)).payment_url
        except DomainError as problem:
            self.error, self.booking_in_progress = problem.message, False
            return
        self.booking_in_progress = False
        if payment_url:
            yield full_page_redirect(payment_url)
        else:
            yield rx.redirect(f"/booking/{row.booking.booking_reference}")

    # --- waitlist -----------------------------------------------------------------------------

    async def _load_waitlist(self, row: events.EventRow) -> None:
        self.waitlist_status, self.waitlist_position, self.waitlist_entry_id = "", 0, 0
        self.offer_until = ""
        user_id = await signed_in_user(self)
        found = (await asyncio.to_thread(waitlist.live_entry, user_id=user_id,
                                         event_id=row.event.id or 0)
                 if user_id is not None else None)
        if found is not None:
            self.waitlist_status = found.entry.status
            self.waitlist_position = found.position or 0
            self.waitlist_entry_id = found.entry.id or 0
            if found.entry.offer_expires_at is not None:
                self.offer_until = cancellation_policy.local_moment(found.entry.offer_expires_at,
                                                                    row.event.timezone)
        self.can_join_waitlist = self.closed_reason == FULL and found is None

    async def _reload_event(self) -> None:
        row = await asyncio.to_thread(events.get_event, self._event_id() or 0)
        self.event = with_viewer_time(event_card(row), self.viewer_zone)
        self.closed_reason = self._closed_reason(row)
        self.bookable = self.closed_reason == ""
        await self._load_waitlist(row)

    @rx.event
    async def join_waitlist(self) -> AsyncIterator[EventSpec | None]:
        event_id = self._event_id() or 0
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect(f"/events/{event_id}")
            return
        await self._waitlist_step(waitlist.join, user_id=user_id, event_id=event_id)

    @rx.event
    async def leave_waitlist(self) -> None:
        user_id = await signed_in_user(self)
        if user_id is not None:
            await self._waitlist_step(waitlist.leave, user_id=user_id,
                                      event_id=self._event_id() or 0)
            if not self.error:
                self.waitlist_message = "You have left the waitlist."

    async def _waitlist_step(self, step: Any, **arguments: int) -> None:
        self.waitlist_busy, self.error, self.waitlist_message = True, "", ""
        try:
            await asyncio.to_thread(step, **arguments)
        except DomainError as problem:
            self.error = problem.message
        await self._reload_event()
        self.waitlist_busy = False

    @rx.event
    async def accept_offer(self) -> AsyncIterator[EventSpec | None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.waitlist_busy, self.error = True, ""
        yield None
        try:
            row = await asyncio.to_thread(waitlist.accept, user_id=user_id,
                                          entry_id=self.waitlist_entry_id)
            checkout = await asyncio.to_thread(payment.start_checkout, row.booking)
        except DomainError as problem:
            self.error = problem.message
            await self._reload_event()
            self.waitlist_busy = False
            return
        self.waitlist_busy = False
        if checkout.payment_url:
            yield full_page_redirect(checkout.payment_url)
        else:
            yield rx.redirect(f"/booking/{row.booking.booking_reference}")
