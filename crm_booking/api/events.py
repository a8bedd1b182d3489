"""Endpoints 6-10: public event listing and facilitators' event administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from crm_booking import public_cache
from crm_booking.api import schemas
from crm_booking.api.deps import CurrentUser, ViewerId, bearer, optional_viewer_id
from crm_booking.services import events
from crm_booking.services.events import EventInput
from crm_booking.services.views import event_detail

router = APIRouter(prefix="/events", tags=["events"])

EventType = schemas.Literal["session", "workshop", "retreat"]


def to_input(body: schemas.EventCreateRequest | schemas.EventUpdateRequest, *,
             exclude: frozenset[str] = frozenset()) -> EventInput:
    """The event fields of a body (a series body's own fields are `exclude`d)."""
    given = body.model_dump(exclude_unset=True, exclude=set(exclude))
    if "timezone" in given and given["timezone"] is None:
        given.pop("timezone")
    return EventInput(**given)


def event_body(row: events.EventRow, *, show_link: bool) -> dict:  # type: ignore[type-arg]
    return event_detail(row.event, row.facilitator, row.held, row.waiting, show_link=show_link)


def event_bodies(rows: list[events.EventRow], viewer_id: int | None) -> list[dict]:  # type: ignore[type-arg]
    """The join link only for those who may join (docs/decisions/attendee-defects.md)."""
    linked = events.events_with_join_link(viewer_id, [r.event.id for r in rows if r.event.id])
    return [event_body(row, show_link=row.event.id in linked) for row in rows]


@router.get("", response_model=schemas.EventList)
async def list_events(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    q: Annotated[str | None, Query(
        min_length=1, max_length=events.MAX_SEARCH_LENGTH,
        description="Keywords; each must appear in the title, description, location or the "
        "facilitator's name (case-insensitive)")] = None,
    type: Annotated[EventType | None, Query(description="session, workshop or retreat")] = None,
    facilitator_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    active: Annotated[bool | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=events.MAX_PAGE)] = events.DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Async so that an anonymous reader's cached answer is served on the event loop, without a
    thread hop; anything that reads the database runs on the thread pool."""
    filters = (q, type, facilitator_id, active, limit, offset)

    def produce() -> bytes:
        viewer_id = optional_viewer_id(credentials)
        rows = events.list_events(keywords=q, event_type=type, facilitator_id=facilitator_id,
                                  active=active, limit=limit, offset=offset)
        return _EVENT_LIST.dump_json(_EVENT_LIST.validate_python({"events": event_bodies(rows, viewer_id)}))

    if credentials is not None:  # a viewer may see join links: never shared
        return _json(await run_in_threadpool(produce))
    hit: bytes | None = public_cache.lookup(filters)
    if hit is None:
        hit = await run_in_threadpool(public_cache.cached, filters, produce)
    return _json(hit)


# The response model validated and serialised in one pass, straight to bytes (FastAPI would
# validate, dump to Python objects and then encode those).
_EVENT_LIST = TypeAdapter(schemas.EventList)


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


@router.get("/{event_id}", response_model=schemas.EventOut)
def get_event(event_id: int, viewer_id: ViewerId) -> dict:  # type: ignore[type-arg]
    return event_bodies([events.get_event(event_id)], viewer_id)[0]


@router.post("", status_code=201, response_model=schemas.EventSaved)
def create_event(body: schemas.EventCreateRequest, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    row = events.create_event(actor_id=user.id, data=to_input(body))  # type: ignore[arg-type]
    return {"message": "Event created successfully", "event": event_body(row, show_link=True)}


@router.put("/{event_id}", response_model=schemas.EventUpdated)
def update_event(event_id: int, body: schemas.EventUpdateRequest, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    row = events.update_event(actor_id=user.id, event_id=event_id, data=to_input(body))  # type: ignore[arg-type]
    return {"message": "Event updated successfully", "event": event_body(row, show_link=True),
            "attendees_notified": row.notified}


@router.delete("/{event_id}", response_model=schemas.Message)
def delete_event(event_id: int, user: CurrentUser) -> dict:  # type: ignore[type-arg]
    events.delete_event(actor_id=user.id, event_id=event_id)  # type: ignore[arg-type]
    return {"message": "Event deleted successfully"}
