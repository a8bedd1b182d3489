"""Issue 13 (4)(5)(6): a refund is pending until the gateway processes it, a failed one is sent
again, retries never stop, old ones are raised to staff, and staff can retry one refund."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.razorpay_server import FakeRazorpay, RefundFailure
from tests.payments.conftest import TIMEOUT_SECONDS, App, start_app
from tests.support.api import Account
from tests.support.servers import LOG_DIR

ALERT_MINUTES = 30
SERVER_LOG = LOG_DIR / "booking-app-refund-lifecycle.log"


@pytest.fixture(scope="module")
def refunds_app(tmp_path_factory: pytest.TempPathFactory,
                fake_razorpay: FakeRazorpay) -> Iterator[App]:
    yield from start_app(tmp_path_factory, "booking-app-refund-lifecycle", fake_razorpay.env(
        RAZORPAY_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS), REFUND_RETRY_BASE_SECONDS="0.5",
        REFUND_RETRY_MAX_SECONDS="1", REFUND_ALERT_AFTER_MINUTES=str(ALERT_MINUTES)))


@pytest.fixture
def app(refunds_app: App, fake_razorpay: FakeRazorpay) -> Iterator[App]:
    fake_razorpay.reset()
    refunds_app.reset_clock()
    yield refunds_app
    fake_razorpay.reset()
    refunds_app.reset_clock()


def _paid(app: App, fake: FakeRazorpay) -> tuple[Account, dict[str, Any], Account, str]:
    facilitator = app.facilitator()
    event = app.event(facilitator, max_participants=5)
    attendee = app.attendee()
    booking = app.book(attendee, event["id"])["booking"]
    fields = fake.pay(booking["payment_reference"])
    assert app.client.post("/payment/success", json=fields).status_code == 200
    return facilitator, booking, attendee, fields["razorpay_payment_id"]


def _cancel(app: App, attendee: Account, booking_id: int) -> dict[str, Any]:
    response = app.client.post(f"/bookings/{booking_id}/cancel", headers=attendee.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _refund(app: App, booking_id: int) -> dict[str, Any]:
    return app.rows("SELECT * FROM refunds WHERE booking_id=:b", b=booking_id)[0]


def _listed(app: App, facilitator: Account, event_id: int) -> dict[str, Any]:
    response = app.client.get(f"/facilitator/events/{event_id}/refunds", headers=facilitator.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_booking_reads_refunded_only_once_the_polled_refund_is_processed(
        app: App, fake_razorpay: FakeRazorpay):
    fake_razorpay.state.refund_status = "pending"
    _, booking, attendee, payment_id = _paid(app, fake_razorpay)
    _cancel(app, attendee, booking["id"])

    accepted = _refund(app, booking["id"])
    assert (accepted["status"], accepted["razorpay_refund_id"]) == (
        "pending", fake_razorpay.refunds_of(payment_id)[0]["id"])
    assert app.booking(attendee, booking["id"])["payment_status"] == "completed"

    fake_razorpay.finish_refund(accepted["razorpay_refund_id"])  # no webhook: only the poll
    app.wait_for(lambda: _refund(app, booking["id"])["status"] == "processed")
    assert app.booking(attendee, booking["id"])["payment_status"] == "refunded"
    assert len(fake_razorpay.refunds_of(payment_id)) == 1


@pytest.mark.parametrize("told_by", ["webhook", "poll"])
def test_refund_that_fails_at_the_gateway_is_sent_again(
        app: App, fake_razorpay: FakeRazorpay, told_by: str):
    fake_razorpay.state.refund_status = "pending"
    _, booking, attendee, payment_id = _paid(app, fake_razorpay)
    _cancel(app, attendee, booking["id"])
    first = _refund(app, booking["id"])["razorpay_refund_id"]

    fake_razorpay.state.refund_status = "processed"
    fake_razorpay.fail_refund(first)
    if told_by == "webhook":
        answer = fake_razorpay.send_webhook(
            app.url, fake_razorpay.webhook_body("refund.failed", refund_id=first))
        assert answer.status_code == 200, answer.text

    app.wait_for(lambda: _refund(app, booking["id"])["status"] == "processed")
    at_gateway = fake_razorpay.refunds_of(payment_id)
    assert sorted(r["status"] for r in at_gateway) == ["failed", "processed"]
    assert _refund(app, booking["id"])["razorpay_refund_id"] != first
    assert app.booking(attendee, booking["id"])["payment_status"] == "refunded"


def test_retries_do_not_stop_and_an_old_refund_is_raised_to_staff(
        app: App, fake_razorpay: FakeRazorpay):
    facilitator, booking, attendee, payment_id = _paid(app, fake_razorpay)
    fake_razorpay.state.refund_failures.extend([RefundFailure(status=500, code="SERVER_ERROR",
                                                              description="Gateway down")] * 3)
    _cancel(app, attendee, booking["id"])
    # Long past the old hard stop of 20 attempts, and older than the alert age.
    with app.db.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE refunds SET attempts = 40, created_at = created_at - interval '2 hours' "
            f"WHERE booking_id = {int(booking['id'])}")
    stuck = _refund(app, booking["id"])
    assert stuck["status"] == "pending"
    listed = _listed(app, facilitator, booking["event"]["id"])
    assert [r["needs_attention"] for r in listed["failed_refunds"]] == [True]

    app.wait_for(lambda: _refund(app, booking["id"])["status"] == "processed", timeout=60)
    assert _refund(app, booking["id"])["attempts"] > 40
    alert = f"refund {stuck['id']} (booking {booking['id']}, user_cancelled) still not made"
    assert alert in SERVER_LOG.read_text()
    assert len(fake_razorpay.refunds_of(payment_id)) == 1
    assert _listed(app, facilitator, booking["event"]["id"])["failed_refunds"] == []


def test_staff_retry_one_refused_refund(app: App, fake_razorpay: FakeRazorpay):
    facilitator, booking, attendee, payment_id = _paid(app, fake_razorpay)
    event_id = booking["event"]["id"]
    fake_razorpay.state.refund_failures.append(RefundFailure())
    _cancel(app, attendee, booking["id"])
    refused = _refund(app, booking["id"])
    assert refused["status"] == "failed"
    assert [r["id"] for r in _listed(app, facilitator, event_id)["failed_refunds"]] == [refused["id"]]
    path = f"/facilitator/events/{event_id}/refunds/{refused['id']}/retry"

    other = app.facilitator()
    assert app.client.post(path, headers=other.headers).status_code == 403
    assert app.client.post(path, headers=attendee.headers).status_code == 403
    elsewhere = app.event(facilitator)
    wrong = f"/facilitator/events/{elsewhere['id']}/refunds/{refused['id']}/retry"
    assert app.client.post(wrong, headers=facilitator.headers).status_code == 404

    answer = app.client.post(path, headers=facilitator.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["refund"]["status"] == "processed"
    assert answer.json()["refund"]["id"] == refused["id"]
    assert app.booking(attendee, booking["id"])["payment_status"] == "refunded"
    assert len(fake_razorpay.refunds_of(payment_id)) == 1

    again = app.client.post(path, headers=facilitator.headers)
    assert (again.status_code, again.json()["error"]) == (
        400, "This refund has already been processed")


def test_an_overdue_refund_attempt_is_logged_at_error_level(caplog: pytest.LogCaptureFixture):
    """The server's log lines carry no level, so the level is checked on the record itself."""
    from datetime import timedelta

    from crm_booking import clock
    from crm_booking.models import Refund
    from crm_booking.services import refund

    young = Refund(id=1, booking_id=7, razorpay_payment_id="pay_x", idempotency_key="k",
                   reason="late_payment", amount=1, created_at=clock.now())
    old = Refund(id=2, booking_id=8, razorpay_payment_id="pay_y", idempotency_key="k2",
                 reason="late_payment", amount=1, created_at=clock.now() - timedelta(days=1))
    with caplog.at_level("WARNING", logger="crm_booking.services.refund"):
        refund._log_attempt_failed(young, "timeout")
        refund._log_attempt_failed(old, "timeout")
    assert [(r.levelname, "still not made" in r.getMessage()) for r in caplog.records] == [
        ("WARNING", False), ("ERROR", True)]


def test_holds_keep_expiring_while_refund_retries_wait_on_the_gateway(
        app: App, fake_razorpay: FakeRazorpay):
    """Issue 13 (13): each job on its own schedule; refunds stuck on a gateway that answers too
    late (a second each here) do not hold up hold expiry."""
    facilitator = app.facilitator()
    event = app.event(facilitator, max_participants=20)
    payers = [app.attendee() for _ in range(12)]
    for payer in payers:
        booking = app.book(payer, event["id"])["booking"]
        fields = fake_razorpay.pay(booking["payment_reference"])
        assert app.client.post("/payment/success", json=fields).status_code == 200
    fake_razorpay.state.refund_failures.extend(
        [RefundFailure(status=500, code="SERVER_ERROR", description="Gateway down")] * 12)
    cancelled = app.client.post(f"/facilitator/events/{event['id']}/cancel",
                                headers=facilitator.headers)
    assert cancelled.json()["refunds_failed"] == 12, cancelled.text
    late_comer = app.attendee()
    other = app.event(facilitator, max_participants=5)

    fake_razorpay.state.refund_stall = 3.0
    stalled_before = fake_razorpay.state.stalled_calls
    app.clock_file.write_text(str(16 * 60))  # every pending refund is due again
    app.wait_for(lambda: fake_razorpay.state.stalled_calls > stalled_before)
    hold = app.book(late_comer, other["id"])["booking"]
    app.clock_file.write_text(str(32 * 60))  # and that new hold has lapsed

    app.wait_for(lambda: app.booking(late_comer, hold["id"])["status"] == "cancelled", timeout=5)
    assert app.booking(late_comer, hold["id"])["cancellation_reason"] == "hold_expired"
    pending = app.rows("SELECT count(*) AS n FROM refunds r JOIN bookings b ON b.id = r.booking_id "
                       "WHERE b.event_id = :e AND r.status = 'pending'", e=event["id"])
    assert pending[0]["n"] > 0  # the refunds were still being retried meanwhile


def test_duplicate_payment_gets_its_own_notice_and_keeps_the_seat(
        app: App, fake_razorpay: FakeRazorpay):
    """Issue 13 (7): a second capture on a paid order is refunded with a notice of its own,
    not the late-payment one (whose email releases the seat and cancels the invite)."""
    _, booking, attendee, first = _paid(app, fake_razorpay)
    second = fake_razorpay.pay(booking["payment_reference"])
    answer = app.client.post("/payment/success", json=second)
    assert answer.status_code == 200, answer.text

    app.wait_for(lambda: _refund(app, booking["id"])["status"] == "processed")
    assert _refund(app, booking["id"])["razorpay_payment_id"] == second["razorpay_payment_id"]
    detail = app.booking(attendee, booking["id"])
    assert (detail["status"], detail["payment_status"]) == ("confirmed", "completed")
    actions = [r["action"] for r in app.rows(
        "SELECT action FROM outbox WHERE booking_id=:b ORDER BY id", b=booking["id"])]
    assert actions == ["booking_created", "payment_completed", "duplicate_payment_refunded"]
    sequences = [json.loads(r["payload"])["ics_sequence"] for r in app.rows(
        "SELECT payload FROM outbox WHERE booking_id=:b ORDER BY id", b=booking["id"])]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    assert len(fake_razorpay.refunds_of(first)) == 0


@pytest.mark.parametrize("closing", ["cancel", "delete"])
def test_late_payment_on_a_closed_event_is_refunded(app: App, fake_razorpay: FakeRazorpay,
                                                    closing: str):
    """Issue 13 (2): the seat a late payment would take back requires an open, undeleted event;
    otherwise the payment is refunded."""
    facilitator = app.facilitator()
    event = app.event(facilitator, max_participants=3)
    attendee = app.attendee()
    booking = app.book(attendee, event["id"])["booking"]
    app.lapse_holds()
    app.wait_for(lambda: app.booking(attendee, booking["id"])["status"] == "cancelled")
    if closing == "cancel":
        closed = app.client.post(f"/facilitator/events/{event['id']}/cancel",
                                 headers=facilitator.headers)
    else:
        closed = app.client.delete(f"/events/{event['id']}", headers=facilitator.headers)
    assert closed.status_code == 200, closed.text

    fields = fake_razorpay.pay(booking["payment_reference"])
    answer = app.client.post("/payment/success", json=fields)
    assert answer.status_code == 200, answer.text

    app.wait_for(lambda: _refund(app, booking["id"])["status"] == "processed")
    detail = app.booking(attendee, booking["id"])
    assert (detail["status"], detail["payment_status"]) == ("cancelled", "refunded")
    assert app.rows("SELECT seats_taken FROM events WHERE id=:e", e=event["id"])[0]["seats_taken"] == 0
    assert [r["status"] for r in fake_razorpay.refunds_of(fields["razorpay_payment_id"])] == [
        "processed"]
