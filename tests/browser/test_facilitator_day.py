"""The facilitator's day in the browser: numbers at a glance with 500 events (tabs, search,
pages), duplicating an event, messaging everyone booked, and a note in the cancel dialog."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlmodel import col, select

from crm_booking.db import read_session, transaction
from crm_booking.models import Event, OutboxMessage
from tests.browser.conftest import App
from tests.browser.flows import facilitator, paid_event, sign_in, unique
from tests.browser.test_facilitator import pay_with_sandbox
from tests.browser.ui import visit_checked, wait_ready
from tests.support.api import new_attendee


def _many_events(owner_id: int, count: int, needle: str) -> None:
    """Straight into the database: 500 events through the API would take minutes."""
    now = datetime.now(UTC)
    with transaction() as session:
        for n in range(count):
            start = now + timedelta(days=n - count // 2, hours=2)
            session.add(Event(
                facilitator_id=owner_id, title=f"Weekly Class {n:03d}", description="Every week",
                event_type="session", start_at=start, end_at=start + timedelta(hours=1),
                location="Studio", max_participants=10, price=Decimal("100.00"),
                cancelled_at=now if n % 100 == 3 else None))
        far = now + timedelta(days=count)
        session.add(Event(facilitator_id=owner_id, title=needle, description="Once a year",
                          event_type="retreat", start_at=far, end_at=far + timedelta(days=2),
                          location="Hill House", max_participants=12, price=Decimal("9000.00")))


def _cards(page: Page) -> object:
    return page.locator("#event-cards .rt-Card")


def test_glance_tabs_search_duplicate_message_and_cancel_note(page: Page, ui_app: App) -> None:
    client = ui_app.client
    owner = facilitator(client, name="Busy Facilitator")
    event = paid_event(client, owner, title=unique("Sunday Flow"))
    attendee = new_attendee(client, name="Ravi Booked")
    created = client.post("/bookings", json={"event_id": event["id"]}, headers=attendee.headers)
    pay_with_sandbox(client, created.json()["booking"]["booking_reference"])
    needle = unique("Needle Retreat")
    _many_events(owner.id, 500, needle)

    sign_in(page, owner.email, next_path="/dashboard")
    wait_ready(page)
    totals = page.locator("#totals")
    expect(totals).to_contain_text("Revenue (net of refunds)₹499")
    expect(totals).to_contain_text("Bookings1")
    expect(page.locator("#bookings-chart svg").first).to_be_visible()
    expect(_cards(page)).to_have_count(12)  # one page, not 500 cards
    visit_checked(page, "44-dashboard-glance")

    # Search finds the one event among 500; the other tabs and pages are a click away.
    page.get_by_label("Search your events").fill(needle.lower())
    page.get_by_role("button", name="Search", exact=True).click()
    expect(_cards(page)).to_have_count(1)
    expect(_cards(page).first).to_contain_text(needle)
    page.get_by_label("Search your events").fill("")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(_cards(page)).to_have_count(12)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    page.get_by_role("button", name="Past").click()
    expect(page.get_by_role("button", name="Past")).to_have_attribute("aria-pressed", "true")
    expect(_cards(page).first).to_contain_text("Weekly Class 249")
    page.get_by_role("button", name="Cancelled").click()
    expect(_cards(page).first).to_contain_text("Cancelled")
    page.get_by_label("Period", exact=True).select_option("7")
    expect(totals).to_contain_text("Bookings1")

    # Duplicate: a draft copy, not bookable.
    page.get_by_role("button", name="Upcoming").click()
    page.get_by_label("Search your events").fill(needle)
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("button", name=f"Duplicate {needle}").click()
    expect(page.get_by_role("status").filter(has_text="Copied as a draft")).to_contain_text(needle)
    with read_session() as session:
        copies = session.exec(select(Event).where(Event.title == needle).order_by(col(Event.id))).all()
    assert len(copies) == 2 and copies[1].is_active is False
    assert (copies[1].location, copies[1].price, copies[1].start_at) == (
        copies[0].location, copies[0].price, copies[0].start_at)

    # Reminder settings in the event form: both on by default; switch the 1-hour one off.
    page.get_by_label("Search your events").fill(event["title"])
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("button", name=f"Edit {event['title']}").click()
    form = page.get_by_role("dialog")
    expect(form.get_by_label("24 hours before")).to_be_checked()
    form.get_by_label("1 hour before").uncheck()
    form.get_by_role("button", name="Save event").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    with read_session() as session:
        saved = session.get(Event, event["id"])
        assert saved is not None and (saved.remind_24h, saved.remind_1h) == (True, False)

    # Message everyone booked: preview first, then send; the sent list keeps the count.
    page.goto(f"/app/dashboard/events/{event['id']}/messages")
    wait_ready(page)
    page.get_by_label("Subject").fill("Bring a mat")
    page.get_by_label("Message").fill("Mats are not provided.\n\nSee you on Sunday.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-subject")).to_have_text(f"Subject: {event['title']}: Bring a mat")
    expect(page.locator("#preview-count")).to_contain_text("1")
    visit_checked(page, "45-message-preview")
    page.get_by_role("button", name="Send to 1 person").click()
    expect(page.get_by_role("status").filter(has_text="Message sent")).to_have_text(
        "Message sent to 1 person.")
    expect(page.locator("#sent-list")).to_contain_text("Bring a mat")
    expect(page.locator("#sent-list")).to_contain_text("Sent to 1 person")
    visit_checked(page, "46-messages-sent")
    # The other audience: everyone on the waitlist (nobody waits for this event: nothing to send).
    # A controlled radio: checked once the state's answer comes back, so click and wait for it.
    page.get_by_label("Everyone on the waitlist").click()
    expect(page.get_by_label("Everyone on the waitlist")).to_be_checked()
    page.get_by_label("Subject").fill("A second class")
    page.get_by_label("Message").fill("We added a 9:00 class.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-count")).to_have_text("Goes to everyone on this event's waitlist: 0")
    expect(page.get_by_role("button", name="Send to 0 people")).to_be_disabled()
    visit_checked(page, "46b-message-to-waitlist-preview")

    # Cancel with a note: it goes into the cancellation email's payload.
    page.goto("/app/dashboard")
    wait_ready(page)
    page.get_by_label("Search your events").fill(event["title"])
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("button", name=f"Cancel event {event['title']}").click()
    dialog = page.get_by_role("alertdialog")
    dialog.get_by_label("Message to attendees (optional)").fill("The studio flooded. Sorry!")
    dialog.get_by_role("button", name="Cancel event and refund").click()
    expect(page.get_by_role("status").filter(has_text="is cancelled")).to_be_visible()
    expect(page.get_by_role("button", name="Cancelled")).to_have_attribute("aria-pressed", "true")
    with read_session() as session:
        [row] = session.exec(select(OutboxMessage).where(
            OutboxMessage.action == "event_cancelled",
            OutboxMessage.booking_id == created.json()["booking"]["id"])).all()
    assert json.loads(row.payload)["message"] == "The studio flooded. Sorry!"
