"""Browser sign-in sessions for the web UI.

The browser holds a random token in an HttpOnly cookie; the database keeps only its SHA-256.
The Reflex state reads the cookie from the websocket's headers and keeps the user id in a
backend-only var, so no token ever travels in state updates.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import col, delete

from crm_booking import clock
from crm_booking.db import read_session, transaction
from crm_booking.models import User, WebSession

COOKIE_NAME = "crm_session"
LIFETIME = timedelta(days=14)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user_id: int) -> str:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with transaction() as session:
        session.add(WebSession(token_hash=_digest(token), user_id=user_id, created_at=now,
                               expires_at=now + LIFETIME))
    return token


def user_for_session(token: str | None) -> User | None:
    if not token:
        return None
    with read_session() as session:
        stored = session.get(WebSession, _digest(token))
        if stored is None or clock.as_utc(stored.expires_at) <= clock.now():
            return None
        user = session.get(User, stored.user_id)
        return user if user is not None and user.is_active else None


def close_session(token: str | None) -> None:
    if not token:
        return
    with transaction() as session:
        session.exec(delete(WebSession).where(col(WebSession.token_hash) == _digest(token)))  # type: ignore[call-overload]
