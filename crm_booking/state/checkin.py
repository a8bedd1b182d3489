"""/dashboard/events/[event_id]/check-in: the facilitator's door list on a phone."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from crm_booking.clock import as_utc
from crm_booking.errors import DomainError
from crm_booking.services import checkin
from crm_booking.state.session import login_redirect, signed_in_user

# A QR may hold anything; only this much of it is ever shown back.
MAX_SHOWN = 40


@dataclasses.dataclass
class DoorEntry:
    booking_id: int = 0
    name: str = ""
    reference: str = ""
    checked_in_at: str = ""


def _local_time(value: datetime | None, tz_name: str) -> str:
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    return as_utc(value).astimezone(ZoneInfo(tz_name)).strftime("%H:%M")


def _utc_text_to_local(text: str | None, tz_name: str) -> str:
    if not text:
        return ""
    return _local_time(datetime.fromisoformat(text), tz_name)


class CheckInState(rx.State):
    title: str = ""
    event_number: int = 0
    timezone: str = "UTC"
    code: str = ""
    # The answer to the last scan: kind is success, warning or error.
    result_kind: str = ""
    result_text: str = ""
    # The booking the last successful scan checked in, for a one-tap undo.
    undo_booking_id: int = 0
    expected: list[DoorEntry] = []
    present: list[DoorEntry] = []
    loading: bool = True
    error: str = ""

    def _path_event_id(self) -> int:
        parts = self.router.url.path.rstrip("/").split("/")
        raw = parts[-2] if len(parts) >= 2 else ""
        return int(raw) if raw.isdigit() and len(raw) < 10 else 0

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        self.event_number = self._path_event_id()
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect(f"/dashboard/events/{self.event_number}/check-in")
            return
        self.loading = True
        self.result_kind, self.result_text, self.undo_booking_id = "", "", 0
        yield None
        await self._refresh(user_id)
        self.loading = False

    async def _refresh(self, user_id: int) -> None:
        try:
            found = await asyncio.to_thread(checkin.roster, actor_id=user_id,
                                            event_id=self.event_number)
        except DomainError as problem:
            self.title, self.error = "Check-in", problem.message
            self.expected, self.present = [], []
            return
        self.error = ""
        self.title, self.timezone = found.event.title, found.event.timezone
        self.expected = [DoorEntry(b.id or 0, u.name, b.booking_reference or "", "")
                         for b, u in found.expected]
        self.present = [DoorEntry(b.id or 0, u.name, b.booking_reference or "",
                                  _local_time(b.checked_in_at, self.timezone))
                        for b, u in found.present]

    @rx.event
    def set_code(self, value: str) -> None:
        self.code = value[:64]

    @rx.event
    async def submit_code(self, _form: dict[str, Any] | None = None) -> None:
        await self._admit(self.code)
        self.code = ""

    @rx.event
    async def scanned(self, text: str) -> None:
        await self._admit(text)

    async def _admit(self, raw: str) -> None:
        text = (raw or "").strip()
        user_id = await signed_in_user(self)
        if user_id is None or not text:
            return
        by_ticket = text.upper().startswith("TK")
        try:
            done = await asyncio.to_thread(
                checkin.check_in, actor_id=user_id, event_id=self.event_number,
                booking_reference=None if by_ticket else text[:32],
                ticket=text[:64] if by_ticket else None)
        except DomainError as problem:
            self._warn(problem, text)
        else:
            self.result_kind = "success"
            self.result_text = f"{done.attendee.name} is checked in ({done.booking.booking_reference})."
            self.undo_booking_id = done.booking.id or 0
        await self._refresh(user_id)

    def _warn(self, problem: DomainError, text: str) -> None:
        self.undo_booking_id = 0
        extra = problem.extra
        if isinstance(problem, checkin.AlreadyCheckedIn):
            when = _utc_text_to_local(extra.get("checked_in_at"), self.timezone)
            self.result_kind = "warning"
            self.result_text = (f"Second scan: {extra.get('attendee_name', 'this attendee')} "
                                f"was already checked in at {when}.")
        elif problem.message == checkin.OTHER_EVENT:
            other = extra.get("other_event", {}).get("title")
            self.result_kind = "warning"
            self.result_text = ("Wrong event: this ticket is for " +
                                (f"“{other}”." if other else "another event."))
        elif problem.status_code == 404:
            self.result_kind = "error"
            self.result_text = f"No booking found for “{text[:MAX_SHOWN]}”."
        elif problem.status_code == 400 and "booking_status" in extra:
            self.result_kind = "warning"
            self.result_text = f"Do not admit: {problem.message.lower().removeprefix('this ')}."
        else:
            self.result_kind, self.result_text = "error", problem.message

    @rx.event
    async def undo(self, booking_id: int) -> None:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        try:
            done = await asyncio.to_thread(checkin.undo_check_in, actor_id=user_id,
                                           event_id=self.event_number, booking_id=int(booking_id))
        except (DomainError, ValueError, TypeError) as problem:
            self.result_kind = "error"
            self.result_text = getattr(problem, "message", "Could not undo the check-in")
        else:
            self.result_kind = "success"
            self.result_text = f"Undone: {done.attendee.name} is expected again."
            self.undo_booking_id = 0
        await self._refresh(user_id)
