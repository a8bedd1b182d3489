"""Endpoints 17-21 over HTTP."""

from __future__ import annotations

from tests.support.api import book, create_event, new_attendee, new_facilitator


def test_facilitator_lists_only_own_events(api):
    mine, theirs = new_facilitator(api), new_facilitator(api)
    own = create_event(api, mine)
    create_event(api, theirs)
    response = api.get("/facilitator/events", headers=mine.headers)
    assert response.status_code == 200
    events = response.json()["events"]
    assert [e["id"] for e in events] == [own["id"]]
    assert {"id", "title", "description", "event_type", "start_datetime", "end_datetime", "location",
            "max_participants", "current_participants", "price", "currency", "is_active",
            "created_at"} <= set(events[0])
    attendee = new_attendee(api)
    denied = api.get("/facilitator/events", headers=attendee.headers)
    assert denied.status_code == 403 and "error" in denied.json()


def test_facilitator_sees_bookings_of_own_event(api):
    facilitator = new_facilitator(api)
    event = create_event(api, facilitator, price=0, max_participants=10)
    attendee = new_attendee(api, name="John Doe")
    api.put("/profile", json={"phone": "+1234567890"}, headers=attendee.headers)
    booking = book(api, attendee, event["id"]).json()["booking"]
    response = api.get(f"/facilitator/events/{event['id']}/bookings", headers=facilitator.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["event"] == {"id": event["id"], "title": event["title"], "max_participants": 10,
                             "current_participants": 1}
    [row] = body["bookings"]
    assert row["id"] == booking["id"]
    assert row["booking_reference"] == booking["booking_reference"]
    assert row["status"] == "confirmed" and row["payment_status"] == "completed"
    assert row["user"] == {"id": attendee.id, "name": "John Doe", "email": attendee.email, "phone": "+1234567890"}
    assert row["created_at"]


def test_other_facilitators_and_attendees_cannot_see_event_bookings(api):
    owner = new_facilitator(api)
    event = create_event(api, owner)
    for outsider in (new_facilitator(api), new_attendee(api)):
        response = api.get(f"/facilitator/events/{event['id']}/bookings", headers=outsider.headers)
        assert response.status_code == 403
        cancel = api.post(f"/facilitator/events/{event['id']}/cancel", headers=outsider.headers)
        assert cancel.status_code == 403
    assert api.get(f"/events/{event['id']}").json()["is_active"] is True
    assert api.get("/facilitator/events/99999999/bookings", headers=owner.headers).status_code == 404


def test_cancel_event_with_free_bookings(api):
    facilitator = new_facilitator(api)
    event = create_event(api, facilitator, price=0)
    attendees = [new_attendee(api) for _ in range(2)]
    ids = [book(api, a, event["id"]).json()["booking"]["id"] for a in attendees]
    response = api.post(f"/facilitator/events/{event['id']}/cancel", headers=facilitator.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Event cancelled successfully"
    assert body["refunds_processed"] == 0 and body["total_refund_amount"] == 0.0
    assert body["bookings_cancelled"] == 2
    for attendee, booking_id in zip(attendees, ids, strict=True):
        assert api.get(f"/bookings/{booking_id}", headers=attendee.headers).json()["status"] == "cancelled"
    assert api.get(f"/events/{event['id']}").json()["is_active"] is False
    again = api.post(f"/facilitator/events/{event['id']}/cancel", headers=facilitator.headers)
    assert again.status_code == 200 and again.json()["bookings_cancelled"] == 0
    reactivate = api.put(f"/events/{event['id']}", json={"is_active": True}, headers=facilitator.headers)
    assert reactivate.status_code == 400


def test_profile_read_and_update(api):
    attendee = new_attendee(api, name="John Doe")
    response = api.get("/profile", headers=attendee.headers)
    assert response.status_code == 200
    body = response.json()
    assert {"id", "email", "name", "phone", "role", "is_active", "is_verified", "created_at"} <= set(body)
    assert body["name"] == "John Doe" and body["role"] == "user" and body["is_active"] is True
    updated = api.put("/profile", json={"name": "John Updated", "phone": "+1234567890"}, headers=attendee.headers)
    assert updated.status_code == 200
    assert updated.json()["message"] == "Profile updated successfully"
    user = updated.json()["user"]
    assert {k: user[k] for k in ("id", "email", "name", "phone", "role")} == {
        "id": attendee.id, "email": attendee.email, "name": "John Updated", "phone": "+1234567890", "role": "user"}
    assert api.get("/profile", headers=attendee.headers).json()["name"] == "John Updated"


def test_profile_update_validation_and_protected_fields(api):
    attendee = new_attendee(api)
    for body, field in (({"name": ""}, "name"), ({"phone": "call me"}, "phone"), ({"role": "admin"}, "role"),
                        ({"email": "x@y.z"}, "email")):
        response = api.put("/profile", json=body, headers=attendee.headers)
        assert response.status_code == 400, body
        assert field in response.json()["details"]
    assert api.get("/profile", headers=attendee.headers).json()["role"] == "user"
