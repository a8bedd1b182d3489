"""Endpoints 3 and 4: sign in with Google (OpenID Connect authorization code flow).

`GET /auth/google` sends the browser to Google; `GET /auth/google/callback` finishes the sign-in
and answers with tokens (API clients) or, when the trip started from the web UI with a
`return_to` path, with a session cookie and a redirect back to that page.
"""

from __future__ import annotations

import contextlib
import hmac
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from crm_booking.errors import BadRequest, GatewayError, NotConfigured, Unauthorized
from crm_booking.gateways import google
from crm_booking.models import User
from crm_booking.services import auth, web_sessions
from crm_booking.services.views import user_with_google
from crm_booking.settings import get_settings

log = logging.getLogger("crm_booking.api.google")

router = APIRouter(prefix="/auth", tags=["auth"])

NOT_CONFIGURED = "Google sign-in is not configured"
CANCELLED = "Google sign-in was cancelled"
FAILED_AT_GOOGLE = "Google sign-in failed, please try again"
CODE_REJECTED = "Google did not accept the sign-in code, please start again"
INVALID_TOKEN = "Invalid Google token"
UNAVAILABLE = "Google sign-in is unavailable right now, please try again later"
MISSING_CODE = "Missing authorization code"


def _require_configured() -> None:
    if not get_settings().google_enabled:
        raise NotConfigured(NOT_CONFIGURED)


@router.get("/google/status", summary="Whether Google sign-in is available")
def google_status() -> dict[str, bool]:
    return {"enabled": get_settings().google_enabled}


# Issue 14 (login forgery): the state is also kept in a short-lived cookie of the browser that
# started the trip; a callback whose state does not match that browser's cookie is refused, so a
# link to someone else's unfinished callback cannot sign this browser into their account.
STATE_COOKIE = "crm_google_state"
STATE_COOKIE_PATH = "/auth/google"


def _state_matches_browser(request: Request, state: str | None) -> bool:
    cookie = request.cookies.get(STATE_COOKIE, "")
    return bool(state and cookie) and hmac.compare_digest(cookie.encode(), (state or "").encode())


@router.get("/google", status_code=302, response_class=RedirectResponse,
            summary="Redirect to Google's consent screen")
def google_sign_in(return_to: str | None = None) -> RedirectResponse:
    _require_configured()
    try:
        # Discover first: when Google is unreachable no state row is left behind.
        google.discover()
        started = auth.start_google_sign_in(return_to=return_to)
        url = google.authorization_url(state=started.state, nonce=started.nonce)
    except google.ProviderUnavailable as exc:
        log.warning("Google discovery failed: %s", exc)
        raise GatewayError(UNAVAILABLE) from exc
    response = RedirectResponse(url, status_code=302)
    # Lax: Google's redirect back is a top-level GET, which carries Lax cookies. Not Secure: the
    # state travels in the URLs anyway (it is no secret, only bound to this browser), and a
    # callback reached over a loopback http hop behind a TLS proxy must still carry it.
    response.set_cookie(STATE_COOKIE, started.state, path=STATE_COOKIE_PATH, httponly=True, samesite="lax",
                        max_age=int(auth.GOOGLE_STATE_LIFETIME.total_seconds()))
    return response


def _discard_state(state: str | None) -> None:
    """Spend the state of a trip that ended at Google, so it cannot be used afterwards."""
    with contextlib.suppress(BadRequest):
        auth.consume_google_state(state)


def _verified_identity(code: str, nonce: str) -> google.GoogleIdentity:
    try:
        return google.identity_from_code(code, nonce=nonce)
    except google.InvalidIdToken as exc:
        log.warning("Google ID token refused (%s)", exc)
        raise Unauthorized(INVALID_TOKEN) from exc
    except google.CodeRejected as exc:
        log.info("Google token endpoint refused the code (%s)", exc)
        raise BadRequest(CODE_REJECTED) from exc
    except google.ProviderUnavailable as exc:
        log.warning("Google unavailable during sign-in: %s", exc)
        raise GatewayError(UNAVAILABLE) from exc


def _browser_sign_in(user: User, return_to: str) -> RedirectResponse:
    assert user.id is not None
    response = RedirectResponse(return_to, status_code=302)
    response.set_cookie(
        web_sessions.COOKIE_NAME,
        web_sessions.open_session(user.id),
        max_age=int(web_sessions.LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().PUBLIC_BASE_URL.startswith("https://"),
    )
    return response


@router.get("/google/callback", response_model=None, summary="Finish Google sign-in")
def google_callback(
    request: Request, state: str | None = None, code: str | None = None, error: str | None = None
) -> Response:
    _require_configured()
    if not _state_matches_browser(request, state):
        # Same answer as an unknown state: "start again" is what this browser's user should do.
        raise BadRequest(auth.INVALID_GOOGLE_STATE)
    if error:
        _discard_state(state)
        raise BadRequest(CANCELLED if error == "access_denied" else FAILED_AT_GOOGLE)
    stored = auth.consume_google_state(state)
    if not code:
        raise BadRequest(MISSING_CODE)
    identity = _verified_identity(code, stored.nonce)
    tokens = auth.sign_in_with_google(
        google_id=identity.subject, email=identity.email, email_verified=identity.email_verified,
        name=identity.name, picture=identity.picture, hosted_domain=identity.hosted_domain,
    )
    response: Response
    if stored.return_to:
        response = _browser_sign_in(tokens.user, stored.return_to)
    else:
        body = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "user": user_with_google(tokens.user),
        }
        # Tokens must not linger in shared caches or the browser's back/forward cache.
        response = JSONResponse(body, headers={"Cache-Control": "no-store"})
    response.delete_cookie(STATE_COOKIE, path=STATE_COOKIE_PATH)
    return response
