"""The admin console (issue 20): people, refunds and notifications that need a hand, payments as
the gateway sees them, and the record of every admin action.

Each change and its `admin_actions` row are written in one transaction. Only admins get in:
every function checks the actor's role first (403 for anyone else).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from crm_booking import clock
from crm_booking.db import lock_for_update, read_session, transaction
from crm_booking.errors import BadRequest, Forbidden, NotFound
from crm_booking.gateways.payments import GatewayFailure, get_gateway
from crm_booking.models import (
    AdminAction,
    Booking,
    OutboxMessage,
    OutboxStatus,
    Payment,
    Refund,
    Role,
    User,
)
from crm_booking.services import refund as refunds
from crm_booking.services.accounts import end_all_sessions

log = logging.getLogger(__name__)

MAX_PAGE = 100
DEFAULT_PAGE = 20
# Payments shown with their gateway state: each one is one call to the gateway.
MAX_PAYMENTS = 50
UNAVAILABLE = "unavailable"

_RANK = {Role.USER.value: 0, Role.FACILITATOR.value: 1, Role.ADMIN.value: 2}


# --- who may ----------------------------------------------------------------------------------


def _admin(session: Session, actor_id: int) -> User:
    actor = session.get(User, actor_id)
    if actor is None or not actor.is_active or actor.role != Role.ADMIN.value:
        raise Forbidden("Only admins can use the admin console")
    return actor


def check_admin(actor_id: int) -> None:
    """Refuse (403) before a request's content is looked at."""
    with read_session() as session:
        _admin(session, actor_id)


def is_admin(user_id: int) -> bool:
    with read_session() as session:
        user = session.get(User, user_id)
        return user is not None and user.is_active and user.role == Role.ADMIN.value


def _record(session: Session, admin: User, action: str, target_type: str, target_id: int,
            detail: str | None = None) -> None:
    session.add(AdminAction(admin_id=admin.id, action=action,  # type: ignore[arg-type]
                            target_type=target_type, target_id=target_id,
                            detail=detail[:500] if detail else None))


# --- people -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int


def find_users(*, actor_id: int, query: str = "", limit: int = DEFAULT_PAGE,
               offset: int = 0) -> UserPage:
    """Users whose email or name contains `query` (any case), newest first."""
    with read_session() as session:
        _admin(session, actor_id)
        condition: sa.ColumnElement[bool] = sa.true()
        if query.strip():
            pattern = f"%{_escape_like(query.strip().lower())}%"
            condition = sa.or_(func.lower(User.email).like(pattern, escape="\\"),
                               func.lower(User.name).like(pattern, escape="\\"))
        total = session.exec(select(func.count()).select_from(User).where(condition)).one()
        users = session.exec(select(User).where(condition)
                             .order_by(col(User.id).desc()).limit(limit).offset(offset)).all()
        return UserPage(list(users), int(total))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _locked_user(session: Session, user_id: int) -> User:
    user = session.exec(lock_for_update(session, select(User).where(User.id == user_id))).first()
    if user is None:
        raise NotFound("User not found")
    return user


def set_role(*, actor_id: int, user_id: int, role: Role) -> User:
    """Promote or demote; an admin cannot lower their own role (someone must stay admin)."""
    with transaction() as session:
        admin = _admin(session, actor_id)
        user = _locked_user(session, user_id)
        if user.role == role.value:
            return user  # nothing changes, nothing to record
        lowering = _RANK[role.value] < _RANK.get(user.role, 0)
        if lowering and user.id == admin.id:
            raise BadRequest("You cannot demote yourself")
        _record(session, admin, "demote" if lowering else "promote", "user", user_id,
                f"{user.role} -> {role.value}")
        user.role = role.value
        user.updated_at = clock.now()
        session.add(user)
        return user


def deactivate(*, actor_id: int, user_id: int) -> User:
    """The account stops signing in; every token and browser session it holds ends now."""
    with transaction() as session:
        admin = _admin(session, actor_id)
        user = _locked_user(session, user_id)
        if user.id == admin.id:
            raise BadRequest("You cannot deactivate yourself")
        if not user.is_active:
            return user
        user.is_active = False
        end_all_sessions(session, user)
        _record(session, admin, "deactivate", "user", user_id)
        return user


def reactivate(*, actor_id: int, user_id: int) -> User:
    with transaction() as session:
        admin = _admin(session, actor_id)
        user = _locked_user(session, user_id)
        if user.is_active:
            return user
        user.is_active = True
        user.updated_at = clock.now()
        session.add(user)
        _record(session, admin, "reactivate", "user", user_id)
        return user


# --- refunds ----------------------------------------------------------------------------------


def refunds_needing_attention(*, actor_id: int) -> list[refunds.AttentionRow]:
    check_admin(actor_id)
    return refunds.needing_attention(actor_id)


def retry_refund(*, actor_id: int, refund_id: int) -> Refund:
    """The request is recorded first, in its own transaction: the retry itself calls the
    gateway, which must happen outside any transaction (services/refund.py owns those)."""
    with transaction() as session:
        admin = _admin(session, actor_id)
        stored = session.get(Refund, refund_id)
        if stored is None:
            raise NotFound("Refund not found")
        if stored.status == "processed":
            raise BadRequest("This refund has already been processed")
        _record(session, admin, "retry_refund", "refund", refund_id, f"was {stored.status}")
    return refunds.retry(refund_id, actor_id)


# --- notifications ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxPage:
    messages: list[OutboxMessage]
    total: int


def dead_notifications(*, actor_id: int, limit: int = DEFAULT_PAGE, offset: int = 0) -> OutboxPage:
    with read_session() as session:
        _admin(session, actor_id)
        dead = col(OutboxMessage.status) == OutboxStatus.DEAD.value
        total = session.exec(select(func.count()).select_from(OutboxMessage).where(dead)).one()
        rows = session.exec(select(OutboxMessage).where(dead)
                            .order_by(col(OutboxMessage.id).desc()).limit(limit).offset(offset)).all()
        return OutboxPage(list(rows), int(total))


def retry_notification(*, actor_id: int, message_id: int) -> OutboxMessage:
    """A dead notification goes back in the queue, due now, with a fresh count of attempts."""
    with transaction() as session:
        admin = _admin(session, actor_id)
        message = session.exec(lock_for_update(
            session, select(OutboxMessage).where(OutboxMessage.id == message_id))).first()
        if message is None:
            raise NotFound("Notification not found")
        if message.status != OutboxStatus.DEAD.value:
            raise BadRequest("Only a notification that could not be delivered can be retried")
        message.status = OutboxStatus.PENDING.value
        message.attempts = 0
        message.next_attempt_at = clock.now()
        session.add(message)
        session.info["outbox_written"] = True  # wakes the delivery worker after commit
        _record(session, admin, "retry_notification", "notification", message_id, message.action)
        return message


# --- payments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentAtGateway:
    payment: Payment
    booking_reference: str | None
    gateway_status: str


def recent_payments(*, actor_id: int, limit: int = DEFAULT_PAGE) -> list[PaymentAtGateway]:
    """Our latest payments, each with its status as the gateway tells it now. The rows are
    read and the session closed before any gateway call; after the first call the gateway does
    not answer, the rest are shown unavailable without waiting for more timeouts."""
    with read_session() as session:
        _admin(session, actor_id)
        rows = session.exec(
            select(Payment, Booking.booking_reference)
            # Outer: a class pass's payment has no booking (issue 17); its PASS<id> instead.
            .outerjoin(Booking, col(Booking.id) == Payment.booking_id)
            .order_by(col(Payment.id).desc()).limit(min(limit, MAX_PAYMENTS))
        ).all()
    gateway = get_gateway()
    answering = True
    found = []
    for payment, reference in rows:
        status = UNAVAILABLE
        if answering:
            status, answering = _gateway_status(gateway, payment.razorpay_payment_id)
        if reference is None and payment.pass_purchase_id is not None:
            reference = f"PASS{payment.pass_purchase_id}"
        found.append(PaymentAtGateway(payment, reference, status))
    return found


def _gateway_status(gateway: Any, payment_id: str) -> tuple[str, bool]:
    try:
        answer = gateway.fetch_payment(payment_id)
    except GatewayFailure as failure:
        log.warning("gateway did not tell payment %s: %s", payment_id, failure)
        # A refusal about one payment (a 4xx) does not mean the gateway is down.
        return UNAVAILABLE, not failure.retryable
    return str(answer.get("status") or UNAVAILABLE), True


# --- the record -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRow:
    action: AdminAction
    admin_email: str


def actions(*, actor_id: int, limit: int = DEFAULT_PAGE, offset: int = 0) -> list[ActionRow]:
    """The record of admin actions, newest first."""
    with read_session() as session:
        _admin(session, actor_id)
        rows = session.exec(
            select(AdminAction, User.email).join(User, col(User.id) == AdminAction.admin_id)
            .order_by(col(AdminAction.created_at).desc(), col(AdminAction.id).desc())
            .limit(limit).offset(offset)
        ).all()
        return [ActionRow(a, email) for a, email in rows]
