"""Recording notifications, delivering their emails once, and reporting what happened.

Blocking code (database + smtplib): the API runs these functions in a worker thread.
"""

import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from crm_service.db import session_scope
from crm_service.emails import OutgoingEmail, notification_emails
from crm_service.mailer import DeliveryResult, Mailer
from crm_service.models import DeliveryAttempt, Notification, utc_now
from crm_service.payloads import NotifyRequest

POLL_SECONDS = 0.1


@dataclass
class NotifyOutcome:
    notification_id: int
    status: str  # sent | saved | failed | pending
    duplicate: bool
    response: str | None


class NotificationService:
    def __init__(self, mailer: Mailer, sender: str, timeout_seconds: float) -> None:
        self.mailer = mailer
        self.sender = sender
        # A duplicate waits this long for the request already delivering the same key.
        self.wait_seconds = min(timeout_seconds + 5, 20)
        # A "pending" row older than this was abandoned (crash mid-send) and may be retaken.
        self.stale_after = timedelta(seconds=max(120, timeout_seconds * 8))

    def notify(self, request: NotifyRequest, payload_json: str) -> NotifyOutcome:
        """Record and deliver; with a known idempotency key, replay or retry instead."""
        notification_id, created = self._record(request, payload_json)
        if created or self._claim_for_retry(notification_id):
            return self._deliver(notification_id, duplicate=not created)
        return self._wait_for_result(notification_id)

    def _record(self, request: NotifyRequest, payload_json: str) -> tuple[int, bool]:
        """Insert a pending row; the unique key makes concurrent repeats find the same row."""
        try:
            with session_scope() as session:
                notification = Notification(
                    idempotency_key=request.idempotency_key,
                    booking_id=request.booking_id,
                    action=request.action,
                    payload=payload_json,
                    status="pending",
                    claimed_at=utc_now(),
                )
                session.add(notification)
                session.flush()
                assert notification.id is not None
                return notification.id, True
        except IntegrityError:
            if request.idempotency_key is None:
                raise
        with session_scope() as session:
            existing = session.exec(
                select(Notification.id).where(Notification.idempotency_key == request.idempotency_key)
            ).one()
            assert existing is not None
            return existing, False

    def _claim_for_retry(self, notification_id: int) -> bool:
        """Take over a failed (or abandoned) delivery; only one request can win."""
        now = utc_now()
        claim = (
            sa.update(Notification)
            .where(col(Notification.id) == notification_id)
            .where(
                (col(Notification.status) == "failed")
                | (
                    (col(Notification.status) == "pending")
                    & (col(Notification.claimed_at) < now - self.stale_after)
                )
            )
            .values(status="pending", claimed_at=now)
        )
        with session_scope() as session:
            return session.connection().execute(claim).rowcount == 1

    def _deliver(self, notification_id: int, duplicate: bool) -> NotifyOutcome:
        with session_scope() as session:
            notification = session.get_one(Notification, notification_id)
            delivered = _delivered_recipients(session, notification_id)
            sequence = _earlier_notifications(session, notification)
        try:
            request = NotifyRequest.model_validate_json(notification.payload)
            if request.ics_sequence is not None:
                sequence = request.ics_sequence
            emails = notification_emails(request, sequence, self.sender)
            due = [e for e in emails if e.recipient not in delivered]
            results = self.mailer.deliver([(e.recipient, e.message) for e in due])
        except Exception:
            # Never leave the row "pending" because of our own bug; a retry may succeed.
            self._finish(notification_id, [], "failed", "Internal error while sending")
            raise
        status, response = _summarise(emails, results)
        self._finish(notification_id, results, status, response, emails)
        return NotifyOutcome(notification_id, status, duplicate, response)

    def _finish(
        self,
        notification_id: int,
        results: list[DeliveryResult],
        status: str,
        response: str,
        emails: list[OutgoingEmail] | None = None,
    ) -> None:
        with session_scope() as session:
            notification = session.get_one(Notification, notification_id)
            for result in results:
                session.add(_attempt_row(notification_id, result))
            notification.status = status
            notification.response = response
            notification.attempts += 1
            notification.claimed_at = None
            if emails:
                notification.recipients = ", ".join(e.recipient for e in emails)
            if status == "sent":
                notification.sent_at = utc_now()
            session.add(notification)

    def _wait_for_result(self, notification_id: int) -> NotifyOutcome:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            with session_scope() as session:
                notification = session.get_one(Notification, notification_id)
            if notification.status != "pending" or time.monotonic() > deadline:
                return NotifyOutcome(notification_id, notification.status, True, notification.response)
            time.sleep(POLL_SECONDS)

    def list_notifications(self, limit: int, offset: int) -> tuple[list[Notification], int]:
        with session_scope() as session:
            total = session.exec(select(func.count()).select_from(Notification)).one()
            rows = session.exec(
                select(Notification)
                .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
                .limit(limit)
                .offset(offset)
            ).all()
            return list(rows), total

    def delete_notification(self, notification_id: int) -> bool:
        with session_scope() as session:
            notification = session.get(Notification, notification_id)
            if notification is None:
                return False
            session.delete(notification)
            return True

    def clear_notifications(self) -> int:
        # Delivery attempts go with their notification (ON DELETE CASCADE).
        with session_scope() as session:
            return session.connection().execute(sa.delete(Notification)).rowcount


def _delivered_recipients(session: sa.orm.Session, notification_id: int) -> set[str]:
    rows = session.execute(
        select(DeliveryAttempt.recipient)
        .where(DeliveryAttempt.notification_id == notification_id)
        .where(col(DeliveryAttempt.success).is_(True))
    ).scalars()
    return set(rows)


def _earlier_notifications(session: sa.orm.Session, notification: Notification) -> int:
    """The calendar SEQUENCE: each later notification for a booking outranks earlier ones."""
    return session.execute(
        select(func.count())
        .select_from(Notification)
        .where(Notification.booking_id == notification.booking_id)
        .where(col(Notification.id) < notification.id)
    ).scalar_one()


def _attempt_row(notification_id: int, result: DeliveryResult) -> DeliveryAttempt:
    error = result.error
    if result.saved_to is not None:
        error = f"SMTP not configured; saved to {result.saved_to}"
    return DeliveryAttempt(
        notification_id=notification_id,
        recipient=result.recipient,
        success=result.success,
        error=error,
    )


def _summarise(emails: list[OutgoingEmail], results: list[DeliveryResult]) -> tuple[str, str]:
    """Final status and the human-readable `response` stored with the notification."""
    saved = [str(r.saved_to) for r in results if r.saved_to is not None]
    if saved:
        return "saved", "SMTP not configured; email saved locally to " + ", ".join(saved)
    failures = [r for r in results if not r.success]
    if failures:
        errors = "; ".join(dict.fromkeys(f"{r.recipient}: {r.error}" for r in failures))
        return "failed", f"Email delivery failed: {errors}"
    recipients = ", ".join(e.recipient for e in emails)
    return "sent", f"Email sent successfully to {recipients}"
