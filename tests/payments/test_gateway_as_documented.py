"""Issue 13, items 15-19: Razorpay as it really behaves (authorised-only payments, unique
receipts, webhooks answered fast, errors classified by HTTP status, webhook secret rotation),
against the real app, the real `razorpay` client and the fake that now behaves that way."""

from __future__ import annotations

import time

from tests.fakes.razorpay_server import ApiFailure, FakeRazorpay, RefundFailure
from tests.payments.conftest import TIMEOUT_SECONDS, App


def _booked(app: App, price: float = 25.0, **event: object) -> tuple[object, dict]:  # type: ignore[type-arg]
    attendee = app.attendee()
    created = app.book(attendee, app.event(app.facilitator(), price=price, **event)["id"])
    return attendee, created["booking"]


# --- 15: authorised is not captured -------------------------------------------------------------


def test_orders_ask_for_capture_with_the_current_options(app: App, fake_razorpay: FakeRazorpay):
    _, booking = _booked(app)
    order = fake_razorpay.state.orders[booking["payment_reference"]]
    assert order["payment"]["capture"] == "automatic"
    options = order["payment"]["capture_options"]
    assert options["automatic_expiry_period"] >= 12 and options["manual_expiry_period"] > 0


def test_authorised_payment_is_captured_before_the_booking_reads_paid(
        app: App, fake_razorpay: FakeRazorpay):
    """An account without automatic capture and an order without capture options leaves the
    payment `authorized`: Razorpay refunds it after a few days unless we capture it."""
    attendee, booking = _booked(app)
    fields = fake_razorpay.pay(booking["payment_reference"], authorize_only=True)
    assert fake_razorpay.payment_entity(fields["razorpay_payment_id"])["status"] == "authorized"

    response = app.client.post("/payment/success", json=fields)

    assert response.status_code == 200, response.text
    assert response.json()["booking"]["payment_status"] == "completed"
    assert fake_razorpay.payment_entity(fields["razorpay_payment_id"])["status"] == "captured"
    assert app.rows("SELECT status, amount FROM payments WHERE razorpay_payment_id=:p",
                    p=fields["razorpay_payment_id"]) == [{"status": "captured", "amount": 25}]


def test_signed_but_failed_payment_is_not_money_in(app: App, fake_razorpay: FakeRazorpay):
    attendee, booking = _booked(app)
    failed = fake_razorpay.fail(booking["payment_reference"])
    forged_success = {"razorpay_order_id": booking["payment_reference"],
                      "razorpay_payment_id": failed["razorpay_payment_id"],
                      "razorpay_signature": fake_razorpay.signature(
                          booking["payment_reference"], failed["razorpay_payment_id"])}

    response = app.client.post("/payment/success", json=forged_success)

    assert response.status_code == 400
    assert response.json() == {"error": "The payment is not completed (status: failed)"}
    assert app.booking(attendee, booking["id"])["payment_status"] == "pending"  # type: ignore[arg-type]


def test_gateway_down_while_confirming_answers_503_and_changes_nothing(
        app: App, fake_razorpay: FakeRazorpay):
    attendee, booking = _booked(app)
    fields = fake_razorpay.pay(booking["payment_reference"])
    fake_razorpay.state.api_failures.append(
        ApiFailure("/v1/payments/", 503, "SERVER_ERROR", "Service unavailable"))

    response = app.client.post("/payment/success", json=fields)

    assert response.status_code == 503
    assert "reconciled automatically" in response.json()["error"]
    assert app.booking(attendee, booking["id"])["payment_status"] == "pending"  # type: ignore[arg-type]
    assert app.client.post("/payment/success", json=fields).json()["booking"]["payment_status"] \
        == "completed"  # once the gateway answers again


# --- 18: webhooks answered fast -----------------------------------------------------------------


def _seat_taken_by_someone_else(app: App, fake: FakeRazorpay) -> tuple[object, dict]:  # type: ignore[type-arg]
    event = app.event(app.facilitator(), max_participants=1)
    late = app.attendee()
    booking = app.book(late, event["id"])["booking"]
    app.lapse_holds()
    app.wait_for(lambda: app.booking(late, booking["id"])["status"] == "cancelled")  # type: ignore[arg-type]
    app.reset_clock()
    prompt = app.attendee()
    paid = fake.pay(app.book(prompt, event["id"])["booking"]["payment_reference"])
    assert app.client.post("/payment/success", json=paid).status_code == 200
    return late, booking


def test_late_payment_webhook_records_the_refund_and_the_job_sends_it(
        app: App, fake_razorpay: FakeRazorpay):
    late, booking = _seat_taken_by_someone_else(app, fake_razorpay)
    fields = fake_razorpay.pay(booking["payment_reference"])
    body = fake_razorpay.webhook_body("payment.captured", payment_id=fields["razorpay_payment_id"])
    fake_razorpay.state.refund_delay = 3.0  # a slow gateway must not slow the webhook answer
    requests_before = fake_razorpay.state.refund_requests

    started = time.monotonic()
    response = fake_razorpay.send_webhook(app.url, body)
    elapsed = time.monotonic() - started

    assert response.status_code == 200 and elapsed < 2.0, elapsed
    assert fake_razorpay.state.refund_requests == requests_before  # nothing sent inline
    recorded = app.rows("SELECT reason, status, razorpay_refund_id FROM refunds "
                        "WHERE booking_id=:b", b=booking["id"])
    assert recorded == [{"reason": "late_payment", "status": "pending", "razorpay_refund_id": None}]
    fake_razorpay.state.refund_delay = 0.0
    app.wait_for(lambda: app.rows("SELECT status FROM refunds WHERE booking_id=:b AND "
                                  "status='processed'", b=booking["id"]), timeout=30)
    assert len(fake_razorpay.refunds_of(fields["razorpay_payment_id"])) == 1


def test_captured_payment_without_order_is_acknowledged(app: App, fake_razorpay: FakeRazorpay):
    body = {"entity": "event", "account_id": "acc_fake", "event": "payment.captured",
            "contains": ["payment"], "created_at": int(time.time()), "payload": {"payment": {
                "entity": {"id": "pay_paymentlink001", "entity": "payment", "amount": 5000,
                           "currency": "INR", "status": "captured", "order_id": None}}}}
    response = fake_razorpay.send_webhook(app.url, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "event": "payment.captured"}


# --- 19: errors by status, secret rotation ------------------------------------------------------


def test_rate_limit_or_bad_keys_on_refund_is_retried_not_failed(
        app: App, fake_razorpay: FakeRazorpay):
    for status in (429, 401):
        attendee, booking = _booked(app)
        fields = fake_razorpay.pay(booking["payment_reference"])
        assert app.client.post("/payment/success", json=fields).status_code == 200
        # Razorpay answers both with the code BAD_REQUEST_ERROR: only the status tells.
        fake_razorpay.state.refund_failures.append(RefundFailure(
            status=status, description="Too many requests" if status == 429 else
            "Authentication failed"))

        cancelled = app.client.post(f"/bookings/{booking['id']}/cancel",
                                    headers=attendee.headers)  # type: ignore[attr-defined]

        assert cancelled.status_code == 200, cancelled.text
        refund = cancelled.json()["refund"]
        assert refund["status"] == "pending", refund
        assert f"HTTP {status}" in refund["failure_reason"]
        app.wait_for(lambda b=booking: app.rows(
            "SELECT id FROM refunds WHERE booking_id=:b AND status='processed'", b=b["id"]),
            timeout=30)
        assert len(fake_razorpay.refunds_of(fields["razorpay_payment_id"])) == 1


def test_a_refusal_by_status_400_is_still_final(app: App, fake_razorpay: FakeRazorpay):
    attendee, booking = _booked(app)
    assert app.client.post("/payment/success",
                           json=fake_razorpay.pay(booking["payment_reference"])).status_code == 200
    fake_razorpay.state.refund_failures.append(RefundFailure())  # 400 insufficient balance
    cancelled = app.client.post(f"/bookings/{booking['id']}/cancel",
                                headers=attendee.headers)  # type: ignore[attr-defined]
    assert cancelled.json()["refund"]["status"] == "failed"


def test_webhook_signed_with_the_previous_secret_is_accepted(
        rotated_app: App, fake_razorpay: FakeRazorpay):
    attendee = rotated_app.attendee()
    booking = rotated_app.book(attendee, rotated_app.event(rotated_app.facilitator())["id"])["booking"]
    fields = fake_razorpay.pay(booking["payment_reference"])
    body = fake_razorpay.webhook_body("payment.captured", payment_id=fields["razorpay_payment_id"])

    old = fake_razorpay.send_webhook(rotated_app.url, body, secret=fake_razorpay.webhook_secret)
    stranger = fake_razorpay.send_webhook(rotated_app.url, body, secret="some-other-secret")

    assert old.status_code == 200, old.text
    assert stranger.status_code == 400
    assert rotated_app.booking(attendee, booking["id"])["payment_status"] == "completed"


# --- 17: order receipts are unique per account --------------------------------------------------


def _orders_with_receipt(fake: FakeRazorpay, receipt: str) -> list[dict]:  # type: ignore[type-arg]
    return [o for o in fake.state.orders.values() if o["receipt"] == receipt]


def test_order_creation_timeout_finds_the_order_by_its_receipt(
        app: App, fake_razorpay: FakeRazorpay):
    fake_razorpay.state.order_delay = TIMEOUT_SECONDS + 1  # made, then answered too late

    _, booking = _booked(app)

    orders = _orders_with_receipt(fake_razorpay, booking["booking_reference"])
    assert len(orders) == 1
    assert booking["payment_reference"] == orders[0]["id"]


def test_duplicate_receipt_refusal_finds_the_existing_order_for_the_payment_page(
        app: App, fake_razorpay: FakeRazorpay):
    # Creation times out and the look-up fails too: the booking is made without an order ...
    fake_razorpay.state.order_delay = TIMEOUT_SECONDS + 1
    fake_razorpay.state.api_failures.append(
        ApiFailure("/v1/orders", 503, "SERVER_ERROR", "Service unavailable", method="GET"))
    attendee = app.attendee()
    created = app.book(attendee, app.event(app.facilitator())["id"])
    booking = created["booking"]
    assert booking["payment_reference"] is None
    fake_razorpay.state.order_delay = 0.0

    # ... and the payment page, creating it again, is refused as a duplicate receipt.
    page = app.client.get(created["payment_url"].removeprefix(app.url))

    assert page.status_code == 200, page.text
    orders = _orders_with_receipt(fake_razorpay, booking["booking_reference"])
    assert len(orders) == 1 and orders[0]["id"] in page.text
    stored = app.rows("SELECT razorpay_order_id FROM bookings WHERE id=:b", b=booking["id"])
    assert stored == [{"razorpay_order_id": orders[0]["id"]}]


def test_receipt_taken_by_another_database_gets_a_receipt_of_its_own(
        rotated_app: App, fake_razorpay: FakeRazorpay):
    """Two databases on one Razorpay account number their bookings alike (BK<year><id>)."""
    next_id = rotated_app.rows(
        "SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END AS id "
        "FROM bookings_id_seq")[0]["id"]
    year = rotated_app.rows("SELECT extract(year FROM now() AT TIME ZONE 'UTC')::int AS y")[0]["y"]
    reference = f"BK{year}{next_id:03d}"
    foreign = _create_order_directly(fake_razorpay, reference)

    attendee = rotated_app.attendee()
    booking = rotated_app.book(attendee, rotated_app.event(rotated_app.facilitator())["id"])["booking"]

    assert booking["booking_reference"] == reference
    ours = fake_razorpay.state.orders[booking["payment_reference"]]
    assert ours["id"] != foreign and ours["receipt"].startswith(f"{reference}-")
    assert ours["notes"]["booking_reference"] == reference


def _create_order_directly(fake: FakeRazorpay, receipt: str) -> str:
    import httpx

    answer = httpx.post(f"{fake.url}/v1/orders", auth=(fake.key_id, fake.key_secret), json={
        "amount": 2500, "currency": "INR", "receipt": receipt,
        "notes": {"booking_id": "1", "event_id": "1"}})
    if answer.status_code == 400:  # another test app on this fake already used it
        return str(_orders_with_receipt(fake, receipt)[0]["id"])
    return str(answer.json()["id"])
