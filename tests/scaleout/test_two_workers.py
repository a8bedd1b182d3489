"""Production runs several worker processes behind one port: state lives in PostgreSQL (and
Reflex state in Redis), and background jobs are correct when every worker runs them."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import redis
from sqlmodel import Session, col, select

from crm_booking.models import Booking, Event, OutboxMessage, Role
from tests.scaleout.conftest import (
    REDIS_URL,
    PageSocket,
    connections_on_two_workers,
    opened_on_another_worker,
    worker_pids,
)
from tests.support.api import PASSWORD, create_event, login, new_attendee, unique_email

pytestmark = pytest.mark.slow


def _engine(server: Any) -> Any:
    from crm_booking.db import engine_for

    return engine_for(server.env["DATABASE_URL"])


def _facilitator(server: Any, client: httpx.Client) -> Any:
    from crm_booking.services import auth

    email = unique_email("facilitator")
    # The test process talks to the app's own database (conftest points DATABASE_URL elsewhere).
    with Session(_engine(server)) as session:
        user = auth._create_user(session, email=email, password=PASSWORD, name="Scale Facilitator",
                                 role=Role.FACILITATOR, is_verified=True)
        session.commit()
        assert user.id
    return login(client, email)


def _wait(condition: Any, timeout: float = 30, message: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(message or "condition not reached")


def test_app_runs_two_worker_processes(two_workers):
    assert len(worker_pids(two_workers)) == 2


def test_a_booking_made_through_one_worker_is_seen_through_the_other(two_workers):
    with httpx.Client(base_url=two_workers.base_url, timeout=30) as client:
        event = create_event(client, _facilitator(two_workers, client), price=0, max_participants=5)
        attendee = new_attendee(client)
    here, there = connections_on_two_workers(two_workers)
    assert here.worker != there.worker

    status, created = here.request("POST", "/bookings", {"event_id": event["id"]}, attendee.access_token)
    assert status == 201, created
    booking_id = created["booking"]["id"]

    status, seen = there.request("GET", f"/bookings/{booking_id}", token=attendee.access_token)
    assert status == 200 and seen["booking_reference"] == created["booking"]["booking_reference"]
    status, listed = there.request("GET", f"/events/{event['id']}")
    assert status == 200 and listed["current_participants"] == 1
    status, again = there.request("POST", "/bookings", {"event_id": event["id"]}, attendee.access_token)
    assert status == 400 and again == {"error": "You already have a booking for this event"}

    status, _ = there.request("POST", f"/bookings/{booking_id}/cancel", {}, attendee.access_token)
    assert status == 200
    status, after = here.request("GET", f"/events/{event['id']}")
    assert status == 200 and after["current_participants"] == 0
    here.close()
    there.close()


def _outbox(server: Any, booking_ids: list[int]) -> list[OutboxMessage]:
    with Session(_engine(server)) as session:
        return list(session.exec(select(OutboxMessage).where(col(OutboxMessage.booking_id).in_(booking_ids))).all())


def test_two_outbox_workers_never_send_a_notification_twice(two_workers, crm):
    with httpx.Client(base_url=two_workers.base_url, timeout=30) as client:
        event = create_event(client, _facilitator(two_workers, client), price=0, max_participants=100)
        attendees = [new_attendee(client) for _ in range(30)]
    # Book over connections spread across both workers, so both outbox loops wake at once.
    connections = [connections_on_two_workers(two_workers) for _ in range(3)]
    spread = [c for pair in connections for c in pair]
    assert len({c.worker for c in spread}) == 2
    booking_ids = []
    for index, attendee in enumerate(attendees):
        status, body = spread[index % len(spread)].request("POST", "/bookings", {"event_id": event["id"]},
                                                           attendee.access_token)
        assert status == 201, body
        booking_ids.append(body["booking"]["id"])
    rows = _wait(lambda: (r := _outbox(two_workers, booking_ids)) and all(m.status == "sent" for m in r) and r,
                 message="notifications not delivered")
    assert len(rows) == len(booking_ids)
    # A second claim of a row would show as a second attempt (and a second POST to the CRM).
    assert [m.attempts for m in rows] == [1] * len(rows)
    with crm.client() as crm_client:
        stored = crm_client.get("/notifications", params={"limit": 500}).json()["notifications"]
    ours = [n for n in stored if n["booking_id"] in booking_ids]
    assert sorted(n["booking_id"] for n in ours) == sorted(booking_ids)
    assert len({m.crm_notification_id for m in rows}) == len(rows)
    for connection in spread:
        connection.close()


def test_a_lapsed_hold_is_expired_exactly_once_when_every_worker_runs_the_job(two_workers):
    with httpx.Client(base_url=two_workers.base_url, timeout=30) as client:
        event = create_event(client, _facilitator(two_workers, client), price=300, max_participants=40)
        holders = [new_attendee(client) for _ in range(20)]
        booking_ids = []
        for attendee in holders:
            response = client.post("/bookings", json={"event_id": event["id"]}, headers=attendee.headers)
            assert response.status_code == 201, response.text
            booking_ids.append(response.json()["booking"]["id"])
    with Session(_engine(two_workers)) as session:
        assert session.get(Event, event["id"]).seats_taken == 20  # type: ignore[union-attr]
    # Both workers' expiry loops (every 0.3 s) now find the same twenty lapsed holds.
    two_workers.clock_file.write_text(str(int(timedelta(minutes=2).total_seconds())))
    try:
        def all_expired() -> bool:
            with Session(_engine(two_workers)) as session:
                rows = session.exec(select(Booking).where(col(Booking.id).in_(booking_ids))).all()
                return all(b.status == "cancelled" for b in rows)

        _wait(all_expired, message="holds not expired")
        time.sleep(1.5)  # a few more ticks of both loops: nothing may be expired twice
        with Session(_engine(two_workers)) as session:
            bookings = session.exec(select(Booking).where(col(Booking.id).in_(booking_ids))).all()
            assert {b.cancellation_reason for b in bookings} == {"hold_expired"}
            assert session.get(Event, event["id"]).seats_taken == 0  # type: ignore[union-attr]
        expired = [m for m in _outbox(two_workers, booking_ids) if m.action == "hold_expired"]
        assert sorted(m.booking_id for m in expired) == sorted(booking_ids)
    finally:
        two_workers.clock_file.write_text("0")


HOME_STATE = "reflex___state____state.crm_booking___state___home____home_state"


def test_a_page_session_moved_to_the_other_worker_keeps_its_state(two_workers):
    """With Redis, a worker keeps a tab's state in memory between its events, holding the
    tab's Redis lock (REFLEX_OPLOCK_ENABLED, rxconfig.py). A tab that reconnects to the other
    worker at once (a reload, a dropped connection) must still find what its last event did:
    the first worker hands the state over through Redis when the second one asks for it."""
    token = str(uuid.uuid4())
    first = PageSocket(two_workers, token)
    first.hydrate({"pathname": "/", "asPath": "/?type=workshop", "query": {"type": "workshop"}})
    _wait(lambda: first.next_delta().get(HOME_STATE, {}).get("loading_rx_state_") is False,
          message="the home page did not load")
    # The event is over, yet the first worker still holds the tab's lock: the state it changed
    # is in that worker's memory, not yet in Redis (what this test is about).
    store = redis.Redis.from_url(REDIS_URL)
    assert store.exists(f"{token}_lock")
    first.close()
    # As a reload does: the old socket is gone before the new one asks (a token still linked to
    # a live socket is a duplicated tab, which Reflex gives a fresh token and a fresh state).
    _wait(lambda: not store.exists(f"token_manager_socket_record_{token}"),
          message="the first worker did not let go of the closed socket")

    moved = opened_on_another_worker(lambda: PageSocket(two_workers, token), first.worker)
    try:
        moved.hydrate({"pathname": "/bookings", "asPath": "/bookings"})
        snapshot = moved.next_delta()
        assert snapshot[HOME_STATE]["filter_type_rx_state_"] == "workshop"
        assert snapshot[HOME_STATE]["loading_rx_state_"] is False
    finally:
        moved.close()
