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


# Trigram indexes for the keyword search, created by the attendee-capabilities migration on
# PostgreSQL only. Expression indexes with an operator class cannot be declared portably on the
# models, so autogenerate and the migration checks leave them to the migration.
POSTGRES_ONLY_INDEXES = frozenset({"ix_events_search_trgm", "ix_users_name_trgm"})


def include_in_autogenerate(obj: object, name: str | None, type_: str, reflected: bool,
                            compare_to: object) -> bool:
    return not (type_ == "index" and name in POSTGRES_ONLY_INDEXES)


def _tz_datetime(nullable: bool = True, index: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index)


def _refund_policy() -> sa.Column:  # type: ignore[type-arg]
    """Refund tiers as JSON (see services/cancellation_policy.py); NULL is no policy."""
    return sa.Column(sa.JSON(none_as_null=True), nullable=True)


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
    # A facilitator's saved refund tiers, applied to the events they create afterwards.
    default_refund_policy: list[dict[str, int]] | None = Field(default=None, sa_column=_refund_policy())
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
    refund_policy: list[dict[str, int]] | None = Field(default=None, sa_column=_refund_policy())
    is_active: bool = True
    # Cover picture: a file name under MEDIA_DIR (resized copies share its stem), and its alt text.
    cover_image: str | None = Field(default=None, max_length=100)
    cover_image_alt: str | None = Field(default=None, max_length=300)
    # +1 on every change of time, place or link (the calendar invite's SEQUENCE; see the
    # agreed names in docs/decisions/attendee-capabilities.md).
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Reminder emails 24 hours and 1 hour before the start (services/reminders.py).
    remind_24h: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    remind_1h: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    # The facilitator's own words for the cancellation emails, when they gave any.
    cancellation_message: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    cancelled_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
    # The recurring series this event is one occurrence of (issue 17); null for a one-off event.
    series_id: int | None = Field(default=None, foreign_key="event_series.id", index=True)
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
        sa.CheckConstraint("paid_with IN ('payment','pass','free')", name="ck_bookings_paid_with"),
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
    # The event's refund tiers when the booking was made: a later change never applies to it.
    refund_policy: list[dict[str, int]] | None = Field(default=None, sa_column=_refund_policy())
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
    # +1 on every notified change of the booking (part of the calendar invite's SEQUENCE).
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # When the facilitator marked the attendee present (services/checkin.py); null until then.
    checked_in_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
    # How the seat is paid for: 'payment' (Razorpay), 'pass' (one credit of `pass_purchase_id`),
    # 'free'. Null on bookings made before issue 17 (read as payment/free by price).
    paid_with: str | None = Field(default=None, max_length=16)
    pass_purchase_id: int | None = Field(default=None, foreign_key="pass_purchases.id", index=True)
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    LEFT = "left"


class WaitlistEntry(SQLModel, table=True):
    """A person waiting for a seat of a full event. An `offered` entry holds one seat (counted
    in `events.seats_taken`) until it is accepted or its offer lapses."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('waiting','offered','accepted','expired','left')",
            name="ck_waitlist_entries_status",
        ),
        # One live place in the queue per person and event.
        sa.Index(
            "uq_waitlist_one_live_per_user_event",
            "user_id",
            "event_id",
            unique=True,
            sqlite_where=sa.text("status IN ('waiting','offered')"),
            postgresql_where=sa.text("status IN ('waiting','offered')"),
        ),
        # The queue of one event, in joining order.
        sa.Index("ix_waitlist_event_status_id", "event_id", "status", "id"),
        sa.Index(
            "ix_waitlist_offer_expiry",
            "offer_expires_at",
            sqlite_where=sa.text("status = 'offered'"),
            postgresql_where=sa.text("status = 'offered'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id", nullable=False)
    user_id: int = Field(foreign_key="users.id", nullable=False, index=True)
    status: str = Field(default=WaitlistStatus.WAITING.value, max_length=16)
    offered_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
    offer_expires_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
    # The booking an accepted offer became.
    booking_id: int | None = Field(default=None, foreign_key="bookings.id")
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class Payment(SQLModel, table=True):
    """Every payment the gateway told us about, so none can be forgotten."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.CheckConstraint("(booking_id IS NULL) <> (pass_purchase_id IS NULL)",
                           name="ck_payments_booking_or_pass"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # A payment pays for a booking or (issue 17) for a class pass, never both.
    booking_id: int | None = Field(default=None, foreign_key="bookings.id", index=True)
    pass_purchase_id: int | None = Field(default=None, foreign_key="pass_purchases.id", index=True)
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
        sa.CheckConstraint("(booking_id IS NULL) <> (pass_purchase_id IS NULL)",
                           name="ck_refunds_booking_or_pass"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The refund of a booking's payment or (issue 17) of a class pass purchase's, never both.
    booking_id: int | None = Field(default=None, foreign_key="bookings.id", index=True)
    pass_purchase_id: int | None = Field(default=None, foreign_key="pass_purchases.id", index=True)
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
    # The request that wrote it (X-Request-ID), sent on to the CRM: one booking, one id, two logs.
    request_id: str | None = Field(default=None, max_length=100)


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


class ReceiptKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


class Receipt(SQLModel, table=True):
    """A numbered receipt (tax invoice when the seller has a GSTIN) for a captured payment, or
    a credit note for a processed refund. Everything printed is frozen in `document` when it is
    issued, so changing the seller settings or the event later never rewrites an issued one."""

    __tablename__ = "receipts"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('payment','refund')", name="ck_receipts_kind"),
        sa.UniqueConstraint("series", "sequence", name="uq_receipts_series_sequence"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, sa_column_kwargs={"unique": True})
    series: str = Field(max_length=8)
    sequence: int
    kind: str = Field(max_length=16)
    booking_id: int = Field(foreign_key="bookings.id", nullable=False, index=True)
    # One receipt per captured payment and one credit note per processed refund.
    payment_row_id: int | None = Field(default=None, foreign_key="payments.id",
                                       sa_column_kwargs={"unique": True})
    refund_row_id: int | None = Field(default=None, foreign_key="refunds.id",
                                      sa_column_kwargs={"unique": True})
    amount: Decimal = Field(sa_column=_money())
    currency: str = Field(default="INR", max_length=3)
    document: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    issued_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class ReceiptCounter(SQLModel, table=True):
    """The last number used in each receipt series; its row lock keeps numbers gap-free."""

    __tablename__ = "receipt_counters"

    series: str = Field(primary_key=True, max_length=8)
    last_number: int = 0


class EventMessage(SQLModel, table=True):
    """A message a facilitator sent to the people booked on an event; one outbox row per
    recipient carries it to the CRM (services/messaging.py)."""

    __tablename__ = "event_messages"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id", nullable=False, index=True)
    author_id: int = Field(foreign_key="users.id", nullable=False)
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    audience: str = Field(default="booked", max_length=16)
    recipients: int = 0
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


# --- accounts (issue 14) --------------------------------------------------------------------------


class AccountTokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


class AccountToken(SQLModel, table=True):
    """A single-use emailed link (verify an address, reset a password), kept only as the SHA-256
    of its random token so a copy of the database cannot be used to take over accounts."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        sa.CheckConstraint("purpose IN ('verify_email','reset_password')", name="ck_account_tokens_purpose"),
        sa.Index("ix_account_tokens_user_purpose", "user_id", "purpose", "created_at"),
    )

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                                             nullable=False))
    purpose: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    expires_at: datetime = Field(sa_column=_tz_datetime(nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=_tz_datetime())


class ThrottleHit(SQLModel, table=True):
    """One counted request for a rate limit (registrations per client address, emailed links per
    account or address); counted under an advisory lock so concurrent requests cannot overshoot."""

    __tablename__ = "throttle_hits"
    __table_args__ = (sa.Index("ix_throttle_hits_bucket_key_at", "bucket", "key", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=32)
    key: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


# --- admin console (issue 20) ----------------------------------------------------------------------


class AdminAction(SQLModel, table=True):
    """One thing an admin did (who, what, to what, when), written in the same transaction as
    the change it records (services/admin.py)."""

    __tablename__ = "admin_actions"
    __table_args__ = (sa.Index("ix_admin_actions_created", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    admin_id: int = Field(foreign_key="users.id", nullable=False)
    action: str = Field(max_length=40)
    target_type: str = Field(max_length=20)
    target_id: int
    detail: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


# --- recurring series (issue 17) -------------------------------------------------------------------


class EventSeries(SQLModel, table=True):
    """A recurring class: its RFC 5545 RRULE, expanded once at creation (services/series.py)
    into ordinary events that point back here with `events.series_id`. The occurrences are the
    truth afterwards (each is edited, booked and cancelled as an event); the rule is kept to
    describe the series ("Every Mon & Wed") and for the record."""

    __tablename__ = "event_series"

    id: int | None = Field(default=None, primary_key=True)
    facilitator_id: int = Field(foreign_key="users.id", nullable=False, index=True)
    recurrence: str = Field(max_length=500)
    timezone: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))

# --- class passes (issue 17) -------------------------------------------------------------------


class PaidWith(StrEnum):
    PAYMENT = "payment"
    PASS = "pass"
    FREE = "free"


class PassStatus(StrEnum):
    PENDING = "pending"      # ordered, not paid yet
    ACTIVE = "active"        # paid; credits usable until expires_at
    EXPIRED = "expired"      # shown when expires_at has passed (computed on read, see passes.py)
    REFUNDED = "refunded"    # its own payment was refunded
    CANCELLED = "cancelled"  # never paid and given up


class CreditUse(StrEnum):
    USED = "used"            # paid for the booking
    RETURNED = "returned"    # the booking was cancelled inside the 100% tier, or the event was
    FORFEITED = "forfeited"  # cancelled later than the 100% tier: the credit is gone


class PassProduct(SQLModel, table=True):
    """A class pass a facilitator sells: `credits` bookings within `valid_days` of payment,
    of their events (of one event type when `event_type` is set)."""

    __tablename__ = "pass_products"
    __table_args__ = (
        sa.CheckConstraint("credits >= 1", name="ck_pass_products_credits_positive"),
        sa.CheckConstraint("valid_days >= 1", name="ck_pass_products_valid_days_positive"),
        sa.CheckConstraint("price > 0", name="ck_pass_products_price_positive"),
        sa.CheckConstraint(
            "event_type IS NULL OR event_type IN ('session','workshop','retreat')",
            name="ck_pass_products_event_type",
        ),
        sa.Index("ix_pass_products_facilitator", "facilitator_id", "is_active"),
    )

    id: int | None = Field(default=None, primary_key=True)
    facilitator_id: int = Field(foreign_key="users.id", nullable=False)
    name: str = Field(max_length=120)
    credits: int
    valid_days: int
    price: Decimal = Field(sa_column=_money())
    currency: str = Field(default="INR", max_length=3)
    event_type: str | None = Field(default=None, max_length=16)
    is_active: bool = True
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class PassPurchase(SQLModel, table=True):
    """One attendee's pass: bought through a gateway order like a booking's, credits counted
    down under this row's lock and never below zero (the CHECK)."""

    __tablename__ = "pass_purchases"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending','active','expired','refunded','cancelled')",
            name="ck_pass_purchases_status",
        ),
        sa.CheckConstraint("credits_left >= 0", name="ck_pass_purchases_credits_left_non_negative"),
        sa.CheckConstraint("credits_left <= credits_total",
                           name="ck_pass_purchases_credits_left_within_total"),
        sa.CheckConstraint("amount > 0", name="ck_pass_purchases_amount_positive"),
        sa.Index("ix_pass_purchases_user_status", "user_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", nullable=False)
    product_id: int = Field(foreign_key="pass_products.id", nullable=False, index=True)
    status: str = Field(default=PassStatus.PENDING.value, max_length=16)
    credits_total: int
    credits_left: int
    amount: Decimal = Field(sa_column=_money())
    currency: str = Field(default="INR", max_length=3)
    razorpay_order_id: str | None = Field(
        default=None, max_length=64, sa_column_kwargs={"unique": True}
    )
    payment_id: str | None = Field(default=None, max_length=64)
    paid_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
    # Set when the payment activates the pass: paid_at + the product's valid_days.
    expires_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
    created_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))


class PassCredit(SQLModel, table=True):
    """What one credit paid for: written when a booking uses it, settled when that booking is
    cancelled (returned or forfeited). The history on "My passes"."""

    __tablename__ = "pass_credits"
    __table_args__ = (
        sa.CheckConstraint("status IN ('used','returned','forfeited')", name="ck_pass_credits_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pass_purchase_id: int = Field(foreign_key="pass_purchases.id", nullable=False, index=True)
    booking_id: int = Field(foreign_key="bookings.id", nullable=False,
                            sa_column_kwargs={"unique": True})
    status: str = Field(default=CreditUse.USED.value, max_length=16)
    used_at: datetime = Field(default_factory=now, sa_column=_tz_datetime(nullable=False))
    settled_at: datetime | None = Field(default=None, sa_column=_tz_datetime())
