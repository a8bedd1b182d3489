"""Waitlist: people queue for a full event; every freed seat is offered to the first of them.

An offer holds its seat: `events.seats_taken` counts it, so no booking and no other offer can
take it. Offers are made ONLY by `offer_freed_seats`, called inside the transaction that frees
the seat while that transaction holds the event row (the UPDATE of `seats_taken`, or a
`FOR UPDATE`), so two transactions never offer the same seat and offers follow the queue.
Lock order, as everywhere: event → bookings → waitlist entries. See
docs/decisions/waitlist-and-policy.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import lock_for_update, read_session, transaction
from crm_booking.errors import BadRequest, NotFound
from crm_booking.models import Booking, BookingStatus, Event, User, WaitlistEntry, WaitlistStatus
from crm_booking.services import notifications
from crm_booking.services.notifications import WaitlistAction
from crm_booking.settings import get_settings

LIVE = (WaitlistStatus.WAITING.value, WaitlistStatus.OFFERED.value)


@dataclass(frozen=True)
class EntryRow:
    entry: WaitlistEntry
    position: int | None  # 1-based among those still waiting; None once no longer waiting
    event: Event | None = None
    user: User | None = None


# --- reading ----------------------------------------------------------------------------------


def waiting_count_subquery() -> Any:
    """`waitlist_count` of the event in the enclosing query."""
    return (
        select(sa.func.count(col(WaitlistEntry.id)))
        .where(WaitlistEntry.event_id == Event.id,
               WaitlistEntry.status == WaitlistStatus.WAITING.value)
        .correlate(Event)
        .scalar_subquery()
    )


def offered_count_subquery() -> Any:
    """Seats held by open offers of the event in the enclosing query (lapsed ones included:
    their seat passes to the next person, never back to the public)."""
    return (
        select(sa.func.count(col(WaitlistEntry.id)))
        .where(WaitlistEntry.event_id == Event.id,
               WaitlistEntry.status == WaitlistStatus.OFFERED.value)
        .correlate(Event)
        .scalar_subquery()
    )


def counts(session: Session, event_id: int) -> tuple[int, int]:
    """(waiting, offered) of one event."""
    rows = session.exec(
        select(WaitlistEntry.status, sa.func.count(col(WaitlistEntry.id)))
        .where(WaitlistEntry.event_id == event_id, col(WaitlistEntry.status).in_(LIVE))
        .group_by(col(WaitlistEntry.status))
    ).all()
    found = dict(rows)
    return found.get(WaitlistStatus.WAITING.value, 0), found.get(WaitlistStatus.OFFERED.value, 0)


def waiting_count(event_id: int) -> int:
    with read_session() as session:
        return counts(session, event_id)[0]


def _position(session: Session, entry: WaitlistEntry) -> int | None:
    if entry.status != WaitlistStatus.WAITING.value:
        return None
    ahead = session.exec(
        select(sa.func.count(col(WaitlistEntry.id))).where(
            WaitlistEntry.event_id == entry.event_id,
            WaitlistEntry.status == WaitlistStatus.WAITING.value,
            col(WaitlistEntry.id) < entry.id,
        )
    ).one()
    return int(ahead) + 1


def own_entries(*, user_id: int) -> list[EntryRow]:
    """A person's entries, newest first."""
    with read_session() as session:
        entries = session.exec(
            select(WaitlistEntry, Event).join(Event, col(Event.id) == WaitlistEntry.event_id)
            .where(WaitlistEntry.user_id == user_id)
            .order_by(col(WaitlistEntry.created_at).desc(), col(WaitlistEntry.id).desc())
        ).all()
        return [EntryRow(entry, _position(session, entry), event) for entry, event in entries]


def live_entry(*, user_id: int, event_id: int) -> EntryRow | None:
    """The person's place in this event's queue (waiting or offered), if any."""
    with read_session() as session:
        entry = _live_entry(session, user_id, event_id)
        return EntryRow(entry, _position(session, entry)) if entry is not None else None


def _live_entry(session: Session, user_id: int, event_id: int, *,
                lock: bool = False) -> WaitlistEntry | None:
    query = select(WaitlistEntry).where(WaitlistEntry.user_id == user_id,
                                        WaitlistEntry.event_id == event_id,
                                        col(WaitlistEntry.status).in_(LIVE))
    if lock:
        query = lock_for_update(session, query)
    return session.exec(query).first()


def event_queue(*, actor_id: int, event_id: int) -> list[EntryRow]:
    """For the facilitator: live entries first in queue order, then the rest."""
    from crm_booking.services import events

    events.check_can_manage(actor_id=actor_id, event_id=event_id)
    with read_session() as session:
        rows = session.exec(
            select(WaitlistEntry, User).join(User, col(User.id) == WaitlistEntry.user_id)
            .where(WaitlistEntry.event_id == event_id)
            .order_by(sa.case((col(WaitlistEntry.status) == WaitlistStatus.OFFERED.value, 0),
                              (col(WaitlistEntry.status) == WaitlistStatus.WAITING.value, 1),
                              else_=2),
                      col(WaitlistEntry.id))
        ).all()
        return [EntryRow(entry, _position(session, entry), None, user) for entry, user in rows]


# --- joining and leaving ----------------------------------------------------------------------


def _locked_event(session: Session, event_id: int) -> Event:
    event = session.exec(lock_for_update(session, select(Event).where(Event.id == event_id))).first()
    if event is None or event.deleted_at is not None:
        raise NotFound("Event not found")
    return event


def _open(event: Event, now: datetime) -> bool:
    return (event.is_active and event.cancelled_at is None and event.deleted_at is None
            and clock.as_utc(event.start_at) > now)


def join(*, user_id: int, event_id: int) -> EntryRow:
    now = clock.now()
    with transaction() as session:
        event = _locked_event(session, event_id)
        if not _open(event, now):
            raise BadRequest("Event is not open for booking")
        if _live_entry(session, user_id, event_id) is not None:
            raise BadRequest("You are already on the waitlist for this event")
        if _has_live_booking(session, user_id, event_id):
            raise BadRequest("You already have a booking for this event")
        waiting, _ = counts(session, event_id)
        if event.seats_taken < event.max_participants and waiting == 0:
            raise BadRequest("Seats are available; book instead")
        entry = WaitlistEntry(event_id=event_id, user_id=user_id, created_at=now, updated_at=now)
        session.add(entry)
        session.flush()
        # A seat freed by a path that could not offer it (none today) goes to the queue now.
        offer_freed_seats(session, event)
        return EntryRow(entry, _position(session, entry))


def _has_live_booking(session: Session, user_id: int, event_id: int) -> bool:
    return session.exec(
        select(Booking.id).where(Booking.user_id == user_id, Booking.event_id == event_id,
                                 Booking.status == BookingStatus.CONFIRMED.value)
    ).first() is not None


def leave(*, user_id: int, event_id: int) -> None:
    """Leave the queue; an open offer is given up and passes to the next person."""
    with transaction() as session:
        event = _locked_event(session, event_id)
        entry = _live_entry(session, user_id, event_id, lock=True)
        if entry is None:
            raise NotFound("You are not on the waitlist for this event")
        was_offered = entry.status == WaitlistStatus.OFFERED.value
        _close(session, entry, WaitlistStatus.LEFT)
        if was_offered:
            _release_offer_seat(session, event)
            offer_freed_seats(session, event)


def _close(session: Session, entry: WaitlistEntry, status: WaitlistStatus) -> None:
    entry.status = status.value
    entry.updated_at = clock.now()
    session.add(entry)
    session.flush()


def _release_offer_seat(session: Session, event: Event) -> None:
    session.execute(sa.update(Event).where(col(Event.id) == event.id)
                    .values(seats_taken=Event.seats_taken - 1))


# --- offers -----------------------------------------------------------------------------------


def offer_freed_seats(session: Session, event: Event) -> int:
    """Offer every free seat of `event` to the first people waiting, in joining order.

    Call it inside the transaction that freed the seat, after the UPDATE of the event row (or
    with the row locked FOR UPDATE): that lock makes every other offer, booking or cancel of
    the event wait, so the seats counted free here are really free and offered once."""
    now = clock.now()
    if not _open(event, now):
        return 0
    taken, capacity = session.execute(
        sa.select(col(Event.seats_taken), col(Event.max_participants)).where(col(Event.id) == event.id)
    ).one()
    free = capacity - taken
    if free <= 0:
        return 0
    first = session.exec(lock_for_update(session, (
        select(WaitlistEntry)
        .where(WaitlistEntry.event_id == event.id,
               WaitlistEntry.status == WaitlistStatus.WAITING.value)
        .order_by(col(WaitlistEntry.id)).limit(free)
    ))).all()
    expires = now + timedelta(minutes=get_settings().WAITLIST_OFFER_MINUTES)
    for entry in first:
        _take_seat_for_offer(session, event)
        entry.status = WaitlistStatus.OFFERED.value
        entry.offered_at = now
        entry.offer_expires_at = expires
        entry.updated_at = now
        session.add(entry)
        _notify(session, WaitlistAction.OFFERED, entry, event, {
            "offer_expires_at": expires.isoformat(), "offer_url": offer_url(event),
        })
    session.flush()
    return len(first)


def _take_seat_for_offer(session: Session, event: Event) -> None:
    result = session.execute(
        sa.update(Event)
        .where(col(Event.id) == event.id, col(Event.seats_taken) < col(Event.max_participants))
        .values(seats_taken=Event.seats_taken + 1)
    )
    # Counted free under the event lock just before: anything else is a broken invariant.
    assert result.rowcount == 1, "offered a seat that is not there"  # type: ignore[attr-defined]


def offer_url(event: Event) -> str:
    """The event page: it shows the offer with Accept (after signing in)."""
    return f"{get_settings().PUBLIC_BASE_URL.rstrip('/')}/app/events/{event.id}"


def _notify(session: Session, action: WaitlistAction, entry: WaitlistEntry, event: Event,
            extra: dict[str, Any]) -> None:
    person = session.get(User, entry.user_id)
    facilitator = session.get(User, event.facilitator_id)
    assert person is not None and facilitator is not None
    notifications.enqueue_waitlist(session, action=action, entry_id=entry.id,  # type: ignore[arg-type]
                                   event=event, person=person, facilitator=facilitator,
                                   extra=extra)


def close_for_event(session: Session, event: Event) -> None:
    """The event was cancelled: nobody waits any more; offered seats are released."""
    live = session.exec(lock_for_update(session, select(WaitlistEntry).where(
        WaitlistEntry.event_id == event.id, col(WaitlistEntry.status).in_(LIVE)))).all()
    for entry in live:
        if entry.status == WaitlistStatus.OFFERED.value:
            _release_offer_seat(session, event)
        _close(session, entry, WaitlistStatus.EXPIRED)


def expire_lapsed_offers(limit: int = 200) -> int:
    """Background job: lapsed offers expire and their seat goes to the next person, each
    event in its own short transaction under its row lock."""
    now = clock.now()
    with read_session() as session:
        lapsed = session.exec(
            select(WaitlistEntry.id, WaitlistEntry.event_id).where(
                WaitlistEntry.status == WaitlistStatus.OFFERED.value,
                col(WaitlistEntry.offer_expires_at) <= now,
            ).order_by(col(WaitlistEntry.id)).limit(limit)
        ).all()
    expired = 0
    for entry_id, event_id in lapsed:
        with transaction() as session:
            event = session.exec(lock_for_update(session, select(Event).where(Event.id == event_id))).one()
            entry = session.exec(lock_for_update(session, select(WaitlistEntry)
                                                 .where(WaitlistEntry.id == entry_id))).one()
            if entry.status != WaitlistStatus.OFFERED.value or not _lapsed(entry, clock.now()):
                continue  # accepted, left or already handled by another worker
            _close(session, entry, WaitlistStatus.EXPIRED)
            _release_offer_seat(session, event)
            _notify(session, WaitlistAction.OFFER_EXPIRED, entry, event, {})
            offer_freed_seats(session, event)
            expired += 1
    return expired


def _lapsed(entry: WaitlistEntry, now: datetime) -> bool:
    return entry.offer_expires_at is not None and clock.as_utc(entry.offer_expires_at) <= now


# --- accepting --------------------------------------------------------------------------------


def accept(*, user_id: int, entry_id: int) -> Any:
    """The offered seat becomes a booking (a paid event: the usual unpaid hold, then checkout).
    Returns the booking service's BookingRow."""
    from crm_booking.services import booking

    with read_session() as session:
        found = session.get(WaitlistEntry, entry_id)
        if found is None or found.user_id != user_id:
            raise NotFound("Waitlist entry not found")
        event_id = found.event_id
    try:
        with transaction() as session:
            event = _locked_event(session, event_id)
            entry = session.exec(lock_for_update(session, select(WaitlistEntry)
                                                 .where(WaitlistEntry.id == entry_id))).one()
            if entry.status != WaitlistStatus.OFFERED.value:
                raise BadRequest("This waitlist entry has not been offered a seat")
            if _lapsed(entry, clock.now()):
                raise BadRequest("Offer expired")
            # The offer's seat is handed to the booking: released and taken again under the
            # same event lock, so nobody else can get it in between.
            _release_offer_seat(session, event)
            row = booking.create_in(session, user_id=user_id, event_id=event_id)
            entry.booking_id = row.booking.id
            _close(session, entry, WaitlistStatus.ACCEPTED)
            return row
    except sa.exc.IntegrityError as exc:
        raise BadRequest("You already have a booking for this event") from exc
