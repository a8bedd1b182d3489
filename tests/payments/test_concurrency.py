"""Races on seats with money involved: every captured payment ends with a seat or a refund."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.fakes.razorpay_server import FakeRazorpay
from tests.payments.conftest import App
from tests.support import api as client_api


def _money_is_accounted_for(app: App, fake: FakeRazorpay, event_id: int) -> None:
    """Seats match confirmed bookings, and each captured payment holds a seat or was refunded
    exactly once at the gateway."""
    confirmed = app.rows("SELECT id, payment_id FROM bookings WHERE event_id=:e AND status='confirmed'",
                         e=event_id)
    seats = app.rows("SELECT seats_taken, max_participants FROM events WHERE id=:e", e=event_id)[0]
    assert seats["seats_taken"] == len(confirmed) <= seats["max_participants"]
    seated = {row["payment_id"] for row in confirmed}
    captured = app.rows("SELECT p.razorpay_payment_id AS id FROM payments p JOIN bookings b "
                        "ON b.id = p.booking_id WHERE b.event_id=:e AND p.status='captured'", e=event_id)
    for payment in captured:
        refunds = fake.refunds_of(payment["id"])
        assert (payment["id"] in seated) != (len(refunds) == 1), payment
        assert len(refunds) <= 1


def _book_and_pay(url: str, fake: FakeRazorpay, account: client_api.Account, event_id: int) -> str:
    with httpx.Client(base_url=url, timeout=60) as client:
        created = client_api.book(client, account, event_id)
        if created.status_code != 201:
            assert created.json() == {"error": "Event is full"}, created.text
            return "full"
        fields = fake.pay(created.json()["booking"]["payment_reference"])
        paid = client.post("/payment/success", json=fields)
        for _ in range(3):
            # Issue 13: the payment is fetched from the gateway before it counts; under this
            # load the fake can miss the 1 s timeout, and the answer is then 503 ("could not be
            # confirmed yet"): the attendee (or the reconcile job) tries again.
            if paid.status_code != 503:
                break
            paid = client.post("/payment/success", json=fields)
        assert paid.status_code == 200, paid.text
        return str(paid.json()["booking"]["payment_status"])


def test_fifty_concurrent_paid_bookings_for_ten_seats(app: App, fake_razorpay: FakeRazorpay):
    event = app.event(app.facilitator(), max_participants=10)
    with ThreadPoolExecutor(max_workers=16) as pool:
        attendees = list(pool.map(lambda _: app.attendee(), range(50)))
        outcomes = list(pool.map(lambda a: _book_and_pay(app.url, fake_razorpay, a, event["id"]),
                                 attendees))

    assert outcomes.count("completed") == 10
    assert outcomes.count("full") == 40
    _money_is_accounted_for(app, fake_razorpay, event["id"])


def test_late_payments_race_new_bookings_for_freed_seats(app: App, fake_razorpay: FakeRazorpay):
    event = app.event(app.facilitator(), max_participants=5)
    late = [app.attendee() for _ in range(5)]
    holds = [app.book(a, event["id"])["booking"] for a in late]
    # Signed up before the clock moves: their tokens must not look issued in the future.
    newcomers = [app.attendee() for _ in range(5)]
    app.lapse_holds()
    app.wait_for(lambda: app.rows(
        "SELECT count(*) AS n FROM bookings WHERE event_id=:e AND cancellation_reason='hold_expired'",
        e=event["id"])[0]["n"] == 5)

    def late_payment(booking: dict[str, Any]) -> str:
        fields = fake_razorpay.pay(booking["payment_reference"])
        with httpx.Client(base_url=app.url, timeout=60) as client:
            answer = client.post("/payment/success", json=fields)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["booking"]["payment_status"])

    with ThreadPoolExecutor(max_workers=10) as pool:
        late_results = [pool.submit(late_payment, b) for b in holds]
        new_results = [pool.submit(_book_and_pay, app.url, fake_razorpay, a, event["id"])
                       for a in newcomers]
        late_outcomes = [f.result() for f in late_results]
        new_outcomes = [f.result() for f in new_results]

    assert set(late_outcomes) <= {"completed", "refunded"}
    assert late_outcomes.count("completed") + new_outcomes.count("completed") == 5
    assert late_outcomes.count("refunded") == new_outcomes.count("completed")
    _money_is_accounted_for(app, fake_razorpay, event["id"])
