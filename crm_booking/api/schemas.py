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


class RefundTier(Strict):
    hours_before: int = Field(ge=0, le=24 * 366, description="Real hours before the start")
    refund_percent: int = Field(ge=0, le=100)


POLICY_DESCRIPTION = (
    "Refund tiers: `refund_percent` while cancelling more than `hours_before` hours before the "
    "start; nothing after the last tier. null: a full refund until the start. Free events: null.")


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
    cover_image_alt: str | None = Field(default=None, max_length=300,
                                        description="Alt text of the cover picture")
    remind_24h: StrictBool = Field(default=True, description="Email attendees 24 hours before")
    remind_1h: StrictBool = Field(default=True, description="Email attendees 1 hour before")
    refund_policy: list[RefundTier] | None = Field(default=None, max_length=5,
                                                   description=POLICY_DESCRIPTION)
    save_refund_policy_as_default: StrictBool = Field(
        default=False, description="Also apply this policy to my future events by default")


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
    cover_image_alt: str | None = Field(default=None, max_length=300)
    remind_24h: StrictBool | None = None
    remind_1h: StrictBool | None = None
    refund_policy: list[RefundTier] | None = Field(default=None, max_length=5,
                                                   description=POLICY_DESCRIPTION)
    save_refund_policy_as_default: StrictBool = False


class SeriesCreateRequest(EventCreateRequest):
    recurrence: str = Field(max_length=500, description=(
        "RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=12; COUNT or UNTIL required, at "
        "most 200 sessions; expanded from start_datetime in the event's time zone"))


class SeriesUpdateRequest(EventUpdateRequest):
    scope: str = Field(max_length=16, description="'following' (from_event_id and later) or 'all' "
                       "(every session not yet started)")
    from_event_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class BookingCreateRequest(Strict):
    event_id: int = Field(ge=1, le=2**31 - 1)
    notes: str | None = Field(default=None, max_length=1000)
    # Issue 17: pay the seat with one credit of the caller's own pass (GET /me/passes).
    pass_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


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
    email_verified: bool = Field(default=False, description="The profile's is_verified (issue 14)")


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
    waitlist_count: int = Field(default=0, description="People waiting for a seat (not yet "
                                "offered one)")
    price: float
    currency: str
    is_active: bool
    cancelled_at: str | None
    created_at: str
    cover_image_url: str | None = Field(default=None, description="1200x630 JPEG, or null")
    cover_image_alt: str | None = None
    map_url: str | None = Field(default=None, description="A maps search for `location`")
    refund_policy: list[RefundTier] | None = Field(default=None, description=POLICY_DESCRIPTION)
    refund_policy_text: str | None = Field(default=None, description="The policy in words")
    series_id: int | None = Field(default=None, description="The recurring series this event "
                                  "is one session of (GET /series/{id}); null for a one-off")
    facilitator: FacilitatorOut | None = None


class EventList(BaseModel):
    events: list[EventOut]


class FacilitatorEventOut(EventOut):
    checked_in_count: int = 0
    remind_24h: bool = True
    remind_1h: bool = True


class FacilitatorEventList(BaseModel):
    events: list[FacilitatorEventOut]


class EventSaved(BaseModel):
    message: str
    event: EventOut


class EventUpdated(EventSaved):
    # Live bookings emailed an updated invite because the time, place or link changed.
    attendees_notified: int = 0


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
    ticket_code: str | None = Field(default=None, description="Opaque, signed; shown as a QR code")
    checked_in_at: str | None = None
    paid_with: str | None = Field(default=None, description="payment, pass or free")
    pass_id: int | None = Field(default=None, description="The pass whose credit paid the seat")


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
    calendar_ics_url: str | None = Field(
        default=None, description="The booking's .ics (same UID as the emailed invite); null "
        "until the seat is paid or free")
    google_calendar_url: str | None = None
    receipts_url: str | None = None


class ReceiptOut(BaseModel):
    number: str
    kind: Literal["payment", "refund"]
    amount: float
    currency: str
    issued_at: str
    url: str


class ReceiptList(BaseModel):
    receipts: list[ReceiptOut]


class RefundOut(BaseModel):
    refund_id: str | None
    amount: float
    currency: str
    status: str
    failure_reason: str | None = None


class CancelQuote(BaseModel):
    refundable: bool
    refund_amount: float
    refund_percent: int
    currency: str
    policy_tier: RefundTier | None = Field(description="The tier that applies now; null after "
                                           "the last tier")
    quote_valid_until: str = Field(description="UTC: when this quote changes (next tier "
                                   "boundary, or the start)")
    refund_policy_text: str | None = None


class CancelResponse(BaseModel):
    message: str
    refund: RefundOut | None
    # Issue 17, only for a seat paid with a pass: "returned" (back on the pass) or "forfeited".
    pass_credit: Literal["returned", "forfeited"] | None = None


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
    checked_in_at: str | None = None


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


class CheckInRequest(Strict):
    booking_reference: str | None = Field(default=None, max_length=32)
    ticket_code: str | None = Field(default=None, max_length=64)


class CheckInBooking(FacilitatorBooking):
    event_id: int


class CheckInResponse(BaseModel):
    booking: CheckInBooking
    checked_in_at: str | None


class UndoCheckInResponse(BaseModel):
    booking: CheckInBooking


class EventMessageRequest(Strict):
    subject: str = Field(default="", max_length=200)
    body: str = Field(default="", max_length=5000)
    audience: Literal["booked", "waitlist"] = Field(
        default="booked", description="Everyone booked (default), or everyone on the waitlist")


class EventMessageOut(BaseModel):
    id: int
    subject: str
    body: str
    audience: Literal["booked", "waitlist"]
    recipients: int
    created_at: str


class EventMessagePreview(BaseModel):
    email_subject: str
    subject: str
    body: str
    recipients: int


class EventMessagePreviewResponse(BaseModel):
    preview: EventMessagePreview


class EventMessageSent(BaseModel):
    message: EventMessageOut


class EventMessageList(BaseModel):
    messages: list[EventMessageOut]


class EventCancelRequest(Strict):
    message: str | None = Field(default=None, max_length=2000,
                                description="Your words for the cancellation emails (optional)")


class SeriesCancelRequest(EventCancelRequest):
    from_event_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description=(
        "Cancel this session and the later ones; without it every session not yet started"))


class OverviewDay(BaseModel):
    date: str
    bookings: int
    revenue: float


class FacilitatorOverview(BaseModel):
    since: str
    until: str
    currency: str
    revenue: float = Field(description="Captured payments minus processed refunds in the period")
    bookings: int
    seats_taken: int
    capacity: int
    fill_rate: float | None = Field(description="Seats taken / offered at events that started in "
                                    "the period; null when there were none")
    no_shows: int
    days: list[OverviewDay]


class WaitlistEntryOut(BaseModel):
    id: int
    event_id: int
    status: Literal["waiting", "offered", "accepted", "expired", "left"]
    position: int | None = Field(description="1-based among those still waiting; null otherwise")
    offer_expires_at: str | None = Field(description="UTC, while offered")
    created_at: str
    booking_id: int | None = None
    event_title: str | None = None
    user: BookingUserOut | None = Field(default=None, description="Facilitator's list only")


class WaitlistJoined(BaseModel):
    message: str
    waitlist_entry: WaitlistEntryOut


class WaitlistList(BaseModel):
    waitlist: list[WaitlistEntryOut]


class FacilitatorWaitlist(BaseModel):
    waitlist: list[WaitlistEntryOut]


# --- admin console (issue 20) ----------------------------------------------------------------------


class AdminRoleChange(Strict):
    role: Literal["user", "facilitator", "admin"]


# --- recurring series (issue 17) ---------------------------------------------------------------


class SeriesOut(BaseModel):
    id: int
    recurrence: str
    timezone: str
    summary: str = Field(description='The rule in words, e.g. "Every Mon & Wed, 7:00 AM IST"')
    facilitator: FacilitatorOut
    event_ids: list[int]
    next_event_id: int | None = Field(description="The next session still on sale, or null")


class SeriesCreated(BaseModel):
    series: SeriesOut


class SeriesDetail(BaseModel):
    series: SeriesOut
    events: list[EventOut]


class SeriesUpdated(BaseModel):
    series: SeriesOut
    events_updated: int
    attendees_notified: int = Field(description="Change notices written, summed over the sessions")


class SeriesCancelResponse(EventCancelResponse):
    events_cancelled: int
