"""Endpoints 11-14 over HTTP (the refund side is covered by tests/payments)."""

from __future__ import annotations

import re

from tests.support.api import book, create_event, new_attendee, new_facilitator

CORE_KEYS = {
    "id", "booking_reference", "status", "notes", "payment_status", "payment_id", "payment_reference",
    "amount", "currency", "hold_expires_at", "cancelled_at", "cancellation_reason", "created_at",
    # extensions.md (Check-in): bookings gain these two.
    "checked_in_at", "ticket_code",
    # extensions.md (class passes): how the seat was paid, and the pass whose credit paid it.
    "paid_with", "pass_id",
}


def test_create_paid_booking_documented_shape(api):
    facilitator = new_facilitator(api)
    event = create_event(api, facilitator, title="Yoga Session", price=25.00)
    attendee = new_attendee(api, name="John Doe")
    response = book(api, attendee, event["id"], notes="Special requirements: Beginner level")
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Booking created successfully"
    booking = body["booking"]
    assert set(booking) == CORE_KEYS | {"user", "event"}
    assert re.fullmatch(r"BK\d{4}\d{3,}", booking["booking_reference"])
    assert booking["status"] == "confirmed"
    assert booking["payment_status"] == "pending"
    assert booking["payment_id"] is None
    assert booking["notes"] == "Special requirements: Beginner level"
    assert booking["user"] == {"id": attendee.id, "name": "John Doe", "email": attendee.email}
    assert booking["event"] == {"id": event["id"], "title": "Yoga Session", "price": 25.0, "currency": "INR"}
    assert booking["hold_expires_at"] is not None
    assert (booking["paid_with"], booking["pass_id"]) == ("payment", None)
    assert body["payment_url"].startswith("http") and booking["booking_reference"] in body["payment_url"]
    assert api.get(f"/events/{event['id']}").json()["current_participants"] == 1


def test_free_booking_is_settled_at_once(api):
    event = create_event(api, new_facilitator(api), price=0)
    body = book(api, new_attendee(api), event["id"]).json()
    assert body["booking"]["payment_status"] == "completed"
    assert body["booking"]["hold_expires_at"] is None
    assert body["payment_url"] is None


def test_booking_references_are_unique_and_sequential(api):
    event = create_event(api, new_facilitator(api), price=0, max_participants=5)
    refs = [book(api, new_attendee(api), event["id"]).json()["booking"]["booking_reference"] for _ in range(3)]
    assert len(set(refs)) == 3
    numbers = [int(r[6:]) for r in refs]
    assert numbers == sorted(numbers)


def test_full_event(api):
    event = create_event(api, new_facilitator(api), price=0, max_participants=1)
    assert book(api, new_attendee(api), event["id"]).status_code == 201
    response = book(api, new_attendee(api), event["id"])
    assert response.status_code == 400
    assert response.json() == {"error": "Event is full"}


def test_second_booking_by_same_person_is_refused(api):
    event = create_event(api, new_facilitator(api), price=0)
    attendee = new_attendee(api)
    assert book(api, attendee, event["id"]).status_code == 201
    again = book(api, attendee, event["id"])
    assert again.status_code == 400
    assert again.json() == {"error": "You already have a booking for this event"}


def test_booking_inactive_missing_or_past_events(api):
    facilitator = new_facilitator(api)
    attendee = new_attendee(api)
    inactive = create_event(api, facilitator)
    api.put(f"/events/{inactive['id']}", json={"is_active": False}, headers=facilitator.headers)
    response = book(api, attendee, inactive["id"])
    assert response.status_code == 400 and response.json() == {"error": "Event is not open for booking"}
    missing = book(api, attendee, 99999999)
    assert missing.status_code == 404 and missing.json() == {"error": "Event not found"}
    past = _past_event(facilitator.id)
    response = book(api, attendee, past)
    assert response.status_code == 400 and response.json() == {"error": "Event has already started"}


def _past_event(facilitator_id: int) -> int:
    from datetime import timedelta
    from decimal import Decimal

    from crm_booking import clock
    from crm_booking.db import transaction
    from crm_booking.models import Event

    with transaction() as session:
        event = Event(facilitator_id=facilitator_id, title="Yesterday", event_type="session",
                      start_at=clock.now() - timedelta(days=1), end_at=clock.now() - timedelta(hours=23),
                      max_participants=5, price=Decimal("10"), location="Old studio")
        session.add(event)
        session.flush()
        return event.id


def test_booking_validation(api):
    attendee = new_attendee(api)
    for body, field in (({}, "event_id"), ({"event_id": "x"}, "event_id"), ({"event_id": -1}, "event_id"),
                        ({"event_id": 1, "notes": "x" * 1001}, "notes"),
                        ({"event_id": 1, "payment_status": "completed"}, "payment_status")):
        response = api.post("/bookings", json=body, headers=attendee.headers)
        assert response.status_code == 400, body
        assert field in response.json()["details"]
    assert api.post("/bookings", json={"event_id": 1}).status_code == 401


def test_list_and_filter_bookings(api):
    facilitator = new_facilitator(api)
    attendee = new_attendee(api)
    paid = create_event(api, facilitator, price=100, title="Paid")
    free = create_event(api, facilitator, price=0, title="Free")
    paid_id = book(api, attendee, paid["id"]).json()["booking"]["id"]
    free_id = book(api, attendee, free["id"]).json()["booking"]["id"]
    listed = api.get("/bookings", headers=attendee.headers)
    assert listed.status_code == 200
    bookings = listed.json()["bookings"]
    assert [b["id"] for b in bookings] == [free_id, paid_id]  # newest first
    item = bookings[1]
    assert set(item) == CORE_KEYS | {"event"}
    assert {"id", "title", "start_datetime", "end_datetime", "location", "price", "currency"} <= set(item["event"])
    pending = api.get("/bookings", params={"payment_status": "pending"}, headers=attendee.headers).json()
    assert [b["id"] for b in pending["bookings"]] == [paid_id]
    api.post(f"/bookings/{free_id}/cancel", headers=attendee.headers)
    cancelled = api.get("/bookings", params={"status": "cancelled"}, headers=attendee.headers).json()
    assert [b["id"] for b in cancelled["bookings"]] == [free_id]
    bad = api.get("/bookings", params={"status": "lost"}, headers=attendee.headers)
    assert bad.status_code == 400 and "status" in bad.json()["details"]


def test_get_single_booking(api):
    event = create_event(api, new_facilitator(api), price=0, description="A relaxing yoga session")
    attendee = new_attendee(api)
    created = book(api, attendee, event["id"], notes="Special requirements").json()["booking"]
    response = api.get(f"/bookings/{created['id']}", headers=attendee.headers)
    assert response.status_code == 200
    body = response.json()
    # additive (issue 15): add-to-calendar links and where the receipts are
    assert set(body) == CORE_KEYS | {"event", "user", "calendar_ics_url", "google_calendar_url",
                                     "receipts_url"}
    assert body["booking_reference"] == created["booking_reference"]
    assert body["event"]["description"] == "A relaxing yoga session"
    assert body["user"]["id"] == attendee.id


def test_other_people_bookings_are_invisible(api):
    event = create_event(api, new_facilitator(api), price=0)
    owner, stranger = new_attendee(api), new_attendee(api)
    booking_id = book(api, owner, event["id"]).json()["booking"]["id"]
    for response in (api.get(f"/bookings/{booking_id}", headers=stranger.headers),
                     api.post(f"/bookings/{booking_id}/cancel", headers=stranger.headers)):
        assert response.status_code == 404
        assert response.json() == {"error": "Booking not found"}
    assert booking_id not in [b["id"] for b in api.get("/bookings", headers=stranger.headers).json()["bookings"]]
    assert api.get(f"/bookings/{booking_id}", headers=owner.headers).json()["status"] == "confirmed"


def test_cancel_unpaid_booking_frees_the_seat(api):
    event = create_event(api, new_facilitator(api), price=50, max_participants=1)
    attendee = new_attendee(api)
    booking_id = book(api, attendee, event["id"]).json()["booking"]["id"]
    assert book(api, new_attendee(api), event["id"]).json() == {"error": "Event is full"}
    response = api.post(f"/bookings/{booking_id}/cancel", headers=attendee.headers)
    assert response.status_code == 200
    assert response.json() == {"message": "Booking cancelled successfully", "refund": None}
    assert api.get(f"/events/{event['id']}").json()["current_participants"] == 0
    again = api.post(f"/bookings/{booking_id}/cancel", headers=attendee.headers)
    assert again.status_code == 400 and again.json() == {"error": "Booking is already cancelled"}
    assert book(api, new_attendee(api), event["id"]).status_code == 201
    detail = api.get(f"/bookings/{booking_id}", headers=attendee.headers).json()
    assert detail["status"] == "cancelled" and detail["cancelled_at"] is not None
    assert book(api, attendee, event["id"]).json() == {"error": "Event is full"}


def test_rebooking_after_cancel_is_allowed(api):
    event = create_event(api, new_facilitator(api), price=0)
    attendee = new_attendee(api)
    first = book(api, attendee, event["id"]).json()["booking"]["id"]
    api.post(f"/bookings/{first}/cancel", headers=attendee.headers)
    assert book(api, attendee, event["id"]).status_code == 201


def test_a_lapsed_hold_gives_its_seat_to_the_next_attendee(api, clock_file):
    """A lapsed hold's seat goes to the next attendee, whether the expiry job or the booking
    itself (when the event looks full) gives it back."""
    from crm_booking.db import transaction
    from crm_booking.models import Booking

    event = create_event(api, new_facilitator(api), price=100, max_participants=1)
    holder = new_attendee(api)
    held = book(api, holder, event["id"]).json()["booking"]
    with transaction() as session:  # the hold lapsed a minute ago
        stored = session.get(Booking, held["id"])
        from datetime import timedelta

        stored.hold_expires_at = stored.hold_expires_at - timedelta(minutes=16)
        session.add(stored)
    late = book(api, new_attendee(api), event["id"])
    assert late.status_code == 201, late.text
    assert api.get(f"/bookings/{held['id']}", headers=holder.headers).json()["cancellation_reason"] == "hold_expired"
    assert api.get(f"/events/{event['id']}").json()["current_participants"] == 1


def test_booking_with_a_token_whose_holder_is_gone_is_refused_and_takes_no_seat(api):
    """POST /bookings checks the token's holder inside the booking transaction (the hot path
    reads the attendee row there anyway): a signed-out-everywhere, deactivated or unknown
    holder still answers the documented 401, before anything about the event, and no seat."""
    import time

    import jwt

    from crm_booking.db import transaction
    from crm_booking.models import User
    from crm_booking.settings import get_settings

    facilitator = new_facilitator(api)
    event = create_event(api, facilitator, max_participants=5)
    signed_out, deactivated = new_attendee(api), new_attendee(api)
    assert api.post("/auth/logout-all", headers=signed_out.headers).status_code == 200
    with transaction() as session:
        user = session.get(User, deactivated.id)
        user.is_active = False
        session.add(user)
    now = int(time.time())
    unknown = jwt.encode({"sub": "2000000000", "type": "access", "jti": "unknown-holder", "iat": now,
                          "exp": now + 600}, get_settings().JWT_SECRET_KEY, algorithm="HS256")
    for headers in (signed_out.headers, deactivated.headers, {"Authorization": f"Bearer {unknown}"}):
        for event_id in (event["id"], 2_000_000_000):  # an existing and a missing event
            refused = api.post("/bookings", json={"event_id": event_id}, headers=headers)
            assert refused.status_code == 401, refused.text
            assert refused.json() == {"error": "Invalid or expired token"}
    assert api.get(f"/events/{event['id']}").json()["current_participants"] == 0
    assert book(api, new_attendee(api), event["id"]).status_code == 201  # a live token books
