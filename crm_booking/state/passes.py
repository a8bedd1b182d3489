"""/passes: the attendee's class passes (credits left, expiry, what each credit paid for) and
the passes on sale, bought through the same checkout page as a booking (issue 17)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import reflex as rx
from reflex.event import EventSpec

from crm_booking.errors import DomainError
from crm_booking.services import cancellation_policy, passes
from crm_booking.state import formatting as fmt
from crm_booking.state.session import full_page_redirect, login_redirect, signed_in_user

CREDIT_WORDS = {"used": "Used", "returned": "Credit returned", "forfeited": "Credit forfeited"}
STATUS_WORDS = {"active": "Active", "expired": "Expired", "refunded": "Refunded",
                "pending": "Awaiting payment", "cancelled": "Cancelled"}
STATUS_TONES = {"active": "green", "expired": "gray", "refunded": "gray", "pending": "amber",
                "cancelled": "gray"}


@dataclasses.dataclass
class CreditLine:
    event_title: str = ""
    when: str = ""
    reference: str = ""
    outcome: str = ""


@dataclasses.dataclass
class PassCard:
    id: int = 0
    name: str = ""
    credits: str = ""      # "2 of 3 classes left"
    expiry: str = ""       # "Valid until Mon 1 Dec, 7:00 AM IST"
    status: str = ""
    tone: str = "gray"
    pay_url: str = ""      # a pending purchase can still be paid
    history: list[CreditLine] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ProductCard:
    id: int = 0
    name: str = ""
    summary: str = ""      # "10 classes · valid 90 days · sessions only"
    price: str = ""
    seller: str = ""


def coverage(event_type: str | None) -> str:
    return f"{event_type}s only" if event_type else "any of their events"


def product_card(row: passes.ProductRow) -> ProductCard:
    p = row.product
    return ProductCard(id=p.id or 0, name=p.name,
                       summary=f"{p.credits} classes · valid {p.valid_days} days · "
                               f"{coverage(p.event_type)}",
                       price=fmt.inr(p.price), seller=f"by {row.facilitator.name}")


def pass_card(owned: passes.OwnedPass, zone: str) -> PassCard:
    purchase, status = owned.purchase, passes.shown_status(owned.purchase)
    expiry = ""
    if purchase.expires_at is not None:
        verb = "Expired" if status == "expired" else "Valid until"
        expiry = f"{verb} {cancellation_policy.local_moment(purchase.expires_at, zone)}"
    return PassCard(
        id=purchase.id or 0, name=owned.product.name,
        credits=(f"{purchase.credits_left} of {purchase.credits_total} classes left"
                 if status != "pending" else f"{purchase.credits_total} classes once paid"),
        expiry=expiry, status=STATUS_WORDS.get(status, status), tone=STATUS_TONES.get(status, "gray"),
        pay_url=passes.checkout_url(purchase.id or 0) if status == "pending" else "",
        history=[CreditLine(event_title=row.event.title,
                            when=cancellation_policy.local_moment(row.event.start_at,
                                                                  row.event.timezone),
                            reference=row.booking.booking_reference or "",
                            outcome=CREDIT_WORDS.get(row.credit.status, row.credit.status))
                 for row in owned.history])


class PassesState(rx.State):
    mine: list[PassCard] = []
    on_sale: list[ProductCard] = []
    loading: bool = True
    signed_in: bool = False
    buying: int = 0
    error: str = ""

    @rx.event
    async def load(self) -> None:
        self.loading, self.error = True, ""
        user_id = await signed_in_user(self)
        self.signed_in = user_id is not None
        products = await asyncio.to_thread(passes.active_products)
        self.on_sale = [product_card(r) for r in products]
        owned = (await asyncio.to_thread(passes.my_passes, user_id=user_id, include_pending=True)
                 if user_id is not None else [])
        from crm_booking.settings import get_settings

        zone = get_settings().DEFAULT_TIMEZONE
        self.mine = [pass_card(o, zone) for o in owned]
        self.loading = False

    @rx.event
    def dismiss_error(self) -> None:
        self.error = ""

    @rx.event
    async def buy(self, product_id: int) -> AsyncIterator[EventSpec | None]:
        user_id = await signed_in_user(self)
        if user_id is None:
            yield login_redirect("/passes")
            return
        self.buying, self.error = product_id, ""
        yield None
        try:
            _, url = await asyncio.to_thread(passes.start_purchase, user_id=user_id,
                                             product_id=int(product_id))
        except DomainError as problem:
            self.error, self.buying = problem.message, 0
            return
        self.buying = 0
        yield full_page_redirect(url)
