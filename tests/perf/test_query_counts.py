"""SQL statements per request, counted on the engine in-process: the events page is one
statement whatever its size (no N+1), and a booking a fixed, small number."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from crm_booking import clock
from crm_booking.db import all_engines
from crm_booking.models import Role
from crm_booking.services import auth, booking, events
from crm_booking.services.events import EventInput
from tests.support.api import unique_email


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        # Pool pre-ping checks are connection health, not the request's queries.
        if statement.strip().upper() != "SELECT 1":
            statements.append(statement)

    engines = all_engines()  # reads have a pool of their own
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def _event(facilitator_id: int, *, price: float = 0, seats: int = 50) -> int:
    start = (clock.now() + timedelta(days=30)).replace(microsecond=0, tzinfo=None)
    row = events.create_event(actor_id=facilitator_id, data=EventInput(
        title="Counted", description="", event_type="session", start_datetime=start.isoformat(),
        end_datetime=(start + timedelta(hours=1)).isoformat(), location="Room", max_participants=seats,
        price=price, currency="INR"))
    return int(row.event.id)  # type: ignore[arg-type]


def _person(role: Role = Role.USER) -> int:
    user = auth.create_user(email=unique_email(role.value), password="password123", name="Counted", role=role)
    return int(user.id)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def catalogue(database_url: str) -> dict[str, int]:
    """Events from several facilitators, each with bookings, so an N+1 would show."""
    facilitators = [_person(Role.FACILITATOR) for _ in range(5)]
    for index in range(45):
        event_id = _event(facilitators[index % 5])
        for _ in range(2):
            booking.create_booking(user_id=_person(), event_id=event_id)
    return {"facilitator": facilitators[0]}


@pytest.mark.parametrize("page", [1, 5, 20, 40])
def test_events_page_is_one_statement_whatever_its_size(catalogue, page):
    with counted() as statements:
        rows = events.list_events(limit=page)
    assert len(rows) == page
    assert all(row.facilitator.id == row.event.facilitator_id for row in rows)
    assert len(statements) == 1, statements


def test_events_page_filters_stay_one_statement(catalogue):
    with counted() as statements:
        rows = events.list_events(facilitator_id=catalogue["facilitator"], active=True,
                                  upcoming_only=True, limit=20)
    assert rows and all(row.event.facilitator_id == catalogue["facilitator"] for row in rows)
    assert len(statements) == 1


def _booking_statements(price: float) -> list[str]:
    event_id = _event(_person(Role.FACILITATOR), price=price)
    attendee = _person()
    token = auth.issue_access_token(auth.get_user(attendee))
    with counted() as statements:
        # What POST /bookings does: the token decoded, the holder checked in the transaction.
        row = booking.book_as_token_holder(auth.access_claims(token), event_id=event_id)
    assert row.booking.status == "confirmed"
    return statements


def test_booking_a_free_event_issues_a_fixed_number_of_statements(catalogue):
    first = _booking_statements(price=0)
    again = _booking_statements(price=0)
    # The attendee (the token's holder, checked here) with the event and its facilitator (one
    # statement), insert, reference, outbox, take the seat (last, so the event row is locked
    # only until the commit).
    # A second booking by the same person is caught by the unique index; lapsed holds are looked
    # at only when the event is full.
    assert len(first) == len(again) == 5, first
    assert first[-1].lstrip().upper().startswith("UPDATE EVENTS")


def test_booking_a_paid_event_adds_only_the_hold_count(catalogue):
    free, paid = _booking_statements(price=0), _booking_statements(price=100)
    assert len(paid) == len(free) + 1
    assert any("count(bookings.id)" in s for s in paid)
