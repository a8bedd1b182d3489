"""POST /notify end to end: what arrives at the SMTP server, idempotency, failures and retries."""

from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from icalendar import Calendar

from tests.crm.conftest import SMTP_USER, CrmProcess, notify_payload
from tests.fakes.smtp_server import AIOSMTPD_LOGIN_DATA_WARNING, FakeSmtpServer

pytestmark = pytest.mark.filterwarnings(AIOSMTPD_LOGIN_DATA_WARNING)


def only_message(smtp: FakeSmtpServer, address: str) -> EmailMessage:
    received = smtp.messages_to(address)
    assert len(received) == 1, f"expected one message to {address}, got {len(received)}"
    assert received[0].over_tls and received[0].login == SMTP_USER
    return received[0].message


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    return text_part.get_content(), html_part.get_content()


def calendar_of(message: EmailMessage) -> tuple[Calendar, str]:
    """The attached .ics, parsed, and the METHOD given on its Content-Type."""
    [attachment] = [a for a in message.iter_attachments() if a.get_content_type() == "text/calendar"]
    return Calendar.from_ical(attachment.get_content()), attachment.get_param("method")


def vevent(calendar: Calendar) -> Any:
    [event] = calendar.walk("VEVENT")
    return event


def post(crm_api: httpx.Client, payload: dict[str, Any]) -> dict[str, Any]:
    response = crm_api.post("/notify", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


def test_confirmation_reaches_attendee_and_facilitator(crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    payload = notify_payload(event={"title": 'Yoga <script>alert("x")</script> & Tea'})
    body = post(crm_api, payload)
    assert body == {
        "message": "Notification sent successfully",
        "notification_id": body["notification_id"],
        "email_sent": True,
        "status": "sent",
        "duplicate": False,
    }

    attendee = only_message(smtp, payload["user"]["email"])
    assert attendee["To"] == payload["user"]["email"]
    assert attendee["From"] == "CRM Booking <crm@example.com>"
    assert attendee["Subject"] == 'Booking confirmed: Yoga <script>alert("x")</script> & Tea'
    text, html = text_and_html(attendee)
    assert "<script>" not in html
    assert "Yoga &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Tea" in html
    assert 'Yoga <script>alert("x")</script> & Tea' in text
    when = "Sat 14 Mar 2026, 10:00–11:30 IST (Asia/Kolkata)"
    assert when in text and when in html
    assert "https://meet.example.com/yoga" in text

    calendar, method = calendar_of(attendee)
    assert method == "REQUEST" and calendar["METHOD"] == "REQUEST"
    event = vevent(calendar)
    assert str(event["UID"]) == f"booking-{payload['booking_id']}@crm-booking"
    assert event["DTSTART"].params["TZID"] == "Asia/Kolkata"
    assert event["DTSTART"].dt.strftime("%Y-%m-%d %H:%M") == "2026-03-14 10:00"
    assert str(event["ATTENDEE"]) == f"mailto:{payload['user']['email']}"

    facilitator = only_message(smtp, payload["event"]["facilitator_email"])
    assert facilitator["Subject"].startswith("New booking: Yoga")
    assert "Asha Rao" in text_and_html(facilitator)[0]
    assert list(facilitator.iter_attachments()) == []


def test_cancellation_replaces_the_invite_with_a_higher_sequence(
    crm_api: httpx.Client, smtp: FakeSmtpServer
) -> None:
    booked = notify_payload()
    post(crm_api, booked)
    refund = {"refund_id": "rfnd_123", "amount": 1500, "currency": "INR", "status": "processed"}
    cancelled = booked | {
        "action": "booking_cancelled",
        "idempotency_key": f"cancel-{booked['booking_id']}",
        "payment_status": "refunded",
        "refund": refund,
        "reason": "Change of plans",
    }
    post(crm_api, cancelled)

    invite, cancel = [m.message for m in smtp.messages_to(booked["user"]["email"])]
    cancel_calendar, method = calendar_of(cancel)
    assert method == "CANCEL" and cancel_calendar["METHOD"] == "CANCEL"
    assert vevent(cancel_calendar)["UID"] == vevent(calendar_of(invite)[0])["UID"]
    assert vevent(cancel_calendar)["SEQUENCE"] > vevent(calendar_of(invite)[0])["SEQUENCE"]
    assert vevent(cancel_calendar)["STATUS"] == "CANCELLED"
    text, _ = text_and_html(cancel)
    assert cancel["Subject"] == "Booking cancelled: Morning Yoga"
    assert "1,500.00 INR" in text and "rfnd_123" in text and "Change of plans" in text

    facilitator_mail = [m.message["Subject"] for m in smtp.messages_to(booked["event"]["facilitator_email"])]
    assert facilitator_mail == ["New booking: Morning Yoga", "Booking cancelled: Morning Yoga"]


def test_paid_booking_tells_the_facilitator_once_payment_arrives(
    crm_api: httpx.Client, smtp: FakeSmtpServer
) -> None:
    held = notify_payload(payment_status="pending")
    post(crm_api, held)
    paid = held | {
        "action": "payment_completed",
        "idempotency_key": f"paid-{held['booking_id']}",
        "payment_status": "completed",
    }
    post(crm_api, paid)

    reserved, receipt = [m.message for m in smtp.messages_to(held["user"]["email"])]
    assert reserved["Subject"] == "Seat reserved: Morning Yoga"
    assert receipt["Subject"] == "Payment received: Morning Yoga"
    assert "1,500.00 INR" in text_and_html(receipt)[0]
    assert calendar_of(receipt)[1] == "REQUEST"
    facilitator = only_message(smtp, held["event"]["facilitator_email"])
    assert facilitator["Subject"] == "New booking: Morning Yoga"


def test_payment_failed_notice_goes_to_the_attendee_only(crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    payload = notify_payload("payment_failed", payment_status="failed")
    post(crm_api, payload)
    notice = only_message(smtp, payload["user"]["email"])
    assert notice["Subject"] == "Payment failed: Morning Yoga"
    assert list(notice.iter_attachments()) == []
    assert smtp.messages_to(payload["event"]["facilitator_email"]) == []


@pytest.mark.parametrize(
    ("action", "subject", "had_invite"),
    [
        ("hold_expired", "Reservation expired: Morning Yoga", False),
        ("event_cancelled", "Event cancelled: Morning Yoga", True),
        ("late_payment_refunded", "Payment refunded: Morning Yoga", False),
    ],
)
def test_other_cancellations_cancel_the_invite_only_where_one_was_sent(
    crm_api: httpx.Client, smtp: FakeSmtpServer, action: str, subject: str, had_invite: bool
) -> None:
    """An expired or late-paid hold was never a seat, so it never had an invite (issue 15)."""
    payload = notify_payload(action, payment_status="refunded", refund={"amount": 1500})
    post(crm_api, payload)
    message = only_message(smtp, payload["user"]["email"])
    assert message["Subject"] == subject
    if had_invite:
        calendar, method = calendar_of(message)
        assert method == "CANCEL" and int(vevent(calendar)["SEQUENCE"]) >= 1
    else:
        assert [a for a in message.iter_attachments() if a.get_content_type() == "text/calendar"] == []
    assert smtp.messages_to(payload["event"]["facilitator_email"]) == []


def test_dst_change_is_shown_in_the_events_zone(crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    payload = notify_payload(
        event={
            "timezone": "Europe/London",
            "start_datetime": "2026-03-30T09:00:00+00:00",  # after the clocks went forward
            "end_datetime": "2026-03-30T10:00:00+00:00",
        }
    )
    post(crm_api, payload)
    message = only_message(smtp, payload["user"]["email"])
    assert "Mon 30 Mar 2026, 10:00–11:00 BST (Europe/London)" in text_and_html(message)[0]
    event = vevent(calendar_of(message)[0])
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event["DTSTART"].dt.strftime("%H:%M") == "10:00"


def test_repeat_with_same_key_returns_first_result_without_a_second_email(
    crm_api: httpx.Client, smtp: FakeSmtpServer
) -> None:
    payload = notify_payload()
    first = post(crm_api, payload)
    second = post(crm_api, payload)
    assert second["notification_id"] == first["notification_id"]
    assert second["email_sent"] is True and second["duplicate"] is True
    only_message(smtp, payload["user"]["email"])


def test_requests_without_a_key_are_not_deduplicated(crm_api: httpx.Client) -> None:
    payload = notify_payload()
    del payload["idempotency_key"]
    assert post(crm_api, payload)["notification_id"] != post(crm_api, payload)["notification_id"]


def test_concurrent_repeats_send_one_email(crm: CrmProcess, smtp: FakeSmtpServer) -> None:
    payload = notify_payload()

    def send(_: int) -> dict[str, Any]:
        with crm.client() as client:
            return client.post("/notify", json=payload).json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, range(8)))
    assert {r["notification_id"] for r in results} == {results[0]["notification_id"]}
    assert all(r["email_sent"] for r in results)
    assert sum(not r["duplicate"] for r in results) == 1
    only_message(smtp, payload["user"]["email"])
    only_message(smtp, payload["event"]["facilitator_email"])


def attempts_for(database_url: str, notification_id: int) -> list[tuple[str, bool]]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT recipient, success FROM delivery_attempts WHERE notification_id = :id ORDER BY id"
                ),
                {"id": notification_id},
            )
            return [(row.recipient, row.success) for row in rows]
    finally:
        engine.dispose()


def test_login_failure_is_recorded_and_a_repeat_retries(
    crm_api: httpx.Client, smtp: FakeSmtpServer, crm_database_url: str
) -> None:
    payload = notify_payload()
    attendee, facilitator = payload["user"]["email"], payload["event"]["facilitator_email"]
    smtp.accept_logins = False
    failed = post(crm_api, payload)
    assert failed["email_sent"] is False and failed["status"] == "failed"
    assert "SMTP authentication failed (535)" in failed["email_error"]
    assert "Pa55word" not in str(failed)
    assert smtp.messages_to(attendee) == []
    listed = crm_api.get("/notifications").json()["notifications"]
    [row] = [n for n in listed if n["id"] == failed["notification_id"]]
    assert row["status"] == "failed" and row["sent_at"] is None

    smtp.accept_logins = True
    retried = post(crm_api, payload)
    assert retried["notification_id"] == failed["notification_id"]
    assert retried["email_sent"] is True and retried["status"] == "sent"
    only_message(smtp, attendee)
    only_message(smtp, facilitator)
    assert attempts_for(crm_database_url, failed["notification_id"]) == [
        (attendee, False),
        (facilitator, False),
        (attendee, True),
        (facilitator, True),
    ]
    assert post(crm_api, payload)["duplicate"] is True
    only_message(smtp, attendee)


def test_retry_resends_only_to_recipients_that_failed(crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    payload = notify_payload()
    attendee, facilitator = payload["user"]["email"], payload["event"]["facilitator_email"]
    smtp.rejected_recipients.add(facilitator)
    first = post(crm_api, payload)
    assert first["status"] == "failed"
    assert f"{facilitator}: Recipient refused" in first["email_error"]
    only_message(smtp, attendee)

    smtp.rejected_recipients.clear()
    assert post(crm_api, payload)["status"] == "sent"
    only_message(smtp, attendee)
    only_message(smtp, facilitator)


def test_receipt_email_links_to_the_pdf_receipt(crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    """Issue 15: the payment email is the receipt email, and links to the numbered PDF."""
    link = "https://bookings.example.com/receipts/BK2026001?token=abc123"
    paid = notify_payload("payment_completed", payment_status="completed", receipt_url=link)
    post(crm_api, paid)
    text, html = text_and_html(only_message(smtp, paid["user"]["email"]))
    assert f"Download your receipt (PDF): {link}" in text
    assert '<a href="https://bookings.example.com/receipts/BK2026001?token=abc123">' in html

    refused = crm_api.post("/notify", json=notify_payload(receipt_url="javascript:alert(1)"))
    assert refused.status_code == 400 and "receipt_url" in refused.json()["details"]


def test_duplicate_payment_refund_keeps_the_calendar_untouched(
    crm_api: httpx.Client, smtp: FakeSmtpServer
) -> None:
    """Issue 13 (7): the booking stays paid, so no 'seat released' wording and no CANCEL."""
    payload = notify_payload("duplicate_payment_refunded", payment_status="completed",
                             status="confirmed", refund={"amount": 1500})
    post(crm_api, payload)
    message = only_message(smtp, payload["user"]["email"])
    assert message["Subject"] == "Duplicate payment refunded: Morning Yoga"
    text = text_and_html(message)[0]
    assert "stays confirmed" in text and "1,500.00" in text and "released" not in text
    assert list(message.iter_attachments()) == []
    assert smtp.messages_to(payload["event"]["facilitator_email"]) == []


@pytest.mark.parametrize(("sent_sequence", "expected"), [(7, 7), (None, 0)])
def test_invite_sequence_is_the_one_the_booking_app_sent(
    crm_api: httpx.Client, smtp: FakeSmtpServer, sent_sequence: int | None, expected: int
) -> None:
    """Issue 13 (8): the SEQUENCE comes from the booking's version, not from arrival order; an
    older client that sends none still gets the count of earlier notifications."""
    payload = notify_payload("payment_completed", payment_status="completed")
    if sent_sequence is not None:
        payload["ics_sequence"] = sent_sequence
    post(crm_api, payload)
    calendar, method = calendar_of(only_message(smtp, payload["user"]["email"]))
    assert method == "REQUEST" and int(vevent(calendar)["SEQUENCE"]) == expected
