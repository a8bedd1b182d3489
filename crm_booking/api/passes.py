"""Class passes (issue 17; extensions.md "Recurring sessions and class passes"): products,
purchases through the usual checkout, and an attendee's own passes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field, field_validator

from crm_booking.api.deps import CurrentUser
from crm_booking.api.schemas import Strict
from crm_booking.services import passes, views

router = APIRouter(tags=["passes"])


class PassProductRequest(Strict):
    name: str = Field(min_length=1, max_length=120)
    credits: int = Field(ge=1, le=500)
    valid_days: int = Field(ge=1, le=3660)
    price: Decimal = Field(gt=0, le=10_000_000, max_digits=12, decimal_places=2)
    event_type: Literal["session", "workshop", "retreat"] | None = None

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Must not be blank")
        return value


@router.post("/facilitator/passes", status_code=201)
def define_pass(body: PassProductRequest, user: CurrentUser) -> dict[str, Any]:
    row = passes.define_product(actor_id=user.id, name=body.name, credits=body.credits,  # type: ignore[arg-type]
                                valid_days=body.valid_days, price=body.price,
                                event_type=body.event_type)
    return {"pass_product": views.pass_product(row.product, row.facilitator)}


@router.get("/facilitator/passes")
def my_pass_sales(user: CurrentUser) -> dict[str, Any]:
    """Additive: the facilitator's products with passes sold and credits used."""
    rows = passes.sales(actor_id=user.id)  # type: ignore[arg-type]
    return {"passes": [{**views.pass_product(r.product), "sold": r.sold,
                        "revenue": views.money(r.revenue), "credits_used": r.credits_used}
                       for r in rows]}


@router.get("/passes")
def list_passes() -> dict[str, Any]:
    return {"passes": [views.pass_product(r.product, r.facilitator)
                       for r in passes.active_products()]}


@router.post("/passes/{product_id}/purchase", status_code=201)
def purchase_pass(product_id: int, user: CurrentUser) -> dict[str, Any]:
    row, payment_url = passes.start_purchase(user_id=user.id, product_id=product_id)  # type: ignore[arg-type]
    return {"purchase": views.pass_purchase(row.purchase, row.product), "payment_url": payment_url}


@router.get("/me/passes")
def my_passes(user: CurrentUser) -> dict[str, Any]:
    return {"passes": [views.owned_pass(owned) for owned in passes.my_passes(user_id=user.id)]}  # type: ignore[arg-type]
