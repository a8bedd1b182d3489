"""Recurring series (issue 17): create, read, edit following/all, cancel following/all.
Editing or cancelling one session is the event's own endpoint (PUT /events/{id},
POST /facilitator/events/{id}/cancel)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from crm_booking.api import schemas
from crm_booking.api.deps import CurrentUser, ViewerId
from crm_booking.api.events import event_bodies, to_input
from crm_booking.services import series
from crm_booking.services.views import facilitator_summary

router = APIRouter(tags=["series"])


def series_body(view: series.SeriesView) -> dict[str, Any]:
    upcoming = view.upcoming()
    return {"id": view.series.id, "recurrence": view.series.recurrence,
            "timezone": view.series.timezone, "summary": view.summary,
            "facilitator": facilitator_summary(view.facilitator), "event_ids": view.event_ids,
            "next_event_id": upcoming[0].event.id if upcoming else None}


@router.post("/facilitator/series", status_code=201, response_model=schemas.SeriesCreated)
def create_series(body: schemas.SeriesCreateRequest, user: CurrentUser) -> dict[str, Any]:
    view = series.create_series(actor_id=user.id, recurrence=body.recurrence,  # type: ignore[arg-type]
                                data=to_input(body, exclude=frozenset({"recurrence"})))
    return {"series": series_body(view)}


@router.get("/series/{series_id}", response_model=schemas.SeriesDetail)
def get_series(series_id: int, viewer_id: ViewerId) -> dict[str, Any]:
    view = series.get_series(series_id)
    return {"series": series_body(view), "events": event_bodies(view.rows, viewer_id)}


@router.put("/facilitator/series/{series_id}", response_model=schemas.SeriesUpdated)
def edit_series(series_id: int, body: schemas.SeriesUpdateRequest,
                user: CurrentUser) -> dict[str, Any]:
    edit = series.edit_series(
        actor_id=user.id, series_id=series_id, scope=body.scope,  # type: ignore[arg-type]
        from_event_id=body.from_event_id,
        data=to_input(body, exclude=frozenset({"scope", "from_event_id"})))
    return {"series": series_body(edit.view), "events_updated": edit.events_updated,
            "attendees_notified": edit.attendees_notified}


@router.post("/facilitator/series/{series_id}/cancel", response_model=schemas.SeriesCancelResponse)
def cancel_series(series_id: int, user: CurrentUser,
                  body: schemas.SeriesCancelRequest | None = None) -> dict[str, Any]:
    given = body or schemas.SeriesCancelRequest()
    outcome = series.cancel_series(actor_id=user.id, series_id=series_id,  # type: ignore[arg-type]
                                   from_event_id=given.from_event_id, message=given.message)
    return {"message": "Series cancelled successfully", "events_cancelled": outcome.events_cancelled,
            "refunds_processed": outcome.total.refunds_processed,
            "total_refund_amount": outcome.total.total_refund_amount,
            "refunds_failed": outcome.total.refunds_failed,
            "bookings_cancelled": outcome.total.bookings_cancelled}
