"""Issue 13 (5): a refund the gateway refused is shown on the facilitator's dashboard with a
button that retries it."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.browser.conftest import App
from tests.browser.flows import facilitator, paid_event, sign_in
from tests.browser.test_facilitator import pay_with_sandbox
from tests.browser.ui import visit_checked, wait_ready
from tests.support.api import book, new_attendee


def test_refused_refund_is_retried_from_the_dashboard(page: Page, ui_app: App,
                                                       database_url: str) -> None:
    owner = facilitator(ui_app.client, name="Retry Facilitator")
    event = paid_event(ui_app.client, owner, price=600.0)
    attendee = new_attendee(ui_app.client, name="Meera Refund")
    created = book(ui_app.client, attendee, event["id"])
    assert created.status_code == 201, created.text
    booking = created.json()["booking"]
    pay_with_sandbox(ui_app.client, booking["booking_reference"])
    cancelled = ui_app.client.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers)
    assert cancelled.status_code == 200, cancelled.text
    # The sandbox gateway never refuses: the refusal is written as the gateway's answer would.
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE refunds SET status='failed', razorpay_refund_id=NULL, "
            "failure_reason='Razorpay refused to refund: insufficient balance' "
            "WHERE booking_id=:b"), {"b": booking["id"]})
        conn.execute(sa.text("UPDATE bookings SET payment_status='completed' WHERE id=:b"),
                     {"b": booking["id"]})

    sign_in(page, owner.email, next_path="/dashboard")
    expect(page).to_have_url(re.compile(r"/app/dashboard/?$"))
    wait_ready(page)
    panel = page.locator("#refunds-to-retry")
    expect(panel).to_contain_text("Refunds that need attention")
    expect(panel).to_contain_text("₹600 to Meera Refund")
    expect(panel).to_contain_text("Refused by the payment gateway: Razorpay refused to refund")
    visit_checked(page, "13-dashboard-refund-to-retry")

    panel.get_by_role("button", name=re.compile("Retry refund to Meera Refund")).click()
    expect(page.get_by_role("status").filter(has_text="Refund of ₹600 processed.")).to_be_visible()
    expect(page.locator("#refunds-to-retry")).to_have_count(0)
    with engine.connect() as conn:
        status = conn.execute(sa.text("SELECT status FROM refunds WHERE booking_id=:b"),
                              {"b": booking["id"]}).scalar_one()
        paid = conn.execute(sa.text("SELECT payment_status FROM bookings WHERE id=:b"),
                            {"b": booking["id"]}).scalar_one()
    engine.dispose()
    assert (status, paid) == ("processed", "refunded")
