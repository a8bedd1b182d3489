"""The checkout page /pay/{reference}: sandbox mode (no keys) and Razorpay Standard Checkout."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.fakes.razorpay_server import FakeRazorpay
from tests.payments.conftest import App


def _path(payment_url: str) -> str:
    parts = urlsplit(payment_url)
    return f"{parts.path}?{parts.query}"


def test_sandbox_checkout_pays_through_the_success_endpoint(sandbox: App):
    attendee = sandbox.attendee()
    created = sandbox.book(attendee, sandbox.event(sandbox.facilitator(), price=300.0)["id"])
    page_path = _path(created["payment_url"])

    page = sandbox.client.get(page_path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "SANDBOX — no real money" in html
    assert "Pay (sandbox)" in html and "Fail (sandbox)" in html
    assert "Test Yoga Session" in html and "₹300.00 INR" in html
    assert 'name="viewport"' in html and 'role="status"' in html and 'lang="en"' in html
    assert "checkout.razorpay.com" not in html

    # What the "Pay (sandbox)" button does: ask the server for signed fields, post them.
    fields = sandbox.client.post(page_path.replace("?", "/sandbox?", 1) + "&outcome=success").json()
    assert fields["razorpay_order_id"] == created["booking"]["payment_reference"]
    forged = dict(fields, razorpay_signature="0" * 64)
    assert sandbox.client.post("/payment/success", json=forged).status_code == 400
    paid = sandbox.client.post("/payment/success", json=fields)
    assert paid.status_code == 200 and paid.json()["booking"]["payment_status"] == "completed"

    again = sandbox.client.get(page_path).text
    assert "This booking is paid" in again and "Pay (sandbox)" not in again


def test_sandbox_checkout_fail_then_pay(sandbox: App):
    attendee = sandbox.attendee()
    created = sandbox.book(attendee, sandbox.event(sandbox.facilitator())["id"])
    sandbox_path = _path(created["payment_url"]).replace("?", "/sandbox?", 1)

    failure = sandbox.client.post(sandbox_path + "&outcome=failure").json()
    recorded = sandbox.client.post("/payment/failure", json=failure)
    assert recorded.status_code == 200 and recorded.json()["booking"]["payment_status"] == "failed"
    page = sandbox.client.get(_path(created["payment_url"])).text
    assert "The last attempt failed" in page and "Pay (sandbox)" in page

    success = sandbox.client.post(sandbox_path + "&outcome=success").json()
    paid = sandbox.client.post("/payment/success", json=success)
    assert paid.json()["booking"]["payment_status"] == "completed"
    assert sandbox.booking(attendee, created["booking"]["id"])["payment_id"] == success["razorpay_payment_id"]


def test_checkout_link_needs_its_token(sandbox: App):
    created = sandbox.book(sandbox.attendee(), sandbox.event(sandbox.facilitator())["id"])
    reference = created["booking"]["booking_reference"]
    assert sandbox.client.get(f"/pay/{reference}?token=wrong").status_code == 404
    refused = sandbox.client.post(f"/pay/{reference}/sandbox?token=wrong&outcome=success")
    assert refused.status_code == 404 and refused.json() == {"error": "Booking not found"}


def test_lapsed_or_cancelled_booking_shows_state_instead_of_pay(sandbox: App):
    attendee = sandbox.attendee()
    created = sandbox.book(attendee, sandbox.event(sandbox.facilitator())["id"])
    page_path = _path(created["payment_url"])
    sandbox.client.post(f"/bookings/{created['booking']['id']}/cancel", headers=attendee.headers)

    html = sandbox.client.get(page_path).text
    assert "This booking was cancelled" in html and "Pay (sandbox)" not in html
    refused = sandbox.client.post(page_path.replace("?", "/sandbox?", 1) + "&outcome=success")
    assert refused.status_code == 400


def test_razorpay_checkout_page_loads_standard_checkout(app: App, fake_razorpay: FakeRazorpay):
    created = app.book(app.attendee(), app.event(app.facilitator(), price=25.0)["id"])
    page = app.client.get(_path(created["payment_url"]))
    assert page.status_code == 200
    html = page.text
    assert f'<script src="{fake_razorpay.url}/checkout.js"></script>' in html
    assert created["booking"]["payment_reference"] in html and fake_razorpay.key_id in html
    assert '"amount_paise": 2500' in html
    assert "SANDBOX" not in html and "Pay with Razorpay" in html
    # No sandbox payments when real keys are configured.
    sandbox_path = _path(created["payment_url"]).replace("?", "/sandbox?", 1)
    assert app.client.post(sandbox_path + "&outcome=success").status_code == 404
    # The stand-in checkout.js for browser tests is served by the fake.
    assert "window.Razorpay" in app.client.get(f"{fake_razorpay.url}/checkout.js").text
