"""Endpoints 6-10: public event listing and facilitators' event administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crm_booking.api import schemas
from crm_booking.api.deps import CurrentUser
from crm_booking.services import events
from crm_booking.services.events import EventInput
from crm_booking.services.views import event_detail

router = APIRouter(prefix="/events", tags=["events"])

EventType = schemas.Literal["session", "workshop", "retreat"]


def to_input(body: schemas.EventCreateRequest | schemas.EventUpdateRequest) -> EventInput:
    given = body.model_dump(exclude_unset=True)
    if "timezone" in given and given["timezone"] is None:
        given.pop("timezone")
    return EventInput(**given)


def event_body(row: events.EventRow) -> dict:  # type: ignore[type-arg]
    return event_detail(row.event, row.facilitator, row.held)


@router.get("", response_model=schemas.EventList)
def list_events(
    type: Annotated[EventType | None, Query(description="session, workshop or retreat")] = None,
    facilitator_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    active: Annotated[bool | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=events.MAX_PAGE)] = events.DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict:  # type: ignore[type-arg]
    rows = events.list_events(
        event_type=type, facilitator_id=facilitator_id, active=active, limit=limit, offset=offset
    )
    return {"events": [event_body(row) for row in rows]}


@router.get("/{event_id}", response_model=schemas.EventOut)
def get_event(event_id: int) -> dict:  # type: ignore[type-arg]
    return event_body(events.get_event(event_id))


@router.post("", status_code=201, response_model=schemas.EventSaved)
def create_event(body: schemas.EventCreateRequest, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    row = events.create_event(actor_id=user.id, data=to_input(body))  # type: ignore[arg-type]
    return {"message": "Event created successfully", "event": event_body(row)}


@router.put("/{event_id}", response_model=schemas.EventSaved)
def update_event(event_id: int, body: schemas.EventUpdateRequest, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    row = events.update_event(actor_id=user.id, event_id=event_id, data=to_input(body))  # type: ignore[arg-type]
    return {"message": "Event updated successfully", "event": event_body(row)}


@router.delete("/{event_id}", response_model=schemas.Message)
def delete_event(event_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    events.delete_event(actor_id=user.id, event_id=event_id)  # type: ignore[arg-type]
    return {"message": "Event deleted successfully"}
