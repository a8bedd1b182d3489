"""Reminders 24 h and 1 h before the start: two Booking app workers run the scheduler on one
database while the test clock moves across each reminder time; every attendee gets each
reminder exactly once, through the real CRM and SMTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from crm_booking.models import OutboxMessage
from tests.crm.conftest import TOKEN, smtp_settings
from tests.notifications.conftest import current_database
from tests.support.api import book, new_attendee, new_facilitator
from tests.support.servers import ServerProcess, booking_app, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def own_clock(tmp_path: Path) -> Path:
    """Only these two workers read this clock; the rest of the suite keeps real time."""
    path = tmp_path / "clock-offset"
    path.write_text("0")
    return path


@pytest.fixture
def own_crm(start_crm: Any, smtp_server: Any) -> Iterator[Any]:  # noqa: F811
    """A CRM on its own database: booking ids restart at 1 in this module's database, and the
    other modules' CRM keys its notifications by booking id."""
    from tests.conftest import _drop_database, _throwaway_database

    url, name = _throwaway_database("crm_reminders")
    crm = start_crm({"CRM_DATABASE_URL": url} | smtp_settings(smtp_server))
    yield crm
    crm.stop()
    if name:
        _drop_database(name)


@pytest.fixture
def two_workers(outbox_database_url: str, own_clock: Path,
                own_crm: Any) -> Iterator[list[ServerProcess]]:
    started = []
    for name in ("booking-reminders-1", "booking-reminders-2"):
        port = free_port()
        server = booking_app(
            database_url=outbox_database_url, port=port, clock_file=own_clock, name=name,
            extra_env={"CRM_URL": own_crm.base_url, "CRM_API_TOKEN": TOKEN,
                       "JOBS_ENABLED": "true", "JOB_INTERVAL_SECONDS": "0.2"})
        server.base_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
        started.append(server.start())
    yield started
    for server in started:
        server.stop()


def _reminder_rows() -> list[OutboxMessage]:
    from crm_booking.db import engine_for

    with Session(engine_for(current_database())) as session:
        return list(session.exec(select(OutboxMessage).where(
            col(OutboxMessage.action) == "reminder")).all())


def _wait(condition: Callable[[], Any], what: str, timeout: float = 40) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _move_clock(clock: Path, to: datetime) -> None:
    clock.write_text(str((to - datetime.now(UTC)).total_seconds()))


def _event(client: httpx.Client, owner: Any, start: datetime, **fields: Any) -> dict[str, Any]:
    local = start.astimezone(UTC).replace(tzinfo=None)
    body = {"title": "Sunrise Flow", "event_type": "session", "timezone": "UTC",
            "start_datetime": local.isoformat(), "end_datetime": (local + timedelta(hours=1)).isoformat(),
            "max_participants": 20, "price": 0, **fields}
    response = client.post("/events", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["event"])


def _subjects(smtp: Any, email: str) -> list[str]:
    return sorted(str(m.message["Subject"]) for m in smtp.messages_to(email)
                  if str(m.message["Subject"]).startswith("Reminder"))


def test_each_reminder_once_with_two_workers(two_workers: list[ServerProcess], own_clock: Path,
                                              smtp_server: Any) -> None:
    app = two_workers[0]
    start = (datetime.now(UTC) + timedelta(hours=30)).replace(second=0, microsecond=0)
    with httpx.Client(base_url=app.base_url, timeout=30) as client:  # type: ignore[attr-defined]
        owner = new_facilitator(client, name="Asha", database_url=current_database())
        studio = _event(client, owner, start, title="Studio Flow", location="Studio B, Koramangala")
        online = _event(client, owner, start, title="Online Flow", remind_24h=False,
                        virtual_link="https://meet.example.com/flow")
        early, leaver, remote = (new_attendee(client, name=n) for n in ("Early", "Leaver", "Remote"))
        for attendee, event in ((early, studio), (leaver, studio), (remote, online)):
            assert book(client, attendee, event["id"]).status_code == 201
        leaver_booking = client.get("/bookings", headers=leaver.headers).json()["bookings"][0]
        assert client.post(f"/bookings/{leaver_booking['id']}/cancel",
                           headers=leaver.headers).status_code == 200

        # Across the 24-hour mark: one reminder, for the one live booking of the event that wants it.
        _move_clock(own_clock, start - timedelta(hours=24) + timedelta(seconds=30))
        _wait(lambda: [r for r in _reminder_rows() if r.status == "sent"], "the 24 h reminder")
        _wait(lambda: _subjects(smtp_server, early.email), "the 24 h email")
        time.sleep(1.5)  # several more scheduler ticks of both workers: nothing further is written
        rows = _reminder_rows()
        assert [r.idempotency_key.rsplit("-", 1)[-1] for r in rows] == ["24h"]

        # Booked after the 24-hour mark: no 24 h reminder, but the 1 h one.
        late = new_attendee(client, name="Late")
        assert book(client, late, studio["id"]).status_code == 201

    _move_clock(own_clock, start - timedelta(hours=1) + timedelta(seconds=30))
    _wait(lambda: len([r for r in _reminder_rows() if r.status == "sent"]) >= 4, "the 1 h reminders")
    for email in (early.email, late.email, remote.email):
        _wait(lambda e=email: any("1 hour" in s for s in _subjects(smtp_server, e)), f"1 h email to {email}")
    time.sleep(1.5)
    rows = _reminder_rows()
    assert len(rows) == len({r.idempotency_key for r in rows}) == 4
    assert all(r.status == "sent" for r in rows)
    # Written by the one outbox writer every notice uses: each job's row has a request id of its
    # own, as a UI event's has, to find its delivery in the logs.
    assert all(r.request_id for r in rows)
    assert _subjects(smtp_server, early.email) == [
        "Reminder: Studio Flow starts in 1 hour", "Reminder: Studio Flow starts in 24 hours"]
    assert _subjects(smtp_server, late.email) == ["Reminder: Studio Flow starts in 1 hour"]
    assert _subjects(smtp_server, remote.email) == ["Reminder: Online Flow starts in 1 hour"]
    assert _subjects(smtp_server, leaver.email) == []

    # The physical event's reminder has the address and a map link; the online one the join link.
    [studio_mail] = [m for m in smtp_server.messages_to(late.email)
                     if str(m.message["Subject"]).startswith("Reminder")]
    text = studio_mail.message.get_body(preferencelist=("plain",)).get_content()
    assert "Studio B, Koramangala" in text and "https://www.google.com/maps/search/" in text
    assert "Ticket code: TK" in text
    [online_mail] = [m for m in smtp_server.messages_to(remote.email)
                     if str(m.message["Subject"]).startswith("Reminder")]
    assert "Join online: https://meet.example.com/flow" in online_mail.message.get_body(
        preferencelist=("plain",)).get_content()
    assert all(server.process.poll() is None for server in two_workers)

    # The booking confirmation carried the ticket as an inline QR picture (free seat: secured).
    [confirmation] = [m for m in smtp_server.messages_to(early.email)
                      if str(m.message["Subject"]).startswith("Booking confirmed")]
    images = [p for p in confirmation.message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<ticket-qr@crm-booking>"
    assert 'src="cid:ticket-qr@crm-booking"' in confirmation.message.get_body(
        preferencelist=("html",)).get_content()


def test_a_reminder_written_before_a_cancellation_is_not_sent(database_url: str) -> None:
    """The booking is cancelled between the scheduler writing the reminder and its delivery:
    the delivery worker voids it instead of posting it to the CRM."""
    from crm_booking import clock
    from crm_booking.db import transaction
    from crm_booking.models import Role
    from crm_booking.services import auth, booking, events, notifications, reminders
    from tests.support.api import unique_email

    owner = auth.create_user(email=unique_email("fac"), password=None, name="Asha",
                             role=Role.FACILITATOR)
    guest = auth.create_user(email=unique_email("guest"), password=None, name="Guest",
                             role=Role.USER)
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    event = events.create_event(actor_id=owner.id, data=events.EventInput(  # type: ignore[arg-type]
        title="Void Flow", event_type="session", start_datetime=start,
        end_datetime=start + timedelta(hours=1), location="Studio C", max_participants=5, price=0))
    made = booking.create_booking(user_id=guest.id, event_id=event.event.id)  # type: ignore[arg-type]
    try:
        clock.set_offset(start - timedelta(minutes=59) - datetime.now(UTC))
        reminders.enqueue_due()
        key = reminders.reminder_key(made.booking.id, "1h")  # type: ignore[arg-type]
        with transaction(write=False) as session:
            row = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()
        booking.cancel_booking(user_id=guest.id, booking_id=made.booking.id)  # type: ignore[arg-type]
        assert notifications._deliver_one(row) is False
        reminders.enqueue_due()  # and the scheduler does not write it again
    finally:
        clock.set_offset(timedelta(0))
    with transaction(write=False) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).all()
    assert [(r.status, r.last_error) for r in rows] == [
        ("dead", "not sent: the booking was cancelled first")]
