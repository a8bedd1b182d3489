"""Cancellation policies end to end: the quote at each tier boundary (one second before, and at
the boundary itself), the cancel refunding exactly the quote (a partial refund at the fake
Razorpay), a DST change between the boundary and the start, the booking's snapshot, and the
event-cancel full refund. The server's clock is stopped at exact instants via its clock file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fakes.razorpay_server import FakeRazorpay
from tests.payments.conftest import App
from tests.support.api import Account, login

POLICY = [
    {"hours_before": 168, "refund_percent": 100},
    {"hours_before": 48, "refund_percent": 50},
    {"hours_before": 0, "refund_percent": 0},
]
# 9:00 AM IST on Sun 10 Jan 2027 is 03:30 UTC.
IST_START_LOCAL = "2027-01-10T09:00:00"
IST_START = datetime(2027, 1, 10, 3, 30, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _freeze(app: App, instant: datetime, *accounts: Account) -> None:
    """Stop the server's clock at `instant`; the accounts sign in again there (their tokens
    from today have expired by then)."""
    app.clock_file.write_text("@" + instant.isoformat())
    for account in accounts:
        account.access_token = login(app.client, account.email).access_token


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat()


def _paid_booking(app: App, fake: FakeRazorpay, attendee: Account, event_id: int) -> dict[str, Any]:
    booking = app.book(attendee, event_id)["booking"]
    fields = fake.pay(booking["payment_reference"])
    response = app.client.post("/payment/success", json=fields)
    assert response.status_code == 200, response.text
    return {**booking, "payment_id": fields["razorpay_payment_id"]}


def _quote(app: App, attendee: Account, booking_id: int) -> dict[str, Any]:
    response = app.client.get(f"/bookings/{booking_id}/cancel-quote", headers=attendee.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _ist_event(app: App, facilitator: Account, **overrides: Any) -> dict[str, Any]:
    return app.event(facilitator, start_datetime=IST_START_LOCAL,
                     end_datetime="2027-01-10T10:00:00", timezone="Asia/Kolkata", price=999.99,
                     **{"refund_policy": POLICY, **overrides})


def test_event_shows_the_policy_and_its_wording(app: App):
    event = _ist_event(app, app.facilitator())

    assert event["refund_policy"] == POLICY
    assert event["refund_policy_text"] == (
        "Full refund until Sun 3 Jan, 9:00 AM IST; 50% refund until Fri 8 Jan, 9:00 AM IST; "
        "no refund after")
    assert app.client.get(f"/events/{event['id']}").json()["refund_policy"] == POLICY


@pytest.mark.parametrize(
    ("moment", "percent", "amount", "tier", "valid_until"),
    [
        (IST_START - timedelta(hours=168) - SECOND, 100, 999.99, POLICY[0],
         IST_START - timedelta(hours=168)),
        (IST_START - timedelta(hours=168), 50, 500.00, POLICY[1], IST_START - timedelta(hours=48)),
        (IST_START - timedelta(hours=48) - SECOND, 50, 500.00, POLICY[1],
         IST_START - timedelta(hours=48)),
        (IST_START - timedelta(hours=48), 0, 0.0, POLICY[2], IST_START),
        (IST_START - SECOND, 0, 0.0, POLICY[2], IST_START),
    ],
    ids=["before-168h", "at-168h", "before-48h", "at-48h", "last-second"],
)
def test_quote_on_both_sides_of_each_boundary(app: App, fake_razorpay: FakeRazorpay,
                                              moment: datetime, percent: int, amount: float,
                                              tier: dict[str, int], valid_until: datetime):
    attendee = app.attendee()
    booking = _paid_booking(app, fake_razorpay, attendee, _ist_event(app, app.facilitator())["id"])
    _freeze(app, moment, attendee)

    quote = _quote(app, attendee, booking["id"])

    assert quote == {
        "refundable": amount > 0, "refund_amount": amount, "refund_percent": percent,
        "currency": "INR", "policy_tier": tier, "quote_valid_until": _utc(valid_until),
        "refund_policy_text": quote["refund_policy_text"],
    }


def test_cancel_refunds_exactly_the_quote_as_a_partial_refund(app: App,
                                                             fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    event = _ist_event(app, app.facilitator())
    booking = _paid_booking(app, fake_razorpay, attendee, event["id"])
    _freeze(app, IST_START - timedelta(hours=48) - SECOND, attendee)
    quote = _quote(app, attendee, booking["id"])

    response = app.client.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers)

    assert response.status_code == 200, response.text
    assert response.json()["refund"]["amount"] == quote["refund_amount"] == 500.00
    at_gateway = fake_razorpay.refunds_of(booking["payment_id"])
    assert [r["amount"] for r in at_gateway] == [50000]
    assert fake_razorpay.payment_entity(booking["payment_id"])["refund_status"] == "partial"
    stored = app.rows("SELECT amount, status FROM refunds WHERE booking_id=:b", b=booking["id"])
    assert [(float(r["amount"]), r["status"]) for r in stored] == [(500.00, "processed")]


def test_cancel_after_the_last_paying_tier_refunds_nothing(app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    booking = _paid_booking(app, fake_razorpay, attendee, _ist_event(app, app.facilitator())["id"])
    _freeze(app, IST_START - timedelta(hours=48), attendee)

    response = app.client.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers)

    assert response.status_code == 200, response.text
    assert response.json()["refund"] is None
    assert fake_razorpay.refunds_of(booking["payment_id"]) == []
    detail = app.booking(attendee, booking["id"])
    assert (detail["status"], detail["payment_status"]) == ("cancelled", "completed")


def test_boundary_across_a_dst_change_counts_real_hours(app: App, fake_razorpay: FakeRazorpay):
    # London moves to BST at 01:00 UTC on Sun 28 Mar 2027; the event starts 10:00 BST on Mon 29
    # Mar (09:00 UTC). 48 real hours before is 09:00 UTC on Sat 27 Mar: 9:00 AM GMT on the wall.
    start = datetime(2027, 3, 29, 9, 0, tzinfo=UTC)
    boundary = start - timedelta(hours=48)
    attendee = app.attendee()
    event = app.event(app.facilitator(), start_datetime="2027-03-29T10:00:00",
                      end_datetime="2027-03-29T11:00:00", timezone="Europe/London", price=40,
                      refund_policy=[{"hours_before": 48, "refund_percent": 50}])
    assert event["refund_policy_text"] == "50% refund until Sat 27 Mar, 9:00 AM GMT; no refund after"
    booking = _paid_booking(app, fake_razorpay, attendee, event["id"])

    _freeze(app, boundary - SECOND, attendee)
    before = _quote(app, attendee, booking["id"])
    _freeze(app, boundary)
    at = _quote(app, attendee, booking["id"])

    assert (before["refund_percent"], before["refund_amount"]) == (50, 20.0)
    assert before["quote_valid_until"] == "2027-03-27T09:00:00"
    assert (at["refund_percent"], at["refund_amount"], at["policy_tier"]) == (0, 0.0, None)
    assert at["quote_valid_until"] == "2027-03-29T09:00:00"


def test_booking_keeps_the_policy_in_force_when_it_was_made(app: App, fake_razorpay: FakeRazorpay):
    facilitator = app.facilitator()
    event = _ist_event(app, facilitator)
    early, late = app.attendee(), app.attendee()
    early_booking = _paid_booking(app, fake_razorpay, early, event["id"])
    harsher = [{"hours_before": 720, "refund_percent": 50}]
    response = app.client.put(f"/events/{event['id']}", json={"refund_policy": harsher},
                              headers=facilitator.headers)
    assert response.status_code == 200, response.text
    late_booking = _paid_booking(app, fake_razorpay, late, event["id"])
    _freeze(app, IST_START - timedelta(hours=200), early, late)

    assert _quote(app, early, early_booking["id"])["refund_percent"] == 100
    assert _quote(app, late, late_booking["id"])["refund_percent"] == 0


def test_no_policy_means_full_refund_until_the_start(app: App, fake_razorpay: FakeRazorpay):
    attendee = app.attendee()
    event = _ist_event(app, app.facilitator(), refund_policy=None)
    assert (event["refund_policy"], event["refund_policy_text"]) == (
        None, "Full refund if you cancel before the event starts")
    booking = _paid_booking(app, fake_razorpay, attendee, event["id"])
    _freeze(app, IST_START - SECOND, attendee)

    quote = _quote(app, attendee, booking["id"])

    assert (quote["refund_percent"], quote["refund_amount"], quote["policy_tier"]) == (
        100, 999.99, {"hours_before": 0, "refund_percent": 100})
    assert quote["quote_valid_until"] == _utc(IST_START)


def test_facilitator_cancelling_the_event_refunds_in_full(app: App, fake_razorpay: FakeRazorpay):
    facilitator = app.facilitator()
    event = _ist_event(app, facilitator)
    attendee = app.attendee()
    booking = _paid_booking(app, fake_razorpay, attendee, event["id"])
    # The attendee would get nothing back now.
    _freeze(app, IST_START - timedelta(hours=1), facilitator)

    response = app.client.post(f"/facilitator/events/{event['id']}/cancel",
                               headers=facilitator.headers)

    assert response.status_code == 200, response.text
    assert response.json()["total_refund_amount"] == 999.99
    assert [r["amount"] for r in fake_razorpay.refunds_of(booking["payment_id"])] == [99999]


def test_quote_for_someone_elses_booking_is_404(app: App, fake_razorpay: FakeRazorpay):
    owner, stranger = app.attendee(), app.attendee()
    booking = _paid_booking(app, fake_razorpay, owner, _ist_event(app, app.facilitator())["id"])

    response = app.client.get(f"/bookings/{booking['id']}/cancel-quote", headers=stranger.headers)

    assert response.status_code == 404
    assert response.json() == {"error": "Booking not found"}


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ([{"hours_before": 24, "refund_percent": 101}], "refund_percent"),
        ([{"hours_before": 24, "refund_percent": -1}], "refund_percent"),
        ([{"hours_before": 48, "refund_percent": 50}, {"hours_before": 48, "refund_percent": 20}],
         "must differ"),
        ([{"hours_before": 168, "refund_percent": 50}, {"hours_before": 48, "refund_percent": 100}],
         "smaller refund"),
        ([], "list of tiers"),
    ],
    ids=["over-100", "negative", "same-hours", "refund-goes-up", "empty"],
)
def test_invalid_policies_are_refused(app: App, policy: list[dict[str, int]], problem: str):
    from tests.support.api import event_payload

    response = app.client.post("/events", json=event_payload(refund_policy=policy),
                               headers=app.facilitator().headers)

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "Validation error"
    assert all(key.startswith("refund_policy") for key in body["details"])
    assert problem in " ".join(f"{k}: {v}" for k, v in body["details"].items())


def test_tiers_in_any_order_are_stored_earliest_first(app: App):
    event = app.event(app.facilitator(), refund_policy=list(reversed(POLICY)))

    assert event["refund_policy"] == POLICY


def test_free_events_have_no_policy(app: App):
    from tests.support.api import event_payload

    facilitator = app.facilitator()
    refused = app.client.post("/events", json=event_payload(price=0, refund_policy=POLICY),
                              headers=facilitator.headers)
    assert refused.status_code == 400
    assert refused.json()["details"] == {"refund_policy": "Free events have no refund policy"}

    event = app.event(facilitator, refund_policy=POLICY)
    made_free = app.client.put(f"/events/{event['id']}", json={"price": 0},
                               headers=facilitator.headers)
    assert made_free.status_code == 200
    assert made_free.json()["event"]["refund_policy"] is None


def test_saved_default_policy_applies_to_the_next_paid_events(app: App):
    facilitator = app.facilitator()
    app.event(facilitator, refund_policy=POLICY, save_refund_policy_as_default=True)

    assert app.event(facilitator)["refund_policy"] == POLICY
    assert app.event(facilitator, price=0)["refund_policy"] is None
    assert app.event(facilitator, refund_policy=None)["refund_policy"] is None
    other = app.facilitator()
    assert app.event(other)["refund_policy"] is None


def test_checkout_page_and_confirmation_email_state_the_policy(app: App,
                                                               fake_razorpay: FakeRazorpay):
    import json

    attendee = app.attendee()
    event = _ist_event(app, app.facilitator())
    created = app.book(attendee, event["id"])
    page = app.client.get(created["payment_url"].replace(app.url, ""))
    assert page.status_code == 200
    assert ('<p id="refund-policy"><strong>Cancellation policy:</strong> '
            f'{event["refund_policy_text"]}.</p>') in page.text

    fields = fake_razorpay.pay(created["booking"]["payment_reference"])
    assert app.client.post("/payment/success", json=fields).status_code == 200
    payloads = app.rows("SELECT action, payload FROM outbox WHERE booking_id=:b ORDER BY id",
                        b=created["booking"]["id"])
    texts = {row["action"]: json.loads(row["payload"]).get("refund_policy_text")
             for row in payloads}
    assert texts["booking_created"] == texts["payment_completed"] == event["refund_policy_text"]
