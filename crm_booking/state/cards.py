"""Screen-ready shapes of events, built from the services' rows (no rules, only wording)."""

from __future__ import annotations

import dataclasses

from crm_booking.services.events import EventRow
from crm_booking.state import formatting as fmt


@dataclasses.dataclass
class EventCard:
    id: int = 0
    title: str = ""
    type_label: str = ""
    when: str = ""
    place: str = ""
    price: str = ""
    seats: str = ""
    full: bool = False
    facilitator: str = ""
    description: str = ""


def event_card(row: EventRow) -> EventCard:
    event = row.event
    return EventCard(
        id=event.id or 0,
        title=event.title,
        type_label=fmt.EVENT_TYPE_LABELS.get(event.event_type, event.event_type.title()),
        when=fmt.schedule(event.start_at, event.end_at, event.timezone),
        place=event.location or "Online",
        price=fmt.inr(event.price),
        seats=fmt.seats_left(row.held, event.max_participants),
        full=row.held >= event.max_participants,
        facilitator=row.facilitator.name,
        description=event.description,
    )
