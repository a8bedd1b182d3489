"""Booking: take a seat, cancel, list, expire lapsed holds.

Seats are taken with one conditional UPDATE on the event row (`seats_taken < max_participants`),
which is atomic on PostgreSQL (row lock until commit) and on SQLite (writers are serialised by
BEGIN IMMEDIATE); the CHECK constraint on `events` backs it. Lock order is always
bookings → event, so two transactions never wait on each other in a cycle; creation takes the
seat as its last statement, so the event row is held only until the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import lock_for_update, read_session, transaction
from crm_booking.errors import BadRequest, NotFound, TooManyRequests, ValidationFailed
from crm_booking.models import Booking, BookingStatus, Event, PaymentStatus, Refund, User
from crm_booking.services import notifications, refund
from crm_booking.services.notifications import Action
from crm_booking.settings import get_settings

MAX_NOTES = 1000


@dataclass(frozen=True)
class BookingRow:
    booking: Booking
    event: Event
    user: User


@dataclass(frozen=True)
class CancelResult:
    booking: Booking
    refund: Refund | None


def reference_for(booking_id: int, created: datetime) -> str:
    """BK<year><sequence>, e.g. BK2024001: the sequence is the row id, so it is unique without a
    shared counter row that every booking would queue on."""
    return f"BK{created.year}{booking_id:03d}"


def _seat_freed(session: Session, event_id: int) -> None:
    session.execute(
        sa.update(Event)
        .where(col(Event.id) == event_id)
        .values(seats_taken=Event.seats_taken - 1)
    )


def _take_seat(session: Session, event_id: int) -> bool:
    result = session.execute(
        sa.update(Event)
        .where(col(Event.id) == event_id, col(Event.seats_taken) < col(Event.max_participants))
        .values(seats_taken=Event.seats_taken + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _people(session: Session, booking: Booking, event: Event) -> tuple[User, User]:
    attendee = session.get(User, booking.user_id)
    facilitator = session.get(User, event.facilitator_id)
    assert attendee is not None and facilitator is not None
    return attendee, facilitator


def notify(session: Session, action: Action, booking: Booking, event: Event, *,
           key_suffix: str = "", extra: dict | None = None) -> None:  # type: ignore[type-arg]
    attendee, facilitator = _people(session, booking, event)
    notifications.enqueue(
        session, action=action, booking=booking, event=event, attendee=attendee,
        facilitator=facilitator, key_suffix=key_suffix, extra=extra,
    )


# --- holds ------------------------------------------------------------------------------------


def _lapsed_holds_query(now: datetime, event_id: int | None = None):  # type: ignore[no-untyped-def]
    query = select(Booking).where(
        Booking.status == BookingStatus.CONFIRMED.value,
        col(Booking.payment_status).in_([PaymentStatus.PENDING.value, PaymentStatus.FAILED.value]),
        col(Booking.hold_expires_at).is_not(None),
        col(Booking.hold_expires_at) <= now,
    )
    if event_id is not None:
        query = query.where(Booking.event_id == event_id)
    return query


def _expire(session: Session, booking: Booking, event: Event, now: datetime) -> None:
    booking.status = BookingStatus.CANCELLED.value
    booking.cancellation_reason = "hold_expired"
    booking.cancelled_at = now
    booking.updated_at = now
    session.add(booking)
    _seat_freed(session, event.id)  # type: ignore[arg-type]
    notify(session, Action.HOLD_EXPIRED, booking, event)


def _release_lapsed_holds(session: Session, event: Event) -> int:
    """Inside a booking transaction: give lapsed holds' seats back before counting."""
    now = clock.now()
    lapsed = session.exec(lock_for_update(session, _lapsed_holds_query(now, event.id))).all()
    for booking in lapsed:
        _expire(session, booking, event, now)
    if lapsed:
        session.flush()
        session.refresh(event)
    return len(lapsed)


def expire_lapsed_holds(limit: int = 200) -> int:
    """Background job: cancel unpaid bookings whose hold has lapsed; each in its own short
    transaction, skipping rows another worker is already handling."""
    with read_session() as session:
        ids = session.exec(
            select(Booking.id).where(_lapsed_holds_query(clock.now()).whereclause)  # type: ignore[arg-type]
            .limit(limit)
        ).all()
    expired = 0
    for booking_id in ids:
        with transaction() as session:
            query = select(Booking).where(Booking.id == booking_id)
            booking = session.exec(lock_for_update(session, query, skip_locked=True)).first()
            now = clock.now()
            if booking is None or not _is_lapsed(booking, now):
                continue
            event = session.get(Event, booking.event_id)
            assert event is not None
            _expire(session, booking, event, now)
            expired += 1
    return expired


def _is_lapsed(booking: Booking, now: datetime) -> bool:
    return (
        booking.status == BookingStatus.CONFIRMED.value
        and booking.payment_status in (PaymentStatus.PENDING.value, PaymentStatus.FAILED.value)
        and booking.hold_expires_at is not None
        and clock.as_utc(booking.hold_expires_at) <= now
    )


# --- create -----------------------------------------------------------------------------------


def _active_holds(session: Session, user_id: int, now: datetime) -> int:
    return session.exec(
        select(sa.func.count(col(Booking.id))).where(
            Booking.user_id == user_id,
            Booking.status == BookingStatus.CONFIRMED.value,
            col(Booking.payment_status).in_([PaymentStatus.PENDING.value, PaymentStatus.FAILED.value]),
            col(Booking.hold_expires_at) > now,
        )
    ).one()


def create_booking(*, user_id: int, event_id: int, notes: str | None = None) -> BookingRow:
    if notes is not None and len(notes) > MAX_NOTES:
        raise ValidationFailed({"notes": f"Must be at most {MAX_NOTES} characters"})
    settings = get_settings()
    try:
        with transaction() as session:
            row = _create_in(session, user_id=user_id, event_id=event_id,
                             notes=notes, hold=timedelta(minutes=settings.BOOKING_HOLD_MINUTES))
    except sa.exc.IntegrityError as exc:
        if not _is_duplicate_booking(exc):
            raise
        raise BadRequest("You already have a booking for this event") from exc
    return row


def _create_in(session: Session, *, user_id: int, event_id: int, notes: str | None,
               hold: timedelta) -> BookingRow:
    now = clock.now()
    user = session.get(User, user_id)
    # The facilitator comes in the same statement: the notification below needs them.
    found = session.exec(
        select(Event, User).join(User, col(User.id) == Event.facilitator_id).where(Event.id == event_id)
    ).first()
    event = found[0] if found else None
    if user is None or not user.is_active:
        raise NotFound("User not found")
    if event is None or event.deleted_at is not None:
        raise NotFound("Event not found")
    if not event.is_active or event.cancelled_at is not None:
        raise BadRequest("Event is not open for booking")
    if clock.as_utc(event.start_at) <= now:
        raise BadRequest("Event has already started")
    paid = event.price > 0
    if paid and _active_holds(session, user_id, now) >= get_settings().MAX_ACTIVE_HOLDS_PER_USER:
        raise TooManyRequests("Too many unpaid bookings; pay for or cancel one first")
    booking = Booking(
        user_id=user_id, event_id=event_id, notes=(notes or None),
        status=BookingStatus.CONFIRMED.value,
        # Free events need no payment: they are settled (completed) at once.
        payment_status=PaymentStatus.PENDING.value if paid else PaymentStatus.COMPLETED.value,
        amount=event.price, currency=event.currency,
        hold_expires_at=now + hold if paid else None,
        created_at=now, updated_at=now,
    )
    session.add(booking)
    # A second live booking by the same person fails here, on the partial unique index.
    session.flush()
    booking.booking_reference = reference_for(booking.id, now)  # type: ignore[arg-type]
    session.add(booking)
    session.flush()
    notify(session, Action.BOOKING_CREATED, booking, event)
    session.flush()
    # The seat is taken last: the event row stays locked from this UPDATE until the commit, so
    # every other booking for the same event waits only for that, not for the inserts above
    # (measured on a hot event in bench/RESULTS.md). Only when the event looks full are lapsed
    # holds given back first; "full" after that rolls everything back.
    if not _take_seat(session, event_id) and not (
        _release_lapsed_holds(session, event) and _take_seat(session, event_id)
    ):
        raise BadRequest("Event is full")
    return BookingRow(booking, event, user)


def _is_duplicate_booking(error: sa.exc.IntegrityError) -> bool:
    text = str(error.orig)
    # PostgreSQL names the index; SQLite names its columns.
    return ("uq_bookings_one_active_per_user_event" in text
            or "bookings.user_id, bookings.event_id" in text)


# --- read -------------------------------------------------------------------------------------


def list_bookings(*, user_id: int, status: str | None = None, payment_status: str | None = None,
                  limit: int = 50, offset: int = 0) -> list[BookingRow]:
    query = (
        select(Booking, Event, User)
        .join(Event, col(Event.id) == Booking.event_id)
        .join(User, col(User.id) == Booking.user_id)
        .where(Booking.user_id == user_id)
    )
    if status is not None:
        query = query.where(Booking.status == status)
    if payment_status is not None:
        query = query.where(Booking.payment_status == payment_status)
    query = query.order_by(col(Booking.created_at).desc(), col(Booking.id).desc())
    query = query.limit(max(1, min(limit, 200))).offset(max(offset, 0))
    with read_session() as session:
        return [BookingRow(b, e, u) for b, e, u in session.exec(query)]


def get_booking(*, user_id: int, booking_id: int) -> BookingRow:
    """Another person's booking answers 404, exactly like a missing one."""
    with read_session() as session:
        booking = session.get(Booking, booking_id)
        if booking is None or booking.user_id != user_id:
            raise NotFound("Booking not found")
        event = session.get(Event, booking.event_id)
        user = session.get(User, booking.user_id)
        assert event is not None and user is not None
        return BookingRow(booking, event, user)


def get_booking_by_reference(reference: str) -> BookingRow:
    with read_session() as session:
        booking = session.exec(select(Booking).where(Booking.booking_reference == reference)).first()
        if booking is None:
            raise NotFound("Booking not found")
        event = session.get(Event, booking.event_id)
        user = session.get(User, booking.user_id)
        assert event is not None and user is not None
        return BookingRow(booking, event, user)


def get_own_booking_by_reference(*, user_id: int, reference: str) -> BookingRow:
    """The web confirmation page: another person's reference answers 404 like a missing one."""
    row = get_booking_by_reference(reference)
    if row.booking.user_id != user_id:
        raise NotFound("Booking not found")
    return row


# --- cancel -----------------------------------------------------------------------------------


def cancellation_quote(*, user_id: int, booking_id: int) -> refund.Quote:
    """What cancelling would refund, shown before the person confirms."""
    row = get_booking(user_id=user_id, booking_id=booking_id)
    return refund.quote(row.booking)


def cancel_booking(*, user_id: int, booking_id: int) -> CancelResult:
    with transaction() as session:
        query = select(Booking).where(Booking.id == booking_id)
        booking = session.exec(lock_for_update(session, query)).first()
        if booking is None or booking.user_id != user_id:
            raise NotFound("Booking not found")
        if booking.status == BookingStatus.CANCELLED.value:
            raise BadRequest("Booking is already cancelled")
        if booking.status != BookingStatus.CONFIRMED.value:
            raise BadRequest("A completed booking cannot be cancelled")
        event = session.get(Event, booking.event_id)
        assert event is not None
        if clock.as_utc(event.start_at) <= clock.now():
            raise BadRequest("The event has already started; this booking can no longer be cancelled")
        pending_refund = _cancel_in(session, booking, event, reason="user_cancelled")
        refund_id = pending_refund.id if pending_refund else None
    # The gateway is called only now, after the commit released every lock.
    processed = refund.process(refund_id) if refund_id is not None else None
    return CancelResult(booking, processed)


def _cancel_in(session: Session, booking: Booking, event: Event, *, reason: str,
               action: Action = Action.BOOKING_CANCELLED) -> Refund | None:
    """Cancel one confirmed booking inside the caller's transaction; record a refund if paid."""
    now = clock.now()
    booking.status = BookingStatus.CANCELLED.value
    booking.cancellation_reason = reason
    booking.cancelled_at = now
    booking.updated_at = now
    session.add(booking)
    _seat_freed(session, event.id)  # type: ignore[arg-type]
    pending_refund = refund.record(session, booking, reason=reason)
    session.flush()
    notify(session, action, booking, event, extra={
        "reason": reason,
        "refund": refund.summary(pending_refund),
    })
    return pending_refund


def cancel_event_bookings(session: Session, event: Event) -> tuple[int, list[int]]:
    """For the event-cancel process: cancel every live booking. Returns how many were cancelled
    and the ids of the refunds to send."""
    live = session.exec(
        select(Booking).where(Booking.event_id == event.id,
                              Booking.status == BookingStatus.CONFIRMED.value)
        .order_by(col(Booking.id))
    ).all()
    refund_ids = []
    for booking in live:
        pending = _cancel_in(session, booking, event, reason="event_cancelled",
                             action=Action.EVENT_CANCELLED)
        if pending is not None:
            refund_ids.append(pending.id)
    return len(live), refund_ids  # type: ignore[return-value]


def complete_finished_bookings(limit: int = 500) -> int:
    """Background job: confirmed, paid bookings of events that have ended become completed."""
    now = clock.now()
    with transaction() as session:
        ended = select(Event.id).where(Event.end_at <= now).scalar_subquery()
        result = session.execute(
            sa.update(Booking)
            .where(
                col(Booking.status) == BookingStatus.CONFIRMED.value,
                col(Booking.payment_status) == PaymentStatus.COMPLETED.value,
                col(Booking.event_id).in_(ended),
            )
            .values(status=BookingStatus.COMPLETED.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
