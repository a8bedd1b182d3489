"""The anonymous events list is answered from a worker's memory for up to
PUBLIC_EVENTS_CACHE_SECONDS (1 s by default; docs/decisions/benchmark.md, issue 19): a change
made through the app shows at once, a change made elsewhere within the window, and a signed-in
reader is never served a shared answer."""

from __future__ import annotations

import time
from typing import Any

import httpx
import sqlalchemy as sa

from tests.support.api import book, create_event, new_attendee, new_facilitator

CACHE_SECONDS = 1.0  # the default the test server runs with


def _listed(api: httpx.Client, facilitator_id: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    answer = api.get("/events", params={"facilitator_id": facilitator_id}, headers=headers or {})
    assert answer.status_code == 200, answer.text
    [event] = answer.json()["events"]
    return dict(event)


def _change_capacity_outside_the_app(database_url: str, event_id: int, seats: int) -> None:
    """As another worker (or an operator) would: straight in the database."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE events SET max_participants = :s WHERE id = :e"),
                           {"s": seats, "e": event_id})
    engine.dispose()


def test_a_booking_through_the_app_shows_at_once(api: httpx.Client) -> None:
    facilitator = new_facilitator(api)
    event = create_event(api, facilitator, max_participants=5)
    assert _listed(api, facilitator.id)["seats_available"] == 5
    assert _listed(api, facilitator.id)["seats_available"] == 5  # now from memory
    assert book(api, new_attendee(api), event["id"]).status_code == 201
    assert _listed(api, facilitator.id)["seats_available"] == 4


def test_a_change_made_elsewhere_shows_within_the_window(api: httpx.Client, database_url: str) -> None:
    facilitator = new_facilitator(api)
    event = create_event(api, facilitator, max_participants=5)
    assert _listed(api, facilitator.id)["max_participants"] == 5
    _change_capacity_outside_the_app(database_url, event["id"], 7)
    changed_at = time.monotonic()
    while _listed(api, facilitator.id)["max_participants"] != 7:
        assert time.monotonic() - changed_at < CACHE_SECONDS + 2, "the list kept a stale answer"
        time.sleep(0.05)  # polling the HTTP answer: there is no event to await


def test_a_signed_in_reader_is_never_served_the_shared_answer(api: httpx.Client,
                                                              database_url: str) -> None:
    facilitator = new_facilitator(api)
    reader = new_attendee(api)
    event = create_event(api, facilitator, max_participants=5)
    assert _listed(api, facilitator.id)["max_participants"] == 5  # stored for anonymous readers
    _change_capacity_outside_the_app(database_url, event["id"], 9)
    assert _listed(api, facilitator.id, reader.headers)["max_participants"] == 9
