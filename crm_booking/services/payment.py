"""Payments: gateway orders for bookings, and the checkout link.

(The success/failure callbacks and webhooks are completed by the payments work; see issue 5.)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from crm_booking.db import transaction
from crm_booking.gateways.payments import GatewayFailure, get_gateway
from crm_booking.models import Booking, BookingStatus, PaymentStatus
from crm_booking.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkout:
    booking: Booking
    payment_url: str | None


def checkout_token(reference: str) -> str:
    """Ties a checkout link to its booking, so references cannot be guessed into payments."""
    key = get_settings().JWT_SECRET_KEY.encode()
    return hmac.new(key, f"checkout:{reference}".encode(), hashlib.sha256).hexdigest()[:32]


def checkout_url(reference: str) -> str:
    base = get_settings().PUBLIC_BASE_URL.rstrip("/")
    return f"{base}/pay/{reference}?token={checkout_token(reference)}"


def needs_payment(booking: Booking) -> bool:
    return (
        booking.status == BookingStatus.CONFIRMED.value
        and booking.payment_status in (PaymentStatus.PENDING.value, PaymentStatus.FAILED.value)
    )


def ensure_order(booking_id: int) -> Booking:
    """Create the gateway order once (outside any lock) and remember it on the booking."""
    with transaction(write=False) as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
    if booking.razorpay_order_id or not needs_payment(booking):
        return booking
    order_id = get_gateway().create_order(
        amount_paise=int(booking.amount * 100),
        currency=booking.currency,
        receipt=booking.booking_reference or str(booking.id),
        notes={"booking_id": str(booking.id), "event_id": str(booking.event_id)},
    )
    with transaction() as session:
        stored = session.get(Booking, booking_id)
        assert stored is not None
        if stored.razorpay_order_id is None:
            stored.razorpay_order_id = order_id
            stored.payment_reference = order_id
            session.add(stored)
        return stored


def start_checkout(booking: Booking) -> Checkout:
    if not needs_payment(booking):
        return Checkout(booking, None)
    try:
        booking = ensure_order(booking.id)  # type: ignore[arg-type]
    except GatewayFailure as failure:
        # The seat is held either way; the checkout page creates the order when it opens.
        log.warning("order for booking %s not created yet: %s", booking.id, failure)
    return Checkout(booking, checkout_url(booking.booking_reference or ""))
