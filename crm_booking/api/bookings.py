"""Endpoints 11-14: an attendee's bookings."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from crm_booking.api import event_turns, schemas
from crm_booking.api.deps import AccessClaims, CurrentUser
from crm_booking.services import booking, payment, views

router = APIRouter(prefix="/bookings", tags=["bookings"])

BookingStatus = schemas.Literal["confirmed", "cancelled", "completed"]
PaymentStatus = schemas.Literal["pending", "completed", "failed", "refunded"]


@router.post("", status_code=201, response_model=schemas.BookingCreatedResponse)
async def create_booking(body: schemas.BookingCreateRequest, claims: AccessClaims) -> dict:  # type: ignore[type-arg]
    # The token's holder is checked inside the booking's own transaction (the hot path), which
    # waits for its event's turn (a crowd on one event queues here, not on the row lock).
    row = await event_turns.in_turn(body.event_id, partial(
        booking.book_as_token_holder, claims, event_id=body.event_id, notes=body.notes,
        pass_id=body.pass_id))
    # An order from the payment gateway (a network call) only when there is something to pay:
    # on the thread pool, outside the event's turn.
    checkout = (await run_in_threadpool(payment.start_checkout, row.booking)
                if payment.needs_payment(row.booking) else payment.start_checkout(row.booking))
    return {
        "message": "Booking created successfully",
        "booking": views.booking_created(checkout.booking, row.event, row.user),
        "payment_url": checkout.payment_url,
    }


@router.get("", response_model=schemas.BookingList)
def list_bookings(
    user: CurrentUser,
    status: Annotated[BookingStatus | None, Query()] = None,
    payment_status: Annotated[PaymentStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict:  # type: ignore[type-arg]
    rows = booking.list_bookings(
        user_id=user.id, status=status, payment_status=payment_status, limit=limit, offset=offset,  # type: ignore[arg-type]
    )
    return {"bookings": [views.booking_in_list(r.booking, r.event) for r in rows]}


@router.get("/{booking_id}", response_model=schemas.BookingDetail)
def get_booking(booking_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    row = booking.get_booking(user_id=user.id, booking_id=booking_id)  # type: ignore[arg-type]
    return views.booking_detail(row.booking, row.event, row.user)


@router.get("/{booking_id}/cancel-quote", response_model=schemas.CancelQuote)
def cancel_quote(booking_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    """What cancelling right now refunds; `POST .../cancel` at the same instant refunds this."""
    row, quote = booking.cancellation_quote(user_id=user.id, booking_id=booking_id)  # type: ignore[arg-type]
    return views.cancel_quote(quote, row.booking, row.event)


@router.post("/{booking_id}/cancel", response_model=schemas.CancelResponse,
             response_model_exclude_unset=True)
def cancel_booking(booking_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    result = booking.cancel_booking(user_id=user.id, booking_id=booking_id)  # type: ignore[arg-type]
    answer = {"message": "Booking cancelled successfully", "refund": views.refund(result.refund)}
    if result.booking.pass_purchase_id is not None:
        answer["pass_credit"] = "returned" if result.credit_returned else "forfeited"
    return answer
