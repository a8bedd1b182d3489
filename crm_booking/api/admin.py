"""The admin console's routes (issue 20): thin callers of services/admin.py. Admins only: 401
without a valid token, 403 for anyone else, before any path or body is looked at."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from crm_booking.api import schemas
from crm_booking.api.deps import current_user
from crm_booking.models import OutboxMessage, Role, User
from crm_booking.services import admin, views

Page = Annotated[int, Query(ge=1, le=admin.MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    admin.check_admin(user.id)  # type: ignore[arg-type]
    return user


Admin = Annotated[User, Depends(admin_user)]
router = APIRouter(prefix="/admin", tags=["admin"])


def _user(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "is_active": user.is_active, "created_at": views.utc_timestamp(user.created_at)}


@router.get("/users")
def find_users(user: Admin, q: Annotated[str, Query(max_length=254)] = "",
               limit: Page = admin.DEFAULT_PAGE, offset: Offset = 0) -> dict[str, Any]:
    found = admin.find_users(actor_id=user.id, query=q, limit=limit, offset=offset)  # type: ignore[arg-type]
    return {"users": [_user(u) for u in found.users], "total": found.total,
            "limit": limit, "offset": offset}


@router.post("/users/{user_id}/role")
def set_role(user_id: int, user: Admin, body: schemas.AdminRoleChange) -> dict[str, Any]:
    changed = admin.set_role(actor_id=user.id, user_id=user_id, role=Role(body.role))  # type: ignore[arg-type]
    return {"user": _user(changed)}


@router.post("/users/{user_id}/deactivate")
def deactivate(user_id: int, user: Admin) -> dict[str, Any]:
    return {"user": _user(admin.deactivate(actor_id=user.id, user_id=user_id))}  # type: ignore[arg-type]


@router.post("/users/{user_id}/reactivate")
def reactivate(user_id: int, user: Admin) -> dict[str, Any]:
    return {"user": _user(admin.reactivate(actor_id=user.id, user_id=user_id))}  # type: ignore[arg-type]


@router.get("/refunds")
def refunds_needing_attention(user: Admin) -> dict[str, Any]:
    rows = admin.refunds_needing_attention(actor_id=user.id)  # type: ignore[arg-type]
    return {"refunds": [{"id": r.refund.id, "booking_id": r.refund.booking_id,
                         # A class pass's refund has no event (issue 17): its name instead.
                         "event": {"id": r.event.id if r.event else None, "title": r.title},
                         "pass_purchase_id": r.refund.pass_purchase_id,
                         "attendee": {"id": r.attendee.id, "email": r.attendee.email},
                         "reason": r.refund.reason, "attempts": r.refund.attempts,
                         "created_at": views.utc_timestamp(r.refund.created_at),
                         **(views.refund(r.refund) or {})} for r in rows]}


@router.post("/refunds/{refund_id}/retry")
def retry_refund(refund_id: int, user: Admin) -> dict[str, Any]:
    stored = admin.retry_refund(actor_id=user.id, refund_id=refund_id)  # type: ignore[arg-type]
    return {"refund": {"id": stored.id, "booking_id": stored.booking_id,
                       "pass_purchase_id": stored.pass_purchase_id,
                       **(views.refund(stored) or {})}}


def _notification(message: OutboxMessage) -> dict[str, Any]:
    return {"id": message.id, "action": message.action, "booking_id": message.booking_id,
            "status": message.status, "attempts": message.attempts,
            "last_error": message.last_error,
            "created_at": views.utc_timestamp(message.created_at),
            "next_attempt_at": views.utc_timestamp(message.next_attempt_at)}


@router.get("/notifications")
def dead_notifications(user: Admin, limit: Page = admin.DEFAULT_PAGE,
                       offset: Offset = 0) -> dict[str, Any]:
    found = admin.dead_notifications(actor_id=user.id, limit=limit, offset=offset)  # type: ignore[arg-type]
    return {"notifications": [_notification(m) for m in found.messages], "total": found.total,
            "limit": limit, "offset": offset}


@router.post("/notifications/{notification_id}/retry")
def retry_notification(notification_id: int, user: Admin) -> dict[str, Any]:
    message = admin.retry_notification(actor_id=user.id, message_id=notification_id)  # type: ignore[arg-type]
    return {"notification": _notification(message)}


@router.get("/payments")
def recent_payments(user: Admin,
                    limit: Annotated[int, Query(ge=1, le=admin.MAX_PAYMENTS)] = admin.DEFAULT_PAGE
                    ) -> dict[str, Any]:
    rows = admin.recent_payments(actor_id=user.id, limit=limit)  # type: ignore[arg-type]
    return {"payments": [{"id": r.payment.id, "razorpay_payment_id": r.payment.razorpay_payment_id,
                          "booking_id": r.payment.booking_id,
                          "pass_purchase_id": r.payment.pass_purchase_id,
                          "booking_reference": r.booking_reference,
                          "amount": views.money(r.payment.amount), "currency": r.payment.currency,
                          "status": r.payment.status, "gateway_status": r.gateway_status,
                          "created_at": views.utc_timestamp(r.payment.created_at)}
                         for r in rows]}


@router.get("/actions")
def actions(user: Admin, limit: Page = admin.DEFAULT_PAGE, offset: Offset = 0) -> dict[str, Any]:
    rows = admin.actions(actor_id=user.id, limit=limit, offset=offset)  # type: ignore[arg-type]
    return {"actions": [{"id": r.action.id, "admin": {"id": r.action.admin_id, "email": r.admin_email},
                         "action": r.action.action, "target_type": r.action.target_type,
                         "target_id": r.action.target_id, "detail": r.action.detail,
                         "created_at": views.utc_timestamp(r.action.created_at)} for r in rows],
            "limit": limit, "offset": offset}
