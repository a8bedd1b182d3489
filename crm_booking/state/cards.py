"""Screen-ready shapes of events, built from the services' rows (no rules, only wording)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from crm_booking.clock import as_utc
from crm_booking.services import media
from crm_booking.services.events import EventRow
from crm_booking.services.views import map_url
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
    cover_url: str = ""
    card_cover_url: str = ""
    cover_alt: str = ""
    map_url: str = ""
    online: bool = False
    timezone: str = ""
    starts_utc: str = ""
    ends_utc: str = ""
    viewer_when: str = ""  # the time in the viewer's own zone (online events), or ""
    series_id: int = 0  # the recurring series it is a session of, or 0
    # "Every Mon & Wed, 7:00 AM IST · next: Mon 7 Dec" when a list shows the series once.
    series_text: str = ""


@dataclasses.dataclass
class SeriesDate:
    """One upcoming session of a series, for the attendee to pick on the event page."""

    id: int = 0
    label: str = ""
    current: bool = False


def event_card(row: EventRow) -> EventCard:
    event = row.event
    return EventCard(
        id=event.id or 0,
        title=event.title,
        type_label=fmt.EVENT_TYPE_LABELS.get(event.event_type, event.event_type.title()),
        when=fmt.schedule(event.start_at, event.end_at, event.timezone),
        place=event.location or "Online",
        price=fmt.inr(event.price),
        # A cancelled event has no seats to offer, whatever its capacity says.
        seats="" if event.cancelled_at is not None else fmt.seats_left(row.held, event.max_participants),
        full=row.held >= event.max_participants,
        facilitator=row.facilitator.name,
        description=event.description,
        cover_url=media.cover_url(event.cover_image) or "",
        card_cover_url=media.cover_url(event.cover_image, card=True) or "",
        cover_alt=event.cover_image_alt or "",
        map_url=map_url(event.location) or "",
        online=not event.location,
        timezone=event.timezone,
        starts_utc=as_utc(event.start_at).isoformat(),
        ends_utc=as_utc(event.end_at).isoformat(),
        series_id=event.series_id or 0,
    )


def grouped_by_series(rows: list[EventRow]) -> list[EventCard]:
    """The list with each series shown once, at its first session in the list, worded as
    the series ("Every Mon & Wed, 7:00 AM IST · next: Mon 7 Dec")."""
    from crm_booking.services import series

    firsts: dict[int, EventRow] = {}
    for row in rows:
        if row.event.series_id is not None:
            firsts.setdefault(row.event.series_id, row)
    words = series.summaries(set(firsts))
    cards = []
    for row in rows:
        series_id = row.event.series_id
        if series_id is not None and firsts[series_id] is not row:
            continue
        card = event_card(row)
        if series_id is not None:
            next_day = fmt.day_month(row.event.start_at, row.event.timezone)
            card = dataclasses.replace(card, series_text=f"{words[series_id]} · next: {next_day}")
        cards.append(card)
    return cards


def series_dates(rows: list[EventRow], current_id: int) -> list[SeriesDate]:
    return [SeriesDate(id=row.event.id or 0, current=row.event.id == current_id,
                       label=fmt.short_date(row.event.start_at, row.event.timezone))
            for row in rows]


def with_viewer_time(card: EventCard, viewer_tz: str) -> EventCard:
    """Online events also read in the viewer's zone (from their browser)."""
    when = ""
    if card.online and viewer_tz and card.starts_utc:
        when = fmt.viewer_schedule(datetime.fromisoformat(card.starts_utc),
                                   datetime.fromisoformat(card.ends_utc), card.timezone, viewer_tz)
    return dataclasses.replace(card, viewer_when=when)
