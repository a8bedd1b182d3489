"""The CRM service's own tables. A separate SQLModel registry keeps them out of the Booking app's metadata."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

# pending = a request is delivering it right now; the other three are final results of an attempt.
NOTIFICATION_STATUSES = ("pending", "sent", "failed", "saved")


def utc_now() -> datetime:
    return datetime.now(UTC)


class CrmModel(SQLModel, registry=registry()):
    pass


class Notification(CrmModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'saved')",
            name="ck_notifications_status",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Unique but nullable: requests without a key are never deduplicated.
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    booking_id: int = Field(index=True)
    action: str = Field(max_length=40)
    payload: str = Field(sa_type=sa.Text)
    recipients: str = Field(default="", sa_type=sa.Text)
    status: str = Field(max_length=10)
    response: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utc_now)
    # When the current delivery began; lets a stuck "pending" row be taken over later.
    claimed_at: datetime | None = Field(default=None)
    sent_at: datetime | None = Field(default=None)


class DeliveryAttempt(CrmModel, table=True):
    __tablename__ = "delivery_attempts"

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notifications.id", index=True, ondelete="CASCADE")
    # One row per recipient per attempt, so a retry resends only what did not arrive.
    recipient: str = Field(max_length=320)
    attempted_at: datetime = Field(default_factory=utc_now)
    success: bool
    error: str | None = Field(default=None, sa_type=sa.Text)
