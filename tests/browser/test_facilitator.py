"""A facilitator creates an event (fixing what the form flags), sees a paid booking arrive with
its revenue, exports the attendee list, deactivates and cancels the event with refunds."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Page, expect

from crm_booking.services import payment
from tests.browser.conftest import App
from tests.browser.flows import facilitator, sign_in, unique
from tests.browser.ui import visit_checked, wait_ready
from tests.support.api import PASSWORD, login


def pay_with_sandbox(client: httpx.Client, reference: str) -> None:
    """What the sandbox checkout page does when the attendee presses Pay."""
    token = payment.checkout_token(reference)
    fields = client.post(f"/pay/{reference}/sandbox", params={"token": token, "outcome": "success"})
    assert fields.status_code == 200, fields.text
    paid = client.post("/payment/success", json=fields.json())
    assert paid.status_code == 200, paid.text


def test_facilitator_creates_sees_booking_exports_and_cancels(page: Page, ui_app: App) -> None:
    owner = facilitator(ui_app.client, name="Asha Facilitator")
    sign_in(page, owner.email, next_path="/dashboard")
    expect(page).to_have_url(re.compile(r"/app/dashboard/?$"))
    wait_ready(page)
    expect(page.get_by_text("You have no events yet")).to_be_visible()
    visit_checked(page, "11-dashboard-empty")

    # Create: the service's validation messages appear beside the fields.
    title = unique("Evening Vinyasa Flow")
    page.get_by_role("button", name="New event").click()
    dialog = page.get_by_role("dialog")
    start = (datetime.now(UTC) + timedelta(days=12)).strftime("%Y-%m-%dT18:00")
    dialog.get_by_label("Title").fill(title)
    dialog.get_by_label("Starts").fill(start)
    dialog.get_by_label("Ends").fill(start.replace("T18:00", "T17:00"))
    dialog.get_by_label("Capacity").fill("4")
    dialog.get_by_label("Price (₹)").fill("750")
    dialog.get_by_role("button", name="Save event").click()
    expect(dialog.locator("#event-location-error")).to_have_text("Give a location or a virtual link")
    dialog.get_by_label("Location").fill("Studio B, Koramangala")
    dialog.get_by_role("button", name="Save event").click()
    expect(dialog.locator("#event-end_datetime-error")).to_have_text("Must be after the start")
    page.screenshot(path="test-artifacts/screenshots/12-event-form-errors-desktop.png")
    dialog.get_by_label("Ends").fill(start.replace("T18:00", "T19:15"))
    dialog.get_by_role("button", name="Save event").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Created")).to_contain_text(title)
    card = page.locator(".rt-Card").filter(has_text=title)
    expect(card).to_contain_text("0 / 4")
    expect(card).to_contain_text("6:00 PM IST")

    # An attendee books and pays (through the REST API); the dashboard shows it.
    event_id = int(card.get_by_role("link", name="Attendees").get_attribute("href").rsplit("/", 1)[-1])  # type: ignore[union-attr]
    email = f"{unique('attendee')}@example.com"
    ui_app.client.post("/auth/register", json={"email": email, "password": PASSWORD,
                                               "name": "Ravi Attendee", "phone": "+919800000002"})
    attendee = login(ui_app.client, email)
    assert ui_app.client.put("/profile", json={"phone": "+919800000002"},
                             headers=attendee.headers).status_code == 200
    created = ui_app.client.post("/bookings", json={"event_id": event_id}, headers=attendee.headers)
    assert created.status_code == 201, created.text
    reference = created.json()["booking"]["booking_reference"]
    pay_with_sandbox(ui_app.client, reference)
    page.reload()
    wait_ready(page)
    card = page.locator(".rt-Card").filter(has_text=title)
    expect(card).to_contain_text("1 / 4")
    expect(card).to_contain_text("₹750")
    visit_checked(page, "13-dashboard")

    # Attendee list and CSV export.
    card.get_by_role("link", name="Attendees").click()
    expect(page).to_have_url(re.compile(rf"/app/dashboard/events/{event_id}/?$"))
    wait_ready(page)
    row = page.get_by_role("row").filter(has_text="Ravi Attendee")
    expect(row).to_contain_text(email)
    expect(row).to_contain_text("+919800000002")
    expect(row).to_contain_text("Paid")
    visit_checked(page, "14-attendees")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"attendees-event-{event_id}.csv"
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert rows[0] == ["Name", "Email", "Phone", "Booking reference", "Booking status",
                       "Payment status", "Amount (INR)", "Booked at (UTC)", "Checked in at (UTC)"]
    assert rows[1][:7] == ["Ravi Attendee", email, "+919800000002", reference, "confirmed",
                           "completed", "750.00"]
    assert len(rows) == 2

    # Deactivate, then reactivate.
    page.get_by_role("link", name="Back to your events").click()
    wait_ready(page)
    card = page.locator(".rt-Card").filter(has_text=title)
    card.get_by_role("button", name=f"Deactivate {title}").click()
    expect(card).to_contain_text("Not bookable")
    assert ui_app.client.get(f"/events/{event_id}").json()["is_active"] is False
    card.get_by_role("button", name=f"Reactivate {title}").click()
    expect(card).to_contain_text("Open")

    # Cancel: the dialog states what will be refunded, then the outcome.
    card.get_by_role("button", name=f"Cancel event {title}").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text(
        "1 booking will be cancelled. 1 paid booking will be refunded, ₹750 in total.")
    page.screenshot(path="test-artifacts/screenshots/15-cancel-event-dialog-desktop.png")
    confirm.get_by_role("button", name="Cancel event and refund").click()
    expect(page.get_by_role("status").filter(has_text="is cancelled")).to_contain_text(
        "1 booking cancelled; 1 refund processed, ₹750 in total.")
    expect(card).to_contain_text("Cancelled")
    mine = ui_app.client.get("/bookings?status=cancelled", headers=attendee.headers).json()
    assert [b["payment_status"] for b in mine["bookings"]] == ["refunded"]
    visit_checked(page, "16-dashboard-cancelled")


def test_attendee_cannot_open_the_dashboard(page: Page, ui_app: App) -> None:
    email = f"{unique('attendee')}@example.com"
    ui_app.client.post("/auth/register", json={"email": email, "password": PASSWORD,
                                               "name": "Curious Attendee"})
    sign_in(page, email, next_path="/dashboard")
    wait_ready(page)
    expect(page.get_by_text("This dashboard is for facilitators.")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name="Dashboard")).to_have_count(0)
