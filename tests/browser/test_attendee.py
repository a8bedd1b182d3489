"""An attendee signs up from an event, books, pays with the sandbox checkout, sees the booking,
cancels it and sees the refund; a failed payment shows the hold and a retry."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
from playwright.sync_api import Page, expect

from crm_booking.services import web_sessions
from tests.browser.conftest import App
from tests.browser.flows import booking_reference, facilitator, paid_event, sign_in, sign_out, unique
from tests.browser.ui import visit_checked, wait_ready
from tests.support.api import PASSWORD


def test_attendee_signs_up_books_pays_sees_and_cancels_with_refund(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    event = paid_event(ui_app.client, owner)

    # Browse: the card shows time in the event's zone, place, price and seats.
    page.goto("/app/")
    visit_checked(page, "01-home")
    card = page.locator(".rt-Card").filter(has_text=event["title"])
    expect(card).to_contain_text("IST")
    expect(card).to_contain_text("Studio A, Indiranagar")
    expect(card).to_contain_text("₹499")
    expect(card).to_contain_text("5 seats left")
    card.get_by_role("link", name=event["title"]).click()

    # Event page; Book while signed out leads to sign-in and back to this event.
    expect(page).to_have_url(re.compile(rf"/app/events/{event['id']}/?$"))
    visit_checked(page, "02-event")
    expect(page.get_by_text("Asha Facilitator")).to_be_visible()
    page.get_by_role("button", name="Book").click()
    expect(page).to_have_url(re.compile(r"/app/login\?next=/events/\d+"))
    visit_checked(page, "03-login")
    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(re.compile(r"/app/signup\?next=/events/\d+"))
    visit_checked(page, "04-signup")
    email = f"{unique('attendee')}@example.com"
    page.get_by_label("Your name").fill("Ravi Attendee")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # Back on the event, signed in; the session cookie is HttpOnly, invisible to scripts.
    expect(page).to_have_url(re.compile(rf"/app/events/{event['id']}/?$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == web_sessions.COOKIE_NAME)
    assert cookie["httpOnly"] is True
    assert web_sessions.COOKIE_NAME not in page.evaluate("document.cookie")

    # Book, pay with the sandbox checkout, land on the confirmation.
    page.get_by_role("button", name="Book").click()
    expect(page).to_have_url(re.compile(r"/pay/BK\d+\?token="))
    page.get_by_role("button", name="Pay (sandbox)").click()
    reference = booking_reference(page)
    wait_ready(page)
    expect(page.locator("#payment-status")).to_have_text("Paid")
    expect(page.locator("#booking-reference")).to_have_text(reference)
    visit_checked(page, "05-confirmation-paid")

    # My bookings lists it as upcoming and paid; cancelling states the refund first.
    page.get_by_role("navigation").get_by_role("link", name="My bookings").click()
    wait_ready(page)
    item = page.locator(".rt-Card").filter(has_text=reference)
    expect(item).to_contain_text("Paid")
    visit_checked(page, "06-my-bookings")
    item.get_by_role("button", name=f"Cancel booking {reference}").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("You will get ₹499 back")
    check_dialog = page.locator("#cancel-quote")
    expect(check_dialog).to_be_visible()
    page.screenshot(path="test-artifacts/screenshots/07-cancel-dialog-desktop.png")
    dialog.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_role("status").filter(has_text="cancelled")).to_contain_text(
        f"Booking {reference} is cancelled. Refund of ₹499 processed.")
    expect(page.locator(".rt-Card").filter(has_text=reference)).to_contain_text("Refunded")
    visit_checked(page, "08-my-bookings-refunded")

    # Profile: name and phone.
    page.get_by_role("navigation").get_by_role("link", name="Profile").click()
    wait_ready(page)
    page.get_by_label("Phone").fill("12")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#field-phone-error")).to_contain_text("Phone must be 7 to 20 digits")
    page.get_by_label("Phone").fill("+91 98000 12345")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    visit_checked(page, "09-profile")

    # Signing out ends the session on the server too.
    sign_out(page)
    assert web_sessions.user_for_session(cookie["value"]) is None


def test_failed_payment_explains_the_hold_and_retry_pays(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    event = paid_event(ui_app.client, owner, price=1499.0, title=unique("Breathwork"))
    email = f"{unique('attendee')}@example.com"
    assert ui_app.client.post("/auth/register", json={
        "email": email, "password": PASSWORD, "name": "Meera Attendee"}).status_code == 201
    sign_in(page, email, next_path=f"/events/{event['id']}")
    expect(page).to_have_url(re.compile(rf"/app/events/{event['id']}/?$"))
    wait_ready(page)

    page.get_by_role("button", name="Book").click()
    page.get_by_role("button", name="Fail (sandbox)").click()
    reference = booking_reference(page)
    wait_ready(page)
    expect(page.locator("#payment-status")).to_have_text("Payment failed")
    expect(page.get_by_role("status").filter(has_text="held")).to_contain_text(
        re.compile(r"Your seat is held for \d+ minutes more"))
    visit_checked(page, "10-confirmation-failed")

    page.get_by_role("link", name="Retry payment").click()
    expect(page).to_have_url(re.compile(rf"/pay/{reference}\?token="))
    page.get_by_role("button", name="Pay (sandbox)").click()
    booking_reference(page)
    expect(page.locator("#payment-status")).to_have_text("Paid")


def test_pages_need_sign_in_and_sign_in_errors_are_plain(page: Page, ui_app: App) -> None:
    page.goto("/app/bookings")
    expect(page).to_have_url(re.compile(r"/app/login\?next=/bookings"))
    wait_ready(page)
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "That email and password do not match an account.")


def test_session_endpoint_spends_tickets_once_and_stays_inside_the_ui(ui_app: App) -> None:
    owner = facilitator(ui_app.client)
    ticket = web_sessions.issue_login_ticket(owner.id, "browser-prelogin-value")
    with httpx.Client(base_url=ui_app.url,
                      cookies={web_sessions.PRELOGIN_COOKIE: "browser-prelogin-value"}) as client:
        first = client.get("/web/session", params={"ticket": ticket, "next": "//evil.example/x"})
        again = client.get("/web/session", params={"ticket": ticket, "next": "/app/bookings"})
    assert first.status_code == 303 and first.headers["location"] == "/app/"
    assert "httponly" in first.headers["set-cookie"].lower()
    assert again.status_code == 303 and again.headers["location"] == "/app/login?expired=1"
    assert "set-cookie" not in again.headers


def test_the_home_list_leaves_descriptions_out_of_the_page_state(page: Page, ui_app: App) -> None:
    """A card shows no description, so the list's state carries none: a studio's long texts
    would otherwise travel on every page load and filter change (issue 19). The event's own
    page still shows it."""
    owner = facilitator(ui_app.client)
    marker = unique("description-marker")
    event = paid_event(ui_app.client, owner, description=f"{marker} " + "Slow flow, long holds. " * 150)
    frames: list[str] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda frame: frames.append(str(frame))))
    page.goto(f"/app/?q={quote(event['title'])}")
    wait_ready(page)
    card = page.locator(".rt-Card").filter(has_text=event["title"])
    expect(card).to_be_visible()
    assert any(event["title"] in frame for frame in frames)
    assert not any(marker in frame for frame in frames)
    card.get_by_role("link", name=event["title"]).click()
    expect(page.get_by_text(marker)).to_be_visible()
