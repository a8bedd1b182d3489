"""/profile: name and phone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import reflex as rx
from reflex.event import EventSpec

from crm_booking.errors import DomainError, ValidationFailed
from crm_booking.services import auth
from crm_booking.state.session import SessionState, login_redirect, signed_in_user


class ProfileState(rx.State):
    name: str = ""
    phone: str = ""
    email: str = ""
    name_error: str = ""
    phone_error: str = ""
    error: str = ""
    saved: str = ""
    loading: bool = True
    saving: bool = False
    form_key: int = 0  # bumped after loading, so the form shows fresh default values

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect("/profile")
            return
        user = await asyncio.to_thread(auth.get_user, user_id)
        self.name, self.phone, self.email = user.name, user.phone or "", user.email
        self.name_error = self.phone_error = self.error = self.saved = ""
        self.form_key += 1
        self.loading = False

    @rx.event
    async def save(self, form: dict[str, str]) -> AsyncIterator[None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.name_error = self.phone_error = self.error = self.saved = ""
        self.saving = True
        yield None
        try:
            user = await asyncio.to_thread(auth.update_profile, user_id=user_id,
                                           name=form.get("name", ""), phone=form.get("phone", ""))
        except ValidationFailed as problem:
            self.name_error = problem.details.get("name", "")
            self.phone_error = problem.details.get("phone", "")
            self.error = "Please correct the highlighted fields."
        except DomainError as problem:
            self.error = problem.message
        else:
            self.name, self.phone = user.name, user.phone or ""
            self.saved = "Your profile is saved."
            session = await self.get_state(SessionState)
            session.user_name = user.name
        self.saving = False
