"""Payment receipts are claimed before the bulk of "booking created" notices."""

from __future__ import annotations

import json

from sqlmodel import Session

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
