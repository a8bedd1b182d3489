"""Seat holds, late payments, cancellations and refunds: every captured payment ends with a
seat or a refund, and no refund is ever made twice at the gateway."""

from __future__ import annotations

import time

from tests.fakes.razorpay_server import FakeRazorpay, RefundFailure
from tests.payments.conftest import TIMEOUT_SECONDS, App
from tests.support.api import Account


def _pay(app: App, fake: FakeRazorpay, booking: dict) -> dict:  # type: ignore[type-arg]
    fields = fake.pay(booking["payment_reference"])
    response = app.client.post("/payment/success", json=fields)
    assert response.status_code == 200, response.text
    return fields


def _wait_expired(app: App, attendee: Account, booking_id: int) -> dict:  # type: ignore[type-arg]
    def expired() -> dict | None:  # type: ignore[type-arg]
        detail = app.booking(attendee, booking_id)
        return detail if detail["status"] == "cancelled" else None

    detail = app.wait_for(expired)
    assert detail["cancellation_reason"] == "hold_expired"
    return detail  # type: ignore[no-any-return]


def _seats(app: App, event_id: int) -> int:
    return int(app.rows("SELECT seats_taken FROM events WHERE id=:e", e=event_id)[0]["seats_taken"])


def test_late_payment_takes_a_free_seat_back(app: App, fake_razorpay: FakeRazorpay):
    event = app.event(app.facilitator(), max_participants=1)
    attendee = app.attendee()
    booking = app.book(attendee, event["id"])["booking"]
    app.lapse_holds()
    _wait_expired(app, attendee, booking["id"])
    assert _seats(app, event["id"]) == 0

    response = app.client.post("/payment/success", json=fake_razorpay.pay(booking["payment_reference"]))

    assert response.status_code == 200
    assert response.json()["booking"]["payment_status"] == "completed"
    detail = app.booking(attendee, booking["id"])
    assert (detail["status"], detail["payment_status"], detail["cancellation_reason"]) == (
        "confirmed", "completed", None)
    assert _seats(app, event["id"]) == 1
    assert app.rows("SELECT * FROM refunds WHERE booking_id=:b", b=booking["id"]) == []


def test_late_payment_when_seat_is_gone_is_refunded(app: App, fake_razorpay: FakeRazorpay):
    event = app.event(app.facilitator(), max_participants=1)
    late, prompt = app.attendee(), app.attendee()
    late_booking = app.book(late, event["id"])["booking"]
    app.lapse_holds()
    _wait_expired(app, late, late_booking["id"])
    prompt_booking = app.book(prompt, event["id"])["booking"]
    _pay(app, fake_razorpay, prompt_booking)

    fields = fake_razorpay.pay(late_booking["payment_reference"])
    # It arrives by webhook only (the attendee closed the browser).
    body = fake_razorpay.webhook_body("payment.captured", payment_id=fields["razorpay_payment_id"])
    assert fake_razorpay.send_webhook(app.url, body).status_code == 200

    # Issue 13 (18): the webhook only records the refund; the refund job sends it.
    detail = app.wait_for(lambda: (lambda d: d if d["payment_status"] == "refunded" else None)(
        app.booking(late, late_booking["id"])))
    assert detail["status"] == "cancelled"
    refunds = fake_razorpay.refunds_of(fields["razorpay_payment_id"])
    assert len(refunds) == 1 and refunds[0]["amount"] == 2500
    stored = app.rows("SELECT reason, status, razorpay_refund_id FROM refunds WHERE booking_id=:b",
                      b=late_booking["id"])
    assert stored == [{"reason": "late_payment", "status": "processed",
                       "razorpay_refund_id": refunds[0]["id"]}]
    assert app.rows("SELECT action FROM outbox WHERE booking_id=:b AND action='late_payment_refunded'",
                    b=late_booking["id"])
    assert _seats(app, event["id"]) == 1
    assert app.booking(prompt, prompt_booking["id"])["status"] == "confirmed"
    # The callback arriving afterwards changes nothing and refunds nothing more.
    again = app.client.post("/payment/success", json=fields)
    assert again.status_code == 200 and again.json()["booking"]["payment_status"] == "refunded"
    assert len(fake_razorpay.refunds_of(fields["razorpay_payment_id"])) == 1


def test_payment_landing_after_user_cancelled_is_refunded(app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    booking = app.book(attendee, app.event(app.facilitator())["id"])["booking"]
    cancelled = app.client.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers)
    assert cancelled.status_code == 200 and cancelled.json()["refund"] is None

    fields = fake_razorpay.pay(booking["payment_reference"])
    response = app.client.post("/payment/success", json=fields)

    assert response.status_code == 200
    assert response.json()["refund"]["status"] == "processed"
    assert response.json()["booking"]["payment_status"] == "refunded"
    assert len(fake_razorpay.refunds_of(fields["razorpay_payment_id"])) == 1


def test_cancel_paid_booking_answers_refund_object(app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    booking = app.book(attendee, app.event(app.facilitator(), price=25.0)["id"])["booking"]
    fields = _pay(app, fake_razorpay, booking)

    response = app.client.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Booking cancelled successfully"
    gateway_refunds = fake_razorpay.refunds_of(fields["razorpay_payment_id"])
    assert len(gateway_refunds) == 1
    assert {k: body["refund"][k] for k in ("refund_id", "amount", "currency", "status")} == {
        "refund_id": gateway_refunds[0]["id"], "amount": 25.0, "currency": "INR",
        "status": "processed"}
    assert gateway_refunds[0]["notes"]["idempotency_key"].startswith(f"booking-{booking['id']}-refund-")
    detail = app.booking(attendee, booking["id"])
    assert (detail["status"], detail["payment_status"]) == ("cancelled", "refunded")


def test_refund_timeout_leaves_booking_cancelled_and_job_finishes_it_once(
        app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    booking = app.book(attendee, app.event(app.facilitator())["id"])["booking"]
    fields = _pay(app, fake_razorpay, booking)
    # The gateway makes the refund but answers after the client's timeout.
    fake_razorpay.state.refund_delay = TIMEOUT_SECONDS + 1.5

    started = time.monotonic()
    response = app.client.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers)
    assert time.monotonic() - started < TIMEOUT_SECONDS + 1.4  # our timeout, not the gateway's delay
    fake_razorpay.state.refund_delay = 0

    assert response.status_code == 200, response.text
    refund = response.json()["refund"]
    assert (refund["refund_id"], refund["status"], refund["amount"]) == (None, "pending", 25.0)
    assert "did not answer in time" in refund["failure_reason"]
    detail = app.booking(attendee, booking["id"])
    assert (detail["status"], detail["payment_status"]) == ("cancelled", "completed")

    def processed() -> list | None:  # type: ignore[type-arg]
        rows = app.rows("SELECT status, razorpay_refund_id FROM refunds WHERE booking_id=:b",
                        b=booking["id"])
        return rows if rows[0]["status"] == "processed" else None

    rows = app.wait_for(processed, timeout=20)
    gateway_refunds = fake_razorpay.refunds_of(fields["razorpay_payment_id"])
    assert len(gateway_refunds) == 1  # the retry found the refund the timed-out call made
    assert rows[0]["razorpay_refund_id"] == gateway_refunds[0]["id"]
    assert app.booking(attendee, booking["id"])["payment_status"] == "refunded"


def test_refund_processed_webhook_completes_a_pending_refund(app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    booking = app.book(attendee, app.event(app.facilitator())["id"])["booking"]
    fields = _pay(app, fake_razorpay, booking)
    fake_razorpay.state.refund_status = "pending"

    refund = app.client.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers).json()["refund"]
    assert refund["status"] == "pending" and refund["refund_id"].startswith("rfnd_")

    fake_razorpay.finish_refund(refund["refund_id"])
    body = fake_razorpay.webhook_body("refund.processed", refund_id=refund["refund_id"])
    assert fake_razorpay.send_webhook(app.url, body).status_code == 200
    stored = app.rows("SELECT status FROM refunds WHERE booking_id=:b", b=booking["id"])
    assert stored == [{"status": "processed"}]
    assert len(fake_razorpay.refunds_of(fields["razorpay_payment_id"])) == 1


def test_cancel_event_refunds_paid_bookings_once_and_lists_refusals(
        app: App, fake_razorpay: FakeRazorpay):
    facilitator = app.facilitator()
    event = app.event(facilitator, price=25.0)
    paid_payments = []
    for _ in range(3):
        attendee = app.attendee()
        paid_payments.append(_pay(app, fake_razorpay, app.book(attendee, event["id"])["booking"]))
    for _ in range(2):
        app.book(app.attendee(), event["id"])  # unpaid holds
    fake_razorpay.state.refund_failures.append(RefundFailure())  # the gateway refuses one

    first = app.client.post(f"/facilitator/events/{event['id']}/cancel", headers=facilitator.headers)

    assert first.status_code == 200, first.text
    assert first.json()["message"] == "Event cancelled successfully"
    assert (first.json()["refunds_processed"], first.json()["total_refund_amount"]) == (2, 50.0)
    assert first.json()["refunds_failed"] == 1 and first.json()["bookings_cancelled"] == 5
    listed = app.client.get(f"/facilitator/events/{event['id']}/refunds", headers=facilitator.headers)
    assert listed.status_code == 200
    failed = listed.json()["failed_refunds"]
    assert len(failed) == 1 and "insufficient balance" in failed[0]["failure_reason"]
    assert app.wait_for(lambda: app.rows(
        "SELECT id FROM bookings WHERE event_id=:e AND status='confirmed'", e=event["id"]) == [])

    second = app.client.post(f"/facilitator/events/{event['id']}/cancel", headers=facilitator.headers)
    third = app.client.post(f"/facilitator/events/{event['id']}/cancel", headers=facilitator.headers)

    for answer in (second, third):
        assert answer.status_code == 200
        assert (answer.json()["refunds_processed"], answer.json()["total_refund_amount"]) == (3, 75.0)
        assert answer.json()["refunds_failed"] == 0
    for fields in paid_payments:
        assert len(fake_razorpay.refunds_of(fields["razorpay_payment_id"])) == 1
    other = app.attendee()
    forbidden = app.client.get(f"/facilitator/events/{event['id']}/refunds", headers=other.headers)
    assert forbidden.status_code == 403
