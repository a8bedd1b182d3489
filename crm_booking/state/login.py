"""Sign-in and sign-up. Both end by sending the browser to /web/session with a one-minute,
single-use ticket; that endpoint sets the HttpOnly cookie and returns to `next`."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from urllib.parse import quote

import reflex as rx
from reflex.event import EventSpec

from crm_booking.errors import DomainError, ValidationFailed
from crm_booking.models import Role
from crm_booking.services import auth, web_sessions
from crm_booking.state.session import (
    SessionState,
    full_page_redirect,
    query_parameter,
    safe_next,
    session_ticket_url,
)


class LoginState(rx.State):
    # The browser's pre-login value (issue 14): sign-in tickets only work with it, so a link to
    # someone else's sign-in cannot sign this browser into their account.
    prelogin: str = rx.Cookie("", name=web_sessions.PRELOGIN_COOKIE, path="/", max_age=3600,
                              same_site="lax")
    error: str = ""
    notice: str = ""
    email_error: str = ""
    password_error: str = ""
    name_error: str = ""
    working: bool = False

    def _next(self) -> str:
        """Where the person was going, from the address this event was sent from (every event
        carries it). Not a value the page's on_load stored: two CI runs signed in before that
        on_load had been handled and were sent to the home page."""
        return safe_next(query_parameter(self, "next") or "/")

    @rx.event
    def continue_with_google(self) -> EventSpec:
        """The Google endpoint is outside the UI, so the whole page goes there."""
        return full_page_redirect(f"/auth/google?return_to={quote('/app' + self._next(), safe='/')}")

    def _clear(self) -> None:
        self.error = self.email_error = self.password_error = self.name_error = ""

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        if len(self.prelogin) < 16:
            self.prelogin = secrets.token_urlsafe(24)
        self._clear()
        self.working = False
        self.notice = ("That sign-in link expired. Please sign in again."
                       if query_parameter(self, "expired") else "")
        session = await self.get_state(SessionState)
        if await session.current_user_id() is not None:
            yield rx.redirect(self._landing(session.user_role))

    def _client_ip(self) -> str:
        return self.router.session.client_ip or "unknown"

    def _landing(self, role: str) -> str:
        """Without a `next`, facilitators and admins start where their work is."""
        if not query_parameter(self, "next") and role in (Role.FACILITATOR, Role.ADMIN):
            return "/dashboard"
        return self._next()

    async def _enter(self, user_id: int, role: str = "") -> EventSpec:
        if len(self.prelogin) < 16:  # the page's load normally set it long before
            self.prelogin = secrets.token_urlsafe(24)
        ticket = await asyncio.to_thread(web_sessions.issue_login_ticket, user_id, self.prelogin)
        return full_page_redirect(session_ticket_url(ticket, self._landing(role)))

    @rx.event
    async def sign_in(self, form: dict[str, str]) -> AsyncIterator[EventSpec | None]:
        self._clear()
        email, password = form.get("email", "").strip(), form.get("password", "")
        if not email:
            self.email_error = "Enter your email address."
        if not password:
            self.password_error = "Enter your password."
        if self.email_error or self.password_error:
            return
        self.working = True
        yield None
        try:
            tokens = await asyncio.to_thread(auth.authenticate, email=email, password=password,
                                             ip_address=self._client_ip())
        except DomainError as problem:
            self.error = ("That email and password do not match an account."
                          if problem.message == "Invalid credentials" else problem.message)
            self.working = False
            return
        yield await self._enter(tokens.user.id, tokens.user.role)  # type: ignore[arg-type]

    @rx.event
    async def sign_up(self, form: dict[str, str]) -> AsyncIterator[EventSpec | None]:
        self._clear()
        self.working = True
        yield None
        try:
            user = await asyncio.to_thread(auth.register, email=form.get("email", ""),
                                           password=form.get("password", ""),
                                           name=form.get("name", ""),
                                           ip_address=self._client_ip())
        except ValidationFailed as problem:
            self.email_error = problem.details.get("email", "")
            self.password_error = problem.details.get("password", "")
            self.name_error = problem.details.get("name", "")
            self.error = "Please correct the highlighted fields."
            self.working = False
            return
        except DomainError as problem:
            self.error = ("An account with this email already exists. Sign in instead."
                          if problem.message == "Email already exists" else problem.message)
            self.working = False
            return
        yield await self._enter(user.id)  # type: ignore[arg-type]
