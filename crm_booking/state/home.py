"""Browse upcoming events, with filters by type, facilitator and date."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import reflex as rx

from crm_booking.services import events
from crm_booking.settings import get_settings
from crm_booking.state.cards import EventCard, event_card


def _day_start(day: str) -> datetime | None:
    """The chosen calendar day starts at midnight in the platform's home timezone."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        return None
    return datetime.combine(parsed, time(0), tzinfo=ZoneInfo(get_settings().DEFAULT_TIMEZONE))


class HomeState(rx.State):
    events: list[EventCard] = []
    facilitators: list[list[str]] = []
    filter_type: str = ""
    filter_facilitator: str = ""
    filter_date: str = ""
    loading: bool = True
    error: str = ""

    async def _fetch(self) -> list[EventCard]:
        rows = await asyncio.to_thread(
            events.list_events,
            upcoming_only=True,
            active=True,
            event_type=self.filter_type or None,
            facilitator_id=int(self.filter_facilitator) if self.filter_facilitator.isdigit() else None,
            starts_from=_day_start(self.filter_date) if self.filter_date else None,
        )
        return [event_card(r) for r in rows]

    async def _facilitator_options(self) -> list[list[str]]:
        rows = await asyncio.to_thread(events.list_events, upcoming_only=True, active=True,
                                       limit=events.MAX_PAGE)
        names = {str(r.facilitator.id): r.facilitator.name for r in rows}
        return [[fid, name] for fid, name in sorted(names.items(), key=lambda item: item[1])]

    @rx.event
    async def load(self) -> AsyncIterator[None]:
        self.loading = True
        yield None
        self.facilitators = await self._facilitator_options()
        await self._refresh()

    async def _refresh(self) -> None:
        try:
            self.events = await self._fetch()
            self.error = ""
        except Exception:  # the page stays usable; the person can retry
            self.error = "Events could not be loaded just now. Please try again."
        self.loading = False

    @rx.event
    async def set_type(self, value: str) -> None:
        self.filter_type = value
        await self._refresh()

    @rx.event
    async def set_facilitator(self, value: str) -> None:
        self.filter_facilitator = value
        await self._refresh()

    @rx.event
    async def set_date(self, value: str) -> None:
        self.filter_date = value
        await self._refresh()

    @rx.event
    async def clear_filters(self) -> None:
        self.filter_type = self.filter_facilitator = self.filter_date = ""
        await self._refresh()
