"""Every booking change reaches the CRM exactly once, whatever fails in between."""

from __future__ import annotations

import time

import httpx
from sqlmodel import col, select

from crm_booking.models import OutboxMessage
from tests.notifications.conftest import current_database
from tests.support.api import book, create_event, new_attendee, new_facilitator


def _outbox(booking_ids: list[int]) -> list[OutboxMessage]:
    from sqlmodel import Session

    from crm_booking.db import engine_for

    with Session(engine_for(current_database())) as session:
        return list(session.exec(select(OutboxMessage).where(col(OutboxMessage.booking_id).in_(booking_ids))).all())


def _wait_until_sent(booking_ids: list[int], timeout: float = 30) -> list[OutboxMessage]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _outbox(booking_ids)
        if rows and all(r.status == "sent" for r in rows):
            return rows
        time.sleep(0.3)
    raise AssertionError(f"not delivered: {[(r.idempotency_key, r.status, r.last_error) for r in _outbox(booking_ids)]}")


def _crm_notifications(crm: object) -> list[dict]:
    with crm.client() as client:  # type: ignore[attr-defined]
        return client.get("/notifications", params={"limit": 500}).json()["notifications"]


def _book_free(app_url: str, count: int) -> tuple[list[int], list[str]]:
    with httpx.Client(base_url=app_url, timeout=30) as client:
        event = create_event(client, new_facilitator(client, database_url=current_database()), price=0,
                             max_participants=50)
        ids, emails = [], []
        for _ in range(count):
            attendee = new_attendee(client)
            response = book(client, attendee, event["id"])
            assert response.status_code == 201
            ids.append(response.json()["booking"]["id"])
            emails.append(attendee.email)
        return ids, emails


def _booking_mails(smtp_server, email):
    """The booking's emails; sign-up also sends a verification email (issue 14)."""
    return [m for m in smtp_server.messages_to(email) if m.message["Subject"] != "Confirm your email address"]


def test_booking_is_notified_and_emailed(start_booking, crm_with_mail, smtp_server):
    app = start_booking(crm_with_mail.base_url)
    [booking_id], [email] = _book_free(app.base_url, 1)
    [row] = _wait_until_sent([booking_id])
    assert row.action == "booking_created" and row.crm_notification_id
    stored = [n for n in _crm_notifications(crm_with_mail) if n["booking_id"] == booking_id]
    assert len(stored) == 1 and stored[0]["status"] == "sent"
    deadline = time.monotonic() + 10
    while not _booking_mails(smtp_server, email) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_booking_mails(smtp_server, email)) == 1


def test_crm_outage_loses_nothing_and_repeats_nothing(start_booking, start_crm, crm_database_url, smtp_server):
    from tests.crm.conftest import smtp_settings as settings_for

    crm = start_crm({"CRM_DATABASE_URL": crm_database_url} | settings_for(smtp_server))
    app = start_booking(crm.base_url, name="booking-outage")
    crm.stop()
    ids, emails = _book_free(app.base_url, 4)
    time.sleep(2)
    waiting = _outbox(ids)
    assert len(waiting) == 4 and all(r.status == "pending" and r.attempts >= 1 for r in waiting)
    assert all("unreachable" in (r.last_error or "") for r in waiting)
    crm.start()  # same port: the outage is over
    _wait_until_sent(ids, timeout=40)
    stored = [n for n in _crm_notifications(crm) if n["booking_id"] in ids]
    assert sorted(n["booking_id"] for n in stored) == sorted(ids)
    for email in emails:
        deadline = time.monotonic() + 10
        while not _booking_mails(smtp_server, email) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_booking_mails(smtp_server, email)) == 1


def test_app_killed_after_commit_delivers_after_restart(start_booking, crm_with_mail):
    app = start_booking("http://127.0.0.1:9", name="booking-killed")  # CRM not reachable yet
    ids, _ = _book_free(app.base_url, 2)
    app.kill()  # kill -9: the rows are committed, nothing was delivered
    assert all(r.status == "pending" for r in _outbox(ids))
    app.env["CRM_URL"] = crm_with_mail.base_url
    app.start()
    _wait_until_sent(ids)
    stored = [n for n in _crm_notifications(crm_with_mail) if n["booking_id"] in ids]
    assert sorted(n["booking_id"] for n in stored) == sorted(ids)


def test_two_workers_never_claim_the_same_notification(start_booking, crm_with_mail):
    dead = start_booking("http://127.0.0.1:9", name="booking-writer")
    ids, _ = _book_free(dead.base_url, 30)
    dead.stop()
    first = start_booking(crm_with_mail.base_url, name="booking-worker-1")
    second = start_booking(crm_with_mail.base_url, name="booking-worker-2")
    rows = _wait_until_sent(ids, timeout=60)
    # attempts counts claims before this pair started (the writer's failed tries) plus theirs;
    # a double claim by the two workers would show as a second successful CRM call.
    stored = [n for n in _crm_notifications(crm_with_mail) if n["booking_id"] in ids]
    assert len(stored) == len(ids) == len(rows)
    assert first.process.poll() is None and second.process.poll() is None
