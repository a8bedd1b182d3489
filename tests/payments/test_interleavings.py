"""Issue 13: each risky interleaving of two transactions, forced on PostgreSQL.

The app runs with `CRM_BOOKING_PAUSE_ADDRESS` pointing at a loopback barrier: one request is held
at a named pause point (inside its transaction, locks taken so far still held), the other runs
until it finishes or waits on a lock, then the first is released and the end state is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from crm_booking.settings import Settings
from tests.fakes.razorpay_server import FakeRazorpay
from tests.payments.conftest import TIMEOUT_SECONDS, App, start_app
from tests.support.api import Account
from tests.support.pauses import Barrier

REACH_SECONDS = 30
METRICS_TOKEN = "interleavings-metrics-token"


@pytest.fixture(scope="module")
def barrier() -> Iterator[Barrier]:
    started = Barrier().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def paused_app(tmp_path_factory: pytest.TempPathFactory, fake_razorpay: FakeRazorpay,
               barrier: Barrier) -> Iterator[App]:
    yield from start_app(tmp_path_factory, "booking-app-interleavings", fake_razorpay.env(
        RAZORPAY_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS), CRM_BOOKING_PAUSE_ADDRESS=barrier.address,
        METRICS_TOKEN=METRICS_TOKEN))


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


def _post(app: App, path: str, account: Account | None = None,
          body: dict[str, Any] | None = None) -> httpx.Response:
    with httpx.Client(base_url=app.url, timeout=120) as client:
        return client.post(path, json=body, headers=account.headers if account else None)


def _delete(app: App, path: str, account: Account) -> httpx.Response:
    with httpx.Client(base_url=app.url, timeout=120) as client:
        return client.delete(path, headers=account.headers)


def _blocked_or_done(app: App, future: Future[httpx.Response]) -> None:
    """The second transaction has either finished or is waiting on a row lock."""
    def settled() -> bool:
        waiting = app.rows("SELECT count(*) AS n FROM pg_stat_activity "
                           "WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return future.done() or waiting[0]["n"] > 0
    app.wait_for(settled, timeout=REACH_SECONDS)


def _booking(app: App, booking_id: int) -> dict[str, Any]:
    return app.rows("SELECT * FROM bookings WHERE id=:b", b=booking_id)[0]


def _seats(app: App, event_id: int) -> int:
    return int(app.rows("SELECT seats_taken FROM events WHERE id=:e", e=event_id)[0]["seats_taken"])


def _paid_refund_state(app: App, fake: FakeRazorpay, booking_id: int, payment_id: str) -> None:
    """The payment was captured, the booking is cancelled, and exactly one refund of the whole
    amount was made at the gateway and recorded as processed."""
    booking = _booking(app, booking_id)
    assert booking["status"] == "cancelled"
    refunds = app.rows("SELECT * FROM refunds WHERE razorpay_payment_id=:p", p=payment_id)
    assert [r["status"] for r in refunds] == ["processed"]
    assert refunds[0]["amount"] == booking["amount"]
    assert len(fake.refunds_of(payment_id)) == 1
    assert booking["payment_status"] == "refunded"


def test_payment_captured_while_event_cancel_holds_its_bookings_is_refunded(
        paused_app: App, fake_razorpay: FakeRazorpay, barrier: Barrier,
        pool: ThreadPoolExecutor):
    app = paused_app
    facilitator = app.facilitator()
    event = app.event(facilitator, max_participants=3)
    attendee = app.attendee()
    booking = app.book(attendee, event["id"])["booking"]
    fields = fake_razorpay.pay(booking["payment_reference"])

    with barrier.hold("cancel_event.bookings_read") as held:
        cancel = pool.submit(_post, app, f"/facilitator/events/{event['id']}/cancel", facilitator)
        assert held.reached.wait(REACH_SECONDS)
        payment = pool.submit(_post, app, "/payment/success", None, fields)
        _blocked_or_done(app, payment)

    assert cancel.result().status_code == 200, cancel.result().text
    assert payment.result().status_code == 200, payment.result().text
    _paid_refund_state(app, fake_razorpay, booking["id"], fields["razorpay_payment_id"])
    assert _seats(app, event["id"]) == 0


def test_event_cancelled_while_a_payment_is_applied_refunds_that_payment(
        paused_app: App, fake_razorpay: FakeRazorpay, barrier: Barrier,
        pool: ThreadPoolExecutor):
    app = paused_app
    facilitator = app.facilitator()
    event = app.event(facilitator, max_participants=3)
    attendee = app.attendee()
    booking = app.book(attendee, event["id"])["booking"]
    fields = fake_razorpay.pay(booking["payment_reference"])

    with barrier.hold("apply_captured.locked") as held:
        payment = pool.submit(_post, app, "/payment/success", None, fields)
        assert held.reached.wait(REACH_SECONDS)
        cancel = pool.submit(_post, app, f"/facilitator/events/{event['id']}/cancel", facilitator)
        _blocked_or_done(app, cancel)

    assert payment.result().status_code == 200, payment.result().text
    assert cancel.result().status_code == 200, cancel.result().text
    assert cancel.result().json()["bookings_cancelled"] == 1
    _paid_refund_state(app, fake_razorpay, booking["id"], fields["razorpay_payment_id"])
    assert _seats(app, event["id"]) == 0


@pytest.mark.parametrize("closing", ["cancel", "delete"])
def test_booking_checked_before_its_event_closed_takes_no_seat(
        paused_app: App, barrier: Barrier, pool: ThreadPoolExecutor, closing: str):
    app = paused_app
    facilitator = app.facilitator()
    event = app.event(facilitator, max_participants=3)
    attendee = app.attendee()

    with barrier.hold("create_booking.checked") as held:
        booked = pool.submit(_post, app, "/bookings", attendee, {"event_id": event["id"]})
        assert held.reached.wait(REACH_SECONDS)
        if closing == "cancel":
            closed = _post(app, f"/facilitator/events/{event['id']}/cancel", facilitator)
        else:
            closed = _delete(app, f"/events/{event['id']}", facilitator)
        assert closed.status_code == 200, closed.text

    answer = booked.result()
    expected = ((400, "Event is not open for booking") if closing == "cancel"
                else (404, "Event not found"))
    assert (answer.status_code, answer.json().get("error")) == expected, answer.text
    assert app.rows("SELECT id FROM bookings WHERE event_id=:e", e=event["id"]) == []
    assert _seats(app, event["id"]) == 0


def test_booking_whose_clock_passes_its_own_hold_does_not_expire_itself(
        paused_app: App, barrier: Barrier, pool: ThreadPoolExecutor):
    """Found by the money soak (a 500): a booking for a full event gives lapsed holds back
    before giving up. When the clock passed a hold's length during the booking's own
    transaction, its own new hold read as lapsed too: it was cancelled and its seat "freed"
    although it never had one (seats_taken below zero, a CHECK violation, a 500).

    After the jump the new booking's hold has lapsed as well, so the hold-expiry job may
    expire it a moment later: the end state checked is the one that holds either way."""
    app = paused_app
    facilitator = app.facilitator()
    event = app.event(facilitator, max_participants=1)
    first = app.book(app.attendee(), event["id"])["booking"]
    attendee = app.attendee()
    try:
        with barrier.hold("create_booking.checked") as held:
            booked = pool.submit(_post, app, "/bookings", attendee, {"event_id": event["id"]})
            assert held.reached.wait(REACH_SECONDS)
            app.lapse_holds()  # the first booking's hold lapses while this one is in flight
        answer = booked.result()
    finally:
        app.reset_clock()

    assert answer.status_code == 201, answer.text
    assert _booking(app, first["id"])["cancellation_reason"] == "hold_expired"
    [counts] = app.rows(
        "SELECT e.seats_taken, (SELECT count(*) FROM bookings b WHERE b.event_id = e.id "
        "AND b.status = 'confirmed') AS live FROM events e WHERE e.id = :e", e=event["id"])
    assert counts["seats_taken"] == counts["live"] <= 1, counts


def test_attendee_cancel_and_event_cancel_take_locks_in_one_order(
        paused_app: App, fake_razorpay: FakeRazorpay, barrier: Barrier,
        pool: ThreadPoolExecutor):
    """Both cancel the same paid booking: they queue instead of deadlocking (a 503), and the
    payment is refunded once."""
    app = paused_app
    facilitator = app.facilitator()
    event = app.event(facilitator, max_participants=3)
    attendee = app.attendee()
    booking = app.book(attendee, event["id"])["booking"]
    fields = fake_razorpay.pay(booking["payment_reference"])
    assert _post(app, "/payment/success", None, fields).status_code == 200

    with barrier.hold("cancel_booking.locked") as held:
        own = pool.submit(_post, app, f"/bookings/{booking['id']}/cancel", attendee)
        assert held.reached.wait(REACH_SECONDS)
        cancel = pool.submit(_post, app, f"/facilitator/events/{event['id']}/cancel", facilitator)
        _blocked_or_done(app, cancel)

    assert own.result().status_code == 200, own.result().text
    assert cancel.result().status_code == 200, cancel.result().text
    assert _booking(app, booking["id"])["cancellation_reason"] == "user_cancelled"
    _paid_refund_state(app, fake_razorpay, booking["id"], fields["razorpay_payment_id"])
    assert _seats(app, event["id"]) == 0


def test_payment_failure_and_event_cancel_do_not_deadlock(
        paused_app: App, fake_razorpay: FakeRazorpay, barrier: Barrier,
        pool: ThreadPoolExecutor):
    """Found by the money soak: the failure held its booking, the cancel held the event, and the
    failure's second UPDATE of the booking fired a foreign-key check (FOR KEY SHARE on the
    event) that waited on the cancel's FOR UPDATE: a deadlock answered 503."""
    app = paused_app
    facilitator = app.facilitator()
    event = app.event(facilitator, max_participants=3)
    attendee = app.attendee()
    booking = app.book(attendee, event["id"])["booking"]
    failure = fake_razorpay.fail(booking["payment_reference"])

    with barrier.hold("record_failure.locked") as held:
        failed = pool.submit(_post, app, "/payment/failure", None, failure)
        assert held.reached.wait(REACH_SECONDS)
        cancel = pool.submit(_post, app, f"/facilitator/events/{event['id']}/cancel", facilitator)
        _blocked_or_done(app, cancel)

    assert failed.result().status_code == 200, failed.result().text
    assert cancel.result().status_code == 200, cancel.result().text
    stored = _booking(app, booking["id"])
    assert (stored["status"], stored["payment_status"], stored["cancellation_reason"]) == (
        "cancelled", "failed", "event_cancelled")
    assert _seats(app, event["id"]) == 0


def _waiting_turn(app: App) -> float:
    metrics = httpx.get(f"{app.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert metrics.status_code == 200, metrics.text
    [line] = [line for line in metrics.text.splitlines()
              if line.startswith("crm_booking_bookings_waiting_turn ")]
    return float(line.split()[-1])


def test_a_crowd_on_one_event_takes_turns_and_other_events_do_not_wait(
        paused_app: App, barrier: Barrier):
    """At most EVENT_BOOKING_CONCURRENCY bookings of one event are inside a transaction at once
    in a worker; the rest of the crowd waits for its turn outside the database (a gauge in
    /metrics counts them), and a booking of another event goes straight in. When the held
    transactions finish, everyone in the crowd gets a seat."""
    app = paused_app
    turns = Settings.model_fields["EVENT_BOOKING_CONCURRENCY"].default
    facilitator = app.facilitator()
    hot, other = app.event(facilitator, max_participants=20), app.event(facilitator, max_participants=5)
    crowd_people = [app.attendee() for _ in range(turns + 2)]
    with ThreadPoolExecutor(max_workers=turns + 3) as pool:
        with barrier.hold_every("create_booking.checked") as inside:
            crowd = [pool.submit(_post, app, "/bookings", person, {"event_id": hot["id"]})
                     for person in crowd_people]
            assert inside.wait_for(turns, REACH_SECONDS)
            app.wait_for(lambda: _waiting_turn(app) == 2, timeout=REACH_SECONDS)
            elsewhere = pool.submit(_post, app, "/bookings", app.attendee(), {"event_id": other["id"]})
            assert inside.wait_for(turns + 1, REACH_SECONDS), "another event's booking queued"
            assert (inside.arrived, _waiting_turn(app)) == (turns + 1, 2)
        answers = [future.result() for future in [*crowd, elsewhere]]
    assert [answer.status_code for answer in answers] == [201] * (turns + 3), answers
    assert (_seats(app, hot["id"]), _seats(app, other["id"])) == (turns + 2, 1)
    assert _waiting_turn(app) == 0
