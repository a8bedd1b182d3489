"""What the CRM writes for tickets, reminders, facilitator messages and cancellation notes."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from typing import Any

from crm_service.emails import TICKET_QR_CID, notification_emails, ticket_qr_png
from crm_service.payloads import NotifyRequest

CODE = "TK1F-ABCDEFGHIJKLMNOP"


def _request(action: str, **extra: Any) -> NotifyRequest:
    event = {"id": 7, "title": "Morning Flow", "facilitator_id": 3,
             "facilitator_name": "Asha", "facilitator_email": "asha@example.com",
             "start_datetime": "2026-12-01T04:30:00+00:00", "end_datetime": "2026-12-01T05:30:00+00:00",
             "timezone": "Asia/Kolkata", "location": "Studio B, Koramangala",
             **extra.pop("event", {})}
    return NotifyRequest.model_validate({
        "booking_id": 11, "booking_reference": "BK20260011", "action": action,
        "user": {"name": "Ravi", "email": "ravi@example.com"}, "event": event,
        "payment_status": "completed", "amount": "500", "currency": "INR", **extra})


def _attendee_mail(request: NotifyRequest) -> EmailMessage:
    [mail, *_] = notification_emails(request, 0, "Bookings <noreply@example.com>")
    assert mail.recipient == "ravi@example.com"
    parsed = message_from_bytes(mail.message.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _part(mail: Message, content_type: str) -> Any:
    return next(p for p in mail.walk() if p.get_content_type() == content_type)


def test_confirmation_carries_the_ticket_as_an_inline_qr_code() -> None:
    mail = _attendee_mail(_request("payment_completed", ticket_code=CODE))
    html = _part(mail, "text/html").get_content()
    text = _part(mail, "text/plain").get_content()
    image = _part(mail, "image/png")
    assert f'src="cid:{TICKET_QR_CID}"' in html and CODE in html and CODE in text
    assert image["Content-ID"] == f"<{TICKET_QR_CID}>"
    assert image.get_payload(decode=True) == ticket_qr_png(CODE)
    # A real PNG; that it decodes to the code is shown by the browser test, whose scanner
    # reads the same segno drawing (tests/browser/test_checkin.py).
    assert image.get_payload(decode=True)[:8] == b"\x89PNG\r\n\x1a\n"


def test_unpaid_hold_has_no_ticket() -> None:
    mail = _attendee_mail(_request("booking_created", payment_status="pending", ticket_code=CODE))
    assert not [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert CODE not in _part(mail, "text/plain").get_content()


def test_reminders_say_when_and_how_to_get_there() -> None:
    physical = _attendee_mail(_request(
        "reminder", reminder="24h", ticket_code=CODE,
        map_url="https://www.google.com/maps/search/?api=1&query=Studio+B"))
    assert physical["Subject"] == "Reminder: Morning Flow starts in 24 hours"
    text = _part(physical, "text/plain").get_content()
    assert "Studio B, Koramangala" in text and "https://www.google.com/maps/search/" in text
    assert CODE in text
    online = _attendee_mail(_request("reminder", reminder="1h", event={
        "location": None, "virtual_link": "https://meet.example.com/flow"}))
    assert online["Subject"] == "Reminder: Morning Flow starts in 1 hour"
    assert "Join online: https://meet.example.com/flow" in _part(online, "text/plain").get_content()


def test_facilitator_message_and_cancellation_note() -> None:
    note = "Bring a mat.\n\nWe start on time."
    message = _attendee_mail(_request("event_message", subject="What to bring", message=note))
    assert message["Subject"] == "Morning Flow: What to bring"
    html = _part(message, "text/html").get_content()
    assert "<p>Bring a mat.</p>" in html and "<p>We start on time.</p>" in html
    [only] = notification_emails(_request("event_message", subject="x", message="y"), 0, "a@b.c")
    assert only.recipient == "ravi@example.com"  # the facilitator gets no copy per attendee

    cancelled = _attendee_mail(_request("event_cancelled", message="The studio <flooded>."))
    html = _part(cancelled, "text/html").get_content()
    assert "A message from Asha:" in html and "The studio &lt;flooded&gt;." in html


def test_message_to_the_waitlist_says_who_it_went_to_and_carries_no_invite() -> None:
    request = _request("waitlist_message", booking_id=0, waitlist_entry_id=5,
                       subject="A second class", message="We added a 9:00 class.")
    mail = _attendee_mail(request)
    assert mail["Subject"] == "Morning Flow: A second class"
    text = _part(mail, "text/plain").get_content()
    assert "wrote to everyone on the waitlist for Morning Flow" in text
    assert "We added a 9:00 class." in text
    assert not [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    [only] = notification_emails(request, 0, "a@b.c")
    assert only.recipient == "ravi@example.com"
