"""The dashboard's class passes panel (issue 17): define a pass product, see what sold and how
many credits were used. Rules and numbers come from services/passes.py."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal, InvalidOperation

import reflex as rx

from crm_booking.errors import DomainError, ValidationFailed
from crm_booking.services import passes
from crm_booking.state import formatting as fmt
from crm_booking.state.passes import coverage
from crm_booking.state.session import signed_in_user


@dataclasses.dataclass
class PassSalesRow:
    id: int = 0
    name: str = ""
    terms: str = ""        # "10 classes · 90 days · ₹4,500"
    sold: str = ""         # "3 sold · ₹13,500"
    credits_used: str = ""  # "7 credits used"
    on_sale: bool = True


def _row(sales: passes.ProductSales) -> PassSalesRow:
    p = sales.product
    return PassSalesRow(
        id=p.id or 0, name=p.name,
        terms=f"{p.credits} classes · {p.valid_days} days · {fmt.inr(p.price)} · "
              f"{coverage(p.event_type)}",
        sold=f"{sales.sold} sold · {fmt.inr(sales.revenue, free_label='₹0')}",
        credits_used=f"{sales.credits_used} credit{'s' if sales.credits_used != 1 else ''} used",
        on_sale=p.is_active)


def _whole(value: str, field: str, problems: dict[str, str]) -> int:
    try:
        return int(value.strip())
    except ValueError:
        problems[field] = "Must be a whole number"
        return 0


FIELDS = ("name", "credits", "valid_days", "price", "event_type")
NO_ERRORS = {field: "" for field in FIELDS}


class PassSalesState(rx.State):
    rows: list[PassSalesRow] = []
    # Every field always present ("" when fine): the form marks a field invalid by its text.
    form_errors: dict[str, str] = NO_ERRORS
    message: str = ""
    error: str = ""
    saving: bool = False
    form_key: int = 0

    @rx.event
    async def load(self) -> None:
        user_id = await signed_in_user(self)
        if user_id is not None:
            self.message, self.error = "", ""
            await self._refresh(user_id)

    async def _refresh(self, user_id: int) -> None:
        try:
            found = await asyncio.to_thread(passes.sales, actor_id=user_id)
        except DomainError:
            self.rows = []  # not a facilitator: the dashboard says so already
            return
        self.rows = [_row(s) for s in found]

    @rx.event
    async def define(self, form: dict[str, str]) -> AsyncIterator[None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        problems: dict[str, str] = {}
        credits = _whole(form.get("credits", ""), "credits", problems)
        valid_days = _whole(form.get("valid_days", ""), "valid_days", problems)
        try:
            price = Decimal(form.get("price", "").strip())
        except InvalidOperation:
            problems["price"] = "Must be an amount in rupees, such as 4500"
            price = Decimal(0)
        event_type = form.get("event_type") or None
        # Every field's problem at once: what did not parse, and the service's own rules.
        problems = {**passes.product_problems(name=form.get("name", ""), credits=credits,
                                              valid_days=valid_days, price=price,
                                              event_type=event_type), **problems}
        self.message, self.error, self.saving = "", "", True
        yield None
        try:
            if problems:
                raise ValidationFailed(problems)
            row = await asyncio.to_thread(
                passes.define_product, actor_id=user_id, name=form.get("name", ""),
                credits=credits, valid_days=valid_days, price=price,
                event_type=event_type)
        except ValidationFailed as failed:
            self.form_errors = {field: failed.details.get(field, "") for field in FIELDS}
            self.saving = False
            return
        except DomainError as problem:
            self.error, self.saving = problem.message, False
            return
        self.form_errors, self.saving = dict(NO_ERRORS), False
        self.form_key += 1  # a fresh, empty form
        self.message = f"“{row.product.name}” is on sale."
        await self._refresh(user_id)

    @rx.event
    async def set_on_sale(self, product_id: int, on_sale: bool) -> None:
        user_id = await signed_in_user(self)
        if user_id is None:
            return
        try:
            await asyncio.to_thread(passes.set_product_active, actor_id=user_id,
                                    product_id=int(product_id), active=bool(on_sale))
        except DomainError as problem:
            self.error = problem.message
            return
        await self._refresh(user_id)
