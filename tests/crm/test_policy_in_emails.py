"""The confirming emails state the booking's cancellation policy in words."""

from __future__ import annotations

from typing import Any

import pytest

from crm_service.emails import notification_emails
from crm_service.payloads import NotifyRequest

POLICY_TEXT = ("Full refund until Sun 3 Jan, 9:00 AM IST; 50% refund until Fri 8 Jan, 9:00 AM IST; "
               "no refund after")


def _request(action: str, **extra: Any) -> NotifyRequest:
    return NotifyRequest.model_validate({
        "booking_id": 7, "action": action, "booking_reference": "BK2026007",
        "user": {"name": "Asha", "email": "asha@example.com"},
        "event": {"title": "Morning flow", "facilitator_id": 1,
                  "start_datetime": "2027-01-10T03:30:00+00:00",
                  "end_datetime": "2027-01-10T04:30:00+00:00", "timezone": "Asia/Kolkata"},
        "amount": 999.99, "currency": "INR", **extra,
    })


def _attendee_text(request: NotifyRequest) -> str:
    message = notification_emails(request, 0, "crm@example.com")[0].message
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.mark.parametrize("action,payment_status", [("payment_completed", "completed"),
                                                   ("booking_created", "pending")])
def test_confirming_emails_state_the_policy(action: str, payment_status: str) -> None:
    text = _attendee_text(_request(action, payment_status=payment_status,
                                   refund_policy_text=POLICY_TEXT))

    assert f"Cancellation policy: {POLICY_TEXT}." in text


def test_cancellation_email_does_not_repeat_the_policy() -> None:
    text = _attendee_text(_request("booking_cancelled", refund_policy_text=POLICY_TEXT))

    assert "Cancellation policy" not in text
