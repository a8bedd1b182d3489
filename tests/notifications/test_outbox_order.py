"""Payment receipts are claimed before the bulk of "booking created" notices."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from crm_booking import db
from crm_booking.db import engine_for
from crm_booking.models import OutboxMessage
from crm_booking.services import notifications


def test_receipts_jump_the_queue(outbox_database_url, monkeypatch):
    engine = engine_for(outbox_database_url)
    monkeypatch.setattr(db, "get_engine", lambda: engine)  # the in-process claim, on this test's database
    with Session(engine) as session:
        for n in range(3):
            session.add(OutboxMessage(idempotency_key=f"order-created-{n}", action="booking_created",
                                      payload=json.dumps({})))
        session.add(OutboxMessage(idempotency_key="order-paid", action="payment_completed", payload="{}"))
        session.commit()
    claimed = notifications._claim(2)
    assert [m.idempotency_key for m in claimed] == ["order-paid", "order-created-0"]
    assert all(m.attempts == 1 for m in claimed)
    assert notifications._claim(10)[0].idempotency_key == "order-created-1"  # leased rows are skipped


def test_one_bookings_notifications_go_in_the_order_written(outbox_database_url, monkeypatch):
    """Issue 13 (8): a booking's cancel is not sent while its earlier 'created' is undelivered
    (in backoff after a CRM outage, or leased to another worker), whatever the priorities."""
    from datetime import timedelta

    from crm_booking import clock

    engine = engine_for(outbox_database_url)
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    with Session(engine) as session:
        session.add(OutboxMessage(idempotency_key="b901-created", action="booking_created",
                                  booking_id=901, payload="{}",
                                  next_attempt_at=clock.now() + timedelta(minutes=5)))
        session.add(OutboxMessage(idempotency_key="b901-cancelled", action="booking_cancelled",
                                  booking_id=901, payload="{}"))
        session.add(OutboxMessage(idempotency_key="b902-paid", action="payment_completed",
                                  booking_id=902, payload="{}"))
        session.commit()

    assert [m.idempotency_key for m in notifications._claim(10)] == ["b902-paid"]
    with Session(engine) as session:
        created = session.exec(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == "b901-created")).one()
        created.next_attempt_at = clock.now()
        session.add(created)
        session.commit()
        created_id = created.id
    assert [m.idempotency_key for m in notifications._claim(10)] == ["b901-created"]
    notifications._record(created_id, ok=True, permanent=False, notification_id=1, detail="",
                          attempts=1)
    assert [m.idempotency_key for m in notifications._claim(10)] == ["b901-cancelled"]
