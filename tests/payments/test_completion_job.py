"""The job that marks bookings of ended events completed follows the one lock order (event, then
its bookings), so it waits behind a transaction holding the event instead of taking the bookings
underneath it. Runs in-process against the suite's PostgreSQL database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import psycopg2
from sqlalchemy.engine import make_url

from crm_booking import clock
from crm_booking.db import transaction
from crm_booking.models import Booking, Role
from crm_booking.services import auth, booking, events
from tests.support.api import unique_email

WAIT_SECONDS = 30


def _lock_waiters(dsn: str) -> int:
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return int(cursor.fetchone()[0])


def test_completion_waits_for_the_event_lock_then_completes(database_url: str) -> None:
    owner = auth.create_user(email=unique_email("fac"), password=None, name="Asha",
                             role=Role.FACILITATOR)
    guest = auth.create_user(email=unique_email("guest"), password=None, name="Guest", role=Role.USER)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    event = events.create_event(actor_id=owner.id, data=events.EventInput(  # type: ignore[arg-type]
        title="Evening Flow", event_type="session", start_datetime=start,
        end_datetime=start + timedelta(hours=1), location="Studio B", max_participants=5, price=0))
    made = booking.create_booking(user_id=guest.id, event_id=event.event.id)  # type: ignore[arg-type]
    assert made.booking.status == "confirmed" and made.booking.payment_status == "completed"

    url = make_url(database_url)
    dsn = f"host={url.host} port={url.port} user={url.username} dbname={url.database}"
    holder = psycopg2.connect(dsn)
    completed: list[int] = []
    try:
        clock.set_offset(timedelta(days=3))  # the event has ended
        with holder.cursor() as cursor:  # another writer holds the event (as a refund would)
            cursor.execute("SELECT id FROM events WHERE id = %s FOR UPDATE", (event.event.id,))
        job = threading.Thread(target=lambda: completed.append(booking.complete_finished_bookings()))
        job.start()
        deadline = datetime.now(UTC) + timedelta(seconds=WAIT_SECONDS)
        while _lock_waiters(dsn) == 0 and job.is_alive():
            assert datetime.now(UTC) < deadline, "the job neither waited nor finished"
        assert job.is_alive() and completed == [], "the job took the bookings without the event"
        with transaction(write=False) as session:
            assert session.get(Booking, made.booking.id).status == "confirmed"  # type: ignore[union-attr]
        holder.rollback()
        job.join(WAIT_SECONDS)
        assert not job.is_alive()
    finally:
        holder.close()
        clock.set_offset(timedelta(0))
    assert completed and completed[0] >= 1
    with transaction(write=False) as session:
        assert session.get(Booking, made.booking.id).status == "completed"  # type: ignore[union-attr]
