"""Issue 15, "Defects seen in the browser", each reproduced in a real browser at desktop and
phone width with axe (`visit_checked`): moving an event tells its attendees, join links only for
those who may join, statuses in words, messages and dialogs that behave, no second "Book",
and the small things."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from playwright.sync_api import Page, WebSocket, expect

from crm_booking.db import get_engine
from crm_booking.models import Role
from crm_booking.services import auth
from crm_booking.state.formatting import schedule
from tests.browser.conftest import PHONE, App
from tests.browser.flows import (
    dismiss_dialog_by_clicking_outside,
    facilitator,
    paid_event,
    sign_in,
    sign_out,
    unique,
)
from tests.browser.test_facilitator import pay_with_sandbox
from tests.browser.ui import check_accessibility, visit_checked, wait_ready
from tests.support.api import PASSWORD, Account, login

JOIN = "https://meet.example.com/secret-pranayama"


def _attendee(app: App, name: str) -> Account:
    email = f"{unique('attendee')}@example.com"
    assert app.client.post("/auth/register", json={"email": email, "password": PASSWORD,
                                                   "name": name}).status_code == 201
    return login(app.client, email)


def _book(app: App, who: Account, event_id: int) -> dict:  # type: ignore[type-arg]
    created = app.client.post("/bookings", json={"event_id": event_id}, headers=who.headers)
    assert created.status_code == 201, created.text
    return dict(created.json()["booking"])


def _outbox(booking_ids: list[int], action: str) -> list[dict]:  # type: ignore[type-arg]
    with get_engine().connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT payload FROM outbox WHERE action = :action AND booking_id = ANY(:ids)"),
            {"action": action, "ids": booking_ids}).scalars().all()
    return [json.loads(row) for row in rows]


# --- 1. Nobody is told when an event moves ------------------------------------------------------


def test_moving_an_event_says_who_will_be_told_and_tells_them(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client, name="Asha Facilitator")
    event = paid_event(ui_app.client, owner, title=unique("Evening yin"), price=0)
    booked = [_book(ui_app, _attendee(ui_app, name), event["id"]) for name in ("Anita", "Kiran")]

    sign_in(page, owner.email, next_path="/dashboard")
    wait_ready(page)
    card = page.locator(".rt-Card").filter(has_text=event["title"])
    card.get_by_role("button", name=f"Edit {event['title']}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("#change-notice")).to_contain_text(
        "2 people booked this event. If you change the time, place or online link, all of them "
        "will be emailed the new details and an updated calendar invite when you save.")
    check_accessibility(page)  # with the dialog open: every field in it has a label
    page.screenshot(path="test-artifacts/screenshots/19-edit-event-notice-desktop.png")

    new_start = (datetime.fromisoformat(event["start_datetime"]) + timedelta(days=1))
    dialog.get_by_label("Starts").fill(new_start.strftime("%Y-%m-%dT%H:%M"))
    dialog.get_by_label("Ends").fill((new_start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    dialog.get_by_label("Location").fill("Studio B, Koramangala")
    dialog.get_by_role("button", name="Save event").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Saved changes")).to_contain_text(
        "2 people will be emailed the new details and an updated invite.")
    visit_checked(page, "19-dashboard-saved-changes")

    notices = _outbox([b["id"] for b in booked], "event_updated")
    assert len(notices) == 2
    assert {n["changed"][0] for n in notices} == {"time"} and all("location" in n["changed"] for n in notices)
    # The notice's invite outranks the one each attendee was sent when booking (issue 13 counts the
    # booking's own notices into the SEQUENCE too, so the number itself is not fixed).
    confirmed = {n["booking_id"]: n["ics_sequence"]
                 for n in _outbox([b["id"] for b in booked], "booking_created")}
    assert all(n["ics_sequence"] > confirmed[n["booking_id"]] for n in notices)
    assert all(n["event"]["location"] == "Studio B, Koramangala" for n in notices)


# --- 2. Join links leak and hide ----------------------------------------------------------------


def _frames(page: Page) -> list[str]:
    """Everything the server sends the page over the websocket (the pages' state)."""
    received: list[str] = []

    def watch(socket: WebSocket) -> None:
        socket.on("framereceived", lambda frame: received.append(str(frame)))
    page.on("websocket", watch)
    return received


def test_join_link_only_for_those_who_may_join(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    event = paid_event(ui_app.client, owner, title=unique("Online pranayama"), location=None,
                       virtual_link=JOIN, price=300.0)
    frames = _frames(page)
    page.goto(f"/app/events/{event['id']}")
    wait_ready(page)
    expect(page.locator("main")).to_contain_text("Online")
    expect(page.locator("#join-link")).to_have_count(0)
    assert ui_app.client.get(f"/events/{event['id']}").json()["virtual_link"] is None

    attendee = _attendee(ui_app, "Devi")
    booking = _book(ui_app, attendee, event["id"])
    sign_in(page, attendee.email, next_path=f"/booking/{booking['booking_reference']}")
    wait_ready(page)
    expect(page.locator("#join-link")).to_have_count(0)  # an unpaid hold: not yet
    page.goto(f"/app/events/{event['id']}")
    wait_ready(page)
    expect(page.locator("#join-link")).to_have_count(0)
    assert not [f for f in frames if JOIN in f], "the join link reached a browser that may not see it"

    pay_with_sandbox(ui_app.client, booking["booking_reference"])
    page.goto(f"/app/booking/{booking['booking_reference']}")
    wait_ready(page)
    expect(page.locator("#join-link")).to_have_attribute("href", JOIN)
    visit_checked(page, "20-booking-join-link")
    page.goto(f"/app/events/{event['id']}")
    wait_ready(page)
    expect(page.locator("#join-link")).to_have_attribute("href", JOIN)
    page.goto("/app/bookings")
    wait_ready(page)
    expect(page.locator(".rt-Card").filter(has_text=booking["booking_reference"]).get_by_role(
        "link", name="Join online")).to_have_attribute("href", JOIN)


# --- 3. Unpaid reads as "Confirmed" --------------------------------------------------------------


def test_statuses_say_what_the_booking_is(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    paid = paid_event(ui_app.client, owner, title=unique("Paid hatha"), price=800.0)
    free = paid_event(ui_app.client, owner, title=unique("Free satsang"), price=0)
    lapsing = paid_event(ui_app.client, owner, title=unique("Lapsing yoga"), price=500.0)
    attendee = _attendee(ui_app, "Farah")
    hold = _book(ui_app, attendee, paid["id"])
    gift = _book(ui_app, attendee, free["id"])
    lapsed = _book(ui_app, attendee, lapsing["id"])
    with get_engine().begin() as connection:
        connection.execute(sa.text("UPDATE bookings SET hold_expires_at = :t WHERE id = :id"),
                           {"t": datetime.now(UTC) - timedelta(minutes=1), "id": lapsed["id"]})

    sign_in(page, attendee.email, next_path=f"/booking/{hold['booking_reference']}")
    wait_ready(page)
    expect(page.locator("#booking-status")).to_have_text(
        re.compile(r"^Reserved until \d{1,2}:\d\d (AM|PM) IST, awaiting payment$"))
    expect(page.locator("#payment-status")).to_have_text("Awaiting payment")
    expect(page.locator("main")).not_to_contain_text("Confirmed")
    visit_checked(page, "21-booking-reserved")

    page.goto(f"/app/booking/{gift['booking_reference']}")
    wait_ready(page)
    expect(page.locator("#booking-status")).to_have_text("Free")
    expect(page.locator("#payment-status")).to_have_text("Free")

    page.goto(f"/app/booking/{lapsed['booking_reference']}")
    wait_ready(page)
    expect(page.locator("#booking-status")).to_have_text("Expired, not paid")
    expect(page.locator("main")).not_to_contain_text("Payment pending")

    page.goto("/app/bookings")
    wait_ready(page)
    item = page.locator(".rt-Card").filter(has_text=hold["booking_reference"])
    expect(item.locator(".booking-status")).to_contain_text("awaiting payment")
    expect(page.locator(".rt-Card").filter(has_text=gift["booking_reference"])).not_to_contain_text("Paid")
    visit_checked(page, "22-my-bookings-statuses")


# --- 4. Messages and dialogs ---------------------------------------------------------------------


def test_cancel_once_and_banners_go_away(page: Page, ui_app: App) -> None:
    event = paid_event(ui_app.client, facilitator(ui_app.client), title=unique("Kirtan"), price=0)
    attendee = _attendee(ui_app, "Gita")
    booking = _book(ui_app, attendee, event["id"])
    sign_in(page, attendee.email, next_path="/bookings")
    wait_ready(page)
    page.locator(".rt-Card").filter(has_text=booking["booking_reference"]).get_by_role(
        "button", name=f"Cancel booking {booking['booking_reference']}").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Yes, cancel it").dblclick()
    done = page.get_by_role("status").filter(has_text="is cancelled")
    expect(done).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)  # no "already cancelled" beside it
    visit_checked(page, "23-my-bookings-cancelled-once")

    page.get_by_role("button", name="Dismiss message").click()
    expect(done).to_have_count(0)
    page.reload()
    wait_ready(page)
    expect(page.get_by_role("status").filter(has_text="is cancelled")).to_have_count(0)


def test_event_form_keeps_its_draft_and_marks_its_errors(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    sign_in(page, owner.email, next_path="/dashboard")
    wait_ready(page)
    title = unique("Draft sound bath")
    page.get_by_role("button", name="New event").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Title").fill(title)
    dialog.get_by_label("Location").fill("Terrace")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("button", name="New event").click()
    expect(dialog.get_by_label("Title")).to_have_value(title)

    dismiss_dialog_by_clicking_outside(page)
    page.reload()
    wait_ready(page)
    expect(page.get_by_role("dialog").get_by_label("Title")).to_have_value(title)
    expect(dialog.get_by_label("Location")).to_have_value("Terrace")

    # Empty title and zero seats: the messages beside the fields, not the browser's pop-up.
    dialog.get_by_label("Title").fill("")
    dialog.get_by_label("Capacity").fill("0")
    dialog.get_by_role("button", name="Save event").click()
    expect(dialog.locator("#event-title-error")).to_have_text("This field is required")
    expect(dialog.locator("#event-max_participants-error")).to_have_text("Must be between 1 and 100000")
    expect(dialog.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    ring = dialog.locator(".rt-TextFieldRoot").filter(has=page.locator("#event-title"))
    expect(ring).to_have_css("box-shadow", re.compile(r"rgb\(206, 44, 49\)"))
    page.screenshot(path="test-artifacts/screenshots/24-event-form-inline-errors-desktop.png")

    dialog.get_by_label("Title").fill(title)  # corrected: its old message goes
    expect(dialog.locator("#event-title-error")).to_have_count(0)
    expect(dialog.get_by_label("Title")).to_have_attribute("aria-invalid", "false")
    expect(dialog.locator("#event-max_participants-error")).to_be_visible()

    dialog.get_by_role("button", name="Discard").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.reload()
    wait_ready(page)
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("button", name="New event").click()
    expect(page.get_by_role("dialog").get_by_label("Title")).to_have_value("")


# --- 5. Book offered twice ------------------------------------------------------------------------


def test_booked_event_offers_the_booking_and_a_cancelled_one_no_seats(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    event = paid_event(ui_app.client, owner, title=unique("Booked yoga"), price=0)
    attendee = _attendee(ui_app, "Hari")
    booking = _book(ui_app, attendee, event["id"])
    sign_in(page, attendee.email, next_path=f"/events/{event['id']}")
    wait_ready(page)
    expect(page.get_by_role("button", name="Book")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("You're booked.")
    link = page.get_by_role("link", name="View your booking")
    expect(link).to_have_attribute("href", re.compile(rf"/booking/{booking['booking_reference']}$"))
    visit_checked(page, "25-event-already-booked")

    gone = paid_event(ui_app.client, owner, title=unique("Cancelled yoga"), price=0)
    assert ui_app.client.post(f"/facilitator/events/{gone['id']}/cancel",
                              headers=owner.headers).status_code == 200
    page.goto(f"/app/events/{gone['id']}")
    wait_ready(page)
    expect(page.locator("main")).to_contain_text("This event has been cancelled.")
    expect(page.locator("main")).not_to_contain_text("seats left")


# --- 7. Small things --------------------------------------------------------------------------------


def test_small_things(page: Page, ui_app: App) -> None:
    page.goto("/app/no/such/page")
    wait_ready(page)
    expect(page.locator("main h1")).to_have_text("Page not found")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    visit_checked(page, "26-not-found")

    owner = facilitator(ui_app.client)
    event = paid_event(ui_app.client, owner, title=unique("Titled yoga"))
    page.goto(f"/app/events/{event['id']}")
    wait_ready(page)
    expect(page).to_have_title(f"{event['title']} · Wellness Bookings")

    other = facilitator(ui_app.client)
    sign_in(page, other.email, next_path=f"/dashboard/events/{event['id']}")
    wait_ready(page)
    expect(page.locator("main h1")).to_have_text("Attendees")
    sign_out(page)

    sign_in(page, owner.email, next_path="/dashboard")
    wait_ready(page)
    page.get_by_role("button", name="New event").click()
    zone = page.get_by_role("dialog").get_by_label("Timezone")
    expect(zone).to_have_attribute("list", "timezone-names")
    expect(page.locator("#timezone-names option[value='Asia/Kolkata']")).to_have_count(1)
    expect(page.locator("#timezone-names option[value='Europe/London']")).to_have_count(1)
    page.get_by_role("dialog").get_by_role("button", name="Discard").click()

    _book(ui_app, _attendee(ui_app, "Ila"), event["id"])
    page.goto(f"/app/dashboard/events/{event['id']}")
    wait_ready(page)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    expect(page.locator("#table-scroll-hint")).to_be_visible()
    check_accessibility(page)


# --- 7, still open after the first round ---------------------------------------------------------


def test_checkout_page_has_the_site_header_and_the_booking_pages_dates(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    event = paid_event(ui_app.client, owner, title=unique("Checkout yoga"), price=450.0)
    attendee = _attendee(ui_app, "Jaya")
    created = ui_app.client.post("/bookings", json={"event_id": event["id"]}, headers=attendee.headers)
    assert created.status_code == 201, created.text
    pay_url = urlsplit(created.json()["payment_url"])
    zone = ZoneInfo(event["timezone"])
    when = schedule(datetime.fromisoformat(event["start_datetime"]).replace(tzinfo=zone),
                    datetime.fromisoformat(event["end_datetime"]).replace(tzinfo=zone),
                    event["timezone"])

    page.goto(f"{pay_url.path}?{pay_url.query}")
    site = page.get_by_role("navigation", name="Main")
    expect(site.get_by_role("link", name="Wellness Bookings")).to_have_attribute("href", "/app/")
    expect(site.get_by_role("link", name="Events")).to_have_attribute("href", "/app/")
    expect(page.locator("#event-when")).to_have_text(when)  # e.g. "Sat 14 Jun 2025, 7:00 AM – 8:00 AM IST"
    expect(page.get_by_role("button", name="Pay (sandbox)")).to_be_enabled()
    visit_checked(page, "27-checkout-site-header")

    reference = created.json()["booking"]["booking_reference"]
    sign_in(page, attendee.email, next_path=f"/booking/{reference}")
    wait_ready(page)
    expect(page.locator("main")).to_contain_text(when)  # the booking page words it the same


def _sign_in_without_next(page: Page, email: str) -> None:
    page.goto("/app/login")
    wait_ready(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_facilitators_land_on_their_dashboard_after_signing_in(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    _sign_in_without_next(page, owner.email)
    expect(page).to_have_url(re.compile(r"/app/dashboard/?$"))
    expect(page.locator("main h1")).to_have_text("Your events")
    visit_checked(page, "28-facilitator-lands-on-dashboard")
    sign_out(page)

    admin_email = f"{unique('admin')}@example.com"
    auth.create_user(email=admin_email, password=PASSWORD, name="Ravi Admin", role=Role.ADMIN)
    _sign_in_without_next(page, admin_email)
    expect(page).to_have_url(re.compile(r"/app/dashboard/?$"))
    sign_out(page)

    attendee = _attendee(ui_app, "Kamala")
    _sign_in_without_next(page, attendee.email)
    expect(page).to_have_url(re.compile(r"/app/?$"))  # attendees: the events, as before
    sign_out(page)

    sign_in(page, owner.email, next_path="/profile")  # a `next` still wins
    expect(page).to_have_url(re.compile(r"/app/profile/?$"))


def test_cover_picture_field_has_a_label(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    sign_in(page, owner.email, next_path="/dashboard")
    wait_ready(page)
    page.get_by_role("button", name="New event").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Cover picture")).to_have_attribute("type", "file")
    check_accessibility(page)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    expect(dialog.get_by_label("Title")).to_be_visible()
    check_accessibility(page)
