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
    wrong = sandbox.client.get(f"/pay/{reference}?token=wrong")
    assert wrong.status_code == 404
    # A page in the site's frame (its header and styles), not a bare one (issue 15).
    assert '<header class="site-header">' in wrong.text and 'aria-label="Main"' in wrong.text
    assert "<title>Booking not found · Payment</title>" in wrong.text
    assert "<h1>Booking not found</h1>" in wrong.text and 'href="/app/"' in wrong.text
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


# --- issue 13, items 9, 10, 11, 16 ----------------------------------------------------------------


def _checkout_data(html: str) -> dict:  # type: ignore[type-arg]
    import json
    import re

    found = re.search(r'<script type="application/json" id="checkout-data">(.*?)</script>', html,
                      re.S)
    assert found is not None
    return dict(json.loads(found.group(1)))


def test_checkout_options_carry_hold_timeout_and_real_prefill(app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    saved = app.client.put("/profile", json={"name": "Kavya Rao", "phone": "+919876543210"},
                           headers=attendee.headers)
    assert saved.status_code == 200, saved.text
    created = app.book(attendee, app.event(app.facilitator())["id"])

    data = _checkout_data(app.client.get(_path(created["payment_url"])).text)

    assert 0 < data["timeout_seconds"] <= 15 * 60
    assert data["prefill"] == {"name": "Kavya Rao", "email": attendee.email,
                               "contact": "+919876543210"}


def test_prefill_omits_what_the_attendee_has_not_given(app: App):
    attendee = app.attendee()  # no phone
    created = app.book(attendee, app.event(app.facilitator())["id"])
    data = _checkout_data(app.client.get(_path(created["payment_url"])).text)
    assert data["prefill"] == {"name": "Test Attendee", "email": attendee.email}
    assert None not in data["prefill"].values()


def test_failure_callback_text_is_not_shown_and_notice_sent_once_per_hold(
        app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    created = app.book(attendee, app.event(app.facilitator())["id"])
    booking = created["booking"]
    lure = "Call +91 90000 00000 to complete your payment"
    for attempt in range(3):
        forged = app.client.post("/payment/failure", json={
            "razorpay_order_id": booking["payment_reference"],
            "razorpay_payment_id": f"pay_forged{attempt:08d}", "error_code": "X",
            "error_description": lure})
        assert forged.status_code == 200

    page = app.client.get(_path(created["payment_url"])).text
    assert lure not in page and "+91 90000" not in page
    assert "The last attempt failed: the payment did not go through" in page
    notices = app.rows("SELECT idempotency_key FROM outbox WHERE booking_id=:b AND "
                       "action='payment_failed'", b=booking["id"])
    assert len(notices) == 1, notices


def test_checkout_page_when_razorpay_is_down_is_a_page_with_a_retry(
        app: App, fake_razorpay: FakeRazorpay):
    from tests.fakes.razorpay_server import ApiFailure

    down = ApiFailure("/v1/orders", 503, "SERVER_ERROR", "Service unavailable", method="POST")
    fake_razorpay.state.api_failures.extend([down, down])
    created = app.book(app.attendee(), app.event(app.facilitator())["id"])
    assert created["booking"]["payment_reference"] is None  # booked; the order comes later

    page = app.client.get(_path(created["payment_url"]))

    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "Payments are unavailable for a moment" in page.text and "Try again" in page.text
    assert '<header class="site-header">' in page.text
    assert _path(created["payment_url"]).replace("&", "&amp;") in page.text
    again = app.client.get(_path(created["payment_url"]))  # Razorpay is back
    assert again.status_code == 200 and "Pay with Razorpay" in again.text


def test_prices_below_the_gateway_minimum_are_refused(app: App):
    facilitator = app.facilitator()
    for price in (0.01, 0.5, 0.99):
        response = app.client.post("/events", json=_event_body(price=price),
                                   headers=facilitator.headers)
        assert response.status_code == 400, response.text
        assert response.json() == {"error": "Validation error", "details": {
            "price": "Price must be 0 (free) or at least 1.00"}}
    event = app.event(facilitator, price=1.0)
    updated = app.client.put(f"/events/{event['id']}", json={"price": 0.5},
                             headers=facilitator.headers)
    assert updated.status_code == 400 and "price" in updated.json()["details"]
    assert app.client.put(f"/events/{event['id']}", json={"price": 0},
                          headers=facilitator.headers).status_code == 200


def _event_body(**overrides: object) -> dict:  # type: ignore[type-arg]
    from tests.support.api import event_payload

    return event_payload(**overrides)
