"""Issue 13 (14): a payment nobody reports (Razorpay's webhook retries ran out, the browser was
closed) is still found: before a hold on a booking with an order is expired, and by the
scheduled reconcile of the gateway's recent payments."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.razorpay_server import FakeRazorpay
from tests.payments.conftest import TIMEOUT_SECONDS, App, start_app


def test_payment_nobody_reported_is_applied_before_the_hold_is_expired(
        app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    event = app.event(app.facilitator())
    booking = app.book(attendee, event["id"])["booking"]
    fields = fake_razorpay.pay(booking["payment_reference"])  # paid; no callback, no webhook

    app.lapse_holds()
    detail = app.wait_for(lambda: (lambda d: d if d["payment_status"] != "pending" else None)(
        app.booking(attendee, booking["id"])))

    assert (detail["status"], detail["payment_status"]) == ("confirmed", "completed")
    assert detail["payment_id"] == fields["razorpay_payment_id"]
    assert app.rows("SELECT seats_taken FROM events WHERE id=:e", e=event["id"]) == [
        {"seats_taken": 1}]


@pytest.fixture(scope="module")
def own_fake() -> Iterator[FakeRazorpay]:
    fake = FakeRazorpay().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def reconciling_app(tmp_path_factory: pytest.TempPathFactory,
                    own_fake: FakeRazorpay) -> Iterator[App]:
    yield from start_app(tmp_path_factory, "booking-app-reconcile", own_fake.env(
        RAZORPAY_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS), PAYMENT_RECONCILE_INTERVAL_SECONDS="0"))


def _paid_state(app: App, attendee: object, booking_id: int) -> dict | None:  # type: ignore[type-arg]
    detail = app.booking(attendee, booking_id)  # type: ignore[arg-type]
    return detail if detail["payment_status"] == "completed" else None


def test_reconcile_applies_captured_and_captures_authorised_payments(
        reconciling_app: App, own_fake: FakeRazorpay):
    app = reconciling_app
    event = app.event(app.facilitator())
    captured_by, authorised_by = app.attendee(), app.attendee()
    first = app.book(captured_by, event["id"])["booking"]
    second = app.book(authorised_by, event["id"])["booking"]
    # Not our order: another integration on the same Razorpay account.
    foreign = httpx.post(f"{own_fake.url}/v1/orders", auth=(own_fake.key_id, own_fake.key_secret),
                         json={"amount": 9900, "currency": "INR", "receipt": "shop-0001"}).json()

    captured = own_fake.pay(first["payment_reference"])
    authorised = own_fake.pay(second["payment_reference"], authorize_only=True)
    own_fake.pay(foreign["id"])

    assert app.wait_for(lambda: _paid_state(app, captured_by, first["id"]))["payment_id"] == \
        captured["razorpay_payment_id"]
    assert app.wait_for(lambda: _paid_state(app, authorised_by, second["id"]))["payment_id"] == \
        authorised["razorpay_payment_id"]
    assert own_fake.payment_entity(authorised["razorpay_payment_id"])["status"] == "captured"
    assert app.rows("SELECT count(*) AS n FROM payments") == [{"n": 2}]  # the shop's is not ours
    assert app.rows("SELECT seats_taken FROM events WHERE id=:e", e=event["id"]) == [
        {"seats_taken": 2}]
