"""Accounts, passwords, tokens and sign-in throttling."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import sqlalchemy as sa
from passlib.context import CryptContext
from sqlmodel import Session, select

from crm_booking import clock
from crm_booking.db import read_session, transaction
from crm_booking.errors import BadRequest, NotFound, TooManyRequests, Unauthorized, ValidationFailed
from crm_booking.models import LoginFailure, RevokedToken, Role, User
from crm_booking.settings import get_settings

JWT_ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"

# argon2 for new hashes; bcrypt hashes (from an older system) still verify and are upgraded.
password_context = CryptContext(schemes=["argon2", "bcrypt"], deprecated=["bcrypt"])
# Verified against when the account does not exist, so timing does not reveal which emails exist.
_DUMMY_HASH = password_context.hash("not-a-real-password")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    user: User


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return password_context.hash(password)


def _validate_new_account(*, email: str, password: str | None, name: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not name.strip():
        problems["name"] = "Name is required"
    elif len(name.strip()) > 120:
        problems["name"] = "Name must be at most 120 characters"
    if "@" not in email or len(email) > 254:
        problems["email"] = "A valid email address is required"
    if password is not None and not 8 <= len(password) <= 128:
        problems["password"] = "Password must be 8 to 128 characters"
    return problems


def _create_user(
    session: Session,
    *,
    email: str,
    password: str | None,
    name: str,
    role: Role = Role.USER,
    phone: str | None = None,
    is_verified: bool = False,
    google_id: str | None = None,
    profile_picture: str | None = None,
    password_hash: str | None = None,
) -> User:
    """`password_hash`, when given, is `password` already hashed (callers that must not hash
    inside their transaction)."""
    email = normalize_email(email)
    problems = _validate_new_account(email=email, password=password, name=name)
    if problems:
        raise ValidationFailed(problems)
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise BadRequest("Email already exists")
    user = User(
        email=email,
        password_hash=password_hash or (hash_password(password) if password is not None else None),
        name=name.strip(),
        phone=phone,
        role=role.value,
        is_verified=is_verified,
        google_id=google_id,
        profile_picture=profile_picture,
    )
    session.add(user)
    try:
        session.flush()
    except sa.exc.IntegrityError as exc:  # a concurrent registration won the race
        raise BadRequest("Email already exists") from exc
    return user


REGISTRATIONS_THROTTLED = "Too many new accounts from this address, please try again later"


def register(
    *, email: str, password: str, name: str, phone: str | None = None, ip_address: str = "unknown"
) -> User:
    """Public sign-up: always an attendee (`user` role), unverified until the emailed link is
    followed. Registrations are limited per client address (issue 14: throwaway accounts
    squatting seats); only accounts actually created count."""
    from crm_booking.services.throttle import count_and_record

    problems = _validate_new_account(email=normalize_email(email), password=password, name=name)
    if problems:
        raise ValidationFailed(problems)
    # Hashing is slow by design: done before the transaction, whose per-address lock (the
    # registration count) would otherwise queue simultaneous sign-ups from one address behind
    # each other's hashing (a test of 50 sign-ups at once timed out on a loaded machine).
    hashed = hash_password(password)
    with transaction() as session:
        if not count_and_record(session, bucket="register", key=ip_address,
                                limit=get_settings().REGISTRATIONS_PER_ADDRESS_PER_HOUR,
                                window=timedelta(hours=1)):
            raise TooManyRequests(REGISTRATIONS_THROTTLED)
        user = _create_user(session, email=email, password=password, name=name, phone=phone,
                            password_hash=hashed)
        from crm_booking.services.accounts import send_verification  # imports this module

        send_verification(session, user)
        return user


def create_user(
    *, email: str, password: str | None, name: str, role: Role, phone: str | None = None
) -> User:
    """Admin path (CLI, demo data): any role."""
    with transaction() as session:
        return _create_user(
            session, email=email, password=password, name=name, role=role, phone=phone,
            is_verified=True,
        )


def set_role(*, email: str, role: Role) -> User:
    with transaction() as session:
        user = session.exec(select(User).where(User.email == normalize_email(email))).first()
        if user is None:
            raise NotFound("User not found")
        user.role = role.value
        user.updated_at = clock.now()
        session.add(user)
        return user


# --- tokens -----------------------------------------------------------------------------------


def _encode(user: User, token_type: str, lifetime: timedelta) -> str:
    issued = clock.now()
    claims = {
        "sub": str(user.id),
        "type": token_type,
        "jti": uuid.uuid4().hex,
        # Sub-second precision, so tokens issued just before a revocation instant are told apart
        # from those issued just after it (tokens_valid_after).
        "iat": issued.timestamp(),
        "exp": int((issued + lifetime).timestamp()),
    }
    return jwt.encode(claims, get_settings().JWT_SECRET_KEY, algorithm=JWT_ALGORITHM)


def issue_access_token(user: User) -> str:
    return _encode(user, ACCESS, timedelta(hours=get_settings().ACCESS_TOKEN_HOURS))


def issue_tokens(user: User) -> TokenPair:
    settings = get_settings()
    return TokenPair(
        access_token=issue_access_token(user),
        refresh_token=_encode(user, REFRESH, timedelta(days=settings.REFRESH_TOKEN_DAYS)),
        user=user,
    )


def decode_token(token: str, *, expected_type: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            get_settings().JWT_SECRET_KEY,
            algorithms=[JWT_ALGORITHM],  # pinned: "none" and RS/HS confusion are refused
            # Expiry is checked below against the app's clock (which tests can move), so a
            # token issued by a server whose clock was moved is judged by that same clock.
            options={"require": ["exp", "iat", "sub", "type", "jti"], "verify_exp": False,
                     "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized() from exc
    if claims.get("type") != expected_type:
        raise Unauthorized()
    if not isinstance(claims["exp"], int | float) or claims["exp"] <= clock.now().timestamp():
        raise Unauthorized()
    return claims


def subject_of(claims: dict[str, Any]) -> int:
    """The user id a decoded token speaks for."""
    try:
        return int(claims["sub"])
    except (TypeError, ValueError) as exc:
        raise Unauthorized() from exc


def check_token_holder(user: User | None, claims: dict[str, Any]) -> User:
    """The token's subject as read from the database: still there, active, and not signed out
    everywhere since the token was issued."""
    if user is None or not user.is_active:
        raise Unauthorized()
    if user.tokens_valid_after is not None and claims["iat"] < clock.as_utc(
        user.tokens_valid_after
    ).timestamp():
        raise Unauthorized()
    return user


def _active_user(session: Session, claims: dict[str, Any]) -> User:
    return check_token_holder(session.get(User, subject_of(claims)), claims)


def access_claims(token: str) -> dict[str, Any]:
    """A valid, unexpired access token's claims; no database read (the holder is checked by
    `check_token_holder` where the user row is read)."""
    return decode_token(token, expected_type=ACCESS)


def user_from_access_token(token: str) -> User:
    claims = access_claims(token)
    with read_session() as session:
        return _active_user(session, claims)


def refresh(refresh_token: str) -> TokenPair:
    """Rotate: the presented refresh token is spent, a new pair is issued."""
    claims = decode_token(refresh_token, expected_type=REFRESH)
    with transaction() as session:
        user = _active_user(session, claims)
        if session.get(RevokedToken, claims["jti"]) is not None:
            raise Unauthorized()
        session.add(
            RevokedToken(
                jti=claims["jti"],
                user_id=user.id,
                expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
            )
        )
        try:
            session.flush()
        except sa.exc.IntegrityError as exc:  # the same token spent concurrently
            raise Unauthorized() from exc
        return issue_tokens(user)


# --- password sign-in -------------------------------------------------------------------------


LOGIN_THROTTLED = "Too many failed login attempts, please try again later"


def _lockout(failures: int) -> timedelta:
    """Growing delays: the first after LOGIN_MAX_FAILURES failures, doubling with each further
    one, never longer than the counting window."""
    settings = get_settings()
    base = settings.LOGIN_DELAY_BASE_SECONDS * 2 ** max(0, failures - settings.LOGIN_MAX_FAILURES)
    return min(timedelta(seconds=base), timedelta(minutes=settings.LOGIN_WINDOW_MINUTES))


def _claim_login_attempt(*, email: str, ip_address: str) -> int:
    """Count this attempt as a failure before the password is checked, atomically per
    (address, client IP), so concurrent guesses are counted one by one (issue 14). Failures from
    one client IP delay only that IP: a stranger cannot lock the owner out from elsewhere.
    Answers the id of the failure row, which a correct password deletes again."""
    settings = get_settings()
    now = clock.now()
    since = now - timedelta(minutes=settings.LOGIN_WINDOW_MINUTES)
    with transaction() as session:
        from crm_booking.services.throttle import serialize_on

        serialize_on(session, f"login-ip:{ip_address}")
        serialize_on(session, f"login:{email}|{ip_address}")
        pair_count, last_failure = session.exec(
            select(sa.func.count(), sa.func.max(LoginFailure.created_at)).where(
                LoginFailure.email == email, LoginFailure.ip_address == ip_address,
                LoginFailure.created_at >= since)
        ).one()
        if pair_count >= settings.LOGIN_MAX_FAILURES and last_failure is not None:
            wait_until = clock.as_utc(last_failure) + _lockout(pair_count)
            if now < wait_until:
                raise TooManyRequests(LOGIN_THROTTLED,
                                      retry_after_seconds=int((wait_until - now).total_seconds()) + 1)
        by_ip = session.exec(
            select(sa.func.count()).select_from(LoginFailure).where(
                LoginFailure.ip_address == ip_address, LoginFailure.created_at >= since)
        ).one()
        # One address guessing across many accounts (several people may share a network, so it
        # gets more room than one account).
        if by_ip >= settings.LOGIN_MAX_FAILURES * 4:
            raise TooManyRequests(LOGIN_THROTTLED)
        attempt = LoginFailure(email=email, ip_address=ip_address, created_at=now)
        session.add(attempt)
        session.flush()
        assert attempt.id is not None
        return attempt.id


def _forget_failures(*, email: str, ip_address: str) -> None:
    with transaction() as session:
        session.execute(sa.delete(LoginFailure).where(
            LoginFailure.email == email, LoginFailure.ip_address == ip_address))  # type: ignore[arg-type]


def authenticate(*, email: str, password: str, ip_address: str = "unknown") -> TokenPair:
    email = normalize_email(email)
    _claim_login_attempt(email=email, ip_address=ip_address)
    with read_session() as session:
        user = session.exec(select(User).where(User.email == email)).first()
    if user is None or user.password_hash is None:
        password_context.verify(password, _DUMMY_HASH)
        valid, new_hash = False, None
    else:
        valid, new_hash = password_context.verify_and_update(password, user.password_hash)
    if not valid or user is None or not user.is_active:
        raise Unauthorized("Invalid credentials")  # the failure was recorded up front
    _forget_failures(email=email, ip_address=ip_address)
    if new_hash:
        with transaction() as session:
            stored = session.get(User, user.id)
            if stored is not None:
                stored.password_hash = new_hash
                session.add(stored)
    return issue_tokens(user)


# --- profile ----------------------------------------------------------------------------------


def get_user(user_id: int) -> User:
    with read_session() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("User not found")
        return user


def update_profile(*, user_id: int, name: str | None = None, phone: str | None = None) -> User:
    problems: dict[str, str] = {}
    if name is not None and not name.strip():
        problems["name"] = "Name cannot be empty"
    elif name is not None and len(name.strip()) > 120:
        problems["name"] = "Name must be at most 120 characters"
    if phone is not None and phone.strip() and not _looks_like_phone(phone):
        problems["phone"] = "Phone must be 7 to 20 digits, optionally starting with +"
    if problems:
        raise ValidationFailed(problems)
    with transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("User not found")
        if name is not None:
            user.name = name.strip()
        if phone is not None:
            user.phone = phone.strip() or None
        user.updated_at = clock.now()
        session.add(user)
        return user


def _looks_like_phone(phone: str) -> bool:
    digits = phone.strip().removeprefix("+").replace(" ", "").replace("-", "")
    return digits.isdigit() and 7 <= len(digits) <= 20


# --- Google sign-in (issue 7) -----------------------------------------------------------------
# Appended as its own section so it merges cleanly with other work on this module.

import secrets  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from crm_booking.errors import Forbidden  # noqa: E402
from crm_booking.models import OAuthState  # noqa: E402

GOOGLE_STATE_LIFETIME = timedelta(minutes=10)
# Abandoned states are useless after their lifetime; this only bounds the table's growth.
_GOOGLE_STATE_RETENTION = timedelta(days=1)
_RETURN_TO_PREFIX = "/app"
INVALID_GOOGLE_STATE = "Invalid or expired Google sign-in, please start again"


def _safe_return_to(return_to: str | None) -> str | None:
    """Only a path of our own UI: anything with a host, scheme or odd characters could send the
    freshly signed-in browser (and its cookie-bearing redirect) elsewhere."""
    if not return_to:
        return None
    parts = urlsplit(return_to)
    segments = parts.path.split("/")
    acceptable = (
        len(return_to) <= 500
        and not parts.scheme
        and not parts.netloc
        and return_to.isprintable()
        and not any(ch.isspace() or ch == "\\" for ch in return_to)
        and (parts.path == _RETURN_TO_PREFIX or parts.path.startswith(_RETURN_TO_PREFIX + "/"))
        and ".." not in segments
    )
    if not acceptable:
        raise ValidationFailed({"return_to": "Must be a path under /app/"})
    return return_to


def start_google_sign_in(*, return_to: str | None = None) -> OAuthState:
    """A fresh single-use state and nonce for one trip to Google, kept in the database so any
    worker can check the callback."""
    safe_return_to = _safe_return_to(return_to)
    now = clock.now()
    with transaction() as session:
        session.execute(
            sa.delete(OAuthState).where(
                OAuthState.created_at < now - _GOOGLE_STATE_RETENTION  # type: ignore[arg-type,operator]
            )
        )
        state = OAuthState(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                           return_to=safe_return_to, created_at=now)
        session.add(state)
        return state


def consume_google_state(state: str | None) -> OAuthState:
    """Mark the state used exactly once. Unknown, stale and already used states are refused; the
    conditional UPDATE makes two concurrent callbacks with one state see a single winner."""
    if not state:
        raise BadRequest(INVALID_GOOGLE_STATE)
    now = clock.now()
    with transaction() as session:
        result = session.execute(
            sa.update(OAuthState)
            .where(
                OAuthState.state == state,  # type: ignore[arg-type]
                OAuthState.used_at.is_(None),  # type: ignore[union-attr]
                OAuthState.created_at > now - GOOGLE_STATE_LIFETIME,  # type: ignore[arg-type,operator]
            )
            .values(used_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise BadRequest(INVALID_GOOGLE_STATE)
        stored = session.get(OAuthState, state)
        assert stored is not None
        return stored


def _google_display_name(name: str, email: str) -> str:
    return (name.strip() or email.split("@", 1)[0])[:120]


GOOGLE_LINK_REFUSED = (
    "An account with this email address already exists and its address is not confirmed yet. "
    "Sign in with your password and confirm your email address (or use \"Forgot password?\"), "
    "then you can sign in with Google."
)


def google_vouches_for(email: str, email_verified: bool, hosted_domain: str | None) -> bool:
    """Google is authoritative for an address only when it says it is verified AND the address is
    a Gmail address or belongs to a Workspace domain (the `hd` claim), per Google's guidance."""
    email = normalize_email(email)
    domain = email.rsplit("@", 1)[-1]
    workspace = hosted_domain is not None and hosted_domain.lower() == domain
    return email_verified and (domain == "gmail.com" or workspace)


def _link_or_create_google_user(
    session: Session, *, google_id: str, email: str, name: str, picture: str | None,
    vouched: bool = False,
) -> User:
    linked = session.exec(select(User).where(User.google_id == google_id)).first()
    if linked is not None:
        if picture:
            linked.profile_picture = picture
        return linked
    same_email = session.exec(select(User).where(User.email == email)).first()
    if same_email is None:
        return _create_user(session, email=email, password=None, name=_google_display_name(name, email),
                            is_verified=True, google_id=google_id, profile_picture=picture)
    if same_email.google_id is not None:
        raise BadRequest("This email address is linked to a different Google account")
    if not same_email.is_verified:
        # Issue 14: an unconfirmed address is linked only when Google vouches for it; otherwise
        # the person is told what to do, and the account (and its password) is left alone.
        if not vouched:
            raise Forbidden(GOOGLE_LINK_REFUSED)
        _evict_unverified_holder(session, same_email)
    same_email.google_id = google_id
    same_email.profile_picture = picture or same_email.profile_picture
    same_email.is_verified = True
    return same_email


def _evict_unverified_holder(session: Session, user: User) -> None:
    """Whoever registered this address with a password never proved they own it; Google just
    vouched that someone else does. Their password, tokens and browser sessions stop working, so
    an account pre-registered with another person's address cannot be kept (pre-hijacking). Not
    silent: the owner gets an email saying so, with a link to choose a password."""
    from crm_booking.models import WebSession
    from crm_booking.services.accounts import notify_password_removed

    had_password = user.password_hash is not None
    user.password_hash = None
    user.tokens_valid_after = clock.now()
    session.exec(sa.delete(WebSession).where(WebSession.user_id == user.id))  # type: ignore[call-overload, arg-type]
    if had_password:
        notify_password_removed(session, user)


def sign_in_with_google(
    *, google_id: str, email: str, email_verified: bool, name: str, picture: str | None,
    hosted_domain: str | None = None,
) -> TokenPair:
    """Sign in the account linked to this Google identity, else link the account with the same
    email, else create a `user` account without a password."""
    if not email_verified:
        raise Forbidden("Your Google account's email address is not verified")
    if not google_id or len(google_id) > 64:
        raise BadRequest("Google did not send a usable account id")
    # The column holds 1024 characters; a picture is optional, so a longer URL is dropped.
    picture = picture if picture and len(picture) <= 1024 else None
    email = normalize_email(email)
    for attempt in range(2):
        try:
            with transaction() as session:
                user = _link_or_create_google_user(
                    session, google_id=google_id, email=email, name=name, picture=picture,
                    vouched=google_vouches_for(email, email_verified, hosted_domain),
                )
                if not user.is_active:
                    raise Forbidden("This account is disabled")
                user.updated_at = clock.now()
                session.add(user)
            return issue_tokens(user)
        except BadRequest as exc:
            # A concurrent first sign-in of the same person created the row between our lookup
            # and our insert: the second round finds and signs in that account.
            if attempt or exc.message != "Email already exists":
                raise
    raise AssertionError("unreachable")
