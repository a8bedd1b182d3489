"""Request bodies the CRM accepts, and the checks that turn bad ones into the documented 400s."""

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError

Action = Literal[
    "booking_created",
    "payment_completed",
    "payment_failed",
    "booking_cancelled",
    "hold_expired",
    "late_payment_refunded",
    "event_cancelled",
    "reminder",
    "event_message",
    "event_updated",
    # Waitlist: not about a booking, so booking_id is 0 (see waitlist_entry_id).
    "waitlist_offered",
    "waitlist_offer_expired",
    "waitlist_message",
    "duplicate_payment_refunded",
    # Class passes (issue 17): not about a booking either, so booking_id is 0 (see
    # pass_purchase_id); `event.title` carries the pass's name.
    "pass_purchased",
    "pass_payment_refunded",
]
WAITLIST_ACTIONS = frozenset({"waitlist_offered", "waitlist_offer_expired", "waitlist_message"})
PASS_ACTIONS = frozenset({"pass_purchased", "pass_payment_refunded"})
ALLOWED_ACTIONS: tuple[str, ...] = get_args(Action)

NOTIFY_REQUIRED_FIELDS = ("booking_id", "user", "event", "action")
NOTIFY_REQUIRED_NESTED = {
    "user": ("name", "email"),
    "event": ("title", "facilitator_id"),
}
TEST_EMAIL_REQUIRED_FIELDS = ("to_email", "subject", "html_content")

# Deliberately plain and lenient (the Booking app validated addresses already): one @, and
# no whitespace or separators, so an address is always safe in a header.
_EMAIL_PATTERN = re.compile(r"[^@\s<>,;\"()\[\]]+@[^@\s<>,;\"()\[\]]+")


def _check_email(value: str) -> str:
    if len(value) > 254 or not _EMAIL_PATTERN.fullmatch(value):
        raise ValueError("must be a valid email address")
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone name such as Asia/Kolkata") from exc
    return value


def _check_web_link(value: str) -> str:
    # Links become href attributes; anything but http(s) (javascript:, data:) is refused.
    if not re.match(r"https?://\S+\Z", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


EmailAddress = Annotated[str, AfterValidator(_check_email)]
TimezoneName = Annotated[str, AfterValidator(_check_timezone)]
WebLink = Annotated[str, Field(max_length=2000), AfterValidator(_check_web_link)]
ShortText = Annotated[str, Field(max_length=200)]


class _Body(BaseModel):
    # Unknown fields are ignored so the Booking app can add fields without breaking us.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _absent_when_null_or_empty(cls, data: Any) -> Any:
        # An optional field sent as null or "" means "not given" and takes its default;
        # required ones are reported as missing before validation runs.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None and value != ""}
        return data

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL characters; refuse them as a 400 on the field, not a 500.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class UserInfo(_Body):
    id: int | None = None
    name: str = Field(min_length=1, max_length=200)
    email: EmailAddress


class EventInfo(_Body):
    id: int | None = None
    title: str = Field(min_length=1, max_length=300)
    facilitator_id: int
    facilitator_name: ShortText | None = None
    facilitator_email: EmailAddress | None = None
    start_datetime: AwareDatetime | None = None
    end_datetime: AwareDatetime | None = None
    timezone: TimezoneName = "UTC"
    location: Annotated[str, Field(max_length=500)] | None = None
    virtual_link: WebLink | None = None


class PreviousEventInfo(_Body):
    """What an event_updated notice replaces: the old time and place."""

    start_datetime: AwareDatetime | None = None
    end_datetime: AwareDatetime | None = None
    location: Annotated[str, Field(max_length=500)] | None = None


ChangedFact = Literal["time", "location", "link"]


class RefundInfo(_Body):
    refund_id: ShortText | None = None
    amount: Decimal | None = Field(default=None, ge=0)
    currency: Annotated[str, Field(max_length=10)] | None = None
    status: ShortText | None = None


class NotifyRequest(_Body):
    booking_id: int = Field(ge=0, description="0 only for waitlist and class pass notifications")
    user: UserInfo
    event: EventInfo
    action: Action
    idempotency_key: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    booking_reference: ShortText | None = None
    amount: Decimal | None = Field(default=None, ge=0)
    currency: Annotated[str, Field(max_length=10)] | None = None
    status: ShortText | None = None
    payment_status: ShortText | None = None
    refund: RefundInfo | None = None
    reason: Annotated[str, Field(max_length=1000)] | None = None
    # The numbered PDF receipt (payment_completed), openable without signing in.
    receipt_url: WebLink | None = None
    # The attendee's ticket (drawn as a QR code in confirmations and reminders).
    ticket_code: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9-]+$")] | None = None
    # "24h" or "1h" for a reminder; a map link for a physical place.
    reminder: Literal["24h", "1h"] | None = None
    map_url: WebLink | None = None
    # The facilitator's own words: an event_message, or a note in an event_cancelled email.
    subject: ShortText | None = None
    message: Annotated[str, Field(max_length=5000)] | None = None
    # The attendee's booking page (every email links to it) and, while an unpaid hold
    # lasts, the page that takes the payment.
    booking_url: WebLink | None = None
    pay_url: WebLink | None = None
    # For the facilitator's emails: the event's attendee list.
    attendees_url: WebLink | None = None
    hold_expires_at: AwareDatetime | None = None
    # The calendar invite's SEQUENCE as the Booking app counts it (booking + event versions);
    # without it the CRM counts the booking's earlier notifications.
    ics_sequence: int | None = Field(default=None, ge=0, le=1_000_000)
    # event_updated: what changed, and what it was before.
    changed: list[ChangedFact] | None = Field(default=None, max_length=3)
    previous: PreviousEventInfo | None = None
    # The booking's cancellation policy in words, for the confirming emails.
    refund_policy_text: Annotated[str, Field(max_length=1000)] | None = None
    # Waitlist notifications.
    waitlist_entry_id: int | None = Field(default=None, gt=0)
    offer_url: WebLink | None = None
    offer_expires_at: AwareDatetime | None = None
    # "pass" when one class of a pass paid the seat (issue 17).
    paid_with: ShortText | None = None
    # Class pass notifications: the purchase, its credits and when it expires.
    pass_purchase_id: int | None = Field(default=None, gt=0)
    credits: int | None = Field(default=None, ge=0, le=100_000)
    expires_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _booking_or_waitlist(self) -> "NotifyRequest":
        if self.action in WAITLIST_ACTIONS:
            if self.waitlist_entry_id is None:
                raise ValueError("waitlist notifications need waitlist_entry_id")
        elif self.action in PASS_ACTIONS:
            if self.pass_purchase_id is None:
                raise ValueError("class pass notifications need pass_purchase_id")
        elif self.booking_id <= 0:
            raise ValueError("booking_id must be greater than 0")
        return self

    @property
    def awaiting_payment(self) -> bool:
        return self.payment_status in ("pending", "failed")

    @property
    def seat_secured(self) -> bool:
        """Paid, or free: the only bookings that get (or ever got) a calendar invite."""
        return self.payment_status == "completed"


class TestEmailRequest(_Body):
    to_email: EmailAddress
    subject: str = Field(min_length=1, max_length=300)
    html_content: str = Field(min_length=1, max_length=100_000)


def _is_missing(container: dict[str, Any], key: str) -> bool:
    return container.get(key) is None or container.get(key) == ""


def find_missing_fields(
    body: dict[str, Any],
    required: tuple[str, ...],
    nested: Mapping[str, tuple[str, ...]] | None = None,
) -> list[str]:
    """Names of required fields that are absent, null or empty; nested ones as 'user.email'."""
    missing = [name for name in required if _is_missing(body, name)]
    for parent, children in (nested or {}).items():
        value = body.get(parent)
        if isinstance(value, dict):
            missing += [f"{parent}.{child}" for child in children if _is_missing(value, child)]
    return missing


def validation_details(error: PydanticValidationError) -> dict[str, str]:
    """Pydantic errors as {"user.email": "must be a valid email address"}."""
    details: dict[str, str] = {}
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "body"
        message = str(item["msg"]).removeprefix("Value error, ")
        details.setdefault(field, message)
    return details


# --- account emails (issue 14) -------------------------------------------------------------------

AccountEmailKind = Literal["verify_email", "reset_password", "password_removed"]
ACCOUNT_EMAIL_REQUIRED_FIELDS = ("to_email", "name", "kind", "link")


class AccountEmailRequest(_Body):
    to_email: EmailAddress
    name: str = Field(min_length=1, max_length=200)
    kind: AccountEmailKind
    link: WebLink
    expires_in: Annotated[str, Field(max_length=50)] | None = None
