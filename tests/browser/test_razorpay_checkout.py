"""Paying through Razorpay Checkout: the checkout page loads Razorpay's checkout.js, which the
browser gets from the fake Razorpay server's stand-in; orders, payments and signatures are
real calls between the app's razorpay client and that fake."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from crm_booking.settings import Settings
from tests.browser.conftest import App, new_context, start_ui_app
from tests.browser.flows import booking_reference, facilitator, paid_event, sign_in, unique
from tests.browser.ui import visit_checked, wait_ready
from tests.fakes.razorpay_server import FakeRazorpay, checkout_js
from tests.support.api import PASSWORD

RAZORPAY_CHECKOUT_JS = Settings.model_fields["RAZORPAY_CHECKOUT_JS_URL"].default


@pytest.fixture(scope="module")
def fake_razorpay() -> Iterator[FakeRazorpay]:
    fake = FakeRazorpay().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def razorpay_ui_app(ui_build: None, database_url: str, tmp_path_factory: pytest.TempPathFactory,
                    fake_razorpay: FakeRazorpay) -> Iterator[App]:
    clock_file: Path = tmp_path_factory.mktemp("rzp-clock") / "offset"
    clock_file.write_text("0")
    # The page asks for Razorpay's real checkout.js; the browser route below answers it.
    env = fake_razorpay.env(RAZORPAY_CHECKOUT_JS_URL=RAZORPAY_CHECKOUT_JS)
    app = start_ui_app(database_url, clock_file, "booking-app-browser-razorpay", env)
    yield app
    app.client.close()
    app.server.stop()


@pytest.fixture
def rzp_page(browser: Browser, razorpay_ui_app: App, fake_razorpay: FakeRazorpay) -> Iterator[Page]:
    context = new_context(browser, razorpay_ui_app)

    def stand_in(route: Route) -> None:
        route.fulfill(status=200, content_type="application/javascript",
                      body=checkout_js(fake_razorpay.url))

    context.route("**/checkout.js", stand_in)
    page = context.new_page()
    yield page
    context.close()


def test_attendee_pays_with_razorpay_checkout(rzp_page: Page, razorpay_ui_app: App,
                                             fake_razorpay: FakeRazorpay) -> None:
    page, app = rzp_page, razorpay_ui_app
    owner = facilitator(app.client)
    event = paid_event(app.client, owner, title=unique("Weekend Silent Retreat"),
                       event_type="retreat", price=12000.0)
    email = f"{unique('attendee')}@example.com"
    assert app.client.post("/auth/register", json={
        "email": email, "password": PASSWORD, "name": "Kavya Attendee"}).status_code == 201
    sign_in(page, email, next_path=f"/events/{event['id']}")
    expect(page).to_have_url(re.compile(rf"/app/events/{event['id']}/?$"))
    wait_ready(page)
    expect(page.get_by_text("₹12,000").first).to_be_visible()

    page.get_by_role("button", name="Book").click()
    expect(page).to_have_url(re.compile(r"/pay/BK\d+\?token="))
    page.get_by_role("button", name="Pay with Razorpay").click()
    reference = booking_reference(page)
    wait_ready(page)
    expect(page.locator("#payment-status")).to_have_text("Paid")
    visit_checked(page, "17-confirmation-razorpay")

    # The payment really happened on the (fake) gateway, for this booking's order.
    booking = app.client.get("/bookings", headers={"Authorization": "Bearer " + app.client.post(
        "/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]}).json()
    [mine] = [b for b in booking["bookings"] if b["booking_reference"] == reference]
    assert mine["payment_status"] == "completed"
    assert fake_razorpay.payment_entity(mine["payment_id"])["status"] == "captured"
