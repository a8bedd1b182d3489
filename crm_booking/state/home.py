"""State of the home page."""

from __future__ import annotations

import asyncio

import reflex as rx

from crm_booking.services import events


def _card(row: events.EventRow) -> dict[str, str]:
    held, cap = row.held, row.event.max_participants
    return {
        "id": str(row.event.id),
        "title": row.event.title,
        "when": row.event.start_at.isoformat(),
        "seats": "Full" if held >= cap else f"{cap - held} seats left",
    }


class HomeState(rx.State):
    events: list[dict[str, str]] = []

    @rx.event
    async def load(self) -> None:
        rows = await asyncio.to_thread(events.list_events, upcoming_only=True, active=True)
        self.events = [_card(r) for r in rows]
