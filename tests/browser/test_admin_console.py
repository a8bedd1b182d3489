"""Issue 20: the admin console in the browser, at desktop and phone width, checked with axe."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from crm_booking.models import Role
from crm_booking.services import auth
from tests.browser.conftest import App
from tests.browser.flows import facilitator, paid_event, sign_in, unique
from tests.browser.test_facilitator import pay_with_sandbox
from tests.browser.ui import visit_checked, wait_ready
from tests.support.api import PASSWORD, book, new_attendee


def test_admin_finds_promotes_and_deactivates_someone(page: Page, ui_app: App,
                                                      database_url: str) -> None:
    admin_email = f"{unique('admin')}@example.com"
    auth.create_user(email=admin_email, password=PASSWORD, name="Ada Admin", role=Role.ADMIN)
    person = new_attendee(ui_app.client, name=unique("Zora Console"))

    sign_in(page, admin_email, next_path="/admin")
    # Signing in ends with a full-page redirect to `next`: the menu is used once it has landed
    # (a click during the redirect chain can be lost, as the deploy test's sign-up link was).
    expect(page).to_have_url(re.compile(r"/app/admin/?$"))
    wait_ready(page)
    page.get_by_role("link", name="Admin").click()
    expect(page).to_have_url(re.compile(r"/app/admin/?$"))
    wait_ready(page)
    page.get_by_label("Search by email or name").fill(person.name)
    page.get_by_role("button", name="Search").click()
    people = page.locator("#people-list")
    expect(people.locator("li")).to_have_count(1)
    expect(people).to_contain_text(person.email)
    visit_checked(page, "20-admin-console")

    people.get_by_role("button", name=f"Make facilitator {person.email}").click()
    expect(page.get_by_role("status").filter(has_text="Role changed to facilitator.")).to_be_visible()
    people.get_by_role("button", name=f"Deactivate {person.email}").click()
    expect(page.get_by_role("status").filter(has_text="Account deactivated")).to_be_visible()
    expect(people).to_contain_text("facilitator, deactivated")
    expect(people.get_by_role("button", name=f"Reactivate {person.email}")).to_be_visible()
    actions = page.get_by_role("region", name="Admin actions")
    expect(actions).to_contain_text(f"{admin_email}: deactivate user {person.id}")
    expect(actions).to_contain_text(f"{admin_email}: promote user {person.id} (user -> facilitator)")

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT role, is_active FROM users WHERE id=:i"),
                           {"i": person.id}).one()
    engine.dispose()
    assert (row.role, row.is_active) == ("facilitator", False)
    assert ui_app.client.get("/profile", headers=person.headers).status_code == 401


def test_the_console_is_not_offered_to_others(page: Page, ui_app: App) -> None:
    person = new_attendee(ui_app.client, name="Not An Admin")
    sign_in(page, person.email, next_path="/admin")
    wait_ready(page)
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    expect(page.get_by_role("alert")).to_contain_text("Only admins can use the admin console.")
    expect(page.locator("#people-list")).to_have_count(0)


def test_admin_retries_a_refused_refund_and_a_dead_notification(page: Page, ui_app: App,
                                                                database_url: str) -> None:
    owner = facilitator(ui_app.client, name="Console Facilitator")
    event = paid_event(ui_app.client, owner, price=700.0)
    attendee = new_attendee(ui_app.client, name=unique("Ravi Console"))
    created = book(ui_app.client, attendee, event["id"])
    assert created.status_code == 201, created.text
    booking = created.json()["booking"]
    pay_with_sandbox(ui_app.client, booking["booking_reference"])
    assert ui_app.client.post(f"/bookings/{booking['id']}/cancel",
                              headers=attendee.headers).status_code == 200
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        # The sandbox never refuses and the CRM never refuses for good: written as they would be.
        refund_id = conn.execute(sa.text(
            "UPDATE refunds SET status='failed', razorpay_refund_id=NULL, "
            "failure_reason='Razorpay refused to refund: insufficient balance' "
            "WHERE booking_id=:b RETURNING id"), {"b": booking["id"]}).scalar_one()
        conn.execute(sa.text("UPDATE bookings SET payment_status='completed' WHERE id=:b"),
                     {"b": booking["id"]})
        message_id = conn.execute(sa.text(
            "UPDATE outbox SET status='dead', last_error='refused by the CRM' WHERE id="
            "(SELECT min(id) FROM outbox WHERE booking_id=:b) RETURNING id"),
            {"b": booking["id"]}).scalar_one()

    admin_email = f"{unique('admin')}@example.com"
    auth.create_user(email=admin_email, password=PASSWORD, name="Ada Admin", role=Role.ADMIN)
    sign_in(page, admin_email, next_path="/admin")
    wait_ready(page)
    refunds = page.get_by_role("region", name="Refunds that need attention")
    expect(refunds).to_contain_text(f"Refund {refund_id}: ₹700 to {attendee.email}")
    notifications = page.get_by_role("region", name="Notifications not delivered")
    expect(notifications).to_contain_text(f"Notification {message_id}")
    payments = page.get_by_role("region", name="Recent payments")
    expect(payments).to_contain_text(booking["booking_reference"])
    expect(payments).to_contain_text("At the gateway: captured")

    refunds.get_by_role("button", name=re.compile(f"Retry Refund {refund_id}:")).click()
    expect(page.get_by_role("status").filter(has_text=f"Refund {refund_id} sent again.")).to_be_visible()
    expect(refunds).not_to_contain_text(f"Refund {refund_id}:")
    notifications.get_by_role("button", name=re.compile(f"Retry Notification {message_id}:")).click()
    expect(page.get_by_role("status").filter(
        has_text=f"Notification {message_id} queued again.")).to_be_visible()
    expect(notifications).not_to_contain_text(f"Notification {message_id}:")
    with engine.connect() as conn:
        refund_status = conn.execute(sa.text("SELECT status FROM refunds WHERE id=:i"),
                                     {"i": refund_id}).scalar_one()
        outbox_status = conn.execute(sa.text("SELECT status FROM outbox WHERE id=:i"),
                                     {"i": message_id}).scalar_one()
    engine.dispose()
    assert (refund_status, outbox_status) == ("processed", "pending")
