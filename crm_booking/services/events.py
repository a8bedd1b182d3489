"""Event administration: facilitators create, edit, deactivate, delete and list their events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import lock_for_update, read_session, transaction
from crm_booking.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from crm_booking.models import Booking, BookingStatus, Event, EventType, PaymentStatus, Role, User
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
    given: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.given = {name for name in _INPUT_FIELDS if getattr(self, name) is not UNSET}


_INPUT_FIELDS = (
    "title", "description", "event_type", "start_datetime", "end_datetime", "timezone",
    "location", "virtual_link", "max_participants", "price", "currency", "is_active",
)


@dataclass(frozen=True)
class EventRow:
    event: Event
    facilitator: User
    held: int  # seats really held right now


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


def _held_subquery(now: datetime) -> Any:
    return (
        select(sa.func.count(col(Booking.id)))
        .where(Booking.event_id == Event.id, held_seats_clause(now))
        .correlate(Event)
        .scalar_subquery()
    )


def _visible() -> Any:
    return col(Event.deleted_at).is_(None)


def list_events(
    *,
    event_type: str | None = None,
    facilitator_id: int | None = None,
    active: bool | None = None,
    upcoming_only: bool = False,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    limit: int = DEFAULT_PAGE,
    offset: int = 0,
) -> list[EventRow]:
    """One SQL statement per page: events, their facilitator and held seats together."""
    now = clock.now()
    query = (
        select(Event, User, _held_subquery(now))
        .join(User, col(User.id) == Event.facilitator_id)
        .where(_visible())
    )
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
    query = query.order_by(col(Event.start_at), col(Event.id)).limit(_page(limit)).offset(max(offset, 0))
    with read_session() as session:
        return [EventRow(event, facilitator, held) for event, facilitator, held in session.exec(query)]


def _page(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


def held_seats(session: Session, event_id: int) -> int:
    return session.exec(
        select(sa.func.count(col(Booking.id))).where(
            Booking.event_id == event_id, held_seats_clause(clock.now())
        )
    ).one()


def get_event(event_id: int) -> EventRow:
    with read_session() as session:
        event = _visible_event(session, event_id)
        facilitator = session.get(User, event.facilitator_id)
        assert facilitator is not None
        return EventRow(event, facilitator, held_seats(session, event_id))


def _visible_event(session: Session, event_id: int, *, lock: bool = False) -> Event:
    query = select(Event).where(Event.id == event_id, _visible())
    if lock:
        query = lock_for_update(session, query)
    event = session.exec(query).first()
    if event is None:
        raise NotFound("Event not found")
    return event


def facilitator_events(
    *, actor_id: int, limit: int = DEFAULT_PAGE, offset: int = 0
) -> list[EventRow]:
    actor = _require_facilitator(actor_id, "Only facilitators can view their events")
    return list_events(facilitator_id=actor.id, limit=limit, offset=offset)


# --- permissions ------------------------------------------------------------------------------


def _require_facilitator(actor_id: int, message: str) -> User:
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


def _apply(event: Event, data: EventInput, *, creating: bool) -> None:
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
    if "currency" in g and data.currency != "INR":
        problems["currency"] = "Only INR is supported"
    if "is_active" in g:
        if not isinstance(data.is_active, bool):
            problems["is_active"] = "Must be true or false"
        elif data.is_active and event.cancelled_at is not None:
            problems["is_active"] = "A cancelled event cannot be reactivated"
        else:
            event.is_active = data.is_active
    if creating and not problems and not (event.location or event.virtual_link):
        problems["location"] = "Give a location or a virtual link"
    if not problems and event.start_at is not None and event.end_at is not None:
        if clock.as_utc(event.end_at) <= clock.as_utc(event.start_at):
            problems["end_datetime"] = "Must be after the start"
        elif creating and clock.as_utc(event.start_at) <= clock.now():
            problems["start_datetime"] = "Must be in the future"
    if problems:
        raise ValidationFailed(problems)


# --- writing ----------------------------------------------------------------------------------


def create_event(*, actor_id: int, data: EventInput) -> EventRow:
    with transaction() as session:
        actor = _actor(session, actor_id)
        if actor.role not in (Role.FACILITATOR.value, Role.ADMIN.value):
            raise Forbidden("Only facilitators can create events")
        event = Event(
            facilitator_id=actor_id, title="", event_type="", max_participants=1,
            start_at=None, end_at=None,  # type: ignore[arg-type]
        )
        _apply(event, data, creating=True)
        session.add(event)
        session.flush()
        return EventRow(event, actor, 0)


def update_event(*, actor_id: int, event_id: int, data: EventInput) -> EventRow:
    with transaction() as session:
        actor = _actor(session, actor_id)
        event = _visible_event(session, event_id, lock=True)
        ensure_can_manage(actor, event)
        _apply(event, data, creating=False)
        event.updated_at = clock.now()
        session.add(event)
        try:
            session.flush()
        except sa.exc.IntegrityError as exc:  # capacity below seats taken, raced
            raise BadRequest("Cannot lower capacity below the seats already booked") from exc
        facilitator = session.get(User, event.facilitator_id)
        assert facilitator is not None
        return EventRow(event, facilitator, held_seats(session, event.id))  # type: ignore[arg-type]


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


def cancel_event(*, actor_id: int, event_id: int) -> EventCancellation:
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
        event.is_active = False
        event.updated_at = now
        session.add(event)
        cancelled_now, _ = booking_service.cancel_event_bookings(session, event)
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
    actor = _require_facilitator(actor_id, "Only facilitators can view their events")
    with read_session() as session:
        rows = session.exec(
            select(Booking.event_id, sa.func.sum(Booking.amount))
            .join(Event, col(Event.id) == Booking.event_id)
            .where(Event.facilitator_id == actor.id,
                   Booking.payment_status == PaymentStatus.COMPLETED.value)
            .group_by(col(Booking.event_id))
        ).all()
    return {event_id: Decimal(total or 0) for event_id, total in rows}
