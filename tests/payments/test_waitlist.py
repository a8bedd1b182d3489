"""Waitlist end to end against the running app (real PostgreSQL, the fake Razorpay): join,
position, leave; a freed seat is offered (held, emailed through the outbox), accepted into a
paid booking, or lapses to the next person; raising capacity and lapsed holds offer seats too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.razorpay_server import FakeRazorpay
from tests.payments.conftest import HOLD_MINUTES, App
from tests.support.api import Account, login

OFFER_MINUTES = 30  # the default WAITLIST_OFFER_MINUTES


def _full_event(app: App, capacity: int = 1, **overrides: Any) -> tuple[Account, dict[str, Any],
                                                                          list[Account]]:
    """An event whose seats are all booked and paid; returns owner, event, the bookers."""
    owner = app.facilitator()
    event = app.event(owner, max_participants=capacity, **overrides)
    bookers = [app.attendee() for _ in range(capacity)]
    return owner, event, bookers


def _pay(app: App, fake: FakeRazorpay, booking: dict[str, Any]) -> None:
    response = app.client.post("/payment/success", json=fake.pay(booking["payment_reference"]))
    assert response.status_code == 200, response.text


def _book_paid(app: App, fake: FakeRazorpay, attendee: Account, event_id: int) -> dict[str, Any]:
    booking = app.book(attendee, event_id)["booking"]
    _pay(app, fake, booking)
    return booking


def _join(app: App, attendee: Account, event_id: int) -> dict[str, Any]:
    response = app.client.post(f"/events/{event_id}/waitlist", headers=attendee.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["waitlist_entry"])


def _entry(app: App, attendee: Account, entry_id: int) -> dict[str, Any]:
    listed = app.client.get("/waitlist", headers=attendee.headers).json()["waitlist"]
    return next(e for e in listed if e["id"] == entry_id)


def _seats_taken(app: App, event_id: int) -> int:
    return int(app.rows("SELECT seats_taken FROM events WHERE id=:e", e=event_id)[0]["seats_taken"])


def _offer_emails(app: App, entry_id: int) -> list[dict[str, Any]]:
    rows = app.rows("SELECT action, payload FROM outbox WHERE idempotency_key LIKE :k ORDER BY id",
                    k=f"waitlist-{entry_id}-%")
    return [{"action": r["action"], **json.loads(r["payload"])} for r in rows]


def test_join_position_list_and_leave(app: App, fake_razorpay: FakeRazorpay):
    _, event, (booker,) = _full_event(app)
    first, second = app.attendee(), app.attendee()
    refused = app.client.post(f"/events/{event['id']}/waitlist", headers=first.headers)
    assert refused.status_code == 400
    assert refused.json() == {"error": "Seats are available; book instead"}
    _book_paid(app, fake_razorpay, booker, event["id"])

    a = _join(app, first, event["id"])
    b = _join(app, second, event["id"])

    assert (a["status"], a["position"], a["offer_expires_at"]) == ("waiting", 1, None)
    assert (b["status"], b["position"], b["event_id"]) == ("waiting", 2, event["id"])
    assert app.client.get(f"/events/{event['id']}").json()["waitlist_count"] == 2
    again = app.client.post(f"/events/{event['id']}/waitlist", headers=first.headers)
    assert again.status_code == 400
    booked = app.client.post(f"/events/{event['id']}/waitlist", headers=booker.headers)
    assert booked.json() == {"error": "You already have a booking for this event"}

    left = app.client.delete(f"/events/{event['id']}/waitlist", headers=first.headers)
    assert left.status_code == 200
    assert _entry(app, first, a["id"])["status"] == "left"
    assert _entry(app, second, b["id"])["position"] == 1
    gone = app.client.delete(f"/events/{event['id']}/waitlist", headers=first.headers)
    assert gone.status_code == 404
    assert app.client.post("/events/999999/waitlist", headers=first.headers).status_code == 404


def test_cancel_offers_the_seat_to_the_first_waiting_then_accept_and_pay(
        app: App, fake_razorpay: FakeRazorpay):
    _, event, (booker,) = _full_event(app)
    booking = _book_paid(app, fake_razorpay, booker, event["id"])
    first, second, latecomer = app.attendee(), app.attendee(), app.attendee()
    a = _join(app, first, event["id"])
    b = _join(app, second, event["id"])

    cancelled = app.client.post(f"/bookings/{booking['id']}/cancel", headers=booker.headers)
    assert cancelled.status_code == 200

    offer = _entry(app, first, a["id"])
    assert (offer["status"], offer["position"]) == ("offered", None)
    expires = datetime.fromisoformat(offer["offer_expires_at"]).replace(tzinfo=UTC)
    assert abs(expires - datetime.now(UTC) - timedelta(minutes=OFFER_MINUTES)) < timedelta(minutes=1)
    assert _entry(app, second, b["id"])["position"] == 1
    # The seat is held for the offer: counted, not bookable by anyone else.
    assert _seats_taken(app, event["id"]) == 1
    public = app.client.get(f"/events/{event['id']}").json()
    assert (public["seats_available"], public["waitlist_count"]) == (0, 1)
    assert app.client.post("/bookings", json={"event_id": event["id"]},
                           headers=latecomer.headers).json() == {"error": "Event is full"}
    [email] = _offer_emails(app, a["id"])
    assert email["action"] == "waitlist_offered" and email["user"]["email"] == first.email
    assert email["offer_url"].endswith(f"/app/events/{event['id']}")
    stranger = app.client.post(f"/waitlist/{a['id']}/accept", headers=second.headers)
    assert stranger.status_code == 404
    not_offered = app.client.post(f"/waitlist/{b['id']}/accept", headers=second.headers)
    assert not_offered.status_code == 400

    accepted = app.client.post(f"/waitlist/{a['id']}/accept", headers=first.headers)

    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["payment_url"] and body["booking"]["payment_status"] == "pending"
    assert body["booking"]["hold_expires_at"] is not None
    assert _seats_taken(app, event["id"]) == 1
    _pay(app, fake_razorpay, body["booking"])
    assert app.booking(first, body["booking"]["id"])["payment_status"] == "completed"
    assert _entry(app, first, a["id"])["status"] == "accepted"
    assert _seats_taken(app, event["id"]) == 1


def test_a_lapsed_offer_passes_to_the_next_person(app: App, fake_razorpay: FakeRazorpay):
    _, event, (booker,) = _full_event(app)
    booking = _book_paid(app, fake_razorpay, booker, event["id"])
    first, second = app.attendee(), app.attendee()
    a = _join(app, first, event["id"])
    b = _join(app, second, event["id"])
    app.client.post(f"/bookings/{booking['id']}/cancel", headers=booker.headers)
    assert _entry(app, first, a["id"])["status"] == "offered"

    app.clock_file.write_text(str((OFFER_MINUTES + 1) * 60))
    first = login(app.client, first.email)
    second = login(app.client, second.email)

    app.wait_for(lambda: _entry(app, second, b["id"])["status"] == "offered")
    assert _entry(app, first, a["id"])["status"] == "expired"
    late = app.client.post(f"/waitlist/{a['id']}/accept", headers=first.headers)
    assert late.status_code == 400
    assert [e["action"] for e in _offer_emails(app, a["id"])] == [
        "waitlist_offered", "waitlist_offer_expired"]
    assert [e["action"] for e in _offer_emails(app, b["id"])] == ["waitlist_offered"]
    assert _seats_taken(app, event["id"]) == 1


def test_raising_capacity_offers_the_new_seats_in_order(app: App, fake_razorpay: FakeRazorpay):
    owner, event, (booker,) = _full_event(app, price=0)
    app.book(booker, event["id"])
    waiting = [app.attendee() for _ in range(3)]
    entries = [_join(app, person, event["id"]) for person in waiting]

    raised = app.client.put(f"/events/{event['id']}", json={"max_participants": 3},
                            headers=owner.headers)

    assert raised.status_code == 200
    assert raised.json()["event"]["waitlist_count"] == 1
    statuses = [_entry(app, p, e["id"])["status"] for p, e in zip(waiting, entries, strict=True)]
    assert statuses == ["offered", "offered", "waiting"]
    # A free event: accepting confirms at once, no payment.
    accepted = app.client.post(f"/waitlist/{entries[0]['id']}/accept", headers=waiting[0].headers)
    assert accepted.status_code == 201
    assert (accepted.json()["payment_url"], accepted.json()["booking"]["payment_status"]) == (
        None, "completed")


def test_a_lapsed_hold_offers_its_seat(app: App, fake_razorpay: FakeRazorpay):
    _, event, (holder,) = _full_event(app)
    app.book(holder, event["id"])  # never paid
    waiting = app.attendee()
    entry = _join(app, waiting, event["id"])

    app.lapse_holds()
    waiting = login(app.client, waiting.email)

    app.wait_for(lambda: _entry(app, waiting, entry["id"])["status"] == "offered")
    assert _seats_taken(app, event["id"]) == 1
    assert HOLD_MINUTES < OFFER_MINUTES


def test_facilitator_sees_the_queue_and_cancelling_the_event_closes_it(
        app: App, fake_razorpay: FakeRazorpay):
    owner, event, (booker,) = _full_event(app)
    _book_paid(app, fake_razorpay, booker, event["id"])
    people = [app.attendee() for _ in range(2)]
    for person in people:
        _join(app, person, event["id"])

    queue = app.client.get(f"/facilitator/events/{event['id']}/waitlist", headers=owner.headers)

    assert queue.status_code == 200
    assert [(e["position"], e["user"]["email"]) for e in queue.json()["waitlist"]] == [
        (1, people[0].email), (2, people[1].email)]
    other = app.facilitator()
    assert app.client.get(f"/facilitator/events/{event['id']}/waitlist",
                          headers=other.headers).status_code == 403
    mine = app.client.get("/facilitator/events", headers=owner.headers).json()["events"]
    assert next(e for e in mine if e["id"] == event["id"])["waitlist_count"] == 2

    assert app.client.post(f"/facilitator/events/{event['id']}/cancel",
                           headers=owner.headers).status_code == 200
    statuses = app.rows("SELECT status FROM waitlist_entries WHERE event_id=:e", e=event["id"])
    assert {r["status"] for r in statuses} == {"expired"}
    assert _seats_taken(app, event["id"]) == 0
