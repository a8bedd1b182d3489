"""SQLModel tables of the Booking app. Schema changes go through Alembic only."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from crm_booking.clock import now


class Role(StrEnum):
    USER = "user"
    FACILITATOR = "facilitator"
    ADMIN = "admin"


class EventType(StrEnum):
    SESSION = "session"
    WORKSHOP = "workshop"
    RETREAT = "retreat"


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


def _tz_datetime(nullable: bool = True, index: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index)


def _money(nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.Numeric(12, 2), nullable=nullable)


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("role IN ('user','facilitator','admin')", name="ck_users_role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True}, nullable=False)
    password_hash: str | None = Field(default=None, max_length=255)
    name: str = Field(max_length=120)
    phone: str | None = Field(default=None, max_length=32)
    role: str = Field(default=Role.USER.value, max_length=16)
    is_active: bool = True
    is_verified: bool = False
    google_id: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    profile_picture: str | None = Field(default=None, max_length=1024)
    # Tokens issued before this instant are refused (set when a Google sign-in takes over an
    # account whose email address we had never verified).
    tokens_valid_after: datetime | None = Field(default=None, sa_column=_tz_datetime())
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        sa.CheckConstraint("max_participants >= 1", name="ck_events_capacity_positive"),
        sa.CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= max_participants", name="ck_events_seats_within_capacity"
        ),
        sa.CheckConstraint("price >= 0", name="ck_events_price_non_negative"),
        sa.CheckConstraint("end_at > start_at", name="ck_events_ends_after_start"),
        sa.CheckConstraint(
            "event_type IN ('session','workshop','retreat')", name="ck_events_event_type"
        ),
        sa.Index("ix_events_active_start", "is_active", "start_at"),
        sa.Index("ix_events_facilitator_start", "facilitator_id", "start_at"),
        # The public events page (no filter) reads in this order; without it PostgreSQL sorts
        # every event for each page (100 ms at 100k events, see bench/RESULTS.md).
        sa.Index(
            "ix_events_visible_start",
            "start_at",
            "id",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    facilitator_id: int = Field(foreign_key="users.id", nullable=False)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    event_type: str = Field(max_length=16)
    start_at: datetime = Field(sa_column=_tz_datetime(nullable=False))
    end_at: datetime = Field(sa_column=_tz_datetime(nullable=False))
    timezone: str = Field(default="Asia/Kolkata", max_length=64)
    location: str | None = Field(default=None, max_length=300)
    virtual_link: str | None = Field(default=None, max_length=1024)
    max_participants: int
    # Confirmed bookings holding a seat; changed only by the booking services in the same
    # transaction as the booking row, and bounded by the CHECK constraint above.
    seats_taken: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    price: Decimal = Field(default=Decimal("0.00"), sa_column=_money())
    currency: str = Field(default="INR", max_length=3)
    is_active: bool = True
    cancelled_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
    # Deleted events stay in the table for the bookings that point at them, hidden from reads.
    deleted_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class Booking(SQLModel, table=True):
    __tablename__ = "bookings"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('confirmed','cancelled','completed')", name="ck_bookings_status"
        ),
        sa.CheckConstraint(
            "payment_status IN ('pending','completed','failed','refunded')",
            name="ck_bookings_payment_status",
        ),
        sa.CheckConstraint("amount >= 0", name="ck_bookings_amount_non_negative"),
        # One live booking per attendee and event.
        sa.Index(
            "uq_bookings_one_active_per_user_event",
            "user_id",
            "event_id",
            unique=True,
            sqlite_where=sa.text("status = 'confirmed'"),
            postgresql_where=sa.text("status = 'confirmed'"),
        ),
        sa.Index("ix_bookings_event_status", "event_id", "status"),
        sa.Index("ix_bookings_user_created", "user_id", "created_at"),
        sa.Index(
            "ix_bookings_hold_expiry",
            "hold_expires_at",
            sqlite_where=sa.text("status = 'confirmed' AND payment_status IN ('pending','failed')"),
            postgresql_where=sa.text(
                "status = 'confirmed' AND payment_status IN ('pending','failed')"
            ),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # BK<year><sequence>; set right after the insert, from the row id (see docs/decisions.md).
    booking_reference: str | None = Field(
        default=None, max_length=32, sa_column_kwargs={"unique": True}
    )
    user_id: int = Field(foreign_key="users.id", nullable=False)
    event_id: int = Field(foreign_key="events.id", nullable=False)
    status: str = Field(default=BookingStatus.CONFIRMED.value, max_length=16)
    payment_status: str = Field(default=PaymentStatus.PENDING.value, max_length=16)
    notes: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    amount: Decimal = Field(default=Decimal("0.00"), sa_column=_money())
    currency: str = Field(default="INR", max_length=3)
    hold_expires_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
    razorpay_order_id: str | None = Field(
        default=None, max_length=64, sa_column_kwargs={"unique": True}
    )
    payment_id: str | None = Field(default=None, max_length=64)
    payment_reference: str | None = Field(default=None, max_length=64)
    payment_error_code: str | None = Field(default=None, max_length=100)
    payment_error_description: str | None = Field(default=None, max_length=500)
    paid_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
    cancellation_reason: str | None = Field(default=None, max_length=32)
    cancelled_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class Payment(SQLModel, table=True):
    """Every payment the gateway told us about, so none can be forgotten."""

    __tablename__ = "payments"

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="bookings.id", nullable=False, index=True)
    razorpay_payment_id: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    razorpay_order_id: str | None = Field(default=None, max_length=64, index=True)
    amount: Decimal = Field(default=Decimal("0.00"), sa_column=_money())
    currency: str = Field(default="INR", max_length=3)
    status: str = Field(max_length=16)  # captured | failed
    error_code: str | None = Field(default=None, max_length=100)
    error_description: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class Refund(SQLModel, table=True):
    """A refund is recorded (with its idempotency key) before the gateway is called."""

    __tablename__ = "refunds"
    __table_args__ = (
        sa.CheckConstraint("status IN ('pending','processed','failed')", name="ck_refunds_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="bookings.id", nullable=False, index=True)
    razorpay_payment_id: str = Field(max_length=64)
    idempotency_key: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    reason: str = Field(max_length=32)
    amount: Decimal = Field(sa_column=_money())
    currency: str = Field(default="INR", max_length=3)
    status: str = Field(default=RefundStatus.PENDING.value, max_length=16)
    razorpay_refund_id: str | None = Field(default=None, max_length=64)
    failure_reason: str | None = Field(default=None, max_length=500)
    attempts: int = 0
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class WebhookEvent(SQLModel, table=True):
    """Razorpay webhook deliveries already handled, keyed by their event id."""

    __tablename__ = "webhook_events"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    event_type: str = Field(max_length=64)
    received_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class OutboxMessage(SQLModel, table=True):
    """A CRM notification, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=120, sa_column_kwargs={"unique": True})
    action: str = Field(max_length=40)
    booking_id: int | None = Field(default=None, index=True)
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING.value, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    last_error: str | None = Field(default=None, max_length=1000)
    crm_notification_id: int | None = None
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_tz_datetime())


class RevokedToken(SQLModel, table=True):
    """Refresh tokens already used (rotation) or revoked."""

    __tablename__ = "revoked_tokens"

    jti: str = Field(primary_key=True, max_length=64)
    user_id: int | None = Field(default=None, index=True)
    expires_at: datetime = Field(sa_column=_tz_datetime(nullable=False, index=True))
    revoked_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class LoginFailure(SQLModel, table=True):
    __tablename__ = "login_failures"
    __table_args__ = (
        sa.Index("ix_login_failures_email_at", "email", "created_at"),
        sa.Index("ix_login_failures_ip_at", "ip_address", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    ip_address: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class OAuthState(SQLModel, table=True):
    """Google sign-in `state` values, single use, kept server-side so any worker can check them."""

    __tablename__ = "oauth_states"

    state: str = Field(primary_key=True, max_length=128)
    nonce: str = Field(max_length=128)
    return_to: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=_tz_datetime())


class WebSession(SQLModel, table=True):
    """Browser sign-in sessions of the Reflex UI; only a hash of the cookie value is stored."""

    __tablename__ = "web_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", nullable=False, index=True)
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    expires_at: datetime = Field(sa_column=_tz_datetime(nullable=False))
