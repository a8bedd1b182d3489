"""Times in the event's own zone across daylight-saving changes, and calendar invite details."""

from datetime import datetime

import pytest
from icalendar import Calendar

from crm_service.calendar_invites import build_invite
from crm_service.emails import EmailContent, format_event_time, render_html, render_text
from crm_service.payloads import NotifyRequest


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # London clocks go forward at 01:00 UTC on Sunday 29 March 2026 ...
        ("2026-03-28T10:00", "2026-03-28T11:00", "Sat 28 Mar 2026, 10:00–11:00 GMT (Europe/London)"),
        ("2026-03-30T09:00", "2026-03-30T10:00", "Mon 30 Mar 2026, 10:00–11:00 BST (Europe/London)"),
        # ... and back at 01:00 UTC on Sunday 25 October 2026.
        ("2026-10-24T09:00", None, "Sat 24 Oct 2026, 10:00 BST (Europe/London)"),
        ("2026-10-26T10:00", None, "Mon 26 Oct 2026, 10:00 GMT (Europe/London)"),
        # Overnight: the end carries its own date, and its own zone when the clocks changed.
        (
            "2026-10-24T21:00",
            "2026-10-25T02:00",
            "Sat 24 Oct 2026, 22:00 BST–Sun 25 Oct 2026, 02:00 GMT (Europe/London)",
        ),
        (
            "2026-03-14T20:00",
            "2026-03-15T01:00",
            "Sat 14 Mar 2026, 20:00–Sun 15 Mar 2026, 01:00 GMT (Europe/London)",
        ),
    ],
)
def test_london_times_follow_daylight_saving(start: str, end: str | None, expected: str) -> None:
    assert format_event_time(utc(start), utc(end) if end else None, "Europe/London") == expected


def test_zone_without_daylight_saving() -> None:
    assert (
        format_event_time(utc("2026-03-14T04:30"), None, "Asia/Kolkata")
        == "Sat 14 Mar 2026, 10:00 IST (Asia/Kolkata)"
    )


def request_for(start: str, timezone: str) -> NotifyRequest:
    return NotifyRequest.model_validate(
        {
            "booking_id": 42,
            "action": "booking_created",
            "user": {"name": "Asha", "email": "asha@example.com"},
            "event": {
                "title": "Yoga",
                "facilitator_id": 2,
                "start_datetime": start,
                "timezone": timezone,
            },
        }
    )


@pytest.mark.parametrize(
    ("start", "local"),
    [("2026-03-28T10:00:00Z", "20260328T100000"), ("2026-10-24T09:00:00Z", "20261024T100000")],
)
def test_invite_uses_local_time_with_tzid_on_both_sides_of_dst(start: str, local: str) -> None:
    ics = build_invite(request_for(start, "Europe/London"), "REQUEST", 0, "crm@example.com")
    assert ics is not None
    assert f"DTSTART;TZID=Europe/London:{local}" in ics.decode()
    calendar = Calendar.from_ical(ics)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]


def test_invite_needs_a_start_time() -> None:
    request = request_for("2026-03-28T10:00:00Z", "UTC")
    request.event.start_datetime = None
    assert build_invite(request, "REQUEST", 0, "crm@example.com") is None


def test_html_escapes_every_user_string_and_text_keeps_them_raw() -> None:
    content = EmailContent(
        subject="s",
        heading="<b>Hi</b>",
        paragraphs=["Tom & Jerry's <i>party</i>"],
        details=[("<label>", '"quoted"')],
        link='https://example.com/?a=1&b="2"',
    )
    html = render_html(content)
    assert "<b>Hi</b>" not in html and "&lt;b&gt;Hi&lt;/b&gt;" in html
    assert "Tom &amp; Jerry&#x27;s &lt;i&gt;party&lt;/i&gt;" in html
    assert "&lt;label&gt;" in html and "&quot;quoted&quot;" in html
    assert 'href="https://example.com/?a=1&amp;b=&quot;2&quot;"' in html
    assert "Tom & Jerry's <i>party</i>" in render_text(content)
