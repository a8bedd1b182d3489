"""Cancellation policies: refund tiers per event, the booking's snapshot of them, and the
exact refund a cancellation gives at a given instant.

A tier `{"hours_before": h, "refund_percent": p}` gives p% while the cancellation comes BEFORE
the instant `start - h hours` (real elapsed hours, so a DST change between the two does not
move it); at that instant the next tier takes over. After the last tier nothing is refunded.
No policy means a full refund until the start (the behaviour before policies existed).
See docs/decisions/waitlist-and-policy.md.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from crm_booking import clock
from crm_booking.models import Booking, Event, PaymentStatus

Policy = list[dict[str, int]]

MAX_TIERS = 5  # the event form shows this many rows
MAX_HOURS_BEFORE = 24 * 366
# What the event form offers when the facilitator has saved no default of their own.
SUGGESTED_POLICY: Policy = [
    {"hours_before": 168, "refund_percent": 100},
    {"hours_before": 48, "refund_percent": 50},
    {"hours_before": 0, "refund_percent": 0},
]
# The implicit policy of an event without one: everything back until the start.
FULL_REFUND_TIER = {"hours_before": 0, "refund_percent": 100}


class PolicyProblem(ValueError):
    """The reason a policy is refused, worded for the person who wrote it."""


# --- validation -------------------------------------------------------------------------------


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _tier(raw: Any, number: int) -> dict[str, int]:
    if not isinstance(raw, dict) or set(raw) != {"hours_before", "refund_percent"}:
        raise PolicyProblem(f"Tier {number} must have exactly hours_before and refund_percent")
    hours, percent = raw["hours_before"], raw["refund_percent"]
    if not _whole_number(hours) or not 0 <= hours <= MAX_HOURS_BEFORE:
        raise PolicyProblem(f"Tier {number}: hours_before must be a whole number from 0 to "
                            f"{MAX_HOURS_BEFORE}")
    if not _whole_number(percent) or not 0 <= percent <= 100:
        raise PolicyProblem(f"Tier {number}: refund_percent must be a whole number from 0 to 100")
    return {"hours_before": hours, "refund_percent": percent}


def normalise(raw: Any) -> Policy | None:
    """A valid policy, tiers ordered from the earliest cancellation to the latest; `None` for
    "no policy" (full refund until the start). Raises PolicyProblem."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise PolicyProblem("Give a list of tiers, or null for a full refund until the start")
    if len(raw) > MAX_TIERS:
        raise PolicyProblem(f"At most {MAX_TIERS} tiers")
    tiers = sorted((_tier(t, n) for n, t in enumerate(raw, start=1)),
                   key=lambda t: -t["hours_before"])
    for earlier, later in itertools.pairwise(tiers):
        if earlier["hours_before"] == later["hours_before"]:
            raise PolicyProblem(f"Two tiers at {later['hours_before']} hours before; "
                                "hours_before must differ")
        if later["refund_percent"] >= earlier["refund_percent"]:
            raise PolicyProblem("Later cancellations must get a smaller refund: the refund must "
                                "go down as hours_before goes down")
    return tiers


def apply_to_event(event: Event, raw: Any, problems: dict[str, str], *, given: bool,
                   fallback: Policy | None = None) -> None:
    """Set the event's policy from the request (`given`) or, on creation, the facilitator's
    saved default (`fallback`). Free events never keep one."""
    free = event.price is not None and event.price <= 0
    if given:
        try:
            policy = normalise(raw)
        except PolicyProblem as problem:
            problems["refund_policy"] = str(problem)
            return
        if policy is not None and free:
            problems["refund_policy"] = "Free events have no refund policy"
            return
        event.refund_policy = policy
    elif fallback is not None and not free:
        event.refund_policy = fallback
    if free:
        event.refund_policy = None


def form_default(user_id: int) -> Policy:
    """What the event form offers for a new event: the facilitator's saved default, else the
    suggested one."""
    from crm_booking.db import read_session
    from crm_booking.models import User

    with read_session() as session:
        user = session.get(User, user_id)
        saved = user.default_refund_policy if user is not None else None
    return saved or SUGGESTED_POLICY


def snapshot(event: Event) -> Policy | None:
    """The policy a new booking keeps, whatever the event's policy becomes later."""
    return [dict(t) for t in event.refund_policy] if event.refund_policy else None


# --- quoting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    refund_amount: Decimal
    refund_percent: int
    currency: str
    policy_tier: dict[str, int] | None
    valid_until: datetime  # UTC: the instant this quote stops being the answer

    @property
    def refundable(self) -> bool:
        return self.refund_amount > 0


def _boundaries(policy: Policy | None, start: datetime) -> list[tuple[datetime, dict[str, int]]]:
    """(instant the tier ends, tier), earliest first."""
    tiers = policy or [FULL_REFUND_TIER]
    return [(start - timedelta(hours=t["hours_before"]), t) for t in tiers]


def refund_percent_at(policy: Policy | None, start: datetime,
                      at: datetime) -> tuple[int, dict[str, int] | None, datetime]:
    """(percent, tier applied or None, when this answer ends) for a cancellation at `at`."""
    for ends, tier in _boundaries(policy, start):
        if at < ends:
            return tier["refund_percent"], tier, ends
    return 0, None, start


def paid_amount(booking: Booking) -> Decimal:
    paid = booking.payment_status == PaymentStatus.COMPLETED.value and bool(booking.payment_id)
    return booking.amount if paid and booking.amount > 0 else Decimal("0")


def percent_of(amount: Decimal, percent: int) -> Decimal:
    return (amount * percent / Decimal(100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def quote(booking: Booking, event: Event, at: datetime | None = None) -> Quote:
    """What cancelling `booking` at `at` (default: now) refunds, by the policy it was made under."""
    at = at or clock.now()
    percent, tier, ends = refund_percent_at(booking.refund_policy, clock.as_utc(event.start_at),
                                            clock.as_utc(at))
    return Quote(refund_amount=percent_of(paid_amount(booking), percent), refund_percent=percent,
                 currency=booking.currency, policy_tier=tier, valid_until=ends)


# --- in words ---------------------------------------------------------------------------------


def local_moment(instant: datetime, zone_name: str) -> str:
    """`Mon 1 Dec, 7:00 AM IST`, in the event's own zone."""
    local = clock.as_utc(instant).astimezone(ZoneInfo(zone_name))
    hour = local.hour % 12 or 12
    return f"{local:%a} {local.day} {local:%b}, {hour}:{local:%M} {local:%p} {local:%Z}"


def describe(policy: Policy | None, start: datetime, zone_name: str) -> str:
    """The policy in words, e.g. "Full refund until Mon 1 Dec, 7:00 AM IST; 50% refund until
    Fri 5 Dec, 7:00 AM IST; no refund after"."""
    if not policy:
        return "Full refund if you cancel before the event starts"
    parts = []
    for ends, tier in _boundaries(policy, clock.as_utc(start)):
        if tier["refund_percent"] == 0:
            break
        share = "Full refund" if tier["refund_percent"] == 100 else f"{tier['refund_percent']}% refund"
        when = ("the event starts" if tier["hours_before"] == 0
                else local_moment(ends, zone_name))
        parts.append(f"{share} until {when}")
    if not parts:
        return "No refund if you cancel"
    if policy[-1]["hours_before"] > 0 or policy[-1]["refund_percent"] == 0:
        parts.append("no refund after")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def event_fields(event: Event) -> dict[str, Any]:
    """`refund_policy` and its wording for an event's API shape (free events: none)."""
    if event.price <= 0:
        return {"refund_policy": None, "refund_policy_text": None}
    return {"refund_policy": event.refund_policy,
            "refund_policy_text": describe(event.refund_policy, event.start_at, event.timezone)}


def booking_policy_text(booking: Booking, event: Event) -> str | None:
    """The wording of the policy a (paid) booking was made under."""
    if booking.amount <= 0:
        return None
    return describe(booking.refund_policy, event.start_at, event.timezone)
