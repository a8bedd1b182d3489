"""Issue 14 pages: confirm an email address, forgotten password, reset, change password, sign
out everywhere, and the banner's "send the link again". The rules are in services/accounts.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import reflex as rx
from reflex.event import EventSpec

from crm_booking.errors import DomainError, ValidationFailed
from crm_booking.services import accounts
from crm_booking.state.session import (
    SessionState,
    full_page_redirect,
    login_redirect,
    query_parameter,
    signed_in_user,
)


class AccountState(rx.State):
    error: str = ""
    notice: str = ""
    field_error: str = ""
    current_error: str = ""
    working: bool = False
    verified: bool = False
    checking: bool = True
    form_key: int = 0

    def _reset_messages(self) -> None:
        self.error = self.notice = self.field_error = self.current_error = ""
        self.working = False

    def _client_ip(self) -> str:
        return self.router.session.client_ip or "unknown"

    @rx.event
    async def load_form(self) -> None:
        self._reset_messages()
        self.form_key += 1

    @rx.event
    async def load_verify(self) -> None:
        """Confirming an address on opening the emailed link: following it is the proof."""
        self._reset_messages()
        self.checking, self.verified = True, False
        try:
            await asyncio.to_thread(accounts.verify_email, query_parameter(self, "token"))
        except DomainError as problem:
            self.error = problem.message
        else:
            self.verified = True
            session = await self.get_state(SessionState)
            session.email_verified = True
        self.checking = False

    @rx.event
    async def forgot(self, form: dict[str, str]) -> AsyncIterator[None]:
        self._reset_messages()
        email = form.get("email", "").strip()
        if not email:
            self.field_error = "Enter your email address."
            return
        self.working = True
        yield None
        try:
            await asyncio.to_thread(accounts.forgot_password, email=email, ip_address=self._client_ip())
        except ValidationFailed as problem:
            self.field_error = problem.details.get("email", "Enter a valid email address.")
        except DomainError as problem:
            self.error = problem.message
        else:
            self.notice = ("If an account exists for that address, we have emailed it a link to "
                           "choose a new password. The link works once, for one hour.")
        self.working = False

    @rx.event
    async def reset_with_link(self, form: dict[str, str]) -> AsyncIterator[None]:
        self._reset_messages()
        self.working = True
        yield None
        try:
            await asyncio.to_thread(accounts.reset_password, token=query_parameter(self, "token"),
                                    new_password=form.get("new_password", ""))
        except ValidationFailed as problem:
            self.field_error = problem.details.get("new_password", "")
        except DomainError as problem:
            self.error = problem.message
        else:
            self.notice = "Your password is changed and every session was signed out. Sign in with it now."
            self.form_key += 1
        self.working = False

    @rx.event
    async def load_change(self) -> AsyncIterator[EventSpec | None]:
        self._reset_messages()
        if await signed_in_user(self) is None:
            yield login_redirect("/change-password")

    @rx.event
    async def change(self, form: dict[str, str]) -> AsyncIterator[EventSpec | None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect("/change-password")
            return
        self._reset_messages()
        self.working = True
        yield None
        session = await self.get_state(SessionState)
        try:
            await asyncio.to_thread(
                accounts.change_password, user_id=user_id,
                current_password=form.get("current_password", ""),
                new_password=form.get("new_password", ""),
                keep_web_session=session._cookie_token(),
            )
        except ValidationFailed as problem:
            self.field_error = problem.details.get("new_password", "")
        except DomainError as problem:
            self.current_error = problem.message
        else:
            self.notice = "Your password is changed. Every other session was signed out."
            self.form_key += 1
        self.working = False

    @rx.event
    async def sign_out_everywhere(self) -> AsyncIterator[EventSpec | None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect("/change-password")
            return
        await asyncio.to_thread(accounts.sign_out_everywhere, user_id=user_id)
        yield full_page_redirect("/web/logout")


class VerificationBannerState(rx.State):
    sent: str = ""
    problem: str = ""

    @rx.event
    async def resend(self) -> None:
        user_id = await signed_in_user(self)
        self.sent = self.problem = ""
        if user_id is None:
            return
        try:
            await asyncio.to_thread(accounts.request_verification, user_id)
        except DomainError as problem:
            self.problem = problem.message
        else:
            self.sent = "A new link is on its way. Check your inbox."
