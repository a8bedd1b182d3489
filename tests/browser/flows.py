"""Steps the browser tests share: set-up through the services and REST API, sign-in in the UI."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from crm_booking.models import Role
from crm_booking.services import auth
from tests.browser.ui import wait_ready
from tests.support.api import PASSWORD, Account, login


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def facilitator(client: httpx.Client, name: str = "Asha Facilitator") -> Account:
    """Facilitators are made by an administrator, never by public sign-up."""
    email = f"{unique('fac')}@example.com"
    auth.create_user(email=email, password=PASSWORD, name=name, role=Role.FACILITATOR,
                     phone="+919800000001")
    return login(client, email)


def paid_event(client: httpx.Client, owner: Account, **overrides: Any) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=8)).replace(hour=7, minute=0, second=0,
                                                           microsecond=0, tzinfo=None)
    body = {
        "title": unique("Morning Hatha Yoga"), "description": "Breath and movement.",
        "event_type": "session", "start_datetime": start.isoformat(),
        "end_datetime": (start + timedelta(hours=1)).isoformat(), "timezone": "Asia/Kolkata",
        "location": "Studio A, Indiranagar", "max_participants": 5, "price": 499.0,
        **overrides,
    }
    response = client.post("/events", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["event"])


def sign_in(page: Page, email: str, password: str = PASSWORD, next_path: str = "/") -> None:
    page.goto(f"/app/login?next={next_path}")
    wait_ready(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    """Sign out and wait for the logout round trip (/web/logout, then /app/) to land. The header
    shows "Sign in" a moment before that full-page navigation, and a `goto` started in between
    is aborted by it (net::ERR_ABORTED, seen in a CI run)."""
    with page.expect_navigation(url=re.compile(r"/app/?$")):
        page.get_by_role("button", name="Sign out").click()
    wait_ready(page)
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def dismiss_dialog_by_clicking_outside(page: Page) -> None:
    """Click outside the open dialog once it has settled, and wait for it to close.

    Radix starts listening for an outside click a tick after the dialog opens, and its opening
    animation runs meanwhile: on a loaded CI machine a click right after opening fell before
    that and was ignored (the dialog stayed open for 15 s). The click is made once the dialog's
    animations have finished, and again if the first still came too early."""
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.evaluate("el => Promise.all(el.getAnimations({subtree: true}).map(a => a.finished))")
    for _ in range(3):
        page.mouse.click(5, 5)
        try:
            expect(dialog).to_have_count(0, timeout=5_000)
            return
        except AssertionError:
            continue
    expect(dialog).to_have_count(0)


def booking_reference(page: Page) -> str:
    expect(page).to_have_url(re.compile(r"/app/booking/BK\d+"))
    return page.url.rsplit("/", 1)[-1].split("?")[0]
