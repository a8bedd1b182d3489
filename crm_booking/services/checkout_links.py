"""What a checkout link is made of, for bookings and class passes alike: a token that ties the
link to what it pays for (so references cannot be guessed into payments), the address of the
checkout page, and the attendee details Razorpay's form is filled with."""

from __future__ import annotations

import hashlib
import hmac

from crm_booking.models import User
from crm_booking.settings import get_settings


def token_for(subject: str) -> str:
    key = get_settings().JWT_SECRET_KEY.encode()
    return hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()[:32]


def token_matches(expected: str, given: str | None) -> bool:
    # Compared as bytes: compare_digest raises TypeError on non-ASCII text (a 500, issue 14).
    return hmac.compare_digest(expected.encode(), (given or "").encode())


def page_url(reference: str, token: str) -> str:
    base = get_settings().PUBLIC_BASE_URL.rstrip("/")
    return f"{base}/pay/{reference}?token={token}"


def prefill(attendee: User | None) -> dict[str, str]:
    """Only what the attendee has given: Razorpay shows an empty field rather than a made-up one."""
    if attendee is None:
        return {}
    values = {"name": attendee.name, "email": attendee.email, "contact": attendee.phone}
    return {key: value.strip() for key, value in values.items() if value and value.strip()}
