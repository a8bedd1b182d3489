"""Who is signed in. The browser holds only an HttpOnly cookie; this state reads it from the
websocket's handshake headers and keeps the user id in a backend-only var (`_user_id`)."""

from __future__ import annotations

import asyncio
import json
from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote, unquote

import reflex as rx
from reflex.event import EventSpec

from crm_booking.models import Role, User
from crm_booking.services import web_sessions
from crm_booking.settings import get_settings


def full_page_redirect(url: str) -> EventSpec:
    """Leave the single-page app (for /web/*, /pay/*, /auth/*): a client-side route change
    would look for the path among the UI's own pages."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


def login_redirect(next_path: str) -> EventSpec:
    return rx.redirect(f"/login?next={quote(next_path, safe='/')}")


def safe_next(value: str | None) -> str:
    """A path inside the UI (relative to /app) to return to after signing in."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def last_path_segment(state: rx.State) -> str:
    """The dynamic part of routes like /events/[event_id] (the last segment of the URL)."""
    return unquote(state.router.url.path.rstrip("/").rsplit("/", 1)[-1])


def query_parameter(state: rx.State, name: str) -> str:
    return str(state.router.url.query_parameters.get(name, ""))


def session_ticket_url(ticket: str, next_path: str) -> str:
    return f"/web/session?ticket={quote(ticket)}&next={quote('/app' + safe_next(next_path))}"


class SessionState(rx.State):
    _user_id: int | None = None
    user_name: str = ""
    user_email: str = ""
    user_role: str = ""
    google_enabled: bool = False
    email_verified: bool = True  # issue 14: the banner asks unverified accounts to confirm

    @rx.var
    def signed_in(self) -> bool:
        return self.user_name != ""

    @rx.var
    def is_facilitator(self) -> bool:
        return self.user_role in (Role.FACILITATOR.value, Role.ADMIN.value)

    @rx.var
    def is_admin(self) -> bool:
        return self.user_role == Role.ADMIN.value

    def _cookie_token(self) -> str | None:
        try:
            cookies = SimpleCookie(self.router.headers.cookie or "")
        except CookieError:
            return None
        morsel = cookies.get(web_sessions.COOKIE_NAME)
        return morsel.value if morsel is not None else None

    def _remember(self, user: User | None) -> None:
        self._user_id = user.id if user is not None else None
        self.user_name = user.name if user is not None else ""
        self.user_email = user.email if user is not None else ""
        self.user_role = user.role if user is not None else ""
        self.email_verified = user.is_verified if user is not None else True

    async def current_user_id(self) -> int | None:
        """Checked against the database on every page load, so a sign-out elsewhere or an
        expired session takes effect at once."""
        user = await asyncio.to_thread(web_sessions.user_for_session, self._cookie_token())
        self._remember(user)
        self.google_enabled = get_settings().google_enabled
        return self._user_id

    @rx.event
    async def load(self) -> None:
        await self.current_user_id()

    @rx.event
    async def sign_out(self) -> EventSpec:
        """End the session row now, then let the HTTP endpoint delete the HttpOnly cookie."""
        await asyncio.to_thread(web_sessions.close_session, self._cookie_token())
        self._remember(None)
        return full_page_redirect("/web/logout")


async def signed_in_user(state: rx.State) -> int | None:
    session = await state.get_state(SessionState)
    return await session.current_user_id()
