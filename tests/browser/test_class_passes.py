"""Issue 17: a facilitator puts a class pass on sale from the dashboard; an attendee buys it
through the sandbox checkout, books a class with it from the event page and sees on "My passes"
what the credit paid for; the dashboard then shows the sale and the credit used; cancelling
gives the class back. Axe-checked at desktop and phone width."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.browser import flows
from tests.browser.conftest import App, new_context
from tests.browser.ui import check_accessibility, visit_checked, wait_ready
from tests.support import api as client_api


def test_buy_a_pass_book_with_it_and_see_what_the_credit_paid_for(
        page: Page, browser: Browser, ui_app: App) -> None:
    owner = flows.facilitator(ui_app.client, name="Kavya Teacher")
    event = flows.paid_event(ui_app.client, owner, title=flows.unique("Sunrise Vinyasa"))
    pass_name = flows.unique("Two mornings")

    # The facilitator defines the pass on the dashboard.
    seller = new_context(browser, ui_app).new_page()
    flows.sign_in(seller, owner.email, next_path="/dashboard")
    wait_ready(seller)
    panel = seller.locator("#class-passes")
    expect(panel.get_by_label("Classes")).to_have_attribute("aria-invalid", "false")
    panel.get_by_label("Pass name").fill(pass_name)
    panel.get_by_label("Classes").fill("0")
    panel.get_by_role("button", name="Put pass on sale").click()
    expect(panel.get_by_text("Must be a whole number from 1 to 500")).to_be_visible()
    expect(panel.get_by_label("Classes")).to_have_attribute("aria-invalid", "true")
    panel.get_by_label("Classes").fill("2")
    panel.get_by_label("Valid for (days)").fill("30")
    panel.get_by_label("Price (₹)").fill("900")
    panel.get_by_label("Covers").select_option("session")
    panel.get_by_role("button", name="Put pass on sale").click()
    expect(panel.get_by_text(f"“{pass_name}” is on sale.")).to_be_visible()
    expect(panel.locator("#pass-sales")).to_contain_text("0 sold")
    check_accessibility(seller)

    # An attendee buys it through the same (sandbox) checkout as a booking.
    attendee = client_api.new_attendee(ui_app.client, name="Ravi Kumar")
    flows.sign_in(page, attendee.email, next_path="/passes")
    wait_ready(page)
    page.get_by_role("button", name=f"Buy {pass_name}").click()
    expect(page).to_have_url(re.compile(r"/pay/PASS\d+\?token="))
    expect(page.get_by_text(pass_name).first).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Pay (sandbox)").click()
    expect(page).to_have_url(re.compile(r"/app/passes"))
    mine = page.locator(".my-pass").filter(has_text=pass_name)
    expect(mine).to_contain_text("2 of 2 classes left")
    expect(mine).to_contain_text("Valid until")

    # The event page offers the pass; one click books the seat with one class, no payment.
    page.goto(f"/app/events/{event['id']}")
    wait_ready(page)
    page.get_by_role("button", name=re.compile(f"Book with {pass_name}")).click()
    reference = flows.booking_reference(page)
    expect(page.get_by_text("Paid with a pass").first).to_be_visible()

    # "My passes" shows what the credit paid for.
    page.goto("/app/passes")
    wait_ready(page)
    mine = page.locator(".my-pass").filter(has_text=pass_name)
    expect(mine).to_contain_text("1 of 2 classes left")
    expect(mine.get_by_role("listitem")).to_contain_text(event["title"])
    expect(mine.get_by_role("listitem")).to_contain_text(reference)
    expect(mine.get_by_role("listitem")).to_contain_text("Used")
    visit_checked(page, "my-passes")

    # The facilitator sees the sale and the credit used.
    seller.reload()
    wait_ready(seller)
    row = seller.locator("#pass-sales").filter(has_text=pass_name)
    expect(row).to_contain_text("1 sold")
    expect(row).to_contain_text("1 credit used")
    visit_checked(seller, "dashboard-class-passes")
    seller.context.close()

    # Cancelling from My bookings, inside the full-refund time, gives the class back.
    page.goto("/app/bookings")
    wait_ready(page)
    page.get_by_role("button", name=f"Cancel booking {reference}").click()
    expect(page.locator("#cancel-quote")).to_contain_text("The class goes back to your pass")
    check_accessibility(page)
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_text(f"Booking {reference} is cancelled. The class is back on your pass."))\
        .to_be_visible()
    page.goto("/app/passes")
    wait_ready(page)
    mine = page.locator(".my-pass").filter(has_text=pass_name)
    expect(mine).to_contain_text("2 of 2 classes left")
    expect(mine.get_by_role("listitem")).to_contain_text("Credit returned")
