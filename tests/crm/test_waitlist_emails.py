"""Waitlist notifications in the CRM: an offer email with its deadline and link, a lapse email;
booking_id 0 is accepted for them only."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from crm_service.emails import notification_emails
from crm_service.payloads import NotifyRequest


def _request(action: str, **extra: Any) -> NotifyRequest:
    return NotifyRequest.model_validate({
        "booking_id": 0, "action": action, "waitlist_entry_id": 12,
        "user": {"name": "Asha", "email": "asha@example.com"},
        "event": {"title": "Morning flow", "facilitator_id": 1,
                  "facilitator_email": "teacher@example.com",
                  "start_datetime": "2027-01-10T03:30:00+00:00",
                  "end_datetime": "2027-01-10T04:30:00+00:00", "timezone": "Asia/Kolkata"},
        **extra,
    })


def _only_email_text(request: NotifyRequest) -> str:
    [email] = notification_emails(request, 0, "crm@example.com")  # nothing to the facilitator
    assert email.recipient == "asha@example.com"
    body = email.message.get_body(preferencelist=("plain",))
    assert body is not None
    assert not any(part.get_content_type() == "text/calendar" for part in email.message.walk())
    return str(body.get_content())


def test_offer_email_states_the_deadline_in_the_event_zone_and_links_to_accept() -> None:
    text = _only_email_text(_request(
        "waitlist_offered", offer_expires_at="2027-01-05T04:00:00+00:00",
        offer_url="https://book.example.com/app/events/5"))

    assert "a seat has opened up at Morning flow" in text
    assert "Accept it before Tue 05 Jan 2027, 09:30 IST" in text
    assert "https://book.example.com/app/events/5" in text


def test_lapse_email() -> None:
    assert "has gone to the next person" in _only_email_text(_request("waitlist_offer_expired"))


def test_booking_id_zero_only_for_waitlist_notifications() -> None:
    with pytest.raises(ValidationError):
        NotifyRequest.model_validate({
            "booking_id": 0, "action": "booking_created",
            "user": {"name": "Asha", "email": "asha@example.com"},
            "event": {"title": "Morning flow", "facilitator_id": 1}})
    with pytest.raises(ValidationError):
        _request("waitlist_offered", waitlist_entry_id=None)
