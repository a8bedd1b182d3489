"""Browse upcoming events: keyword search and filters by type, facilitator and date.

The filters live in the page address (`/?q=yoga&type=workshop&facilitator=3&from=2026-12-01`),
which is the only source of truth: changing a filter navigates to the new address, and loading
an address (a shared link, a reload, the back button) reads the filters from it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, time
from typing import TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import reflex as rx
from reflex.event import EventSpec

from crm_booking import public_cache
from crm_booking.services import events
from crm_booking.settings import get_settings
from crm_booking.state.cards import EventCard, grouped_by_series, with_viewer_time
from crm_booking.state.session import query_parameter, signed_in_user

EVENT_TYPES = ("session", "workshop", "retreat")
T = TypeVar("T")
VIEWER_ZONE_SCRIPT = "Intl.DateTimeFormat().resolvedOptions().timeZone"


def _day_start(day: str) -> datetime | None:
    """The chosen calendar day starts at midnight in the platform's home timezone."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        return None
    return datetime.combine(parsed, time(0), tzinfo=ZoneInfo(get_settings().DEFAULT_TIMEZONE))


def filters_address(q: str, event_type: str, facilitator: str, day: str) -> str:
    """The page address for these filters (empty ones left out)."""
    given = {"q": q.strip()[: events.MAX_SEARCH_LENGTH], "type": event_type,
             "facilitator": facilitator, "from": day}
    query = urlencode({name: value for name, value in given.items() if value})
    return "/" + (f"?{query}" if query else "")


async def _shared(key: tuple[object, ...], produce: Callable[[], T]) -> T:
    """The home page is the same for every visitor: one read serves every session of this
    worker for up to PUBLIC_EVENTS_CACHE_SECONDS (crm_booking/public_cache.py)."""
    hit = public_cache.lookup(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    return await asyncio.to_thread(public_cache.cached, key, produce)


class HomeState(rx.State):
    events: list[EventCard] = []
    facilitators: list[list[str]] = []
    filter_q: str = ""
    filter_type: str = ""
    filter_facilitator: str = ""
    filter_date: str = ""
    viewer_zone: str = ""
    loading: bool = True
    error: str = ""

    def _read_address(self) -> None:
        """Filters from the address; anything malformed is ignored, not an error."""
        self.filter_q = query_parameter(self, "q").strip()[: events.MAX_SEARCH_LENGTH]
        event_type = query_parameter(self, "type")
        self.filter_type = event_type if event_type in EVENT_TYPES else ""
        facilitator = query_parameter(self, "facilitator")
        self.filter_facilitator = facilitator if facilitator.isdigit() and len(facilitator) < 10 else ""
        day = query_parameter(self, "from")
        self.filter_date = day if _day_start(day) is not None else ""

    async def _fetch(self) -> list[EventCard]:
        filters = {
            "keywords": self.filter_q or None,
            "event_type": self.filter_type or None,
            "facilitator_id": int(self.filter_facilitator) if self.filter_facilitator else None,
            "starts_from": _day_start(self.filter_date) if self.filter_date else None,
        }

        def grouped_cards() -> list[EventCard]:
            # A series shows once (its next session, worded as the series; issue 17): read more
            # rows than a page so its later sessions do not crowd other events out, then keep a
            # page of cards. The wording reads the series too, so the cards are what is shared.
            rows = events.list_events(upcoming_only=True, active=True, limit=events.MAX_PAGE,
                                      **filters)  # type: ignore[arg-type]
            # A card shows no description: left in, a studio's long texts would travel on every
            # page load and filter change and sit in every tab's stored state (issue 19).
            return [dataclasses.replace(card, description="")
                    for card in grouped_by_series(rows)[:events.DEFAULT_PAGE]]

        cards = await _shared(("home", *filters.values()), grouped_cards)
        return [with_viewer_time(card, self.viewer_zone) for card in cards]

    async def _facilitator_options(self) -> list[list[str]]:
        rows = await _shared(("home-facilitators",), lambda: events.list_events(
            upcoming_only=True, active=True, limit=events.MAX_PAGE))
        names = {str(r.facilitator.id): r.facilitator.name for r in rows}
        return [[fid, name] for fid, name in sorted(names.items(), key=lambda item: item[1])]

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        self.loading = True
        self._read_address()
        yield None
        # The header's "signed in as" is refreshed here rather than by a SessionState.load of
        # its own: one websocket event per visit instead of two (issue 19).
        await signed_in_user(self)
        if not self.facilitators:
            self.facilitators = await self._facilitator_options()
        await self._refresh()
        if not self.viewer_zone:
            yield rx.call_script(VIEWER_ZONE_SCRIPT, callback=HomeState.set_viewer_zone)

    async def _refresh(self) -> None:
        try:
            self.events = await self._fetch()
            self.error = ""
        except Exception:  # the page stays usable; the person can retry
            self.error = "Events could not be loaded just now. Please try again."
        self.loading = False

    @rx.event
    def set_viewer_zone(self, zone: str) -> None:
        self.viewer_zone = str(zone)[:64]
        self.events = [with_viewer_time(card, self.viewer_zone) for card in self.events]

    # Each change goes to a new address (a history entry), which loads the page again.

    def _go(self, **changes: str) -> EventSpec:
        current = {"q": self.filter_q, "event_type": self.filter_type,
                   "facilitator": self.filter_facilitator, "day": self.filter_date}
        return rx.redirect(filters_address(**{**current, **changes}))

    @rx.event
    def search(self, form: dict[str, str]) -> EventSpec:
        return self._go(q=str(form.get("q", "")))

    @rx.event
    def set_type(self, value: str) -> EventSpec:
        return self._go(event_type=value)

    @rx.event
    def set_facilitator(self, value: str) -> EventSpec:
        return self._go(facilitator=value)

    @rx.event
    def set_date(self, value: str) -> EventSpec:
        return self._go(day=value)

    @rx.event
    def clear_filters(self) -> EventSpec:
        return rx.redirect("/")
