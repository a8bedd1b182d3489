"""/admin: the admin console's state. Every handler asks services/admin.py, which checks the
role again (a handler can be called by any client with any arguments)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from crm_booking.errors import DomainError
from crm_booking.models import Role
from crm_booking.services import admin
from crm_booking.state import formatting as fmt
from crm_booking.state.session import login_redirect, signed_in_user

PAGE = 10


@dataclasses.dataclass
class PersonView:
    id: int = 0
    email: str = ""
    name: str = ""
    role: str = ""
    active: bool = True
    status: str = ""


@dataclasses.dataclass
class RefundView:
    id: int = 0
    summary: str = ""
    detail: str = ""


@dataclasses.dataclass
class NotificationView:
    id: int = 0
    summary: str = ""
    detail: str = ""


@dataclasses.dataclass
class PaymentView:
    id: int = 0
    summary: str = ""
    gateway_status: str = ""


@dataclasses.dataclass
class ActionView:
    id: int = 0
    summary: str = ""
    when: str = ""


def _when(value: Any) -> str:
    return fmt.short_date(value, "UTC") + " UTC" if value is not None else ""


class AdminState(rx.State):
    allowed: bool = False
    query: str = ""
    offset: int = 0
    total: int = 0
    people: list[PersonView] = []
    refunds: list[RefundView] = []
    notifications: list[NotificationView] = []
    payments: list[PaymentView] = []
    actions: list[ActionView] = []
    notice: str = ""
    error: str = ""
    loading: bool = True

    @rx.var
    def page_label(self) -> str:
        if self.total == 0:
            return "No people found"
        last = min(self.offset + PAGE, self.total)
        return f"{self.offset + 1}-{last} of {self.total}"

    @rx.var
    def has_previous(self) -> bool:
        return self.offset > 0

    @rx.var
    def has_next(self) -> bool:
        return self.offset + PAGE < self.total

    @rx.event
    async def load(self) -> AsyncIterator[EventSpec | None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect("/admin")
            return
        self.loading, self.notice = True, ""
        yield None
        self.allowed = await asyncio.to_thread(admin.is_admin, user_id)
        if not self.allowed:
            self.error, self.loading = "Only admins can use the admin console.", False
            return
        self.error = ""
        await self._refresh(user_id)
        self.loading = False

    async def _refresh(self, user_id: int) -> None:
        try:
            await self._load_people(user_id)
            refunds = await asyncio.to_thread(admin.refunds_needing_attention, actor_id=user_id)
            dead = await asyncio.to_thread(admin.dead_notifications, actor_id=user_id, limit=PAGE)
            actions = await asyncio.to_thread(admin.actions, actor_id=user_id, limit=PAGE)
            # Each payment is one call to the gateway (outside any transaction).
            payments = await asyncio.to_thread(admin.recent_payments, actor_id=user_id, limit=PAGE)
        except DomainError as problem:
            self.error = problem.message
            return
        self.refunds = [RefundView(
            r.refund.id or 0,
            f"Refund {r.refund.id}: {fmt.inr(r.refund.amount)} to {r.attendee.email}",
            f"{r.title} · {r.refund.status} · {r.refund.failure_reason or 'not settled yet'}")
            for r in refunds]
        self.notifications = [NotificationView(
            m.id or 0, f"Notification {m.id}: {m.action}",
            f"{m.attempts} attempts · {m.last_error or 'no error recorded'}")
            for m in dead.messages]
        self.payments = [PaymentView(
            p.payment.id or 0,
            f"{p.payment.razorpay_payment_id} · {p.booking_reference or ''} · "
            f"{fmt.inr(p.payment.amount)} · ours: {p.payment.status}", p.gateway_status)
            for p in payments]
        self.actions = [ActionView(
            a.action.id or 0,
            f"{a.admin_email}: {a.action.action} {a.action.target_type} {a.action.target_id}"
            + (f" ({a.action.detail})" if a.action.detail else ""), _when(a.action.created_at))
            for a in actions]

    async def _load_people(self, user_id: int) -> None:
        found = await asyncio.to_thread(admin.find_users, actor_id=user_id, query=self.query,
                                        limit=PAGE, offset=self.offset)
        self.total = found.total
        self.people = [PersonView(u.id or 0, u.email, u.name, u.role, u.is_active,
                                  u.role + ("" if u.is_active else ", deactivated"))
                       for u in found.users]

    @rx.event
    def set_query(self, value: str) -> None:
        self.query = value[:254]

    async def _act(self, work: Any, done: str) -> None:
        """Run one admin action, then show the lists as they now stand."""
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        self.notice = self.error = ""
        try:
            await asyncio.to_thread(work, user_id)
        except DomainError as problem:
            self.error = problem.message
        else:
            self.notice = done
        await self._refresh(user_id)

    @rx.event
    async def search(self) -> None:
        self.offset = 0
        await self._act(lambda _: None, "")

    @rx.event
    async def next_page(self) -> None:
        self.offset += PAGE
        await self._act(lambda _: None, "")

    @rx.event
    async def previous_page(self) -> None:
        self.offset = max(0, self.offset - PAGE)
        await self._act(lambda _: None, "")

    @rx.event
    async def set_role(self, person_id: int, role: str) -> None:
        if role not in {r.value for r in Role}:
            return
        await self._act(lambda actor: admin.set_role(actor_id=actor, user_id=int(person_id),
                                                     role=Role(role)), f"Role changed to {role}.")

    @rx.event
    async def deactivate(self, person_id: int) -> None:
        await self._act(lambda actor: admin.deactivate(actor_id=actor, user_id=int(person_id)),
                        "Account deactivated; its sessions have ended.")

    @rx.event
    async def reactivate(self, person_id: int) -> None:
        await self._act(lambda actor: admin.reactivate(actor_id=actor, user_id=int(person_id)),
                        "Account reactivated.")

    @rx.event
    async def retry_refund(self, refund_id: int) -> None:
        await self._act(lambda actor: admin.retry_refund(actor_id=actor, refund_id=int(refund_id)),
                        f"Refund {refund_id} sent again.")

    @rx.event
    async def retry_notification(self, message_id: int) -> None:
        await self._act(lambda actor: admin.retry_notification(actor_id=actor,
                                                               message_id=int(message_id)),
                        f"Notification {message_id} queued again.")
