"""Endpoints 17-19: a facilitator's own events, their bookings, cancelling an event; and the
retry of one refund (issue 13)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crm_booking.api import schemas
from crm_booking.api.deps import CurrentUser
from crm_booking.errors import NotFound
from crm_booking.services import checkin, events, insights, messaging, refund, views

router = APIRouter(prefix="/facilitator", tags=["facilitator"])


@router.get("/events", response_model=schemas.FacilitatorEventList)
def my_events(
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=events.MAX_PAGE)] = events.DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict:  # type: ignore[type-arg]
    rows = checkin.facilitator_events_with_attendance(
        actor_id=user.id, limit=limit, offset=offset)  # type: ignore[arg-type]
    return {"events": [{**views.event_detail(r.event, None, r.held, r.waiting, show_link=True),
                        "checked_in_count": present,
                        "remind_24h": r.event.remind_24h, "remind_1h": r.event.remind_1h}
                       for r, present in rows]}


def _checked_in_booking(result: checkin.CheckIn) -> dict:  # type: ignore[type-arg]
    return {**views.booking_for_facilitator(result.booking, result.attendee),
            "event_id": result.booking.event_id}


@router.post("/events/{event_id}/check-in", response_model=schemas.CheckInResponse)
def check_in(event_id: int, user: CurrentUser,
             body: schemas.CheckInRequest | None = None) -> dict:  # type: ignore[type-arg]
    # The body is optional here so that a stranger hears 403 before any 400 about the body;
    # the service checks the owner first, then that one of the two fields is given.
    given = body or schemas.CheckInRequest()
    result = checkin.check_in(actor_id=user.id, event_id=event_id,  # type: ignore[arg-type]
                              booking_reference=given.booking_reference, ticket=given.ticket_code)
    return {"booking": _checked_in_booking(result),
            "checked_in_at": views.utc_timestamp(result.checked_in_at)}


@router.delete("/events/{event_id}/check-in/{booking_id}", response_model=schemas.UndoCheckInResponse)
def undo_check_in(event_id: int, booking_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    result = checkin.undo_check_in(actor_id=user.id, event_id=event_id,  # type: ignore[arg-type]
                                   booking_id=booking_id)
    return {"booking": _checked_in_booking(result)}


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
def cancel_event(event_id: int, user: CurrentUser,
                 body: schemas.EventCancelRequest | None = None) -> dict:  # type: ignore[type-arg]
    outcome = events.cancel_event(actor_id=user.id, event_id=event_id,  # type: ignore[arg-type]
                                  message=body.message if body else None)
    return {
        "message": "Event cancelled successfully",
        "refunds_processed": outcome.refunds_processed,
        "total_refund_amount": outcome.total_refund_amount,
        "refunds_failed": outcome.refunds_failed,
        "bookings_cancelled": outcome.bookings_cancelled,
    }


def _message_out(sent: messaging.SentMessage) -> dict:  # type: ignore[type-arg]
    return {"id": sent.id, "subject": sent.subject, "body": sent.body, "audience": sent.audience,
            "recipients": sent.recipients, "created_at": views.utc_timestamp(sent.created_at)}


@router.post("/events/{event_id}/messages/preview", response_model=schemas.EventMessagePreviewResponse)
def preview_message(event_id: int, user: CurrentUser,
                    body: schemas.EventMessageRequest | None = None) -> dict:  # type: ignore[type-arg]
    given = body or schemas.EventMessageRequest()  # owner checked before the body (403 first)
    shown = messaging.preview(actor_id=user.id, event_id=event_id,  # type: ignore[arg-type]
                              subject=given.subject, body=given.body, audience=given.audience)
    return {"preview": {"email_subject": shown.email_subject, "subject": shown.subject,
                        "body": shown.body, "recipients": shown.recipients}}


@router.post("/events/{event_id}/messages", status_code=201, response_model=schemas.EventMessageSent)
def send_message(event_id: int, user: CurrentUser,
                 body: schemas.EventMessageRequest | None = None) -> dict:  # type: ignore[type-arg]
    given = body or schemas.EventMessageRequest()  # owner checked before the body (403 first)
    sent = messaging.send(actor_id=user.id, event_id=event_id,  # type: ignore[arg-type]
                          subject=given.subject, body=given.body, audience=given.audience)
    return {"message": _message_out(sent)}


@router.get("/events/{event_id}/messages", response_model=schemas.EventMessageList)
def list_messages(event_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    found = messaging.list_messages(actor_id=user.id, event_id=event_id)  # type: ignore[arg-type]
    return {"messages": [_message_out(m) for m in found]}


@router.get("/overview", response_model=schemas.FacilitatorOverview)
def overview(user: CurrentUser,
             days: Annotated[int, Query(ge=1, le=insights.MAX_PERIOD_DAYS)] = 30) -> dict:  # type: ignore[type-arg]
    """Totals for the last `days` days and bookings/revenue per day (the dashboard's numbers)."""
    found = insights.overview(actor_id=user.id, days=days)  # type: ignore[arg-type]
    return {
        "since": views.utc_timestamp(found.since), "until": views.utc_timestamp(found.until),
        "currency": "INR", "revenue": views.money(found.revenue), "bookings": found.bookings,
        "seats_taken": found.seats_taken, "capacity": found.capacity,
        "fill_rate": None if found.fill_rate is None else round(found.fill_rate, 4),
        "no_shows": found.no_shows,
        "days": [{"date": p.day.isoformat(), "bookings": p.bookings, "revenue": views.money(p.revenue)}
                 for p in found.days],
    }


@router.post("/events/{event_id}/duplicate", status_code=201, response_model=schemas.EventSaved)
def duplicate_event(event_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    row = events.duplicate_event(actor_id=user.id, event_id=event_id)  # type: ignore[arg-type]
    return {"message": "Event copied as a draft",
            "event": views.event_detail(row.event, row.facilitator, 0, show_link=True)}


@router.post("/events/{event_id}/refunds/{refund_id}/retry")
def retry_refund(event_id: int, refund_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    """Try one refused or stuck refund again now (the facilitator of the event, or an admin)."""
    events.check_can_manage(actor_id=user.id, event_id=event_id)  # type: ignore[arg-type]  # 403 first
    if refund.event_of(refund_id) != event_id:
        raise NotFound("Refund not found")
    stored = refund.retry(refund_id, user.id)  # type: ignore[arg-type]
    return {"message": _retry_message(stored.status),
            "refund": {"id": stored.id, "booking_id": stored.booking_id, "reason": stored.reason,
                       **(views.refund(stored) or {})}}


def _retry_message(status: str) -> str:
    if status == "processed":
        return "Refund processed"
    if status == "failed":
        return "The gateway refused the refund again"
    return "Refund sent; the gateway has not settled it yet"
