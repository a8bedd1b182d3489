"""Waitlist endpoints (shared/spec/extensions.md, Waitlist)."""

from __future__ import annotations

from fastapi import APIRouter

from crm_booking.api import schemas
from crm_booking.api.deps import CurrentUser
from crm_booking.services import payment, views, waitlist

router = APIRouter(tags=["waitlist"])


@router.post("/events/{event_id}/waitlist", status_code=201, response_model=schemas.WaitlistJoined)
def join(event_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    row = waitlist.join(user_id=user.id, event_id=event_id)  # type: ignore[arg-type]
    return {"message": "You are on the waitlist", "waitlist_entry": views.waitlist_entry(row)}


@router.delete("/events/{event_id}/waitlist", response_model=schemas.Message)
def leave(event_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    waitlist.leave(user_id=user.id, event_id=event_id)  # type: ignore[arg-type]
    return {"message": "You have left the waitlist"}


@router.get("/waitlist", response_model=schemas.WaitlistList)
def mine(user: CurrentUser) -> dict:  # type: ignore[type-arg]
    rows = waitlist.own_entries(user_id=user.id)  # type: ignore[arg-type]
    return {"waitlist": [views.waitlist_entry(r) for r in rows]}


@router.post("/waitlist/{entry_id}/accept", status_code=201,
             response_model=schemas.BookingCreatedResponse)
def accept(entry_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    row = waitlist.accept(user_id=user.id, entry_id=entry_id)  # type: ignore[arg-type]
    checkout = payment.start_checkout(row.booking)
    return {
        "message": "Booking created successfully",
        "booking": views.booking_created(checkout.booking, row.event, row.user),
        "payment_url": checkout.payment_url,
    }


@router.get("/facilitator/events/{event_id}/waitlist", response_model=schemas.FacilitatorWaitlist)
def event_waitlist(event_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    rows = waitlist.event_queue(actor_id=user.id, event_id=event_id)  # type: ignore[arg-type]
    return {"waitlist": [views.waitlist_entry(r) for r in rows]}
