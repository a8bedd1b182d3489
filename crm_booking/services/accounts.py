"""The account lifecycle (issue 14): verifying an email address, forgotten and changed
passwords, signing out everywhere.

Emailed links carry a random token; only its SHA-256 is stored (account_tokens). Each link is
spent by a conditional UPDATE, so two clicks at once still use it once. The email itself is an
outbox row written in the same transaction as the token, delivered through the CRM service.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from urllib.parse import quote

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import transaction
from crm_booking.errors import BadRequest, NotFound, TooManyRequests, ValidationFailed
from crm_booking.models import AccountToken, AccountTokenPurpose, OutboxMessage, User, WebSession
from crm_booking.services import auth
from crm_booking.services.throttle import count_and_record
from crm_booking.settings import get_settings

INVALID_LINK = "This link is invalid, expired or already used; please ask for a new one"
WRONG_CURRENT_PASSWORD = "Current password is incorrect"
TOO_MANY_EMAILS = "Too many emails asked for, please try again later"
VERIFY_PAGE = "/app/verify-email"
RESET_PAGE = "/app/reset-password"
_HOUR = timedelta(hours=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _link(page: str, token: str) -> str:
    return f"{get_settings().PUBLIC_BASE_URL.rstrip('/')}{page}?token={quote(token)}"


def _describe(lifetime: timedelta) -> str:
    hours = lifetime.total_seconds() / 3600
    if hours >= 1 and hours.is_integer():
        return f"{int(hours)} hour{'s' if hours != 1 else ''}"
    return f"{int(lifetime.total_seconds() // 60)} minutes"


def _id(user: User) -> int:
    assert user.id is not None
    return user.id


def _issue_link(session: Session, user: User, purpose: AccountTokenPurpose, lifetime: timedelta) -> str:
    """A new single-use token for `user`, and its email queued in the same transaction."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    token_hash = _digest(token)
    session.add(AccountToken(token_hash=token_hash, user_id=_id(user), purpose=purpose.value,
                             created_at=now, expires_at=now + lifetime))
    page = VERIFY_PAGE if purpose is AccountTokenPurpose.VERIFY_EMAIL else RESET_PAGE
    _queue_email(session, user, purpose.value, _link(page, token), key=token_hash[:32],
                 expires_in=_describe(lifetime))
    return token


def _queue_email(session: Session, user: User, kind: str, link: str, *, key: str,
                 expires_in: str | None = None) -> None:
    idempotency_key = f"account-{kind}-{key}"
    payload = {"to_email": user.email, "name": user.name, "kind": kind, "link": link,
               "expires_in": expires_in, "idempotency_key": idempotency_key}
    session.add(OutboxMessage(idempotency_key=idempotency_key, action=kind, booking_id=None,
                              payload=json.dumps(payload)))
    session.info["outbox_written"] = True  # wakes the delivery loop after the commit


def _throttle(session: Session, bucket: str, key: str) -> None:
    if not count_and_record(session, bucket=bucket, key=key,
                            limit=get_settings().ACCOUNT_EMAILS_PER_HOUR, window=_HOUR):
        raise TooManyRequests(TOO_MANY_EMAILS)


def _spend(session: Session, token: str, purpose: AccountTokenPurpose) -> User:
    """Mark the token used exactly once and answer its (active) user."""
    if not token or len(token) > 200:
        raise BadRequest(INVALID_LINK)
    now = clock.now()
    token_hash = _digest(token)
    spent = session.execute(
        sa.update(AccountToken)
        .where(col(AccountToken.token_hash) == token_hash, col(AccountToken.purpose) == purpose.value,
               col(AccountToken.used_at).is_(None), col(AccountToken.expires_at) > now)
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise BadRequest(INVALID_LINK)
    stored = session.get(AccountToken, token_hash)
    user = session.get(User, stored.user_id) if stored is not None else None
    if user is None or not user.is_active:
        raise BadRequest(INVALID_LINK)
    return user


def _end_sessions(session: Session, user: User, *, keep_web_session: str | None = None) -> None:
    """Every token issued before now stops working, and every browser session but the kept one."""
    user.tokens_valid_after = clock.now()
    user.updated_at = clock.now()
    session.add(user)
    ending = sa.delete(WebSession).where(col(WebSession.user_id) == user.id)
    if keep_web_session:
        from crm_booking.services.web_sessions import session_digest

        ending = ending.where(col(WebSession.token_hash) != session_digest(keep_web_session))
    session.execute(ending)


def end_all_sessions(session: Session, user: User) -> None:
    """For the admin console's deactivation: the same ending as a password reset."""
    _end_sessions(session, user)


def _spend_other_links(session: Session, user: User, purpose: AccountTokenPurpose) -> None:
    session.execute(
        sa.update(AccountToken)
        .where(col(AccountToken.user_id) == user.id, col(AccountToken.purpose) == purpose.value,
               col(AccountToken.used_at).is_(None))
        .values(used_at=clock.now())
    )


def _check_new_password(password: str, field: str = "new_password") -> None:
    if not isinstance(password, str) or not 8 <= len(password) <= 128:
        raise ValidationFailed({field: "Password must be 8 to 128 characters"})


# --- email verification ------------------------------------------------------------------------


def send_verification(session: Session, user: User) -> None:
    """Queue a verification email in the caller's transaction (registration)."""
    _issue_link(session, user, AccountTokenPurpose.VERIFY_EMAIL,
                timedelta(hours=get_settings().EMAIL_VERIFICATION_HOURS))


def request_verification(user_id: int) -> bool:
    """Send a fresh link; False when the address is verified already (nothing sent)."""
    with transaction() as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            raise NotFound("User not found")
        if user.is_verified:
            return False
        _throttle(session, "verify-email", str(user_id))
        send_verification(session, user)
        return True


def verify_email(token: str) -> User:
    with transaction() as session:
        user = _spend(session, token, AccountTokenPurpose.VERIFY_EMAIL)
        user.is_verified = True
        user.updated_at = clock.now()
        session.add(user)
        return user


# --- passwords ----------------------------------------------------------------------------------


def forgot_password(*, email: str, ip_address: str) -> None:
    """Email a reset link if the address has an active account. The caller answers the same
    either way; the limits count the address asked for and the client, not the account, so a
    429 reveals nothing about whether the account exists either."""
    email = auth.normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise ValidationFailed({"email": "A valid email address is required"})
    settings = get_settings()
    with transaction() as session:
        _throttle(session, "forgot-email", email)
        if not count_and_record(session, bucket="forgot-ip", key=ip_address,
                                limit=settings.ACCOUNT_EMAILS_PER_HOUR * 4, window=_HOUR):
            raise TooManyRequests(TOO_MANY_EMAILS)
        user = session.exec(select(User).where(User.email == email)).first()
        if user is None or not user.is_active:
            return
        _issue_link(session, user, AccountTokenPurpose.RESET_PASSWORD,
                    timedelta(minutes=settings.PASSWORD_RESET_MINUTES))


def reset_password(*, token: str, new_password: str) -> User:
    """Set a new password from an emailed link. Every earlier token, browser session and reset
    link of the account stops working; following the link also proves the address."""
    _check_new_password(new_password)
    new_hash = auth.hash_password(new_password)
    with transaction() as session:
        user = _spend(session, token, AccountTokenPurpose.RESET_PASSWORD)
        user.password_hash = new_hash
        user.is_verified = True
        _spend_other_links(session, user, AccountTokenPurpose.RESET_PASSWORD)
        _end_sessions(session, user)
        return user


def change_password(*, user_id: int, current_password: str, new_password: str,
                    keep_web_session: str | None = None) -> auth.TokenPair:
    """Needs the current password; other sessions end, and the caller gets fresh tokens."""
    _check_new_password(new_password)
    with transaction() as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            raise NotFound("User not found")
        current_hash = user.password_hash
    if current_hash is None or not auth.password_context.verify(current_password, current_hash):
        raise BadRequest(WRONG_CURRENT_PASSWORD)
    new_hash = auth.hash_password(new_password)
    with transaction() as session:
        user = session.get(User, user_id)
        assert user is not None
        if user.password_hash != current_hash:  # changed meanwhile by another request
            raise BadRequest(WRONG_CURRENT_PASSWORD)
        user.password_hash = new_hash
        _spend_other_links(session, user, AccountTokenPurpose.RESET_PASSWORD)
        _end_sessions(session, user, keep_web_session=keep_web_session)
    return auth.issue_tokens(user)


def sign_out_everywhere(*, user_id: int) -> None:
    with transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("User not found")
        _end_sessions(session, user)


# --- Google linking (issue 14) ------------------------------------------------------------------


def notify_password_removed(session: Session, user: User) -> None:
    """Tell the owner, with a reset link, that the unverified password was removed."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    lifetime = timedelta(minutes=get_settings().PASSWORD_RESET_MINUTES)
    token_hash = _digest(token)
    session.add(AccountToken(token_hash=token_hash, user_id=_id(user),
                             purpose=AccountTokenPurpose.RESET_PASSWORD.value,
                             created_at=now, expires_at=now + lifetime))
    _queue_email(session, user, "password_removed", _link(RESET_PAGE, token), key=token_hash[:32],
                 expires_in=_describe(lifetime))
