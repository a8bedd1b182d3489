"""Request and response models of the REST API, so /openapi.json shows the real shapes.

Request models forbid unknown fields: a client cannot slip in `role`, `payment_status`,
`facilitator_id` or ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator


def storable_text_problem(value: str) -> str | None:
    """Text no database can keep: NUL characters (PostgreSQL refuses them) and lone surrogates
    from JSON escapes like "\\ud800" (not encodable as UTF-8)."""
    if "\x00" in value:
        return "Text must not contain NUL characters"
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return "Text must be valid Unicode"
    return None


class ValidText(BaseModel):
    """Refuse unstorable text as a validation error on its field, not later as a failed write."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        problem = storable_text_problem(value) if isinstance(value, str) else None
        if problem:
            raise ValueError(problem)
        return value


class Strict(ValidText):
    model_config = ConfigDict(extra="forbid")


# --- requests ---------------------------------------------------------------------------------


class RegisterRequest(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)
    name: str = Field(max_length=120)
    phone: str | None = Field(default=None, max_length=32)


class LoginRequest(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)


class EventCreateRequest(Strict):
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    event_type: Literal["session", "workshop", "retreat"]
    start_datetime: datetime
    end_datetime: datetime
    timezone: str | None = Field(default=None, max_length=64, description="IANA name; default Asia/Kolkata")
    location: str | None = Field(default=None, max_length=300)
    virtual_link: str | None = Field(default=None, max_length=1024)
    max_participants: int = Field(ge=1, le=100_000)
    price: float = Field(default=0, ge=0, le=10_000_000)
    currency: Literal["INR"] = "INR"


class EventUpdateRequest(Strict):
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    event_type: Literal["session", "workshop", "retreat"] | None = None
    start_datetime: datetime | None = None
    end_datetime: datetime | None = None
    timezone: str | None = Field(default=None, max_length=64)
    location: str | None = Field(default=None, max_length=300)
    virtual_link: str | None = Field(default=None, max_length=1024)
    max_participants: int | None = Field(default=None, ge=1, le=100_000)
    price: float | None = Field(default=None, ge=0, le=10_000_000)
    currency: Literal["INR"] | None = None
    is_active: StrictBool | None = None


class BookingCreateRequest(Strict):
    event_id: int = Field(ge=1, le=2**31 - 1)
    notes: str | None = Field(default=None, max_length=1000)


class ProfileUpdateRequest(Strict):
    name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=32)


# --- responses --------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    error: str


class ValidationErrorBody(BaseModel):
    error: Literal["Validation error"]
    details: dict[str, str]


class ServerErrorBody(BaseModel):
    error: str
    message: str


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str


class GoogleUserOut(UserOut):
    google_id: str | None = None
    profile_picture: str | None = None


class RegisterResponse(BaseModel):
    message: str
    user: UserOut


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    user: UserOut


class RefreshResponse(BaseModel):
    access_token: str
    refresh_token: str = Field(description="The rotated refresh token; the one presented is spent")
    user: UserOut


class Health(BaseModel):
    message: str
    status: str
    timestamp: str


class FacilitatorOut(BaseModel):
    id: int
    name: str
    email: str


class EventOut(BaseModel):
    id: int
    title: str
    description: str
    event_type: str
    start_datetime: str
    end_datetime: str
    timezone: str
    location: str | None
    virtual_link: str | None
    max_participants: int
    current_participants: int
    seats_available: int
    price: float
    currency: str
    is_active: bool
    cancelled_at: str | None
    created_at: str
    facilitator: FacilitatorOut | None = None


class EventList(BaseModel):
    events: list[EventOut]


class EventSaved(BaseModel):
    message: str
    event: EventOut


class Message(BaseModel):
    message: str


class BookingUserOut(BaseModel):
    id: int
    name: str
    email: str


class BookingUserWithPhone(BookingUserOut):
    phone: str | None


class BookingEventBrief(BaseModel):
    id: int
    title: str
    price: float
    currency: str


class BookingEventOut(BookingEventBrief):
    start_datetime: str
    end_datetime: str
    timezone: str
    location: str | None
    virtual_link: str | None
    description: str | None = None


class BookingCore(BaseModel):
    id: int
    booking_reference: str
    status: str
    notes: str | None
    payment_status: str
    payment_id: str | None
    payment_reference: str | None
    amount: float
    currency: str
    hold_expires_at: str | None
    cancelled_at: str | None
    cancellation_reason: str | None
    created_at: str


class BookingCreatedOut(BookingCore):
    user: BookingUserOut
    event: BookingEventBrief


class BookingCreatedResponse(BaseModel):
    message: str
    booking: BookingCreatedOut
    payment_url: str | None


class BookingListItem(BookingCore):
    event: BookingEventOut


class BookingList(BaseModel):
    bookings: list[BookingListItem]


class BookingDetail(BookingListItem):
    user: BookingUserOut


class RefundOut(BaseModel):
    refund_id: str | None
    amount: float
    currency: str
    status: str
    failure_reason: str | None = None


class CancelResponse(BaseModel):
    message: str
    refund: RefundOut | None


class FacilitatorEventBrief(BaseModel):
    id: int
    title: str
    max_participants: int
    current_participants: int


class FacilitatorBooking(BaseModel):
    id: int
    booking_reference: str
    status: str
    payment_status: str
    amount: float
    notes: str | None
    user: BookingUserWithPhone
    created_at: str


class FacilitatorBookings(BaseModel):
    event: FacilitatorEventBrief
    bookings: list[FacilitatorBooking]


class EventCancelResponse(BaseModel):
    message: str
    refunds_processed: int
    total_refund_amount: float
    refunds_failed: int
    bookings_cancelled: int


class ProfileOut(BaseModel):
    id: int
    email: str
    name: str
    phone: str | None
    role: str
    is_active: bool
    is_verified: bool
    google_id: str | None
    profile_picture: str | None
    created_at: str


class ProfileUpdated(BaseModel):
    message: str
    user: ProfileOut
