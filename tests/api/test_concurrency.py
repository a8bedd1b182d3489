"""Capacity holds under concurrent bookings, on PostgreSQL and on the embedded SQLite."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.api import create_event, new_attendee, new_facilitator


def _fire(base_url: str, event_id: int, tokens: list[str]) -> list[httpx.Response]:
    def one(token: str) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            return client.post("/bookings", json={"event_id": event_id},
                               headers={"Authorization": f"Bearer {token}"})

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        return list(pool.map(one, tokens))


def _assert_exactly(responses: list[httpx.Response], seats: int) -> None:
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == seats, statuses
    refused = [r for r in responses if r.status_code != 201]
    assert all(r.status_code == 400 and r.json() == {"error": "Event is full"} for r in refused), \
        {r.status_code: r.text for r in refused}


def _seat_counter_matches(event_id: int) -> tuple[int, int]:
    from sqlmodel import col, func, select

    from crm_booking.db import read_session
    from crm_booking.models import Booking, Event

    with read_session() as session:
        event = session.get(Event, event_id)
        confirmed = session.exec(select(func.count(col(Booking.id))).where(
            Booking.event_id == event_id, Booking.status == "confirmed")).one()
        return event.seats_taken, confirmed


@pytest.mark.parametrize("price", [0, 499])
def test_fifty_concurrent_bookings_fill_ten_seats_exactly(api, booking_server, price):
    event = create_event(api, new_facilitator(api), max_participants=10, price=price)
    tokens = [new_attendee(api).access_token for _ in range(50)]
    responses = _fire(booking_server, event["id"], tokens)
    _assert_exactly(responses, 10)
    assert api.get(f"/events/{event['id']}").json()["current_participants"] == 10
    assert _seat_counter_matches(event["id"]) == (10, 10)


def test_same_person_racing_twice_gets_one_booking(api, booking_server):
    event = create_event(api, new_facilitator(api), max_participants=10, price=0)
    token = new_attendee(api).access_token
    responses = _fire(booking_server, event["id"], [token] * 8)
    assert [r.status_code for r in responses].count(201) == 1
    assert all(r.json() == {"error": "You already have a booking for this event"}
               for r in responses if r.status_code != 201)
    assert _seat_counter_matches(event["id"]) == (1, 1)


def test_sqlite_embedded_database_also_never_oversells(tmp_path, clock_file):
    from crm_booking.launcher import migrate
    from tests.support.servers import booking_app, free_port

    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    migrate(url)
    port = free_port()
    server = booking_app(database_url=url, port=port, clock_file=clock_file, name="booking-sqlite",
                         extra_env={"CRM_URL": "http://127.0.0.1:9"}).start()
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=60) as client:
            facilitator = new_facilitator(client, database_url=url)
            event = create_event(client, facilitator, max_participants=10, price=0)
            tokens = [new_attendee(client).access_token for _ in range(50)]
        responses = _fire(base, event["id"], tokens)
        _assert_exactly(responses, 10)
    finally:
        server.stop()
