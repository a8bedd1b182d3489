"""Talking to attendees: a facilitator's message to everyone booked on an event, or to everyone
on its waitlist.

Sending writes the message row and one outbox row per recipient in one transaction (the event
row locked first, as everywhere), so the CRM gets each exactly once and a crash loses none. The
booked audience is the live seats: confirmed or completed bookings that are paid or free; unpaid
holds are not told anything (they are not booked yet). The waitlist audience is everyone still
in the queue: waiting, or holding an offer they have not answered yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from crm_booking.db import read_session, transaction
from crm_booking.errors import ValidationFailed
from crm_booking.models import (
    Booking,
    BookingStatus,
    Event,
    EventMessage,
    PaymentStatus,
    User,
    WaitlistEntry,
    WaitlistStatus,
)
from crm_booking.services import events, notifications
from crm_booking.services.notifications import Action, WaitlistAction

MAX_SUBJECT = 200
MAX_BODY = 5000
AUDIENCE_BOOKED = "booked"
AUDIENCE_WAITLIST = "waitlist"
AUDIENCES = (AUDIENCE_BOOKED, AUDIENCE_WAITLIST)


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str


@dataclass(frozen=True)
class Preview:
    """What each recipient will read, and how many will get it."""

    email_subject: str
    subject: str
    body: str
    recipients: int


@dataclass(frozen=True)
class SentMessage:
    id: int
    subject: str
    body: str
    audience: str
    recipients: int
    created_at: datetime


def _draft(subject: object, body: object) -> Draft:
    problems: dict[str, str] = {}
    clean_subject = subject.strip() if isinstance(subject, str) else ""
    clean_body = body.strip() if isinstance(body, str) else ""
    if not clean_subject:
        problems["subject"] = "Write a subject"
    elif len(clean_subject) > MAX_SUBJECT:
        problems["subject"] = f"Must be at most {MAX_SUBJECT} characters"
    if not clean_body:
        problems["body"] = "Write the message"
    elif len(clean_body) > MAX_BODY:
        problems["body"] = f"Must be at most {MAX_BODY} characters"
    if problems:
        raise ValidationFailed(problems)
    return Draft(" ".join(clean_subject.split()), clean_body)


def _audience(audience: object) -> str:
    if audience not in AUDIENCES:
        raise ValidationFailed({"audience": "Must be one of: " + ", ".join(AUDIENCES)})
    return str(audience)


def _waiting(session: Session, event_id: int) -> list[tuple[WaitlistEntry, User]]:
    rows = session.exec(
        select(WaitlistEntry, User).join(User, col(User.id) == WaitlistEntry.user_id)
        .where(WaitlistEntry.event_id == event_id,
               col(WaitlistEntry.status).in_([WaitlistStatus.WAITING.value, WaitlistStatus.OFFERED.value]))
        .order_by(col(WaitlistEntry.id))
    ).all()
    return [(entry, user) for entry, user in rows]


def _count(session: Session, event_id: int, audience: str) -> int:
    if audience == AUDIENCE_WAITLIST:
        return len(_waiting(session, event_id))
    return len(_recipients(session, event_id))


def _recipients(session: Session, event_id: int) -> list[tuple[Booking, User]]:
    rows = session.exec(
        select(Booking, User).join(User, col(User.id) == Booking.user_id)
        .where(Booking.event_id == event_id,
               col(Booking.status).in_([BookingStatus.CONFIRMED.value, BookingStatus.COMPLETED.value]),
               Booking.payment_status == PaymentStatus.COMPLETED.value)
        .order_by(col(Booking.id))
    ).all()
    return [(booking, user) for booking, user in rows]


def preview(*, actor_id: int, event_id: int, subject: object, body: object,
            audience: object = AUDIENCE_BOOKED) -> Preview:
    events.check_can_manage(actor_id=actor_id, event_id=event_id)
    draft = _draft(subject, body)
    chosen = _audience(audience)
    with read_session() as session:
        event = session.get(Event, event_id)
        assert event is not None
        count = _count(session, event_id, chosen)
    return Preview(f"{event.title}: {draft.subject}", draft.subject, draft.body, count)


def send(*, actor_id: int, event_id: int, subject: object, body: object,
         audience: object = AUDIENCE_BOOKED) -> SentMessage:
    with transaction() as session:
        event = events.lock_managed_event(session, actor_id=actor_id, event_id=event_id)
        draft = _draft(subject, body)
        chosen = _audience(audience)
        facilitator = session.get(User, event.facilitator_id)
        assert facilitator is not None
        # One read of the audience: the count stored with the message is who was written to.
        waiting = _waiting(session, event_id) if chosen == AUDIENCE_WAITLIST else []
        booked = _recipients(session, event_id) if chosen == AUDIENCE_BOOKED else []
        message = EventMessage(event_id=event_id, author_id=actor_id, subject=draft.subject,
                               body=draft.body, audience=chosen, recipients=len(waiting) + len(booked))
        session.add(message)
        session.flush()
        words = {"subject": draft.subject, "message": draft.body}
        for entry, person in waiting:
            assert entry.id is not None
            notifications.enqueue_waitlist(
                session, action=WaitlistAction.MESSAGE, entry_id=entry.id, event=event,
                person=person, facilitator=facilitator, extra=words, key_suffix=f"{message.id}")
        for booking, attendee in booked:
            notifications.enqueue(
                session, action=Action.EVENT_MESSAGE, booking=booking, event=event,
                attendee=attendee, facilitator=facilitator, key_suffix=f"{message.id}",
                extra=words)
        return _sent(message)


def list_messages(*, actor_id: int, event_id: int) -> list[SentMessage]:
    events.check_can_manage(actor_id=actor_id, event_id=event_id)
    with read_session() as session:
        rows = session.exec(select(EventMessage).where(EventMessage.event_id == event_id)
                            .order_by(col(EventMessage.created_at).desc(), col(EventMessage.id).desc())
                            ).all()
        return [_sent(row) for row in rows]


def _sent(row: EventMessage) -> SentMessage:
    assert row.id is not None
    return SentMessage(row.id, row.subject, row.body, row.audience, row.recipients, row.created_at)
