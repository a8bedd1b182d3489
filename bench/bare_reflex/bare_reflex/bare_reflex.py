"""The floor for a Reflex page: one state, the events-page read in SQL on each load and filter
change (the Booking app's home page does the same read through its ORM), nothing else.
Benchmark only: `python -m bench` runs it beside the app with the same workers and Redis.

    BENCH_DATABASE_URL=postgresql+psycopg2://... uvicorn --factory bare_reflex.bare_reflex:app
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import reflex as rx
import sqlalchemy as sa

ENGINE = sa.create_engine(os.environ.get("BENCH_DATABASE_URL", "sqlite://"), pool_size=20)

UPCOMING = sa.text("""
SELECT e.id, e.title, e.event_type, e.start_at, e.location, e.max_participants, e.price,
       u.name AS facilitator_name,
       (SELECT count(b.id) FROM bookings b
        WHERE b.event_id = e.id AND b.status IN ('confirmed', 'completed')
          AND (b.payment_status NOT IN ('pending', 'failed') OR b.hold_expires_at IS NULL
               OR b.hold_expires_at > now())) AS held
FROM events e JOIN users u ON u.id = e.facilitator_id
WHERE e.deleted_at IS NULL AND e.is_active AND e.start_at > now()
  AND (CAST(:kind AS text) = '' OR e.event_type = :kind)
ORDER BY e.start_at, e.id LIMIT 50
""")


def _read(kind: str) -> list[dict[str, Any]]:
    with ENGINE.connect() as connection:
        rows = connection.execute(UPCOMING, {"kind": kind}).mappings().all()
    return [{"id": r["id"], "title": r["title"], "type": r["event_type"],
             "starts": r["start_at"].isoformat(), "location": r["location"] or "",
             "seats_left": r["max_participants"] - r["held"], "price": float(r["price"]),
             "facilitator": r["facilitator_name"]} for r in rows]


class HomeState(rx.State):
    events: list[dict[str, Any]] = []
    filter_type: str = ""
    loading: bool = True

    @rx.event
    async def load(self) -> None:
        self.events = await asyncio.to_thread(_read, self.filter_type)
        self.loading = False

    @rx.event
    async def set_type(self, value: str) -> None:
        self.filter_type = value
        self.events = await asyncio.to_thread(_read, value)


def index() -> rx.Component:
    return rx.foreach(HomeState.events, lambda event: rx.text(event["title"]))


app = rx.App()
app.add_page(index, route="/", on_load=HomeState.load)
