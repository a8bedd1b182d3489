"""Sign-in plumbing for the web UI: swap a login ticket for the HttpOnly session cookie, and
sign out. The UI talks over a websocket, which cannot set cookies, so these two small HTTP
endpoints do it (see docs/decisions/ui.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Query
from fastapi.responses import RedirectResponse

from crm_booking.services import web_sessions
from crm_booking.settings import get_settings

router = APIRouter(prefix="/web", tags=["web ui"], include_in_schema=False)

UI_PREFIX = "/app"


def safe_next(target: str | None) -> str:
    """Only paths inside the UI, so the endpoint cannot be used to send people elsewhere."""
    if (
        not target
        or not (target == UI_PREFIX or target.startswith(UI_PREFIX + "/"))
        or "//" in target
        or "\\" in target
        or any(ord(ch) < 32 for ch in target)
    ):
        return UI_PREFIX + "/"
    return target


def _redirect(target: str) -> RedirectResponse:
    response = RedirectResponse(target, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/session")
def start_session(
    ticket: Annotated[str, Query(max_length=300)] = "",
    next: Annotated[str | None, Query(max_length=500)] = None,
    crm_prelogin: Annotated[str | None, Cookie(max_length=200)] = None,
) -> RedirectResponse:
    token = web_sessions.redeem_login_ticket(ticket, crm_prelogin) if ticket else None
    if token is None:
        return _redirect(f"{UI_PREFIX}/login?expired=1")
    response = _redirect(safe_next(next))
    response.delete_cookie(web_sessions.PRELOGIN_COOKIE, path="/")
    response.set_cookie(
        web_sessions.COOKIE_NAME, token,
        max_age=int(web_sessions.LIFETIME.total_seconds()), path="/", httponly=True,
        secure=get_settings().PUBLIC_BASE_URL.startswith("https://"), samesite="lax",
    )
    return response


@router.get("/logout")
def end_session(
    crm_session: Annotated[str | None, Cookie()] = None,
) -> RedirectResponse:
    # Signing someone out is harmless, so a plain link (GET) is fine here.
    web_sessions.close_session(crm_session)
    response = _redirect(UI_PREFIX + "/")
    response.delete_cookie(web_sessions.COOKIE_NAME, path="/")
    return response
