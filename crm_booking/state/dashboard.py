"""/dashboard: a facilitator's events, with create/edit, deactivate and cancel."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from crm_booking.clock import as_utc
from crm_booking.errors import DomainError, ValidationFailed
from crm_booking.services import events
from crm_booking.services.events import EventInput, EventRow
from crm_booking.settings import get_settings
from crm_booking.state import formatting as fmt
from crm_booking.state.session import login_redirect, signed_in_user

FORM_FIELDS = ("title", "description", "event_type", "start_datetime", "end_datetime",
               "timezone", "location", "virtual_link", "max_participants", "price")


@dataclasses.dataclass
class DashboardEvent:
    id: int = 0
    title: str = ""
    when: str = ""
    seats: str = ""
    revenue: str = ""
    status_label: str = ""
    is_active: bool = True
    cancelled: bool = False


def _status(row: EventRow) -> str:
    if row.event.cancelled_at is not None:
        return "Cancelled"
    return "Open" if row.event.is_active else "Not bookable"


def _dashboard_event(row: EventRow, revenue: Decimal) -> DashboardEvent:
    e = row.event
    return DashboardEvent(
        id=e.id or 0, title=e.title,
        when=fmt.short_date(e.start_at, e.timezone),
        seats=f"{row.held} / {e.max_participants}",
        revenue=fmt.inr(revenue, free_label="₹0"),
        status_label=_status(row), is_active=e.is_active,
        cancelled=e.cancelled_at is not None,
    )


def _local_input(value: Any, tz_name: str) -> str:
    """The value a datetime-local input expects, in the event's own timezone."""
    from zoneinfo import ZoneInfo

    return as_utc(value).astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%dT%H:%M")


def _form_values(row: EventRow | None) -> dict[str, str]:
    if row is None:
        return {**dict.fromkeys(FORM_FIELDS, ""), "event_type": "session",
                "timezone": get_settings().DEFAULT_TIMEZONE, "max_participants": "10",
                "price": "0"}
    e = row.event
    return {
        "title": e.title, "description": e.description, "event_type": e.event_type,
        "start_datetime": _local_input(e.start_at, e.timezone),
        "end_datetime": _local_input(e.end_at, e.timezone), "timezone": e.timezone,
        "location": e.location or "", "virtual_link": e.virtual_link or "",
        "max_participants": str(e.max_participants), "price": str(e.price),
    }


def _event_input(form: dict[str, str]) -> EventInput:
    """Form text to the service's input; the service validates and words the problems."""
    def text(name: str) -> str | None:
        value = form.get(name, "").strip()
        return value or None

    capacity = form.get("max_participants", "").strip()
    return EventInput(
        title=form.get("title", ""), description=form.get("description", ""),
        event_type=form.get("event_type", ""),
        start_datetime=text("start_datetime"), end_datetime=text("end_datetime"),
        timezone=form.get("timezone", "").strip(),
        location=text("location"), virtual_link=text("virtual_link"),
        max_participants=int(capacity) if capacity.isdigit() else capacity,
        price=form.get("price", "").strip() or "0",  # an empty price means free
    )


class DashboardState(rx.State):
    events: list[DashboardEvent] = []
    loading: bool = True
    forbidden: bool = False
    message: str = ""
    error: str = ""
    # create / edit form
    form_open: bool = False
    editing_id: int = 0
    form_values: dict[str, str] = {}
    form_errors: dict[str, str] = {}
    form_error: str = ""
    saving: bool = False
    form_key: int = 0
    # cancel event
    cancel_open: bool = False
    cancel_id: int = 0
    cancel_title: str = ""
    cancel_question: str = ""
    cancelling: bool = False

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect("/dashboard")
            return
        self.message = self.error = ""
        await self._reload(user_id)

    async def _reload(self, user_id: int) -> None:
        try:
            rows = await asyncio.to_thread(events.facilitator_events, actor_id=user_id,
                                           limit=events.MAX_PAGE)
            revenue = await asyncio.to_thread(events.revenue_by_event, actor_id=user_id)
        except DomainError:
            self.forbidden, self.loading = True, False
            return
        self.forbidden = False
        self.events = [_dashboard_event(r, revenue.get(r.event.id or 0, Decimal(0)))
                       for r in rows]
        self.loading = False

    # --- create / edit ------------------------------------------------------------------------

    @rx.event
    async def open_form(self, event_id: int) -> None:
        row = None
        if event_id:
            try:
                row = await asyncio.to_thread(events.get_event, event_id)
            except DomainError as problem:
                self.error = problem.message
                return
        self.editing_id = event_id
        self.form_values = _form_values(row)
        self.form_errors = dict.fromkeys(FORM_FIELDS, "")
        self.form_error = ""
        self.form_key += 1
        self.form_open = True

    @rx.event
    def set_form_open(self, value: bool) -> None:
        self.form_open = value

    @rx.event
    async def save(self, form: dict[str, str]) -> AsyncIterator[None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.form_values = {name: form.get(name, "") for name in FORM_FIELDS}
        self.form_errors = dict.fromkeys(FORM_FIELDS, "")
        self.form_error = ""
        self.saving = True
        yield None
        data = _event_input(form)
        try:
            if self.editing_id:
                await asyncio.to_thread(events.update_event, actor_id=user_id,
                                        event_id=self.editing_id, data=data)
            else:
                await asyncio.to_thread(events.create_event, actor_id=user_id, data=data)
        except ValidationFailed as problem:
            self.form_errors = {name: problem.details.get(name, "") for name in FORM_FIELDS}
            self.form_error = "Please correct the highlighted fields."
        except DomainError as problem:
            self.form_error = problem.message
        else:
            self.message = (f"Saved changes to “{form.get('title', '').strip()}”." if self.editing_id
                            else f"Created “{form.get('title', '').strip()}”.")
            self.form_open = False
            await self._reload(user_id)
        self.saving = False

    # --- activate / deactivate ----------------------------------------------------------------

    @rx.event
    async def set_active(self, event_id: int, active: bool) -> None:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.message = self.error = ""
        try:
            row = await asyncio.to_thread(events.update_event, actor_id=user_id,
                                          event_id=event_id, data=EventInput(is_active=active))
        except DomainError as problem:
            self.error = getattr(problem, "details", {}).get("is_active") or problem.message
            return
        self.message = (f"“{row.event.title}” is open for booking again." if active
                        else f"“{row.event.title}” no longer takes bookings.")
        await self._reload(user_id)

    # --- cancel -------------------------------------------------------------------------------

    @rx.event
    async def ask_cancel(self, event_id: int) -> None:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.message = self.error = ""
        try:
            quote = await asyncio.to_thread(events.cancellation_quote, actor_id=user_id,
                                            event_id=event_id)
        except DomainError as problem:
            self.error = problem.message
            return
        self.cancel_id = event_id
        self.cancel_title = next((e.title for e in self.events if e.id == event_id), "this event")
        self.cancel_question = _cancel_question(quote)
        self.cancel_open = True

    @rx.event
    def set_cancel_open(self, value: bool) -> None:
        self.cancel_open = value

    @rx.event
    async def confirm_cancel(self) -> AsyncIterator[None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.cancelling = True
        yield None
        try:
            outcome = await asyncio.to_thread(events.cancel_event, actor_id=user_id,
                                              event_id=self.cancel_id)
            self.message = _cancel_outcome(self.cancel_title, outcome)
        except DomainError as problem:
            self.error = problem.message
        self.cancelling, self.cancel_open = False, False
        await self._reload(user_id)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _cancel_question(quote: events.EventCancellationQuote) -> str:
    if quote.bookings_to_cancel == 0:
        return "Nobody has booked it, so no one needs a refund."
    refunds = (f"{_plural(quote.refunds_due, 'paid booking')} will be refunded, "
               f"{fmt.inr(quote.total_refund_amount, free_label='₹0')} in total."
               if quote.refunds_due else "None of them has paid, so nothing is refunded.")
    return f"{_plural(quote.bookings_to_cancel, 'booking')} will be cancelled. {refunds}"


def _cancel_outcome(title: str, outcome: events.EventCancellation) -> str:
    text = (f"“{title}” is cancelled. {_plural(outcome.bookings_cancelled, 'booking')} cancelled; "
            f"{_plural(outcome.refunds_processed, 'refund')} processed, "
            f"{fmt.inr(outcome.total_refund_amount, free_label='₹0')} in total.")
    if outcome.refunds_failed:
        text += (f" {_plural(outcome.refunds_failed, 'refund')} could not be sent yet and "
                 "will be retried automatically.")
    return text
