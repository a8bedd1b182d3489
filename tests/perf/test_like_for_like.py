"""The benchmark's baselines do exactly the app's database work (issue 19).

`python -m bench` captures one `POST /bookings` from the app's engine (bench/capture.py) and the
minimal service and pgbench replay those round trips. Here: the capture the bench makes in its
own database sends the same statements as the app booking on this suite's database, and the
replay, bound to another attendee as the minimal service binds it, books the seat exactly as the
app does (booking row, outbox row, seat taken)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import psycopg2
import sqlalchemy as sa

from bench import capture
from crm_booking import clock
from crm_booking.db import get_engine
from crm_booking.models import Role
from crm_booking.services import auth, events
from crm_booking.services.events import EventInput
from tests.support.api import unique_email


def _person(role: Role = Role.USER) -> int:
    user = auth.create_user(email=unique_email(role.value), password="password123", name="Like", role=role)
    return int(user.id)  # type: ignore[arg-type]


def _free_event(facilitator_id: int) -> int:
    start = (clock.now() + timedelta(days=30)).replace(microsecond=0, tzinfo=None)
    row = events.create_event(actor_id=facilitator_id, data=EventInput(
        title="Like for like", description="", event_type="session", start_datetime=start.isoformat(),
        end_datetime=(start + timedelta(hours=1)).isoformat(), location="Room", max_participants=10,
        price=0, currency="INR"))
    return int(row.event.id)  # type: ignore[arg-type]


def _replay_with_psycopg2(url: str, replay: capture.Replay, values: dict[str, object]) -> None:
    """What bench/minimal_service.py does with asyncpg, step for step."""
    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = psycopg2.connect(dsn)
    connection.autocommit = True  # BEGIN and COMMIT are steps of the replay
    try:
        with connection.cursor() as cursor:
            for step in replay.steps:
                if step["sql"] in ("BEGIN", "COMMIT"):
                    cursor.execute(step["sql"])
                    continue
                args = replay.bind(step["args"], values)
                order = [int(n) - 1 for n in re.findall(r"\$(\d+)", step["sql"])]
                sql = re.sub(r"\$\d+", "%s", step["sql"].replace("%", "%%"))
                cursor.execute(sql, [args[index] for index in order])
                if step.get("returns_booking_id"):
                    values["bid"] = cursor.fetchone()[0]  # type: ignore[index]
    finally:
        connection.close()


def test_baselines_replay_exactly_the_apps_booking_round_trips(database_url: str, tmp_path: Path) -> None:
    replay = capture.capture_for_bench(tmp_path)
    facilitator = _person(Role.FACILITATOR)
    event_id = _free_event(facilitator)
    app_sent = capture.booking_round_trips(user_id=_person(), event_id=event_id)

    assert [capture.normalise(sql) for sql in replay.statements()] == [c.shape for c in app_sent]
    # No read of the token's user before the transaction: the holder is checked inside it.
    assert replay.statements()[0] == "BEGIN" and replay.statements()[-1] == "COMMIT"
    assert replay.statements().count("BEGIN") == 1

    attendee = _person()
    _replay_with_psycopg2(database_url, replay, {"uid": attendee, "eid": event_id,
                                                 "now": clock.now()})
    with get_engine().connect() as connection:
        booked = connection.execute(sa.text(
            "SELECT b.id, b.status, b.booking_reference, o.action, o.payload FROM bookings b "
            "JOIN outbox o ON o.booking_id = b.id WHERE b.user_id = :u AND b.event_id = :e"),
            {"u": attendee, "e": event_id}).one()
        seats = connection.execute(sa.text("SELECT seats_taken FROM events WHERE id = :e"),
                                   {"e": event_id}).scalar_one()
    assert booked.status == "confirmed" and booked.action == "booking_created"
    assert booked.booking_reference.endswith(str(booked.id))
    assert f'"id": {attendee}' in booked.payload and str(booked.id) in booked.payload
    assert seats == 2  # the app's booking and the replayed one
