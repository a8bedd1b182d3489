"""Booking: take a seat, cancel, list, expire lapsed holds.

Seats are taken with one conditional UPDATE on the event row (`seats_taken < max_participants`
and the event open, future and not deleted), which is atomic on PostgreSQL (row lock until
commit) and on SQLite (writers are serialised by BEGIN IMMEDIATE); the CHECK constraint on
`events` backs it. ONE lock order everywhere: event → bookings → payments/refunds, so two
transactions never wait on each other in a cycle (`lock_booking_and_event` is how a path that
starts from a booking gets there). Creation takes the seat as its last statement, so the event
row is held only until the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from crm_booking import clock, pause
from crm_booking.db import lock_for_update, read_session, transaction
from crm_booking.errors import BadRequest, NotFound, TooManyRequests, ValidationFailed
from crm_booking.models import (
    Booking,
    BookingStatus,
    Event,
    PaidWith,
    PaymentStatus,
    Refund,
    User,
)
from crm_booking.services import auth, cancellation_policy, notifications, passes, refund, waitlist
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
    credit_returned: bool = False  # a seat paid with a pass: its class went back to the pass


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


_EVENTS: sa.Table = Event.__table__  # type: ignore[attr-defined]


# Built once, with the event and the time as bound parameters (see _ATTENDEE_AND_EVENT).
_TAKE_SEAT = (
    sa.update(_EVENTS)
    .where(_EVENTS.c.id == sa.bindparam("event_id"),
           _EVENTS.c.seats_taken < _EVENTS.c.max_participants,
           # Open for booking: active, not cancelled or deleted, not started.
           _EVENTS.c.is_active.is_(True), _EVENTS.c.cancelled_at.is_(None),
           _EVENTS.c.deleted_at.is_(None),
           _EVENTS.c.start_at > sa.bindparam("now", type_=_EVENTS.c.start_at.type))
    .values(seats_taken=_EVENTS.c.seats_taken + 1)
    .returning(_EVENTS.c.seats_taken)
)


def _take_seat(session: Session, event: Event) -> bool:
    """The seat and the event's openness are checked in the same statement: an event cancelled
    or deleted after the caller read it (unlocked) gives no seat.

    A Core statement on the table, not the ORM's bulk UPDATE (a third of the CPU of this step
    on the hot path, bench/README.md); the new count is written back into `event` so the
    object stays true."""
    seats = session.connection().execute(
        _TAKE_SEAT, {"event_id": event.id, "now": clock.now()}).scalar()
    if seats is None:
        return False
    set_committed_value(event, "seats_taken", seats)
    return True


def refuse_if_closed(event: Event, now: datetime) -> None:
    if event.deleted_at is not None:
        raise NotFound("Event not found")
    if not event.is_active or event.cancelled_at is not None:
        raise BadRequest("Event is not open for booking")
    if clock.as_utc(event.start_at) <= now:
        raise BadRequest("Event has already started")


def is_closed(event: Event) -> bool:
    """Cancelled or deleted: no payment may end as a seat on it."""
    return event.cancelled_at is not None or event.deleted_at is not None


def lock_event(session: Session, event_id: int) -> Event:
    """The first lock of every path that changes seats, bookings or money for an event."""
    query = select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
    event = session.exec(lock_for_update(session, query, key_share=True)).first()
    if event is None:
        raise NotFound("Event not found")
    return event


def lock_booking_and_event(session: Session, condition: Any, *,
                           skip_locked: bool = False) -> tuple[Booking, Event] | None:
    """Lock a booking's event, then the booking (the one lock order). The event id is read
    first without a lock: a booking never moves to another event."""
    event_id = session.exec(select(Booking.event_id).where(condition)).first()
    if event_id is None:
        return None
    event = lock_event(session, event_id)
    query = select(Booking).where(condition).execution_options(populate_existing=True)
    booking = session.exec(lock_for_update(session, query, skip_locked=skip_locked)).first()
    return (booking, event) if booking is not None else None


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
    waitlist.offer_freed_seats(session, event)  # under the event row lock the UPDATE took
    notify(session, Action.HOLD_EXPIRED, booking, event)


def _release_lapsed_holds(session: Session, event: Event, *, booking_in_flight: Booking) -> int:
    """Inside a booking transaction, with the event locked: give lapsed holds' seats back.

    The booking being made is never one of them, even when the clock passed its hold's length
    during this transaction: it holds no seat yet, and "freeing" one for it counted a seat
    nobody had (seats_taken below zero; found by the money soak as a 500)."""
    now = clock.now()
    query = _lapsed_holds_query(now, event.id).where(col(Booking.id) != booking_in_flight.id)
    lapsed = session.exec(lock_for_update(session, query)).all()
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
    # Issue 13: a payment nobody reported is applied before its hold is expired (no lock held).
    from crm_booking.services.payment import collect_unreported_for_bookings

    collect_unreported_for_bookings([i for i in ids if i is not None])
    expired = 0
    for booking_id in ids:
        with transaction() as session:
            locked = lock_booking_and_event(session, col(Booking.id) == booking_id,
                                            skip_locked=True)
            now = clock.now()
            if locked is None or not _is_lapsed(locked[0], now):
                continue
            booking, event = locked
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


def create_booking(*, user_id: int, event_id: int, notes: str | None = None,
                   pass_id: int | None = None,
                   token_claims: dict[str, Any] | None = None) -> BookingRow:
    """`token_claims` (the REST API's decoded access token for `user_id`): the token's holder is
    checked on the attendee row this transaction reads anyway, not in a read of its own before
    it (one statement, one session and one worker-thread hop fewer per booking; bench/README.md).
    """
    if notes is not None and len(notes) > MAX_NOTES:
        raise ValidationFailed({"notes": f"Must be at most {MAX_NOTES} characters"})
    settings = get_settings()
    try:
        with transaction() as session:
            row = _create_in(session, user_id=user_id, event_id=event_id,
                             notes=notes, hold=timedelta(minutes=settings.BOOKING_HOLD_MINUTES),
                             pass_id=pass_id, token_claims=token_claims)
    except sa.exc.IntegrityError as exc:
        if not _is_duplicate_booking(exc):
            raise
        raise BadRequest("You already have a booking for this event") from exc
    return row


def book_as_token_holder(claims: dict[str, Any], *, event_id: int, notes: str | None = None,
                         pass_id: int | None = None) -> BookingRow:
    """POST /bookings: the attendee is the holder of the (decoded, unexpired) access token."""
    return create_booking(user_id=auth.subject_of(claims), event_id=event_id, notes=notes,
                          pass_id=pass_id, token_claims=claims)


def create_in(session: Session, *, user_id: int, event_id: int) -> BookingRow:
    """A booking inside the caller's transaction (an accepted waitlist offer), with the usual
    hold for a paid event."""
    hold = timedelta(minutes=get_settings().BOOKING_HOLD_MINUTES)
    return _create_in(session, user_id=user_id, event_id=event_id, notes=None, hold=hold)


# Built once: a new alias per call would be a new statement to compile (SQLAlchemy's cache).
_ATTENDEE = aliased(User, name="attendee")


# Built once with bound parameters, like the seat UPDATE: building the expression per call
# (and SQLAlchemy's cache key of it) was a tenth of the booking's CPU (bench/README.md).
_ATTENDEE_AND_EVENT = (
    select(Event, User, _ATTENDEE)
    .join(User, col(User.id) == Event.facilitator_id)
    .outerjoin(_ATTENDEE, col(_ATTENDEE.id) == sa.bindparam("user_id"))
    .where(Event.id == sa.bindparam("event_id"))
)


def _attendee_and_event(session: Session, user_id: int,
                        event_id: int) -> tuple[User | None, Event | None, User | None]:
    """The attendee, the event and its facilitator (the notification needs them) in one
    statement: one database round trip fewer per booking (bench/README.md). The caller keeps
    the facilitator referenced: the session's identity map holds objects only weakly."""
    found = session.exec(_ATTENDEE_AND_EVENT,  # type: ignore[call-overload]
                         params={"user_id": user_id, "event_id": event_id}).first()
    if found is None:  # no such event; the attendee is looked up for the right error
        return session.get(User, user_id), None, None
    return found[2], found[0], found[1]


def _create_in(session: Session, *, user_id: int, event_id: int, notes: str | None,
               hold: timedelta, pass_id: int | None = None,
               token_claims: dict[str, Any] | None = None) -> BookingRow:
    now = clock.now()
    user, event, _facilitator = _attendee_and_event(session, user_id, event_id)
    if token_claims is not None:  # a 401 before anything about the event
        auth.check_token_holder(user, token_claims)
    if user is None or not user.is_active:
        raise NotFound("User not found")
    if event is None:
        raise NotFound("Event not found")
    refuse_if_closed(event, now)
    if pass_id is not None:
        # Issue 17: a clear 400 early (unlocked); checked again under the pass's lock below.
        passes.check_usable(session, pass_id=pass_id, user_id=user_id, event=event)
    paid = event.price > 0 and pass_id is None
    if paid and _active_holds(session, user_id, now) >= _hold_limit(user):
        raise TooManyRequests("Too many unpaid bookings; pay for or cancel one first"
                              if user.is_verified else UNVERIFIED_HOLD_LIMIT)
    pause.point("create_booking.checked")
    booking = Booking(
        user_id=user_id, event_id=event_id, notes=(notes or None),
        status=BookingStatus.CONFIRMED.value,
        # Free events need no payment: they are settled (completed) at once; so is a seat paid
        # with a pass credit (no money: amount 0, the pass purchase was the payment).
        payment_status=PaymentStatus.PENDING.value if paid else PaymentStatus.COMPLETED.value,
        amount=event.price if pass_id is None else Decimal("0.00"), currency=event.currency,
        hold_expires_at=now + hold if paid else None,
        # A pass booking keeps the policy too: its 100% tier decides whether the credit returns.
        refund_policy=cancellation_policy.snapshot(event) if event.price > 0 else None,
        paid_with=(PaidWith.PASS if pass_id is not None
                   else PaidWith.PAYMENT if paid else PaidWith.FREE).value,
        pass_purchase_id=pass_id,
        created_at=now, updated_at=now,
    )
    session.add(booking)
    # A second live booking by the same person fails here, on the partial unique index.
    session.flush()
    booking.booking_reference = reference_for(booking.id, now)  # type: ignore[arg-type]
    # The reference and the version the notice bumps go out in one UPDATE, with the outbox row.
    notify(session, Action.BOOKING_CREATED, booking, event,
           extra={"paid_with": PaidWith.PASS.value} if pass_id is not None else None)
    session.flush()
    # The seat is taken last: the event row stays locked from this UPDATE until the commit, so
    # every other booking for the same event waits only for that, not for the inserts above
    # (measured on a hot event in bench/RESULTS.md). Only when the event looks full are lapsed
    # holds given back first; "full" after that rolls everything back. The checks above were an
    # unlocked read: the event may have been cancelled or deleted since, which the UPDATE sees.
    if not _take_seat(session, event):
        event = lock_event(session, event_id)
        refuse_if_closed(event, clock.now())
        if not (_release_lapsed_holds(session, event, booking_in_flight=booking)
                and _take_seat(session, event)):
            raise BadRequest("Event is full")
    if pass_id is not None:
        # After the seat (event row locked) and the booking: the one lock order, event ->
        # bookings -> pass purchase, the same as cancelling takes it.
        passes.use_credit(session, pass_id=pass_id, user_id=user_id, booking=booking, event=event)
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


def cancellation_quote(*, user_id: int,
                       booking_id: int) -> tuple[BookingRow, cancellation_policy.Quote]:
    """What cancelling right now would refund, by the booking's policy: exactly what
    `cancel_booking` refunds at the same instant."""
    row = get_booking(user_id=user_id, booking_id=booking_id)
    now = clock.now()
    _check_cancellable(row.booking, row.event, now)
    return row, cancellation_policy.quote(row.booking, row.event, now)


def _check_cancellable(booking: Booking, event: Event, now: datetime) -> None:
    if booking.status == BookingStatus.CANCELLED.value:
        raise BadRequest("Booking is already cancelled")
    if booking.status != BookingStatus.CONFIRMED.value:
        raise BadRequest("A completed booking cannot be cancelled")
    if clock.as_utc(event.start_at) <= now:
        raise BadRequest("The event has already started; this booking can no longer be cancelled")


def cancel_booking(*, user_id: int, booking_id: int) -> CancelResult:
    with transaction() as session:
        locked = lock_booking_and_event(session, col(Booking.id) == booking_id)
        if locked is None or locked[0].user_id != user_id:
            raise NotFound("Booking not found")
        booking, event = locked
        pause.point("cancel_booking.locked")
        now = clock.now()
        _check_cancellable(booking, event, now)
        owed = cancellation_policy.quote(booking, event, now)
        credit_back = owed.refund_percent == 100
        pending_refund = _cancel_in(session, booking, event, reason="user_cancelled",
                                    refund_amount=owed.refund_amount, credit_back=credit_back)
        refund_id = pending_refund.id if pending_refund else None
    # The gateway is called only now, after the commit released every lock.
    processed = refund.process(refund_id) if refund_id is not None else None
    return CancelResult(booking, processed,
                        credit_returned=booking.pass_purchase_id is not None and credit_back)


def _cancel_in(session: Session, booking: Booking, event: Event, *, reason: str,
               action: Action = Action.BOOKING_CANCELLED,
               refund_amount: Decimal | None = None, credit_back: bool = True) -> Refund | None:
    """Cancel one confirmed booking inside the caller's transaction; record a refund if paid
    (`refund_amount` by the cancellation policy; the whole amount when not given). A seat paid
    with a pass credit gets the credit back (`credit_back`: the policy's 100% tier, or the
    event was cancelled) or forfeits it."""
    now = clock.now()
    booking.status = BookingStatus.CANCELLED.value
    booking.cancellation_reason = reason
    booking.cancelled_at = now
    booking.updated_at = now
    session.add(booking)
    _seat_freed(session, event.id)  # type: ignore[arg-type]
    waitlist.offer_freed_seats(session, event)  # under the event row lock the UPDATE took
    pending_refund = refund.record(session, booking, reason=reason, amount=refund_amount)
    credit = passes.settle_credit(session, booking, give_back=credit_back)
    session.flush()
    notify(session, action, booking, event, extra={
        "reason": reason,
        "refund": refund.summary(pending_refund),
        **({"pass_credit": credit.status} if credit is not None else {}),
    })
    return pending_refund


def cancel_event_bookings(session: Session, event: Event) -> tuple[int, list[int]]:
    """For the event-cancel process, with the event row locked: lock and cancel every live
    booking (a payment being applied to one of them waits, then sees it cancelled and refunds;
    one applied just before is seen here as paid and refunded). Returns how many were cancelled
    and the ids of the refunds to send."""
    live = session.exec(lock_for_update(session, (
        select(Booking).where(Booking.event_id == event.id,
                              Booking.status == BookingStatus.CONFIRMED.value)
        .order_by(col(Booking.id)).execution_options(populate_existing=True)
    ))).all()
    pause.point("cancel_event.bookings_read")
    refund_ids = []
    for booking in live:
        pending = _cancel_in(session, booking, event, reason="event_cancelled",
                             action=Action.EVENT_CANCELLED)
        if pending is not None:
            refund_ids.append(pending.id)
    return len(live), refund_ids  # type: ignore[return-value]


def complete_finished_bookings(limit: int = 500) -> int:
    """Background job: confirmed, paid bookings of events that have ended become completed.

    The ended events are locked first (FOR NO KEY UPDATE, in id order) and their bookings after
    them: the one lock order every writer follows, so this job cannot deadlock with a refund or
    an admin action that holds an event and waits for one of its bookings."""
    now = clock.now()
    settled = (
        col(Booking.status) == BookingStatus.CONFIRMED.value,
        col(Booking.payment_status) == PaymentStatus.COMPLETED.value,
    )
    with transaction() as session:
        with_bookings_to_complete = select(Booking.event_id).where(*settled)
        ended = (select(Event.id)
                 .where(col(Event.end_at) <= now, col(Event.id).in_(with_bookings_to_complete))
                 .order_by(col(Event.id)).limit(limit))
        event_ids = list(session.exec(lock_for_update(session, ended, key_share=True)).all())
        if not event_ids:
            return 0
        result = session.execute(
            sa.update(Booking)
            .where(*settled, col(Booking.event_id).in_(event_ids))
            .values(status=BookingStatus.COMPLETED.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- issue 14: unverified accounts hold fewer unpaid seats (seat squatting) ---------------------

UNVERIFIED_HOLD_LIMIT = ("Too many unpaid bookings: verify your email address to hold more than "
                         "one, or pay for or cancel the one you hold")


def _hold_limit(user: User) -> int:
    settings = get_settings()
    if user.is_verified:
        return settings.MAX_ACTIVE_HOLDS_PER_USER
    return min(settings.UNVERIFIED_MAX_ACTIVE_HOLDS, settings.MAX_ACTIVE_HOLDS_PER_USER)
