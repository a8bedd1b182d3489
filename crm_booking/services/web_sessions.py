"""Browser sign-in sessions for the web UI.

The browser holds a random token in an HttpOnly cookie; the database keeps only its SHA-256.
The Reflex state reads the cookie from the websocket's headers and keeps the user id in a
backend-only var, so no token ever travels in state updates.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, delete

from crm_booking import clock
from crm_booking.db import read_session, transaction
from crm_booking.models import RevokedToken, User, WebSession
from crm_booking.settings import get_settings

COOKIE_NAME = "crm_session"
LIFETIME = timedelta(days=14)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_digest(token: str) -> str:
    return _digest(token)


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


# --- login tickets ----------------------------------------------------------------------------
# The sign-in form runs over the websocket, which cannot set an HttpOnly cookie. It gets a
# short-lived, single-use ticket instead and sends the browser to a plain HTTP endpoint that
# swaps the ticket for the cookie. Tickets are signed (no table needed) and spent by recording
# their id in `revoked_tokens`, so a replay fails on any worker.

TICKET_LIFETIME = timedelta(seconds=60)
_TICKET_PREFIX = "web-ticket:"
# Issue 14 (login forgery): a ticket only works in the browser that asked for it. The sign-in
# page gives the browser a random pre-login cookie; the ticket carries a digest of it, and
# /web/session compares that with the cookie the visiting browser sends. A link to someone
# else's unfinished sign-in therefore signs nobody in.
PRELOGIN_COOKIE = "crm_prelogin"
_BINDING_LENGTH = 32


def _ticket_signature(body: str) -> str:
    key = get_settings().JWT_SECRET_KEY.encode()
    return hmac.new(key, f"{_TICKET_PREFIX}{body}".encode(), hashlib.sha256).hexdigest()


def _binding(prelogin: str) -> str:
    return hashlib.sha256(f"prelogin:{prelogin}".encode()).hexdigest()[:_BINDING_LENGTH]


def issue_login_ticket(user_id: int, prelogin: str) -> str:
    if len(prelogin) < 16:
        raise ValueError("a pre-login value of at least 16 characters is required")
    expires = int((clock.now() + TICKET_LIFETIME).timestamp())
    body = f"{user_id}.{expires}.{secrets.token_urlsafe(12)}.{_binding(prelogin)}"
    return f"{body}.{_ticket_signature(body)}"


def redeem_login_ticket(ticket: str, prelogin: str | None) -> str | None:
    """Spend a ticket and open a session for its user; None if forged, expired, spent, or
    presented by a browser other than the one that signed in."""
    body, _, signature = ticket.rpartition(".")
    # Compared as bytes: compare_digest raises TypeError on non-ASCII text (a 500, issue 14).
    if not body or not hmac.compare_digest(_ticket_signature(body).encode(), signature.encode()):
        return None
    user_id_text, expires_text, nonce, binding = [*body.split("."), "", "", "", ""][:4]
    if not (user_id_text.isdigit() and expires_text.isdigit() and nonce and binding):
        return None
    if not prelogin or not hmac.compare_digest(_binding(prelogin).encode(), binding.encode()):
        return None
    expires_at = datetime.fromtimestamp(int(expires_text), tz=UTC)
    if expires_at <= clock.now():
        return None
    try:
        with transaction() as session:
            session.add(RevokedToken(jti=_ticket_id(nonce), user_id=int(user_id_text),
                                     expires_at=expires_at))
    except sa.exc.IntegrityError:  # already spent
        return None
    user = _active_user(int(user_id_text))
    return open_session(user.id) if user is not None else None  # type: ignore[arg-type]


def _ticket_id(nonce: str) -> str:
    return hashlib.sha256(f"{_TICKET_PREFIX}{nonce}".encode()).hexdigest()[:64]


def _active_user(user_id: int) -> User | None:
    with read_session() as session:
        user = session.get(User, user_id)
        return user if user is not None and user.is_active else None
