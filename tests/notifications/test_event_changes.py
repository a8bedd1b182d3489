"""Issue 15, defect 1: a change of time, place or link reaches every live booking as an email
with an updated invite (same UID, higher SEQUENCE), through the outbox and the real CRM."""

from __future__ import annotations

import time
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from tests.fakes.smtp_server import AIOSMTPD_LOGIN_DATA_WARNING, FakeSmtpServer
from tests.notifications.conftest import current_database
from tests.support.api import book, create_event, new_attendee, new_facilitator

pytestmark = pytest.mark.filterwarnings(AIOSMTPD_LOGIN_DATA_WARNING)


def _messages(smtp: FakeSmtpServer, address: str, count: int, timeout: float = 30) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while len(smtp.messages_to(address)) <= count and time.monotonic() < deadline:
        time.sleep(0.2)
    # Sign-up also sends a verification email (issue 14): these tests are about the booking's.
    received = [m.message for m in smtp.messages_to(address)
                if m.message["Subject"] != "Confirm your email address"]
    assert len(received) == count, [m["Subject"] for m in received]
    return received


def _invite(message: EmailMessage) -> Any:
    [attachment] = [a for a in message.iter_attachments() if a.get_content_type() == "text/calendar"]
    assert attachment.get_param("method") == "REQUEST"
    [vevent] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    return vevent


def test_moving_an_event_tells_every_live_booking_with_an_updated_invite(
        start_booking, crm_with_mail, smtp_server):
    app = start_booking(crm_with_mail.base_url, name="booking-event-changes")
    with httpx.Client(base_url=app.base_url, timeout=30) as client:
        owner = new_facilitator(client, database_url=current_database())
        event = create_event(client, owner, title="Sunset yoga", price=0,
                             start_datetime="2031-03-14T18:00:00", end_datetime="2031-03-14T19:00:00",
                             timezone="Asia/Kolkata", location="Studio 1, Indiranagar")
        attendees = [new_attendee(client, name=name) for name in ("Anita", "Kiran")]
        bookings = [book(client, a, event["id"]).json()["booking"] for a in attendees]
        leaver = new_attendee(client, name="Gone")
        gone = book(client, leaver, event["id"]).json()["booking"]
        assert client.post(f"/bookings/{gone['id']}/cancel", headers=leaver.headers).status_code == 200
        confirmations = [_invite(_messages(smtp_server, a.email, 1)[0]) for a in attendees]

        # A title edit tells nobody.
        renamed = client.put(f"/events/{event['id']}", json={"title": "Sunset yoga (beginners)"},
                             headers=owner.headers)
        assert renamed.status_code == 200 and renamed.json()["attendees_notified"] == 0

        moved = client.put(f"/events/{event['id']}", headers=owner.headers, json={
            "start_datetime": "2031-03-15T18:30:00", "end_datetime": "2031-03-15T19:30:00",
            "location": "Studio 2, Koramangala"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["attendees_notified"] == 2

    for attendee, booking, confirmed in zip(attendees, bookings, confirmations, strict=True):
        first, notice = _messages(smtp_server, attendee.email, 2)
        assert notice["Subject"] == "New time and place: Sunset yoga (beginners)"
        text = notice.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert "Sat 15 Mar 2031, 18:30–19:30 IST" in text and "Studio 2, Koramangala" in text
        assert "Previously: Fri 14 Mar 2031, 18:00–19:00 IST" in text
        assert "Previous place: Studio 1, Indiranagar" in text
        assert f"/app/booking/{booking['booking_reference']}" in text
        updated = _invite(notice)
        assert updated["UID"] == confirmed["UID"] == f"booking-{booking['id']}@crm-booking"
        assert updated["SEQUENCE"] > confirmed["SEQUENCE"]
        assert updated["DTSTART"].dt.replace(tzinfo=None) == datetime(2031, 3, 15, 18, 30)
        assert str(updated["LOCATION"]) == "Studio 2, Koramangala"
    # Verification, booked, cancelled: no change notice.
    assert len(smtp_server.messages_to(leaver.email)) == 3

    # The calendar file on the booking page is the same event at the same SEQUENCE.
    with httpx.Client(base_url=app.base_url, timeout=30) as client:
        ics = client.get(f"/bookings/{bookings[0]['id']}/calendar.ics", headers=attendees[0].headers)
        [downloaded] = Calendar.from_ical(ics.content).walk("VEVENT")
        emailed = _invite(_messages(smtp_server, attendees[0].email, 2)[1])
        assert downloaded["SEQUENCE"] == emailed["SEQUENCE"]
        assert downloaded["DTSTART"].dt == emailed["DTSTART"].dt


def test_each_change_outranks_the_last(start_booking, crm_with_mail, smtp_server):
    app = start_booking(crm_with_mail.base_url, name="booking-event-changes-2")
    with httpx.Client(base_url=app.base_url, timeout=30) as client:
        owner = new_facilitator(client, database_url=current_database())
        event = create_event(client, owner, price=0, location=None,
                             virtual_link="https://meet.example.com/one")
        attendee = new_attendee(client)
        book(client, attendee, event["id"])
        for link in ("https://meet.example.com/two", "https://meet.example.com/three"):
            changed = client.put(f"/events/{event['id']}", json={"virtual_link": link},
                                 headers=owner.headers)
            assert changed.json()["attendees_notified"] == 1
    sequences = [_invite(m)["SEQUENCE"] for m in _messages(smtp_server, attendee.email, 3)]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    last = _messages(smtp_server, attendee.email, 3)[2]
    assert last["Subject"].startswith("New online link: ")
    assert "https://meet.example.com/three" in last.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
