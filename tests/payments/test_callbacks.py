"""Endpoints 15 and 16 and the webhook, against the real app and the real razorpay client."""

from __future__ import annotations

from tests.fakes.razorpay_server import FakeRazorpay, hmac_hex
from tests.payments.conftest import App


def _booked(app: App, price: float = 25.0) -> tuple[object, dict]:  # type: ignore[type-arg]
    facilitator = app.facilitator()
    event = app.event(facilitator, price=price)
    attendee = app.attendee()
    created = app.book(attendee, event["id"])
    return attendee, created


def test_booking_creates_order_with_receipt_and_paise(app: App, fake_razorpay: FakeRazorpay):
    _, created = _booked(app, price=499.5)
    booking = created["booking"]
    assert booking["payment_status"] == "pending"
    order = fake_razorpay.state.orders[booking["payment_reference"]]
    assert order["amount"] == 49950 and order["currency"] == "INR"
    assert order["receipt"] == booking["booking_reference"]
    assert order["notes"]["booking_id"] == str(booking["id"])
    assert created["payment_url"].startswith(f"{app.url}/pay/{booking['booking_reference']}?token=")


def test_success_callback_marks_paid_and_replay_is_harmless(app: App, fake_razorpay: FakeRazorpay):
    attendee, created = _booked(app)
    booking = created["booking"]
    fields = fake_razorpay.pay(booking["payment_reference"])

    first = app.client.post("/payment/success", json=fields)
    replay = app.client.post("/payment/success", json=fields)

    assert first.status_code == 200, first.text
    assert first.json()["message"] == "Payment processed successfully"
    assert first.json()["booking"] == {"id": booking["id"], "booking_reference": booking["booking_reference"],
                                       "payment_status": "completed", "status": "confirmed"}
    assert replay.status_code == 200 and replay.json()["booking"]["payment_status"] == "completed"
    detail = app.booking(attendee, booking["id"])  # type: ignore[arg-type]
    assert detail["payment_id"] == fields["razorpay_payment_id"]
    assert detail["hold_expires_at"] is None
    assert len(app.rows("SELECT * FROM payments WHERE booking_id=:b", b=booking["id"])) == 1
    assert len(app.rows("SELECT * FROM outbox WHERE booking_id=:b AND action='payment_completed'",
                        b=booking["id"])) == 1
    paid_at = app.rows("SELECT paid_at FROM bookings WHERE id=:b", b=booking["id"])[0]["paid_at"]
    assert paid_at is not None


def test_forged_signature_is_refused_and_changes_nothing(app: App, fake_razorpay: FakeRazorpay):
    attendee, created = _booked(app)
    booking = created["booking"]
    fields = fake_razorpay.pay(booking["payment_reference"])
    forged = dict(fields, razorpay_signature=hmac_hex("not-the-key-secret",
                                                     f"{fields['razorpay_order_id']}|{fields['razorpay_payment_id']}"))
    swapped = dict(fields, razorpay_payment_id="pay_someoneelse01")

    for body in (forged, swapped):
        response = app.client.post("/payment/success", json=body)
        assert response.status_code == 400
        assert response.json() == {"error": "Invalid payment signature"}
    detail = app.booking(attendee, booking["id"])  # type: ignore[arg-type]
    assert detail["payment_status"] == "pending" and detail["payment_id"] is None
    assert app.rows("SELECT * FROM payments WHERE booking_id=:b", b=booking["id"]) == []


def test_unknown_order_answers_404(app: App, fake_razorpay: FakeRazorpay):
    signature = fake_razorpay.signature("order_doesnotexist1", "pay_doesnotexist11")
    response = app.client.post("/payment/success", json={
        "razorpay_order_id": "order_doesnotexist1", "razorpay_payment_id": "pay_doesnotexist11",
        "razorpay_signature": signature})
    assert response.status_code == 404
    assert response.json() == {"error": "Booking not found"}
    failure = app.client.post("/payment/failure", json={"razorpay_order_id": "order_doesnotexist1"})
    assert failure.status_code == 404 and failure.json() == {"error": "Booking not found"}


def test_missing_fields_answer_validation_error(app: App):
    response = app.client.post("/payment/success", json={"razorpay_order_id": "order_x"})
    assert response.status_code == 400
    assert response.json()["error"] == "Validation error"
    assert set(response.json()["details"]) == {"razorpay_payment_id", "razorpay_signature"}


def test_failure_is_recorded_then_retry_on_same_order_succeeds(app: App, fake_razorpay: FakeRazorpay):
    attendee, created = _booked(app)
    booking = created["booking"]
    order_id = booking["payment_reference"]
    failed = fake_razorpay.fail(order_id, code="BAD_REQUEST_ERROR",
                                description="Payment was declined by the bank")

    response = app.client.post("/payment/failure", json=failed)
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Payment failure recorded", "booking": {
        "id": booking["id"], "booking_reference": booking["booking_reference"],
        "payment_status": "failed", "status": "confirmed"}}
    stored = app.rows("SELECT payment_error_code, payment_error_description FROM bookings WHERE id=:b",
                      b=booking["id"])[0]
    assert stored == {"payment_error_code": "BAD_REQUEST_ERROR",
                      "payment_error_description": "Payment was declined by the bank"}
    assert app.booking(attendee, booking["id"])["hold_expires_at"] is not None  # type: ignore[arg-type]

    retried = fake_razorpay.pay(order_id)
    success = app.client.post("/payment/success", json=retried)
    assert success.json()["booking"]["payment_status"] == "completed"
    # A failure report arriving late (replayed) never undoes the success.
    late = app.client.post("/payment/failure", json=failed)
    assert late.status_code == 200 and late.json()["booking"]["payment_status"] == "completed"
    detail = app.booking(attendee, booking["id"])  # type: ignore[arg-type]
    assert detail["payment_status"] == "completed"
    assert detail["payment_id"] == retried["razorpay_payment_id"]
    statuses = sorted(r["status"] for r in app.rows(
        "SELECT status FROM payments WHERE booking_id=:b", b=booking["id"]))
    assert statuses == ["captured", "failed"]


def test_webhook_before_callback_then_replays(app: App, fake_razorpay: FakeRazorpay):
    attendee, created = _booked(app)
    booking = created["booking"]
    fields = fake_razorpay.pay(booking["payment_reference"])
    body = fake_razorpay.webhook_body("payment.captured", payment_id=fields["razorpay_payment_id"])

    hook = fake_razorpay.send_webhook(app.url, body, event_id="evt_before_callback_1")
    assert hook.status_code == 200, hook.text
    assert hook.json()["status"] == "ok"
    assert app.booking(attendee, booking["id"])["payment_status"] == "completed"  # type: ignore[arg-type]

    replay = fake_razorpay.send_webhook(app.url, body, event_id="evt_before_callback_1")
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    # order.paid for the same payment, under another event id: reconciled, nothing doubled.
    order_paid = fake_razorpay.webhook_body("order.paid", payment_id=fields["razorpay_payment_id"])
    assert fake_razorpay.send_webhook(app.url, order_paid).json()["status"] == "ok"
    callback = app.client.post("/payment/success", json=fields)
    assert callback.status_code == 200
    assert callback.json()["booking"]["payment_status"] == "completed"

    assert len(app.rows("SELECT * FROM payments WHERE booking_id=:b", b=booking["id"])) == 1
    assert len(app.rows("SELECT * FROM outbox WHERE booking_id=:b AND action='payment_completed'",
                        b=booking["id"])) == 1
    assert app.rows("SELECT event_type FROM webhook_events WHERE event_id='evt_before_callback_1'") == [
        {"event_type": "payment.captured"}]


def test_webhook_with_bad_signature_changes_nothing(app: App, fake_razorpay: FakeRazorpay):
    attendee, created = _booked(app)
    booking = created["booking"]
    fields = fake_razorpay.pay(booking["payment_reference"])
    body = fake_razorpay.webhook_body("payment.captured", payment_id=fields["razorpay_payment_id"])

    # Signed with the API key secret instead of the webhook secret.
    response = fake_razorpay.send_webhook(app.url, body, event_id="evt_forged_1",
                                          secret=fake_razorpay.key_secret)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid webhook signature"}
    assert app.booking(attendee, booking["id"])["payment_status"] == "pending"  # type: ignore[arg-type]
    assert app.rows("SELECT * FROM webhook_events WHERE event_id='evt_forged_1'") == []


def test_payment_failed_webhook_records_failure(app: App, fake_razorpay: FakeRazorpay):
    attendee, created = _booked(app)
    booking = created["booking"]
    failed = fake_razorpay.fail(booking["payment_reference"], code="GATEWAY_ERROR",
                                description="Bank server down")
    body = fake_razorpay.webhook_body("payment.failed", payment_id=failed["razorpay_payment_id"])
    assert fake_razorpay.send_webhook(app.url, body).status_code == 200
    detail = app.booking(attendee, booking["id"])  # type: ignore[arg-type]
    assert detail["payment_status"] == "failed" and detail["status"] == "confirmed"
    stored = app.rows("SELECT payment_error_code FROM bookings WHERE id=:b", b=booking["id"])[0]
    assert stored["payment_error_code"] == "GATEWAY_ERROR"
