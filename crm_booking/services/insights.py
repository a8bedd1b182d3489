"""Numbers at a glance for a facilitator: totals for a period, bookings and revenue per day, and
their events in upcoming / past / cancelled pages with a search (never one long list).

What the period means (docs/decisions/facilitator-day.md): bookings and money count when they
happened (a booking when it was made, a payment when captured, a refund when processed);
fill rate and no-shows are about the events that started in the period. Money is net of
refunds: captured payments minus processed refunds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import read_session
from crm_booking.errors import ValidationFailed
from crm_booking.models import Booking, BookingStatus, Event, Payment, PaymentStatus, Refund, User
from crm_booking.services import events, waitlist
from crm_booking.settings import get_settings

PAGE_SIZE = 12
MAX_PERIOD_DAYS = 366
SECURED = (PaymentStatus.COMPLETED.value, PaymentStatus.REFUNDED.value)


class Tab(StrEnum):
    UPCOMING = "upcoming"
    PAST = "past"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class EventPage:
    rows: list[events.EventRow]
    revenue: dict[int, Decimal]
    has_more: bool
    total_events: int  # all of the facilitator's events, whatever the tab


@dataclass(frozen=True)
class DayPoint:
    day: date
    bookings: int
    revenue: Decimal


@dataclass(frozen=True)
class Overview:
    since: datetime
    until: datetime
    revenue: Decimal
    bookings: int
    seats_taken: int
    capacity: int
    no_shows: int
    days: list[DayPoint]

    @property
    def fill_rate(self) -> float | None:
        return self.seats_taken / self.capacity if self.capacity else None


# --- events in tabs ---------------------------------------------------------------------------


def _tab_filter(tab: Tab, now: datetime) -> tuple[Any, list[Any]]:
    if tab is Tab.CANCELLED:
        return col(Event.cancelled_at).is_not(None), [col(Event.cancelled_at).desc(), col(Event.id).desc()]
    live = col(Event.cancelled_at).is_(None)
    if tab is Tab.PAST:
        return sa.and_(live, col(Event.start_at) <= now), [col(Event.start_at).desc(), col(Event.id).desc()]
    return sa.and_(live, col(Event.start_at) > now), [col(Event.start_at), col(Event.id)]


def event_page(*, actor_id: int, tab: str = Tab.UPCOMING.value, search: str = "",
               page: int = 0, page_size: int = PAGE_SIZE) -> EventPage:
    """One page of the facilitator's events in a tab, searched by title, description or place.
    One query for the page (held seats included) and one for its revenue: fast at any count."""
    actor = events.require_facilitator(actor_id, "Only facilitators can view their events")
    try:
        chosen = Tab(tab)
    except ValueError as exc:
        raise ValidationFailed({"tab": "Must be upcoming, past or cancelled"}) from exc
    now = clock.now()
    where, order = _tab_filter(chosen, now)
    query = (select(Event, events.held_subquery(now), waitlist.waiting_count_subquery())
             .where(Event.facilitator_id == actor.id, col(Event.deleted_at).is_(None), where))
    for word in events.search_words(search[:events.MAX_SEARCH_LENGTH]):
        query = query.where(events.event_search_text().like(events.like_pattern(word), escape="\\"))
    size = max(1, min(page_size, events.MAX_PAGE))
    query = query.order_by(*order).limit(size + 1).offset(max(page, 0) * size)
    with read_session() as session:
        found = list(session.exec(query).all())
        total = session.exec(select(sa.func.count(col(Event.id))).where(
            Event.facilitator_id == actor.id, col(Event.deleted_at).is_(None))).one()
        rows = [events.EventRow(event, actor, held, waiting) for event, held, waiting in found[:size]]
        revenue = _revenue(session, [r.event.id for r in rows if r.event.id])
    return EventPage(rows, revenue, len(found) > size, int(total))


def _revenue(session: Session, event_ids: list[int]) -> dict[int, Decimal]:
    """Money kept per event: captured payments minus processed refunds."""
    if not event_ids:
        return {}
    paid = session.exec(
        select(Booking.event_id, sa.func.sum(Payment.amount))
        .join(Booking, col(Booking.id) == Payment.booking_id)
        .where(col(Booking.event_id).in_(event_ids), Payment.status == "captured")
        .group_by(col(Booking.event_id))).all()
    refunded = dict(session.exec(
        select(Booking.event_id, sa.func.sum(Refund.amount))
        .join(Booking, col(Booking.id) == Refund.booking_id)
        .where(col(Booking.event_id).in_(event_ids), Refund.status == "processed")
        .group_by(col(Booking.event_id))).all())
    return {event_id: Decimal(total or 0) - Decimal(refunded.get(event_id) or 0)
            for event_id, total in paid}


# --- totals and the chart ---------------------------------------------------------------------


def overview(*, actor_id: int, days: int) -> Overview:
    actor = events.require_facilitator(actor_id, "Only facilitators can view their events")
    if not 1 <= days <= MAX_PERIOD_DAYS:
        raise ValidationFailed({"days": f"Must be between 1 and {MAX_PERIOD_DAYS}"})
    until = clock.now()
    since = until - timedelta(days=days)
    mine = select(Event.id).where(Event.facilitator_id == actor.id).scalar_subquery()
    with read_session() as session:
        made = session.exec(
            select(Booking.created_at).where(col(Booking.event_id).in_(mine),
                                             col(Booking.payment_status).in_(SECURED),
                                             col(Booking.created_at) >= since)).all()
        captured = session.exec(
            select(col(Payment.created_at), col(Payment.amount))
            .join(Booking, col(Booking.id) == Payment.booking_id)
            .where(col(Booking.event_id).in_(mine), Payment.status == "captured",
                   col(Payment.created_at) >= since)).all()
        refunds = session.exec(
            select(col(Refund.updated_at), col(Refund.amount))
            .join(Booking, col(Booking.id) == Refund.booking_id)
            .where(col(Booking.event_id).in_(mine), Refund.status == "processed",
                   col(Refund.updated_at) >= since)).all()
        seats, capacity = _fill(session, actor, since, until)
        no_shows = _no_shows(session, actor, since, until)
    series = _per_day(since, until, made, captured, refunds)
    revenue = sum((Decimal(a) for _, a in captured), Decimal(0)) - sum(
        (Decimal(a) for _, a in refunds), Decimal(0))
    return Overview(since, until, revenue, len(made), seats, capacity, no_shows, series)


def _fill(session: Session, actor: User, since: datetime, until: datetime) -> tuple[int, int]:
    """Seats taken and offered, over the events that started in the period (not cancelled)."""
    started = (select(Event.id, Event.max_participants)
               .where(Event.facilitator_id == actor.id, col(Event.deleted_at).is_(None),
                      col(Event.cancelled_at).is_(None), col(Event.start_at) >= since,
                      col(Event.start_at) <= until))
    rows = session.exec(started).all()
    if not rows:
        return 0, 0
    taken = session.exec(
        select(sa.func.count(col(Booking.id)))
        .where(col(Booking.event_id).in_([r[0] for r in rows]),
               events.held_seats_clause(until))).one()
    return int(taken), sum(int(r[1]) for r in rows)


def _no_shows(session: Session, actor: User, since: datetime, until: datetime) -> int:
    """Paid (or free) seats never checked in, at events that ended in the period and where the
    door list was used (an event nobody checked in at says nothing about who came)."""
    checked = (select(Booking.event_id).where(col(Booking.checked_in_at).is_not(None)))
    ended = (select(Event.id).where(
        Event.facilitator_id == actor.id, col(Event.deleted_at).is_(None),
        col(Event.cancelled_at).is_(None), col(Event.start_at) >= since,
        col(Event.end_at) <= until, col(Event.id).in_(checked)))
    return int(session.exec(
        select(sa.func.count(col(Booking.id))).where(
            col(Booking.event_id).in_(ended), col(Booking.checked_in_at).is_(None),
            col(Booking.status).in_([BookingStatus.CONFIRMED.value, BookingStatus.COMPLETED.value]),
            Booking.payment_status == PaymentStatus.COMPLETED.value)).one())


def _per_day(since: datetime, until: datetime, made: Any, captured: Any, refunds: Any) -> list[DayPoint]:
    """Days in the app's default zone (where the facilitators are), every day present."""
    zone = ZoneInfo(get_settings().DEFAULT_TIMEZONE)

    def day(value: datetime) -> date:
        return clock.as_utc(value).astimezone(zone).date()

    first, last = day(since), day(until)
    bookings = {first + timedelta(days=n): 0 for n in range((last - first).days + 1)}
    money = dict.fromkeys(bookings, Decimal(0))
    for created in made:
        bookings[day(created)] = bookings.get(day(created), 0) + 1
    for at, amount in captured:
        money[day(at)] = money.get(day(at), Decimal(0)) + Decimal(amount)
    for at, amount in refunds:
        money[day(at)] = money.get(day(at), Decimal(0)) - Decimal(amount)
    return [DayPoint(d, bookings.get(d, 0), money.get(d, Decimal(0))) for d in sorted(bookings)]
