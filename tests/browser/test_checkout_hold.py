"""Issue 13 (11, 16): the checkout page hands Razorpay Checkout the seconds left of the seat hold
as its `timeout` and the attendee's real prefill, and disables Pay when the hold ends. The page
is plain HTML served by the API, so no UI build is needed; the browser's clock is Playwright's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import App, start_ui_app
from tests.fakes.razorpay_server import FakeRazorpay, checkout_js
from tests.support import api as client_api


@pytest.fixture(scope="module")
def fake_gateway() -> Iterator[FakeRazorpay]:
    fake = FakeRazorpay().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def checkout_app(database_url: str, tmp_path_factory: pytest.TempPathFactory,
                 fake_gateway: FakeRazorpay) -> Iterator[App]:
    clock_file: Path = tmp_path_factory.mktemp("hold-clock") / "offset"
    clock_file.write_text("0")
    app = start_ui_app(database_url, clock_file, "booking-app-checkout-hold", fake_gateway.env())
    yield app
    app.client.close()
    app.server.stop()


@pytest.fixture
def checkout_page(browser: Browser, checkout_app: App, fake_gateway: FakeRazorpay) -> Iterator[Page]:
    context = browser.new_context(base_url=checkout_app.url)

    def stand_in(route: Route) -> None:
        route.fulfill(status=200, content_type="application/javascript",
                      body=checkout_js(fake_gateway.url))

    context.route("**/checkout.js", stand_in)
    page = context.new_page()
    yield page
    context.close()


def test_checkout_times_out_with_the_hold_and_pay_is_disabled_at_zero(
        checkout_page: Page, checkout_app: App, database_url: str) -> None:
    page, app = checkout_page, checkout_app
    owner = client_api.new_facilitator(app.client, database_url=database_url)
    event = client_api.create_event(app.client, owner, price=40.0)
    attendee = client_api.new_attendee(app.client, name="Meera Iyer")
    created = client_api.book(app.client, attendee, event["id"]).json()
    parts = urlsplit(created["payment_url"])

    page.clock.install()
    page.goto(f"{parts.path}?{parts.query}")
    pay = page.get_by_role("button", name="Pay with Razorpay")
    expect(pay).to_be_enabled()
    options = page.evaluate("window.__razorpayOptions")
    assert 14 * 60 < options["timeout"] <= 15 * 60
    assert options["prefill"] == {"name": "Meera Iyer", "email": attendee.email}

    page.clock.fast_forward(options["timeout"] * 1000 + 1000)

    expect(pay).to_be_disabled()
    expect(page.locator("#status")).to_have_text(re.compile("seat hold has lapsed"))
    expect(page.locator("#hold-left")).to_have_text("0 min 0 s")



def test_paying_through_the_checkout_page_still_confirms_the_booking(
        checkout_page: Page, checkout_app: App, database_url: str,
        fake_gateway: FakeRazorpay) -> None:
    """The page's script after the changes above: Pay → Checkout (stand-in) → /payment/success
    (which now fetches the payment from the gateway) → the booking page."""
    page, app = checkout_page, checkout_app
    owner = client_api.new_facilitator(app.client, database_url=database_url)
    event = client_api.create_event(app.client, owner, price=40.0)
    attendee = client_api.new_attendee(app.client)
    created = client_api.book(app.client, attendee, event["id"]).json()
    reference = created["booking"]["booking_reference"]
    parts = urlsplit(created["payment_url"])

    page.goto(f"{parts.path}?{parts.query}")
    page.get_by_role("button", name="Pay with Razorpay").click()

    expect(page).to_have_url(re.compile(rf"/app/booking/{reference}$"))
    booking = app.client.get(f"/bookings/{created['booking']['id']}", headers=attendee.headers).json()
    assert booking["payment_status"] == "completed"
    assert fake_gateway.payment_entity(booking["payment_id"])["status"] == "captured"
