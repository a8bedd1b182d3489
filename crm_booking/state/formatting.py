"""How money, times and seats read on screen. Pure functions, so pages and tests share them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from crm_booking.clock import as_utc

DASH = " \u2013 "  # an en dash between two times


def _indian_grouping(whole: int) -> str:
    """12,34,567: Indian readers group lakhs and crores this way."""
    digits = str(whole)
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    groups: list[str] = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return ",".join([*groups, tail])


def inr(amount: Decimal | float | int, *, free_label: str = "Free") -> str:
    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    if value == 0:
        return free_label
    whole = int(value)
    paise = int((value - whole) * 100)
    text = "₹" + _indian_grouping(whole)
    return f"{text}.{paise:02d}" if paise else text


def seats_left(held: int, capacity: int) -> str:
    left = max(capacity - held, 0)
    if left == 0:
        return "Full"
    return "1 seat left" if left == 1 else f"{left} seats left"


def _local(value: datetime, tz_name: str) -> datetime:
    return as_utc(value).astimezone(ZoneInfo(tz_name))


def _clock_time(value: datetime) -> str:
    return value.strftime("%I:%M %p").lstrip("0")


def _day(value: datetime) -> str:
    return value.strftime("%a %d %b %Y").replace(" 0", " ")


def schedule(start: datetime, end: datetime, tz_name: str) -> str:
    """'Sat 14 Jun 2025, 7:00 AM to 8:00 AM IST' (with an en dash) in the event's timezone."""
    local_start, local_end = _local(start, tz_name), _local(end, tz_name)
    zone = local_end.strftime("%Z")
    if local_start.date() == local_end.date():
        return f"{_day(local_start)}, {_clock_time(local_start)}{DASH}{_clock_time(local_end)} {zone}"
    return (
        f"{_day(local_start)}, {_clock_time(local_start)} {local_start.strftime('%Z')}{DASH}"
        f"{_day(local_end)}, {_clock_time(local_end)} {zone}"
    )


def short_date(start: datetime, tz_name: str) -> str:
    local = _local(start, tz_name)
    return f"{_day(local)}, {_clock_time(local)} {local.strftime('%Z')}"


def day_month(start: datetime, tz_name: str) -> str:
    """'Mon 7 Dec': a session's day, in the event's timezone (series lists)."""
    return _local(start, tz_name).strftime("%a %d %b").replace(" 0", " ")


def minutes_phrase(minutes: int) -> str:
    if minutes <= 1:
        return "less than a minute"
    return f"{minutes} minutes"


@dataclass(frozen=True)
class BookingWords:
    """What a booking is, in the words the attendee and the facilitator read."""

    status: str  # "Reserved until 2:32 PM IST, awaiting payment", "Expired, not paid", "Paid", "Free", ...
    payment: str  # "Awaiting payment", "Payment failed", "Paid", "Free", "Refunded", "Not paid"
    tone: str  # a colour: green (the seat is theirs), amber (waiting), red, gray


def booking_words(*, status: str, payment_status: str, amount: Decimal | float,
                  hold_expires_at: datetime | None, cancellation_reason: str | None,
                  tz_name: str, now: datetime) -> BookingWords:
    """An unpaid hold never reads "Confirmed", a lapsed one never "Cancelled / Payment
    pending", and a free booking never "Paid"."""
    free = Decimal(str(amount)) == 0
    unpaid = payment_status in ("pending", "failed")
    expired = BookingWords("Expired, not paid", "Not paid", "gray")
    if status == "cancelled":
        if cancellation_reason == "hold_expired" or (unpaid and cancellation_reason is None):
            return expired
        paid_words = {"refunded": "Refunded", "completed": "Free" if free else "Paid"}
        return BookingWords("Cancelled", paid_words.get(payment_status, "Not paid"), "gray")
    if unpaid:
        if hold_expires_at is None or as_utc(hold_expires_at) <= now:
            return expired
        until = _local(hold_expires_at, tz_name)
        payment = "Payment failed" if payment_status == "failed" else "Awaiting payment"
        return BookingWords(
            f"Reserved until {_clock_time(until)} {until.strftime('%Z')}, awaiting payment",
            payment, "red" if payment_status == "failed" else "amber")
    if payment_status == "refunded":
        return BookingWords("Refunded", "Refunded", "gray")
    paid = "Free" if free else "Paid"
    return BookingWords("Attended" if status == "completed" else paid, paid, "green")


EVENT_TYPE_LABELS = {"session": "Session", "workshop": "Workshop", "retreat": "Retreat"}


def viewer_schedule(start: datetime, end: datetime, event_tz: str, viewer_tz: str) -> str:
    """The event's time in the viewer's own zone, or "" when that reads the same as the
    event's (same offset at that moment) or the viewer's zone is unknown."""
    try:
        viewer = ZoneInfo(viewer_tz)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return ""
    if as_utc(start).astimezone(viewer).utcoffset() == _local(start, event_tz).utcoffset():
        return ""
    return schedule(start, end, viewer_tz)
