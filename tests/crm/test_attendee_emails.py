"""Issue 15, defects 3 and 6 in the emails: an invite only for a seat that is paid or free,
status in words, reasons in words, every email links to the booking, and the payment-failed
one to "pay now" while the hold lasts."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.crm.conftest import notify_payload
from tests.crm.test_notification_emails import calendar_of, only_message, post, text_and_html
from tests.fakes.smtp_server import AIOSMTPD_LOGIN_DATA_WARNING, FakeSmtpServer

pytestmark = pytest.mark.filterwarnings(AIOSMTPD_LOGIN_DATA_WARNING)

BOOKING_URL = "https://book.example.com/app/booking/BK-1"
PAY_URL = "https://book.example.com/pay/BK-1?token=abc"


def _links(**more: Any) -> dict[str, Any]:
    return {"booking_url": BOOKING_URL, **more}


def _calendars(message: Any) -> list[Any]:
    return [a for a in message.iter_attachments() if a.get_content_type() == "text/calendar"]


def test_unpaid_hold_gets_no_invite_its_deadline_in_words_and_a_pay_link(
        crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    hold_end = datetime(2026, 3, 10, 9, 2, tzinfo=UTC) + timedelta(days=3650)  # 14:32 IST
    payload = notify_payload(payment_status="pending", **_links(
        pay_url=PAY_URL, hold_expires_at=hold_end.isoformat()), event={"virtual_link": None})
    post(crm_api, payload)
    reserved = only_message(smtp, payload["user"]["email"])
    assert reserved["Subject"] == "Seat reserved: Morning Yoga"
    assert _calendars(reserved) == []  # no CONFIRMED invite for a seat not yet paid
    text, html = text_and_html(reserved)
    assert "Status: Reserved until 14:32 IST on " in text and "awaiting payment" in text
    assert f"Pay now: {PAY_URL}" in text and f'href="{PAY_URL}"' in html
    assert f"View your booking: {BOOKING_URL}" in text and f'href="{BOOKING_URL}"' in html
    assert "Join online" not in text


def test_payment_failed_links_to_pay_now_only_while_the_hold_lasts(
        crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    open_hold = notify_payload("payment_failed", payment_status="failed", **_links(
        pay_url=PAY_URL, hold_expires_at=(datetime.now(UTC) + timedelta(minutes=9)).isoformat()))
    post(crm_api, open_hold)
    text, _ = text_and_html(only_message(smtp, open_hold["user"]["email"]))
    assert f"Pay now: {PAY_URL}" in text and "you can pay now" in text
    assert f"View your booking: {BOOKING_URL}" in text

    lapsed = notify_payload("payment_failed", payment_status="failed", **_links(
        pay_url=PAY_URL, hold_expires_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat()))
    post(crm_api, lapsed)
    text, html = text_and_html(only_message(smtp, lapsed["user"]["email"]))
    assert PAY_URL not in text and PAY_URL not in html
    assert f"View your booking: {BOOKING_URL}" in text


def test_reasons_read_as_words_for_attendee_and_facilitator(
        crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    payload = notify_payload("booking_cancelled", payment_status="refunded", reason="user_cancelled",
                             attendees_url="https://book.example.com/app/dashboard/events/3",
                             **_links())
    post(crm_api, payload)
    text, html = text_and_html(only_message(smtp, payload["user"]["email"]))
    assert "user_cancelled" not in text + html
    assert "Reason: You cancelled this booking" in text
    assert f"View your booking: {BOOKING_URL}" in text
    assert [m["METHOD"] for m in [calendar_of(only_message(smtp, payload["user"]["email"]))[0]]] == ["CANCEL"]
    facilitator_text, _ = text_and_html(only_message(smtp, payload["event"]["facilitator_email"]))
    assert "Reason: The attendee cancelled" in facilitator_text
    assert "See who is coming: https://book.example.com/app/dashboard/events/3" in facilitator_text


def test_a_hold_that_never_had_an_invite_gets_no_cancellation_of_one(
        crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    for action, status in (("hold_expired", "pending"), ("booking_cancelled", "failed")):
        payload = notify_payload(action, payment_status=status, reason=action, **_links())
        post(crm_api, payload)
        message = only_message(smtp, payload["user"]["email"])
        assert _calendars(message) == [], action
        assert "hold_expired" not in text_and_html(message)[0]


def test_event_change_to_an_unpaid_hold_has_no_invite_but_a_pay_link(
        crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    payload = notify_payload("event_updated", payment_status="pending", changed=["time"],
                             previous={"start_datetime": "2026-03-13T04:30:00+00:00",
                                       "end_datetime": "2026-03-13T06:00:00+00:00"},
                             ics_sequence=1, event={"virtual_link": None}, **_links(
                                 pay_url=PAY_URL,
                                 hold_expires_at=(datetime.now(UTC) + timedelta(minutes=9)).isoformat()))
    post(crm_api, payload)
    message = only_message(smtp, payload["user"]["email"])
    assert message["Subject"] == "New time: Morning Yoga"
    assert _calendars(message) == []
    text, _ = text_and_html(message)
    assert "Previously: Fri 13 Mar 2026, 10:00–11:30 IST" in text
    assert f"Pay now: {PAY_URL}" in text and "awaiting payment" in text
    assert smtp.messages_to(payload["event"]["facilitator_email"]) == []  # they made the change


def test_the_booking_apps_sequence_is_used_and_a_cancel_outranks_it(
        crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    booked = notify_payload(ics_sequence=4, **_links())
    post(crm_api, booked)
    cancelled = booked | {"action": "booking_cancelled", "payment_status": "refunded",
                          "idempotency_key": f"cancel-{booked['booking_id']}"}
    post(crm_api, cancelled)
    invite, cancel = [m.message for m in smtp.messages_to(booked["user"]["email"])]
    assert calendar_of(invite)[0].walk("VEVENT")[0]["SEQUENCE"] == 4
    assert calendar_of(cancel)[0].walk("VEVENT")[0]["SEQUENCE"] == 5
