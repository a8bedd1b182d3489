"""The outbox: CRM notifications recorded in the same transaction as the change they report,
then delivered by a background worker with retries, so a crash or a CRM outage loses nothing.

Delivery claims rows with a short lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and commits
before calling the CRM, so no lock is held during the HTTP call. Each message carries an
idempotency key; if a worker dies after the CRM stored it but before marking it sent, the next
attempt is answered with the first result and no second email goes out.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from crm_booking import clock
from crm_booking.db import lock_for_update, transaction
from crm_booking.gateways.crm_client import post_notification
from crm_booking.models import Booking, Event, OutboxMessage, OutboxStatus, User
from crm_booking.observability import current_request_id, new_request_id, request_id_bound
from crm_booking.services import calendar
from crm_booking.services.views import absolute_url, money
from crm_booking.settings import get_settings

log = logging.getLogger(__name__)

# Set after a commit that wrote outbox rows, so the delivery loop runs at once instead of
# waiting for its next tick (keeps notification latency low).
wakeup = threading.Event()
LEASE = timedelta(seconds=30)


class Action(StrEnum):
    BOOKING_CREATED = "booking_created"
    PAYMENT_COMPLETED = "payment_completed"
    PAYMENT_FAILED = "payment_failed"
    BOOKING_CANCELLED = "booking_cancelled"
    HOLD_EXPIRED = "hold_expired"
    LATE_PAYMENT_REFUNDED = "late_payment_refunded"
    DUPLICATE_PAYMENT_REFUNDED = "duplicate_payment_refunded"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_UPDATED = "event_updated"
    REMINDER = "reminder"
    EVENT_MESSAGE = "event_message"


TICKET_ACTIONS = frozenset({Action.BOOKING_CREATED, Action.PAYMENT_COMPLETED, Action.REMINDER})


class WaitlistAction(StrEnum):
    """Waitlist notifications: not about a booking, so they carry `booking_id` 0 to the CRM."""

    OFFERED = "waitlist_offered"
    OFFER_EXPIRED = "waitlist_offer_expired"
    MESSAGE = "waitlist_message"  # the facilitator's words to everyone waiting


class PassAction(StrEnum):
    """Class pass notifications (issue 17): not about a booking, so `booking_id` 0 and
    `pass_purchase_id` set; the CRM shows the pass name where an event title would be."""

    PURCHASED = "pass_purchased"
    PAYMENT_REFUNDED = "pass_payment_refunded"


def enqueue_pass(session: Session, *, action: PassAction, purchase_id: int, key_suffix: str = "",
                 pass_name: str, attendee: User, facilitator: User,
                 extra: dict[str, Any]) -> OutboxMessage:
    """A pass notification in the caller's transaction (once per purchase, action and suffix)."""
    key = f"pass-{purchase_id}-{action.value}{('-' + key_suffix) if key_suffix else ''}"
    payload = {
        "booking_id": 0, "pass_purchase_id": purchase_id, "action": action.value,
        "idempotency_key": key,
        "user": {"id": attendee.id, "name": attendee.name, "email": attendee.email},
        "event": {"title": pass_name, "facilitator_id": facilitator.id,
                  "timezone": get_settings().DEFAULT_TIMEZONE,
                  "facilitator_name": facilitator.name, "facilitator_email": facilitator.email},
        "booking_url": absolute_url("/app/passes"),
        **extra,
    }
    message = OutboxMessage(idempotency_key=key, action=action.value, booking_id=None,
                            payload=json.dumps(payload, default=str),
                            request_id=current_request_id() or new_request_id())
    session.add(message)
    session.info["outbox_written"] = True
    return message


def event_info(event: Event, facilitator: User, *, show_link: bool) -> dict[str, Any]:
    """The event as the CRM renders it; the join link only for people whose seat is theirs
    (paid, or free), nobody else."""
    return {
        "id": event.id,
        "title": event.title,
        "facilitator_id": event.facilitator_id,
        "facilitator_name": facilitator.name,
        "facilitator_email": facilitator.email,
        "start_datetime": clock.as_utc(event.start_at).isoformat(),
        "end_datetime": clock.as_utc(event.end_at).isoformat(),
        "timezone": event.timezone,
        "location": event.location,
        "virtual_link": event.virtual_link if show_link else None,
    }


def enqueue_waitlist(session: Session, *, action: WaitlistAction, entry_id: int, event: Event,
                     person: User, facilitator: User, extra: dict[str, Any],
                     key_suffix: str | None = None) -> None:
    """A waitlist notification, in the caller's transaction (one per entry and action, or per
    entry, action and `key_suffix` for what can happen more than once, like messages)."""
    key = f"waitlist-{entry_id}-{action.value}" + (f"-{key_suffix}" if key_suffix else "")
    payload = {
        "booking_id": 0, "waitlist_entry_id": entry_id, "action": action.value,
        "idempotency_key": key,
        "user": {"id": person.id, "name": person.name, "email": person.email},
        "event": event_info(event, facilitator, show_link=False), **extra,
    }
    _write_outbox(session, key=key, action=action.value, booking_id=None, payload=payload)


def build_payload(
    *, action: Action, booking: Booking, event: Event, attendee: User, facilitator: User,
    idempotency_key: str, extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The documented /notify fields plus what the emails need."""
    return {
        "booking_id": booking.id,
        "booking_reference": booking.booking_reference,
        "action": action.value,
        "idempotency_key": idempotency_key,
        "user": {"id": attendee.id, "name": attendee.name, "email": attendee.email},
        "event": event_info(event, facilitator, show_link=calendar.is_secured(booking)),
        "amount": money(booking.amount),
        "currency": booking.currency,
        "status": booking.status,
        "payment_status": booking.payment_status,
        **_receipt_link(action, booking),
        **_ticket(action, booking),
        **_cancellation_message(action, event),
        **_attendee_links(booking, event),
        **_refund_policy(action, booking, event),
        **(extra or {}),
    }


def _ticket(action: Action, booking: Booking) -> dict[str, Any]:
    """Confirmations of a seat that is the attendee's carry the ticket; the CRM draws its QR."""
    if action not in TICKET_ACTIONS or booking.payment_status != "completed" or booking.id is None:
        return {}
    from crm_booking.services.checkin import ticket_code

    return {"ticket_code": ticket_code(booking.id)}


def _cancellation_message(action: Action, event: Event) -> dict[str, Any]:
    """The facilitator's own words, when they cancelled the event with a message."""
    if action is not Action.EVENT_CANCELLED or not event.cancellation_message:
        return {}
    return {"message": event.cancellation_message}


def _attendee_links(booking: Booking, event: Event) -> dict[str, Any]:
    """Every email links to the booking (and the facilitator's to the attendee list); an
    unpaid hold also to paying for it, which the CRM shows only while the hold lasts. The
    invite's SEQUENCE is counted here, where the changes happen."""
    from crm_booking.services import payment

    links: dict[str, Any] = {
        "booking_url": calendar.booking_page_url(booking),
        "attendees_url": absolute_url(f"/app/dashboard/events/{event.id}"),
        "ics_sequence": calendar.invite_sequence(booking, event),
    }
    if payment.needs_payment(booking) and booking.hold_expires_at is not None:
        links["pay_url"] = payment.checkout_url(booking.booking_reference or "")
        links["hold_expires_at"] = clock.as_utc(booking.hold_expires_at).isoformat()
    return links


def _refund_policy(action: Action, booking: Booking, event: Event) -> dict[str, Any]:
    """The confirming emails state the cancellation policy the booking was made under."""
    if action not in (Action.BOOKING_CREATED, Action.PAYMENT_COMPLETED):
        return {}
    from crm_booking.services.cancellation_policy import booking_policy_text

    text = booking_policy_text(booking, event)
    return {"refund_policy_text": text} if text else {}


def _receipt_link(action: Action, booking: Booking) -> dict[str, Any]:
    """The payment email is the receipt email: it links to the numbered PDF receipt."""
    if action is not Action.PAYMENT_COMPLETED:
        return {}
    from crm_booking.services.receipts import email_link

    return {"receipt_url": email_link(booking.booking_reference)}


def enqueue(
    session: Session, *, action: Action, booking: Booking, event: Event, attendee: User,
    facilitator: User, key_suffix: str = "", extra: dict[str, Any] | None = None,
) -> None:
    """Record a notification in the caller's transaction. The key makes a repeat harmless:
    the same (booking, action, suffix) is recorded once and the CRM sends it once.

    Every notified change is a new version of the booking (the caller holds its row lock), so
    the invite SEQUENCE sent with it grows in the order the changes were written."""
    booking.version = int(booking.version or 0) + 1
    session.add(booking)
    key = f"booking-{booking.id}-{action.value}{('-' + key_suffix) if key_suffix else ''}"
    payload = build_payload(
        action=action, booking=booking, event=event, attendee=attendee, facilitator=facilitator,
        idempotency_key=key, extra=extra,
    )
    _write_outbox(session, key=key, action=action.value, booking_id=booking.id, payload=payload)


_INSERT_OUTBOX = sa.insert(OutboxMessage.__table__)  # type: ignore[attr-defined]


def _outbox_row(*, key: str, action: str, booking_id: int | None,
                payload: dict[str, Any]) -> dict[str, Any]:
    now = clock.now()
    return {
        "idempotency_key": key, "action": action, "booking_id": booking_id,
        "payload": json.dumps(payload, default=str), "status": OutboxStatus.PENDING.value,
        "attempts": 0, "next_attempt_at": now, "created_at": now,
        # UI events and background jobs have no HTTP request: they get an id of their own.
        "request_id": current_request_id() or new_request_id(),
    }


def _write_outbox(session: Session, *, key: str, action: str, booking_id: int | None,
                  payload: dict[str, Any]) -> None:
    """The row, as a Core INSERT in the caller's transaction, at once. Only the delivery job
    reads it back, so no ORM object is built and flushed for it (a sixth of the CPU of a
    booking; bench/README.md). A repeated key fails here, on the unique index, as it did in
    the flush."""
    session.connection().execute(_INSERT_OUTBOX, _outbox_row(
        key=key, action=action, booking_id=booking_id, payload=payload))
    session.info["outbox_written"] = True


def write_outbox_once(session: Session, *, key: str, action: str, booking_id: int | None,
                      payload: dict[str, Any]) -> bool:
    """The row unless one with this key exists (a job that may run twice, on two workers:
    reminders). True when this call wrote it."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(OutboxMessage)  # type: ignore[attr-defined]
                 .values(**_outbox_row(key=key, action=action, booking_id=booking_id,
                                       payload=payload))
                 .on_conflict_do_nothing(index_elements=["idempotency_key"]))
    written = bool(session.connection().execute(statement).rowcount)
    if written:
        session.info["outbox_written"] = True
    return written


@sa_event.listens_for(Session, "after_commit")
def _wake_delivery(session: Session) -> None:
    if session.info.pop("outbox_written", False):
        wakeup.set()


# --- delivery ---------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    settings = get_settings()
    seconds = settings.OUTBOX_BACKOFF_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.OUTBOX_BACKOFF_MAX_SECONDS))


def _claim(limit: int) -> list[OutboxMessage]:
    """Lease due messages to this worker; commit before any network call."""
    with transaction() as session:
        now = clock.now()
        earlier = sa.orm.aliased(OutboxMessage)
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING.value,
                   col(OutboxMessage.next_attempt_at) <= now,
                   # One booking's notifications go in the order written: none is sent while
                   # an earlier one of the same booking is still undelivered (issue 13).
                   ~sa.exists().where(
                       col(earlier.booking_id) == col(OutboxMessage.booking_id),
                       col(earlier.id) < col(OutboxMessage.id),
                       col(earlier.status) == OutboxStatus.PENDING.value,
                   ))
            # Receipts, failures and cancellations go before "booking created" notices: under
            # a booking rush those are the bulk, and a paid receipt should not queue behind them.
            .order_by(sa.case((col(OutboxMessage.action) == Action.BOOKING_CREATED.value, 1), else_=0),
                      col(OutboxMessage.id))
            .limit(limit)
        )
        claimed = list(session.exec(lock_for_update(session, query, skip_locked=True)).all())
        for message in claimed:
            message.attempts += 1
            message.next_attempt_at = now + LEASE
            session.add(message)
        return claimed


def _record(message_id: int, *, ok: bool, permanent: bool, notification_id: int | None,
            detail: str, attempts: int) -> None:
    with transaction() as session:
        stored = session.get(OutboxMessage, message_id)
        if stored is None or stored.status != OutboxStatus.PENDING.value:
            return
        now = clock.now()
        if ok:
            stored.status = OutboxStatus.SENT.value
            stored.sent_at = now
            stored.crm_notification_id = notification_id
            stored.last_error = None
            if stored.action in ACCOUNT_EMAIL_ACTIONS:
                stored.payload = json.dumps({"link": "(removed after delivery)"})
        elif permanent:
            stored.status = OutboxStatus.DEAD.value
            stored.last_error = detail[:1000]
            log.error("notification %s refused by the CRM: %s", stored.idempotency_key, detail)
        else:
            stored.next_attempt_at = now + backoff(attempts)
            stored.last_error = detail[:1000]
        session.add(stored)


def _void_if_no_longer_wanted(message: OutboxMessage) -> bool:
    """A reminder whose booking was cancelled after it was written is not sent (it would
    remind someone of a seat they gave up). Voided rows stay, marked dead, with the reason."""
    if message.action != Action.REMINDER.value or message.booking_id is None:
        return False
    with transaction() as session:
        booking = session.get(Booking, message.booking_id)
        if booking is not None and booking.status != "cancelled":
            return False
        stored = session.get(OutboxMessage, message.id)
        if stored is not None and stored.status == OutboxStatus.PENDING.value:
            stored.status = OutboxStatus.DEAD.value
            stored.last_error = "not sent: the booking was cancelled first"
            session.add(stored)
    return True


# Issue 14: account emails (services/accounts.py) go to the CRM's /account-email; their payload
# holds a single-use link, which is wiped once the CRM has it.
ACCOUNT_EMAIL_ACTIONS = ("verify_email", "reset_password", "password_removed")


def _deliver_one(message: OutboxMessage) -> bool:
    if _void_if_no_longer_wanted(message):
        return False
    path = "/account-email" if message.action in ACCOUNT_EMAIL_ACTIONS else "/notify"
    with request_id_bound(message.request_id):
        delivery = post_notification(json.loads(message.payload), path=path,
                                     request_id=message.request_id)
        _record(message.id, ok=delivery.ok, permanent=delivery.permanent_failure,  # type: ignore[arg-type]
                notification_id=delivery.notification_id, detail=delivery.detail,
                attempts=message.attempts)
        if delivery.ok:
            log.info("notification %s delivered to the CRM", message.idempotency_key)
        else:
            log.warning("notification %s not delivered (attempt %d): %s",
                        message.idempotency_key, message.attempts, delivery.detail)
        return delivery.ok


def deliver_due(limit: int = 100) -> int:
    """Deliver what is due; returns how many were sent. Safe to run in every worker.

    The claimed batch is posted several at a time: one request after another could not keep up
    with a busy booking rate, and the queue (and the notification delay) would grow."""
    claimed = _claim(limit)
    if not claimed:
        return 0
    workers = min(get_settings().OUTBOX_CONCURRENCY, len(claimed))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox") as pool:
        sent = sum(pool.map(_deliver_one, claimed))
    if sent:
        wakeup.set()  # a delivered row may have been holding back the next one of its booking
    return sent


def pending_count() -> int:
    with transaction(write=False) as session:
        return int(session.exec(
            select(sa.func.count(col(OutboxMessage.id)))
            .where(OutboxMessage.status == OutboxStatus.PENDING.value)
        ).one())


