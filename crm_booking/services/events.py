"""Event administration: facilitators create, edit, deactivate, delete and list their events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import lock_for_update, read_session, transaction
from crm_booking.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from crm_booking.models import Booking, BookingStatus, Event, EventType, PaymentStatus, Role, User
from crm_booking.services import cancellation_policy, waitlist
from crm_booking.settings import get_settings

MAX_PAGE = 200
DEFAULT_PAGE = 50
UNSET: Any = object()


@dataclass
class EventInput:
    """Fields a facilitator may set. On update, fields left UNSET are not changed."""

    title: Any = UNSET
    description: Any = UNSET
    event_type: Any = UNSET
    start_datetime: Any = UNSET
    end_datetime: Any = UNSET
    timezone: Any = UNSET
    location: Any = UNSET
    virtual_link: Any = UNSET
    max_participants: Any = UNSET
    price: Any = UNSET
    currency: Any = UNSET
    is_active: Any = UNSET
    cover_image_alt: Any = UNSET
    # A picture already stored by services.media (the web form uploads before saving).
    cover_image: Any = UNSET
    remind_24h: Any = UNSET
    remind_1h: Any = UNSET
    refund_policy: Any = UNSET
    # Also keep the resulting policy as the facilitator's default for their next events.
    save_refund_policy_as_default: bool = False
    given: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.given = {name for name in _INPUT_FIELDS if getattr(self, name) is not UNSET}


_INPUT_FIELDS = (
    "title", "description", "event_type", "start_datetime", "end_datetime", "timezone",
    "location", "virtual_link", "max_participants", "price", "currency", "is_active",
    "cover_image_alt", "cover_image", "remind_24h", "remind_1h", "refund_policy",
)


@dataclass(frozen=True)
class EventRow:
    event: Event
    facilitator: User
    held: int  # seats really held right now (bookings and open waitlist offers)
    waiting: int = 0  # people on the waitlist, not yet offered a seat
    notified: int = 0  # bookings told of this save's change of time, place or link


# --- reading ----------------------------------------------------------------------------------


def held_seats_clause(now: datetime) -> Any:
    """A booking holds a seat while confirmed (or completed, once the event is over), unless
    it is an unpaid hold that has lapsed (the expiry job cancels it shortly; it no longer counts)."""
    return sa.and_(
        col(Booking.status).in_([BookingStatus.CONFIRMED.value, BookingStatus.COMPLETED.value]),
        sa.or_(
            col(Booking.payment_status).notin_(
                [PaymentStatus.PENDING.value, PaymentStatus.FAILED.value]
            ),
            col(Booking.hold_expires_at).is_(None),
            col(Booking.hold_expires_at) > now,
        ),
    )


def held_subquery(now: datetime) -> Any:
    booked = (
        select(sa.func.count(col(Booking.id)))
        .where(Booking.event_id == Event.id, held_seats_clause(now))
        .correlate(Event)
        .scalar_subquery()
    )
    return booked + waitlist.offered_count_subquery()


def _visible() -> Any:
    return col(Event.deleted_at).is_(None)


MAX_SEARCH_WORDS = 8
MAX_SEARCH_LENGTH = 100


def search_words(text: str | None) -> list[str]:
    """The words of a keyword search, lower-cased; every one of them must match."""
    return (text or "").lower().split()[:MAX_SEARCH_WORDS]


def like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def event_search_text(table: Any = Event) -> Any:
    """title, description and location as one lower-cased text. PostgreSQL's trigram index
    `ix_events_search_trgm` (see the attendee-capabilities migration) is on this exact
    expression, so keep the two the same."""
    space: Any = sa.literal_column("' '")
    return sa.func.lower(
        table.title + space + table.description + space + sa.func.coalesce(table.location, "")
    )


def _matches_word(word: str) -> Any:
    """A word matches the event's text or its facilitator's name. Written as a union of two
    lookups so PostgreSQL can serve each from its trigram index (`ix_events_search_trgm`,
    `ix_users_name_trgm`); an OR across the two tables would read every event instead."""
    pattern = like_pattern(word)
    searched = aliased(Event, name="searched")
    by_text = select(searched.id).where(event_search_text(searched).like(pattern, escape="\\"))
    teachers = select(User.id).where(sa.func.lower(User.name).like(pattern, escape="\\"))
    by_teacher = select(searched.id).where(col(searched.facilitator_id).in_(teachers))
    return col(Event.id).in_(sa.union(by_text, by_teacher))


def list_events(
    *,
    keywords: str | None = None,
    event_type: str | None = None,
    facilitator_id: int | None = None,
    active: bool | None = None,
    upcoming_only: bool = False,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    series_id: int | None = None,
    limit: int = DEFAULT_PAGE,
    offset: int = 0,
) -> list[EventRow]:
    """One SQL statement per page: events, their facilitator and held seats together."""
    now = clock.now()
    query = (
        select(Event, User, held_subquery(now), waitlist.waiting_count_subquery())
        .join(User, col(User.id) == Event.facilitator_id)
        .where(_visible())
    )
    for word in search_words(keywords):
        query = query.where(_matches_word(word))
    if event_type is not None:
        query = query.where(Event.event_type == event_type)
    if facilitator_id is not None:
        query = query.where(Event.facilitator_id == facilitator_id)
    if active is not None:
        query = query.where(Event.is_active == active)
    if upcoming_only:
        query = query.where(Event.start_at > now)
    if starts_from is not None:
        query = query.where(Event.start_at >= starts_from)
    if starts_before is not None:
        query = query.where(Event.start_at < starts_before)
    if series_id is not None:
        query = query.where(Event.series_id == series_id)
    query = query.order_by(col(Event.start_at), col(Event.id)).limit(_page(limit)).offset(max(offset, 0))
    with read_session() as session:
        return [EventRow(event, facilitator, held, waiting)
                for event, facilitator, held, waiting in session.exec(query)]


def _page(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


def held_seats(session: Session, event_id: int) -> int:
    booked = session.exec(
        select(sa.func.count(col(Booking.id))).where(
            Booking.event_id == event_id, held_seats_clause(clock.now())
        )
    ).one()
    return int(booked) + waitlist.counts(session, event_id)[1]


def get_event(event_id: int) -> EventRow:
    with read_session() as session:
        event = _visible_event(session, event_id)
        facilitator = session.get(User, event.facilitator_id)
        assert facilitator is not None
        return EventRow(event, facilitator, held_seats(session, event_id),
                        waitlist.counts(session, event_id)[0])


def _visible_event(session: Session, event_id: int, *, lock: bool = False) -> Event:
    query = select(Event).where(Event.id == event_id, _visible())
    if lock:
        # FOR NO KEY UPDATE, what an UPDATE of these columns takes anyway: a foreign-key check
        # from a booking row (FOR KEY SHARE, fired by PostgreSQL when a transaction updates a row
        # twice) must not wait on it, or a payment holding its booking deadlocks with an event
        # cancel holding the event (found by the money soak, issue 13).
        query = lock_for_update(session, query, key_share=True)
    event = session.exec(query).first()
    if event is None:
        raise NotFound("Event not found")
    return event


def facilitator_events(
    *, actor_id: int, limit: int = DEFAULT_PAGE, offset: int = 0
) -> list[EventRow]:
    actor = require_facilitator(actor_id, "Only facilitators can view their events")
    return list_events(facilitator_id=actor.id, limit=limit, offset=offset)


# --- who sees the join link -------------------------------------------------------------------


def events_with_join_link(viewer_id: int | None, event_ids: list[int]) -> set[int]:
    """Of these events, those whose online link this viewer may see: their own events (an
    administrator: all), and events where they hold a paid or free booking that is still on.
    Everyone else, anonymous visitors included, gets no link (one query, whatever the page)."""
    if viewer_id is None or not event_ids:
        return set()
    with read_session() as session:
        viewer = session.get(User, viewer_id)
        if viewer is None:
            return set()
        if viewer.role == Role.ADMIN.value:
            return set(event_ids)
        own = select(Event.id).where(col(Event.id).in_(event_ids), Event.facilitator_id == viewer_id)
        booked = select(Booking.event_id).where(
            col(Booking.event_id).in_(event_ids), Booking.user_id == viewer_id,
            col(Booking.status).in_([BookingStatus.CONFIRMED.value, BookingStatus.COMPLETED.value]),
            Booking.payment_status == PaymentStatus.COMPLETED.value,
        )
        return set(session.exec(sa.union(own, booked)).scalars())  # type: ignore[call-overload]


def live_booking_reference(viewer_id: int | None, event_id: int) -> str | None:
    """The viewer's own booking of this event that still holds (or reserves) a seat, so the
    event page offers "view booking" instead of a second "Book"."""
    if viewer_id is None:
        return None
    with read_session() as session:
        return session.exec(
            select(Booking.booking_reference).where(
                Booking.event_id == event_id, Booking.user_id == viewer_id,
                Booking.status == BookingStatus.CONFIRMED.value, held_seats_clause(clock.now()))
        ).first()


def join_link_for(viewer_id: int | None, event: Event) -> str | None:
    if event.id is None or event.id not in events_with_join_link(viewer_id, [event.id]):
        return None
    return event.virtual_link


# --- permissions ------------------------------------------------------------------------------


def require_facilitator(actor_id: int, message: str) -> User:
    with read_session() as session:
        actor = session.get(User, actor_id)
    if actor is None or actor.role not in (Role.FACILITATOR.value, Role.ADMIN.value):
        raise Forbidden(message)
    return actor


def ensure_can_manage(actor: User, event: Event) -> None:
    """Events are public, so another facilitator's event answers 403 rather than 404."""
    if actor.role == Role.ADMIN.value:
        return
    if actor.role != Role.FACILITATOR.value:
        raise Forbidden("Only facilitators can manage events")
    if event.facilitator_id != actor.id:
        raise Forbidden("You can only manage your own events")


def check_can_manage(*, actor_id: int, event_id: int) -> None:
    """Refuse (403/404) before looking at a request's content, as the other writes do."""
    with read_session() as session:
        ensure_can_manage(_actor(session, actor_id), _visible_event(session, event_id))


def lock_managed_event(session: Session, *, actor_id: int, event_id: int) -> Event:
    """The event row, locked, once the actor is allowed to change it."""
    actor = _actor(session, actor_id)
    event = _visible_event(session, event_id, lock=True)
    ensure_can_manage(actor, event)
    return event


def _actor(session: Session, actor_id: int) -> User:
    actor = session.get(User, actor_id)
    if actor is None:
        raise Forbidden()
    return actor


# --- validation -------------------------------------------------------------------------------


def _zone(name: Any, problems: dict[str, str]) -> ZoneInfo | None:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = "Unknown timezone; use an IANA name such as Asia/Kolkata"
        return None


def _to_utc(value: Any, zone: ZoneInfo | None, name: str, problems: dict[str, str]) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            problems[name] = "Must be an ISO 8601 date and time"
            return None
    if not isinstance(value, datetime):
        problems[name] = "Must be an ISO 8601 date and time"
        return None
    if value.tzinfo is None:
        if zone is None:
            return None
        value = value.replace(tzinfo=zone)  # wall-clock time in the event's timezone
    return clock.as_utc(value)


MIN_PAID_PRICE = Decimal("1.00")


def _price(value: Any, problems: dict[str, str]) -> Decimal | None:
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        problems["price"] = "Price must be a number"
        return None
    if not price.is_finite() or price < 0:
        problems["price"] = "Price must be zero or more"
    elif price > Decimal("10000000"):
        problems["price"] = "Price must be at most 10,000,000"
    elif price != price.quantize(Decimal("0.01")):
        problems["price"] = "Price can have at most two decimals"
    elif Decimal("0") < price < MIN_PAID_PRICE:
        # Razorpay's smallest order is 100 paise: such a price could never be paid.
        problems["price"] = "Price must be 0 (free) or at least 1.00"
    else:
        return price.quantize(Decimal("0.01"))
    return None


def _text(value: Any, name: str, limit: int, problems: dict[str, str], *, required: bool) -> str | None:
    if value is None:
        if required:
            problems[name] = "This field is required"
        return None
    if not isinstance(value, str):
        problems[name] = "Must be text"
        return None
    value = value.strip()
    if required and not value:
        problems[name] = "This field is required"
    elif len(value) > limit:
        problems[name] = f"Must be at most {limit} characters"
    return value or None


def _apply(event: Event, data: EventInput, *, creating: bool,
           default_policy: list[dict[str, int]] | None = None) -> None:
    """Validate `data` against the event's current values and copy it in, or raise."""
    problems: dict[str, str] = {}
    g = data.given

    def pick(name: str, current: Any) -> Any:
        return getattr(data, name) if name in g else current

    if "title" in g or creating:
        title = _text(pick("title", None), "title", 200, problems, required=True)
        if title:
            event.title = title
    if "description" in g:
        event.description = _text(data.description, "description", 5000, problems, required=False) or ""
    if "event_type" in g or creating:
        value = pick("event_type", None)
        if value not in {t.value for t in EventType}:
            problems["event_type"] = "Must be one of: session, workshop, retreat"
        else:
            event.event_type = value
    tz_name = pick("timezone", event.timezone if not creating else get_settings().DEFAULT_TIMEZONE)
    zone = _zone(tz_name, problems)
    if zone is not None:
        event.timezone = str(tz_name)
    for name, attr in (("start_datetime", "start_at"), ("end_datetime", "end_at")):
        if name in g or creating:
            value = pick(name, None)
            if value is None:
                problems[name] = "This field is required"
                continue
            converted = _to_utc(value, zone, name, problems)
            if converted is not None:
                setattr(event, attr, converted)
    if "location" in g:
        event.location = _text(data.location, "location", 300, problems, required=False)
    if "virtual_link" in g:
        link = _text(data.virtual_link, "virtual_link", 1024, problems, required=False)
        if link and urlparse(link).scheme not in ("http", "https"):
            problems["virtual_link"] = "Must be an http(s) link"
        event.virtual_link = link
    if "max_participants" in g or creating:
        value = pick("max_participants", None)
        if isinstance(value, bool) or not isinstance(value, int):
            problems["max_participants"] = "Must be a whole number"
        elif not 1 <= value <= 100_000:
            problems["max_participants"] = "Must be between 1 and 100000"
        elif value < event.seats_taken:
            problems["max_participants"] = (
                f"Cannot be lower than the {event.seats_taken} seats already booked"
            )
        else:
            event.max_participants = value
    if "price" in g or creating:
        price = _price(pick("price", 0), problems)
        if price is not None:
            event.price = price
    if "price" not in problems:
        cancellation_policy.apply_to_event(event, data.refund_policy, problems,
                                           given="refund_policy" in g, fallback=default_policy)
    if "currency" in g and data.currency != "INR":
        problems["currency"] = "Only INR is supported"
    if "is_active" in g:
        if not isinstance(data.is_active, bool):
            problems["is_active"] = "Must be true or false"
        elif data.is_active and event.cancelled_at is not None:
            problems["is_active"] = "A cancelled event cannot be reactivated"
        else:
            event.is_active = data.is_active
    if "cover_image_alt" in g:
        event.cover_image_alt = _text(data.cover_image_alt, "cover_image_alt", 300, problems,
                                      required=False)
    if "cover_image" in g:
        _apply_cover(event, data.cover_image, problems)
    _apply_reminders(event, data, problems)
    if ({"cover_image", "cover_image_alt"} & g) and event.cover_image and not event.cover_image_alt:
        problems["cover_image_alt"] = "Describe the picture for people who cannot see it"
    if creating and not problems and not (event.location or event.virtual_link):
        problems["location"] = "Give a location or a virtual link"
    if not problems and event.start_at is not None and event.end_at is not None:
        if clock.as_utc(event.end_at) <= clock.as_utc(event.start_at):
            problems["end_datetime"] = "Must be after the start"
        elif creating and clock.as_utc(event.start_at) <= clock.now():
            problems["start_datetime"] = "Must be in the future"
    if problems:
        raise ValidationFailed(problems)


def _apply_reminders(event: Event, data: EventInput, problems: dict[str, str]) -> None:
    for name in ("remind_24h", "remind_1h"):
        if name in data.given:
            value = getattr(data, name)
            if isinstance(value, bool):
                setattr(event, name, value)
            else:
                problems[name] = "Must be true or false"


def _apply_cover(event: Event, name: Any, problems: dict[str, str]) -> None:
    from crm_booking.services import media

    if name is None:
        event.cover_image = None
    elif not isinstance(name, str) or not media.is_stored_cover(name):
        problems["cover_image"] = "Upload the picture again"
    else:
        event.cover_image = name


# --- writing ----------------------------------------------------------------------------------


def create_event(*, actor_id: int, data: EventInput) -> EventRow:
    with transaction() as session:
        actor = creating_actor(session, actor_id)
        event = add_new_event(session, actor, data)
        session.flush()
        return EventRow(event, actor, 0)


def creating_actor(session: Session, actor_id: int) -> User:
    actor = _actor(session, actor_id)
    if actor.role not in (Role.FACILITATOR.value, Role.ADMIN.value):
        raise Forbidden("Only facilitators can create events")
    return actor


def validated_new_event(actor: User, data: EventInput) -> Event:
    """A new event of this facilitator with the given fields, checked (ValidationFailed), not
    yet added to any session."""
    event = Event(
        facilitator_id=actor.id, title="", event_type="", max_participants=1,  # type: ignore[arg-type]
        start_at=None, end_at=None,  # type: ignore[arg-type]
    )
    _apply(event, data, creating=True, default_policy=actor.default_refund_policy)
    return event


def add_new_event(session: Session, actor: User, data: EventInput, *,
                  series_id: int | None = None) -> Event:
    """Validate and add one new event in the caller's transaction (also one occurrence of a
    recurring series, services/series.py)."""
    event = validated_new_event(actor, data)
    event.series_id = series_id
    session.add(event)
    _save_default_policy(session, actor, event, data)
    return event


def _save_default_policy(session: Session, actor: User, event: Event, data: EventInput) -> None:
    if data.save_refund_policy_as_default and event.price > 0:
        actor.default_refund_policy = event.refund_policy
        session.add(actor)


def update_event(*, actor_id: int, event_id: int, data: EventInput) -> EventRow:
    with transaction() as session:
        actor = _actor(session, actor_id)
        event = _visible_event(session, event_id, lock=True)
        ensure_can_manage(actor, event)
        previous_cover = event.cover_image
        row = update_locked_event(session, actor, event, data)
    if previous_cover != event.cover_image:  # replaced or removed, and saved: files can go
        from crm_booking.services import media

        media.delete_files(previous_cover)
    return row


def update_locked_event(session: Session, actor: User, event: Event, data: EventInput) -> EventRow:
    """Apply a change to an event the caller has locked and allowed the actor to manage, in
    the caller's transaction: checks, waitlist offers for raised capacity, and one change notice
    per live booking when the time, place or link moved (also used per occurrence by
    services/series.py). Removing a replaced cover file is the caller's, after commit."""
    before = _notified_facts(event)
    _apply(event, data, creating=False)
    event.updated_at = clock.now()
    changed = _changed_facts(before, _notified_facts(event))
    if changed:
        event.version = int(event.version or 0) + 1  # the invites' SEQUENCE goes up
    session.add(event)
    _save_default_policy(session, actor, event, data)
    try:
        session.flush()
    except sa.exc.IntegrityError as exc:  # capacity below seats taken, raced
        raise BadRequest("Cannot lower capacity below the seats already booked") from exc
    waitlist.offer_freed_seats(session, event)  # capacity raised: seats for the queue
    facilitator = session.get(User, event.facilitator_id)
    assert facilitator is not None
    notified = _notify_change(session, event, facilitator, changed, before) if changed else 0
    return EventRow(event, facilitator, held_seats(session, event.id),  # type: ignore[arg-type]
                    waitlist.counts(session, event.id)[0], notified)  # type: ignore[arg-type]


# --- telling attendees of a change ------------------------------------------------------------

# What an attendee must hear about: when it is, where it is, and how to join.
_NOTIFIED_FACTS = {"start_at": "time", "end_at": "time", "location": "location",
                   "virtual_link": "link"}


def _notified_facts(event: Event) -> dict[str, Any]:
    return {
        "start_at": clock.as_utc(event.start_at) if event.start_at else None,
        "end_at": clock.as_utc(event.end_at) if event.end_at else None,
        "location": event.location,
        "virtual_link": event.virtual_link,
    }


def _changed_facts(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """'time', 'location', 'link' in that order, each once; [] when nothing notable moved."""
    changed = {_NOTIFIED_FACTS[name] for name in before if before[name] != after[name]}
    return [fact for fact in ("time", "location", "link") if fact in changed]


def _live_bookings_query(event_id: int) -> Any:
    """Bookings whose holders must hear of a change: a seat that is theirs, or a hold still
    running (an unpaid hold that lapsed is as good as gone)."""
    return (
        select(Booking, User)
        .join(User, col(User.id) == Booking.user_id)
        .where(Booking.event_id == event_id,
               Booking.status == BookingStatus.CONFIRMED.value,
               held_seats_clause(clock.now()))
        .order_by(col(Booking.id))
    )


def _notify_change(session: Session, event: Event, facilitator: User, changed: list[str],
                   before: dict[str, Any]) -> int:
    """One outbox row per live booking, in the caller's transaction (the event row is locked,
    so the bookings read here are the ones the change applies to)."""
    from crm_booking.services import notifications

    previous = {
        "start_datetime": before["start_at"].isoformat() if before["start_at"] else None,
        "end_datetime": before["end_at"].isoformat() if before["end_at"] else None,
        "location": before["location"],
    }
    rows = session.exec(_live_bookings_query(event.id)).all()  # type: ignore[arg-type]
    for booking, attendee in rows:
        notifications.enqueue(
            session, action=notifications.Action.EVENT_UPDATED, booking=booking, event=event,
            attendee=attendee, facilitator=facilitator, key_suffix=f"v{event.version}",
            extra={"changed": changed, "previous": previous},
        )
    return len(rows)


def change_audience(*, actor_id: int, event_id: int) -> int:
    """How many people a change of time, place or link would be told of (shown before saving)."""
    with read_session() as session:
        actor = _actor(session, actor_id)
        event = _visible_event(session, event_id)
        ensure_can_manage(actor, event)
        return len(session.exec(_live_bookings_query(event_id)).all())


def delete_event(*, actor_id: int, event_id: int) -> None:
    """Deleting never loses a booking: an event with live bookings must be cancelled instead
    (which refunds them); otherwise it is hidden and kept for the booking history."""
    with transaction() as session:
        actor = _actor(session, actor_id)
        event = _visible_event(session, event_id, lock=True)
        ensure_can_manage(actor, event)
        live = session.exec(
            select(sa.func.count(col(Booking.id))).where(
                Booking.event_id == event_id, Booking.status == BookingStatus.CONFIRMED.value
            )
        ).one()
        if live:
            raise BadRequest(
                "Event has active bookings; cancel it with "
                f"POST /facilitator/events/{event_id}/cancel so attendees are refunded",
                active_bookings=live,
            )
        now = clock.now()
        event.deleted_at = now
        event.is_active = False
        event.updated_at = now
        session.add(event)


def event_bookings(*, actor_id: int, event_id: int) -> tuple[EventRow, list[tuple[Booking, User]]]:
    with read_session() as session:
        actor = _actor(session, actor_id)
        event = _visible_event(session, event_id)
        ensure_can_manage(actor, event)
        rows = session.exec(
            select(Booking, User)
            .join(User, col(User.id) == Booking.user_id)
            .where(Booking.event_id == event_id)
            .order_by(col(Booking.created_at), col(Booking.id))
        ).all()
        facilitator = session.get(User, event.facilitator_id)
        assert facilitator is not None
        return EventRow(event, facilitator, held_seats(session, event_id)), [
            (booking, user) for booking, user in rows
        ]


@dataclass(frozen=True)
class EventCancellation:
    refunds_processed: int
    total_refund_amount: float
    refunds_failed: int
    bookings_cancelled: int


def cancel_event(*, actor_id: int, event_id: int, message: str | None = None) -> EventCancellation:
    """Cancel the event and every live booking in one transaction, then refund the paid ones
    (gateway calls after commit). Running it again cancels nothing new and refunds nothing twice;
    it retries refunds the gateway refused before and reports the same totals."""
    from crm_booking.services import booking as booking_service
    from crm_booking.services import refund as refund_service

    with transaction() as session:
        actor = _actor(session, actor_id)
        event = _visible_event(session, event_id, lock=True)
        ensure_can_manage(actor, event)
        now = clock.now()
        if event.cancelled_at is None:
            event.cancelled_at = now
            # Goes into each cancellation email (services/notifications.py).
            event.cancellation_message = (message or "").strip()[:2000] or None
        event.is_active = False
        event.updated_at = now
        session.add(event)
        cancelled_now, _ = booking_service.cancel_event_bookings(session, event)
        waitlist.close_for_event(session, event)
    for pending in refund_service.refunds_for_event(event_id):
        if pending.status != "processed":
            refund_service.process(pending.id)  # type: ignore[arg-type]
    refunds = refund_service.refunds_for_event(event_id)
    processed = [r for r in refunds if r.status == "processed"]
    return EventCancellation(
        refunds_processed=len(processed),
        total_refund_amount=refund_service.total(processed),
        refunds_failed=len(refunds) - len(processed),
        bookings_cancelled=cancelled_now,
    )


@dataclass(frozen=True)
class EventCancellationQuote:
    """What cancelling an event would do, shown to the facilitator before they confirm."""

    bookings_to_cancel: int
    refunds_due: int
    total_refund_amount: float


def cancellation_quote(*, actor_id: int, event_id: int) -> EventCancellationQuote:
    from crm_booking.services import refund as refund_service

    with read_session() as session:
        actor = _actor(session, actor_id)
        event = _visible_event(session, event_id)
        ensure_can_manage(actor, event)
        live = session.exec(
            select(Booking).where(Booking.event_id == event_id,
                                  Booking.status == BookingStatus.CONFIRMED.value)
        ).all()
    quotes = [refund_service.quote(b) for b in live]
    refundable = [q for q in quotes if q.refundable]
    return EventCancellationQuote(
        bookings_to_cancel=len(live),
        refunds_due=len(refundable),
        total_refund_amount=float(sum((Decimal(str(q.amount)) for q in refundable), Decimal("0"))),
    )


def revenue_by_event(*, actor_id: int) -> dict[int, Decimal]:
    """Money kept per event of this facilitator: paid bookings that were not refunded."""
    actor = require_facilitator(actor_id, "Only facilitators can view their events")
    with read_session() as session:
        rows = session.exec(
            select(Booking.event_id, sa.func.sum(Booking.amount))
            .join(Event, col(Event.id) == Booking.event_id)
            .where(Event.facilitator_id == actor.id,
                   Booking.payment_status == PaymentStatus.COMPLETED.value)
            .group_by(col(Booking.event_id))
        ).all()
    return {event_id: Decimal(total or 0) for event_id, total in rows}


# Copied by duplicate_event; everything else (seats, versions, cancellation, deletion, dates of
# record) belongs to the original only.
DUPLICATED_FIELDS = (
    "title", "description", "event_type", "start_at", "end_at", "timezone", "location",
    "virtual_link", "max_participants", "price", "currency", "cover_image_alt",
    "remind_24h", "remind_1h",
)


def duplicate_event(*, actor_id: int, event_id: int) -> EventRow:
    """A new draft with every field of the event copied: not bookable (is_active false) until
    the facilitator makes it so, usually after moving its dates. The cover picture is stored
    again under its own name, so replacing either event's picture never removes the other's."""
    from crm_booking.services import media

    with read_session() as session:
        actor = _actor(session, actor_id)
        original = _visible_event(session, event_id)
        ensure_can_manage(actor, original)
    cover = None
    if original.cover_image and (path := media.stored_file(original.cover_image)) is not None:
        cover = media.store_cover(path.read_bytes())
    with transaction() as session:
        copy = Event(facilitator_id=original.facilitator_id, is_active=False, cover_image=cover,
                     **{name: getattr(original, name) for name in DUPLICATED_FIELDS})
        session.add(copy)
        session.flush()
        facilitator = session.get(User, copy.facilitator_id)
        assert facilitator is not None
        return EventRow(copy, facilitator, 0)
