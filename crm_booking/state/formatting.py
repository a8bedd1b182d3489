"""How money, times and seats read on screen. Pure functions, so pages and tests share them."""

from __future__ import annotations

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


def minutes_phrase(minutes: int) -> str:
    if minutes <= 1:
        return "less than a minute"
    return f"{minutes} minutes"


PAYMENT_LABELS = {
    "pending": "Payment pending",
    "completed": "Paid",
    "failed": "Payment failed",
    "refunded": "Refunded",
}

STATUS_LABELS = {"confirmed": "Confirmed", "cancelled": "Cancelled", "completed": "Attended"}

EVENT_TYPE_LABELS = {"session": "Session", "workshop": "Workshop", "retreat": "Retreat"}
