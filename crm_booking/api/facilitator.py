"""Endpoints 17-19: a facilitator's own events, their bookings, cancelling an event."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crm_booking.api import schemas
from crm_booking.api.deps import CurrentUser
from crm_booking.services import events, views

router = APIRouter(prefix="/facilitator", tags=["facilitator"])


@router.get("/events", response_model=schemas.EventList)
def my_events(
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=events.MAX_PAGE)] = events.DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict:  # type: ignore[type-arg]
    rows = events.facilitator_events(actor_id=user.id, limit=limit, offset=offset)  # type: ignore[arg-type]
    return {"events": [views.event_detail(r.event, None, r.held) for r in rows]}


@router.get("/events/{event_id}/bookings", response_model=schemas.FacilitatorBookings)
def event_bookings(event_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    row, bookings = events.event_bookings(actor_id=user.id, event_id=event_id)  # type: ignore[arg-type]
    return {
        "event": {
            "id": row.event.id,
            "title": row.event.title,
            "max_participants": row.event.max_participants,
            "current_participants": row.held,
        },
        "bookings": [views.booking_for_facilitator(b, u) for b, u in bookings],
    }


@router.post("/events/{event_id}/cancel", response_model=schemas.EventCancelResponse)
def cancel_event(event_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    outcome = events.cancel_event(actor_id=user.id, event_id=event_id)  # type: ignore[arg-type]
    return {
        "message": "Event cancelled successfully",
        "refunds_processed": outcome.refunds_processed,
        "total_refund_amount": outcome.total_refund_amount,
        "refunds_failed": outcome.refunds_failed,
        "bookings_cancelled": outcome.bookings_cancelled,
    }
