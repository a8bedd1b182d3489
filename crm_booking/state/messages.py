"""/dashboard/events/[event_id]/messages: write to everyone booked (or everyone on the waitlist),
preview, send, see the sent."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import reflex as rx
from reflex.event import EventSpec

from crm_booking.errors import DomainError, ValidationFailed
from crm_booking.services import events, messaging
from crm_booking.state import formatting as fmt
from crm_booking.state.session import login_redirect, signed_in_user


@dataclasses.dataclass
class SentView:
    id: int = 0
    subject: str = ""
    body: str = ""
    recipients: str = ""
    sent_at: str = ""


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def _audience_words(count: int, audience: str) -> str:
    where = " on the waitlist" if audience == messaging.AUDIENCE_WAITLIST else ""
    return f"{_people(count)}{where}"


class MessagesState(rx.State):
    title: str = ""
    event_number: int = 0
    timezone: str = "UTC"
    subject: str = ""
    body: str = ""
    audience: str = messaging.AUDIENCE_BOOKED
    subject_error: str = ""
    body_error: str = ""
    previewing: bool = False
    preview_subject: str = ""
    preview_body: str = ""
    preview_count: int = 0
    sent: list[SentView] = []
    notice: str = ""
    error: str = ""
    loading: bool = True
    sending: bool = False

    def _path_event_id(self) -> int:
        parts = self.router.url.path.rstrip("/").split("/")
        raw = parts[-2] if len(parts) >= 2 else ""
        return int(raw) if raw.isdigit() and len(raw) < 10 else 0

    @rx.var
    def send_label(self) -> str:
        return f"Send to {_people(self.preview_count)}"

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        self.event_number = self._path_event_id()
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect(f"/dashboard/events/{self.event_number}/messages")
            return
        self.loading, self.notice, self.previewing = True, "", False
        yield None
        await self._refresh(user_id)
        self.loading = False

    async def _refresh(self, user_id: int) -> None:
        try:
            row = await asyncio.to_thread(events.get_event, self.event_number)
            found = await asyncio.to_thread(messaging.list_messages, actor_id=user_id,
                                            event_id=self.event_number)
        except DomainError as problem:
            self.title, self.error, self.sent = "Messages", problem.message, []
            return
        self.error = ""
        self.title, self.timezone = row.event.title, row.event.timezone
        self.sent = [SentView(m.id, m.subject, m.body, f"Sent to {_audience_words(m.recipients, m.audience)}",
                              fmt.short_date(m.created_at, self.timezone))
                     for m in found]

    @rx.event
    def set_subject(self, value: str) -> None:
        self.subject, self.previewing = value[:200], False

    @rx.event
    def set_body(self, value: str) -> None:
        self.body, self.previewing = value[:5000], False

    @rx.event
    def set_audience(self, value: str) -> None:
        if value in messaging.AUDIENCES:
            self.audience, self.previewing = value, False

    def _show_problem(self, problem: DomainError) -> None:
        if isinstance(problem, ValidationFailed):
            self.subject_error = problem.details.get("subject", "")
            self.body_error = problem.details.get("body", "")
        else:
            self.error = problem.message

    @rx.event
    async def preview(self) -> None:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.subject_error = self.body_error = self.notice = ""
        try:
            shown = await asyncio.to_thread(messaging.preview, actor_id=user_id,
                                            event_id=self.event_number, subject=self.subject,
                                            body=self.body, audience=self.audience)
        except DomainError as problem:
            self._show_problem(problem)
            self.previewing = False
            return
        self.preview_subject, self.preview_body = shown.email_subject, shown.body
        self.preview_count, self.previewing = shown.recipients, True

    @rx.event
    def edit(self) -> None:
        self.previewing = False

    @rx.event
    async def send(self) -> AsyncIterator[None]:
        user_id = await signed_in_user(self)
        if user_id is None or not self.previewing:
            return
        self.sending = True
        yield None
        try:
            sent = await asyncio.to_thread(messaging.send, actor_id=user_id,
                                           event_id=self.event_number, subject=self.subject,
                                           body=self.body, audience=self.audience)
        except DomainError as problem:
            self._show_problem(problem)
        else:
            self.notice = f"Message sent to {_audience_words(sent.recipients, sent.audience)}."
            self.subject = self.body = ""
            self.previewing = False
            await self._refresh(user_id)
        self.sending = False
