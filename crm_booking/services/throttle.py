"""Counted rate limits that concurrent requests cannot race past (issue 14).

A limit is checked and its hit recorded in one transaction that first takes a PostgreSQL
advisory lock on the limit's key, so twelve simultaneous requests are counted one after another
instead of all reading "zero so far". SQLite (development) serialises writers already.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.models import ThrottleHit


def serialize_on(session: Session, key: str) -> None:
    """Hold a transaction-scoped lock on `key` until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 14))"), {"key": key})


def count_and_record(session: Session, *, bucket: str, key: str, limit: int, window: timedelta) -> bool:
    """Record one hit and answer True, or answer False (nothing recorded) when `limit` hits were
    already recorded for this key within `window`. Runs inside the caller's transaction, so a
    hit whose request fails afterwards is rolled back with it."""
    serialize_on(session, f"throttle:{bucket}:{key}")
    now = clock.now()
    since = now - window
    session.execute(sa.delete(ThrottleHit).where(
        col(ThrottleHit.bucket) == bucket, col(ThrottleHit.key) == key, col(ThrottleHit.created_at) < since))
    recent = session.exec(
        select(sa.func.count()).select_from(ThrottleHit).where(
            ThrottleHit.bucket == bucket, ThrottleHit.key == key, ThrottleHit.created_at >= since)
    ).one()
    if recent >= limit:
        return False
    session.add(ThrottleHit(bucket=bucket, key=key[:300], created_at=now))
    session.flush()
    return True
