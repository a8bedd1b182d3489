"""Issue 17 in the browser: a facilitator creates a weekly series from the dashboard, moves the
later sessions, an attendee finds the series once on the home page and picks a date of it on
the event page, and the facilitator cancels all upcoming sessions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import App, new_context
from tests.browser.flows import booking_reference, facilitator, sign_in, unique
from tests.browser.ui import check_accessibility, screenshot, visit_checked, wait_ready
from tests.support.api import PASSWORD, login


def _next_monday() -> datetime:
    today = datetime.now(UTC).date() + timedelta(days=7)
    monday = today + timedelta(days=(7 - today.weekday()) % 7)
    return datetime(monday.year, monday.month, monday.day, 7, 0)


def _day(moment: datetime) -> str:
    return moment.strftime("%a %d %b").replace(" 0", " ")


def test_facilitator_creates_edits_and_cancels_a_series_and_an_attendee_picks_a_date(
        page: Page, browser: Browser, ui_app: App) -> None:
    owner = facilitator(ui_app.client, name="Meera Facilitator")
    sign_in(page, owner.email, next_path="/dashboard")
    expect(page).to_have_url(re.compile(r"/app/dashboard/?$"))
    wait_ready(page)

    # Create: the event's fields plus "weekly on Mon and Wed, 4 sessions".
    title = unique("Sunrise Series")
    monday = _next_monday()
    page.get_by_role("button", name="New event").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Title").fill(title)
    dialog.get_by_label("Starts").fill(monday.strftime("%Y-%m-%dT07:00"))
    dialog.get_by_label("Ends").fill(monday.strftime("%Y-%m-%dT08:00"))
    dialog.get_by_label("Location").fill("Studio S, Jayanagar")
    dialog.get_by_label("Capacity").fill("6")
    dialog.get_by_label("Price (₹)").fill("0")
    dialog.get_by_label("Repeats", exact=True).select_option("weekly")
    dialog.get_by_label("Mon", exact=True).check()
    dialog.get_by_label("Wed", exact=True).check()
    dialog.get_by_label("Number of sessions").fill("0")
    dialog.get_by_role("button", name="Save event").click()
    expect(dialog.locator("#event-recurrence-error")).to_have_text(
        "Give the number of sessions or the last date")
    check_accessibility(page)
    screenshot(page, "16-series-form")  # and axe again at phone width
    dialog.get_by_label("Number of sessions").fill("4")
    dialog.get_by_role("button", name="Save event").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Created a series")).to_contain_text(
        "Created a series of 4 sessions: Every Mon & Wed, 7:00 AM IST.")
    cards = page.locator(".rt-Card").filter(has_text=title)
    expect(cards).to_have_count(4)
    expect(cards.first).to_contain_text("Series")
    visit_checked(page, "17-dashboard-series")

    # Edit "this and the following" from the second session: a new place for three sessions.
    cards.nth(1).get_by_role("button", name=f"Edit {title}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Apply the changes to").select_option("following")
    dialog.get_by_label("Location").fill("Studio T, Jayanagar")
    dialog.get_by_role("button", name="Save event").click()
    expect(page.get_by_role("status").filter(has_text="Saved changes")).to_contain_text(
        "Saved changes to 3 sessions of the series.")
    mine = ui_app.client.get("/facilitator/events", headers=owner.headers, params={"limit": 200})
    series_events = sorted((e for e in mine.json()["events"] if e["title"] == title),
                           key=lambda e: e["start_datetime"])
    assert [e["location"] for e in series_events] == ["Studio S, Jayanagar"] + ["Studio T, Jayanagar"] * 3
    series_id = series_events[0]["series_id"]
    assert series_id and {e["series_id"] for e in series_events} == {series_id}

    # An attendee: the home page shows the series once, worded as a series.
    attendee_context = new_context(browser, ui_app)
    attendee_page = attendee_context.new_page()
    email = f"{unique('attendee')}@example.com"
    assert ui_app.client.post("/auth/register", json={"email": email, "password": PASSWORD,
                                                      "name": "Kavya Attendee"}).status_code == 201
    attendee = login(ui_app.client, email)
    sign_in(attendee_page, email)
    attendee_page.goto(f"/app/?q={title}")
    wait_ready(attendee_page)
    card = attendee_page.locator(".rt-Card").filter(has_text=title)
    expect(card).to_have_count(1)
    expect(card).to_contain_text(f"Every Mon & Wed, 7:00 AM IST · next: {_day(monday)}")
    visit_checked(attendee_page, "18-home-series")

    # The event page lists the upcoming dates; the attendee picks the third and books it.
    card.get_by_role("link", name=title).click()
    expect(attendee_page).to_have_url(re.compile(rf"/app/events/{series_events[0]['id']}/?$"))
    wait_ready(attendee_page)
    dates = attendee_page.get_by_role("navigation", name="Dates of this series")
    expect(dates.get_by_role("listitem")).to_have_count(4)
    expect(dates).to_contain_text("(this session)")
    visit_checked(attendee_page, "19-event-series-dates")
    third = dates.get_by_role("link", name=re.compile(_day(monday + timedelta(days=7))))
    third.click()
    expect(attendee_page).to_have_url(re.compile(rf"/app/events/{series_events[2]['id']}/?$"))
    expect(attendee_page.get_by_text("Studio T, Jayanagar").first).to_be_visible()
    expect(dates.locator("[aria-current=page]")).to_contain_text(_day(monday + timedelta(days=7)))
    attendee_page.get_by_role("button", name="Book").click()
    reference = booking_reference(attendee_page)
    booked = ui_app.client.get("/bookings", headers=attendee.headers).json()["bookings"]
    assert [(b["booking_reference"], b["event"]["id"]) for b in booked] == [
        (reference, series_events[2]["id"])]
    attendee_context.close()

    # Cancel all upcoming sessions from the dashboard: the quote is summed over the series.
    page.reload()
    wait_ready(page)
    cards = page.locator(".rt-Card").filter(has_text=title)
    cards.first.get_by_role("button", name=f"Cancel event {title}").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Nobody has booked it")
    confirm.get_by_label("Sessions to cancel").select_option("all")
    expect(confirm).to_contain_text("1 booking will be cancelled. None of them has paid")
    check_accessibility(page)
    confirm.get_by_role("button", name="Cancel event and refund").click()
    expect(page.get_by_role("status").filter(has_text="are cancelled")).to_contain_text(
        f"4 sessions of “{title}” are cancelled. 1 booking cancelled")
    detail = ui_app.client.get(f"/series/{series_id}").json()
    assert all(e["cancelled_at"] for e in detail["events"])
    assert detail["series"]["next_event_id"] is None
