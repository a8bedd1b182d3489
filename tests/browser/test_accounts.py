"""Issue 14 in the browser: forgot/reset/change password, the verification banner and page, and
sign-in through the pre-login cookie. Each page is checked with axe at desktop and phone width.

The server here has no CRM, so the emailed links are made in this process with the service that
makes them (tests/accounts checks the real emails end to end)."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from crm_booking.db import transaction
from crm_booking.models import AccountTokenPurpose, User
from crm_booking.services import accounts
from tests.browser.conftest import App
from tests.browser.flows import sign_in, unique
from tests.browser.ui import visit_checked, wait_ready
from tests.support.api import PASSWORD, new_attendee


def _link_token(user_id: int, purpose: AccountTokenPurpose) -> str:
    with transaction() as session:
        user = session.get(User, user_id)
        assert user is not None
        return accounts._issue_link(session, user, purpose, timedelta(hours=1))


def test_forgot_password_is_linked_from_sign_in_and_never_tells(page: Page, ui_app: App) -> None:
    page.goto("/app/login")
    wait_ready(page)
    page.get_by_role("link", name="Forgot password?").click()
    expect(page).to_have_url(re.compile(r"/app/forgot-password"))
    visit_checked(page, "accounts-forgot-password")
    page.get_by_label("Email").fill(f"{unique('nobody')}@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("status").filter(has_text="If an account exists")).to_be_visible()


def test_reset_link_page_sets_a_new_password(page: Page, ui_app: App) -> None:
    account = new_attendee(ui_app.client, name="Reset Person")
    token = _link_token(account.id, AccountTokenPurpose.RESET_PASSWORD)
    page.goto(f"/app/reset-password?token={token}")
    visit_checked(page, "accounts-reset-password")
    page.get_by_label("New password").fill("short")
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_text("Password must be 8 to 128 characters")).to_be_visible()
    page.get_by_label("New password").fill("browser-new-password")
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_role("status").filter(has_text="Your password is changed")).to_be_visible()
    page.get_by_label("New password").fill("browser-third-password")
    page.get_by_role("button", name="Save new password").click()  # the link is spent
    expect(page.get_by_role("alert")).to_contain_text("already used")
    sign_in(page, account.email, "browser-new-password")


def test_unverified_banner_resends_and_the_link_confirms(page: Page, ui_app: App) -> None:
    account = new_attendee(ui_app.client, name="Banner Person")
    sign_in(page, account.email, PASSWORD)
    banner = page.get_by_role("region", name="Confirm your email address")
    expect(banner).to_be_visible()
    visit_checked(page, "accounts-unverified-banner")
    banner.get_by_role("button", name="Send the link again").click()
    expect(banner.get_by_role("status")).to_contain_text("A new link is on its way")
    token = _link_token(account.id, AccountTokenPurpose.VERIFY_EMAIL)
    page.goto(f"/app/verify-email?token={token}")
    expect(page.get_by_text("your email address is confirmed")).to_be_visible()
    visit_checked(page, "accounts-verified")
    expect(page.get_by_role("region", name="Confirm your email address")).to_have_count(0)
    page.goto(f"/app/verify-email?token={token}")  # used once already
    expect(page.get_by_role("alert")).to_contain_text("already used")


def test_change_password_and_sign_out_everywhere(page: Page, ui_app: App) -> None:
    account = new_attendee(ui_app.client, name="Change Person")
    sign_in(page, account.email, PASSWORD)
    page.goto("/app/profile")
    wait_ready(page)
    page.get_by_role("link", name="Change password or sign out everywhere").click()
    expect(page).to_have_url(re.compile(r"/app/change-password"))
    visit_checked(page, "accounts-change-password")
    page.get_by_label("Current password").fill("not-the-password")
    page.get_by_label("New password").fill("changed-in-browser")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Current password is incorrect")).to_be_visible()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("changed-in-browser")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status").filter(has_text="Your password is changed")).to_be_visible()
    page.goto("/app/bookings")  # this browser's own session was kept
    wait_ready(page)
    expect(page).to_have_url(re.compile(r"/app/bookings"))
    page.goto("/app/change-password")
    wait_ready(page)
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.goto("/app/bookings")
    expect(page).to_have_url(re.compile(r"/app/login"))
    assert ui_app.client.get("/profile", headers=account.headers).status_code == 401


def test_the_home_page_shows_a_sign_out_made_elsewhere(page: Page, ui_app: App) -> None:
    """The home page checks the session on every visit: its one on_load handler refreshes the
    header too (issue 19 folded the session's own on_load into it, one websocket event fewer)."""
    account = new_attendee(ui_app.client, name="Elsewhere Person")
    sign_in(page, account.email, PASSWORD)  # lands on the home page, signed in
    expect(page.get_by_role("heading", name="Upcoming events")).to_be_visible()
    signed_out = ui_app.client.post("/auth/logout-all", headers=account.headers)
    assert signed_out.status_code == 200, signed_out.text
    page.goto("/app/")
    wait_ready(page)
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
