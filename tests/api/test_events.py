"""Endpoints 6-10 over HTTP."""

from __future__ import annotations

from tests.support.api import book, create_event, event_payload, new_attendee, new_facilitator

EVENT_KEYS = {
    "id", "title", "description", "event_type", "start_datetime", "end_datetime", "timezone", "location",
    "virtual_link", "max_participants", "current_participants", "seats_available", "price", "currency",
    "is_active", "cancelled_at", "created_at", "facilitator",
    # additive (issue 15): cover picture and a maps link for the location
    "cover_image_url", "cover_image_alt", "map_url",
    # additive (issue 16): refund tiers and their wording, people on the waitlist
    "refund_policy", "refund_policy_text", "waitlist_count",
    # additive (issue 17): the recurring series the event is a session of, or null
    "series_id",
}


def test_create_event_answers_documented_shape(api):
    facilitator = new_facilitator(api, name="John Facilitator")
    payload = event_payload(title="New Yoga Session", virtual_link="https://meet.google.com/abc-defg-hij",
                            max_participants=15, price=30.00)
    response = api.post("/events", json=payload, headers=facilitator.headers)
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Event created successfully"
    event = body["event"]
    assert set(event) == EVENT_KEYS
    assert event["title"] == "New Yoga Session"
    assert event["event_type"] == "session"
    assert event["start_datetime"] == payload["start_datetime"]  # wall time in the event's zone
    assert event["end_datetime"] == payload["end_datetime"]
    assert event["timezone"] == "Asia/Kolkata"
    assert event["max_participants"] == 15 and event["current_participants"] == 0
    assert event["price"] == 30.0 and event["currency"] == "INR" and event["is_active"] is True
    assert event["virtual_link"] == "https://meet.google.com/abc-defg-hij"
    assert event["facilitator"] == {"id": facilitator.id, "name": "John Facilitator", "email": facilitator.email}


def test_event_times_keep_their_own_timezone(api):
    facilitator = new_facilitator(api)
    event = create_event(api, facilitator, timezone="Europe/London",
                         start_datetime="2030-03-30T09:00:00", end_datetime="2030-03-30T10:30:00")
    assert event["start_datetime"] == "2030-03-30T09:00:00"
    assert event["timezone"] == "Europe/London"
    offset = create_event(api, facilitator, start_datetime="2030-05-01T10:00:00+00:00",
                          end_datetime="2030-05-01T11:00:00+00:00")
    assert offset["start_datetime"] == "2030-05-01T15:30:00"  # shown in Asia/Kolkata


def test_only_facilitators_create_events(api):
    attendee = new_attendee(api)
    response = api.post("/events", json=event_payload(), headers=attendee.headers)
    assert response.status_code == 403
    assert response.json() == {"error": "Only facilitators can create events"}
    assert api.post("/events", json=event_payload()).status_code == 401


def test_create_event_validation(api):
    facilitator = new_facilitator(api)
    bad = event_payload(title="", event_type="party", max_participants=0, price=-5,
                        end_datetime="2020-01-01T00:00:00", timezone="Mars/Olympus")
    response = api.post("/events", json=bad, headers=facilitator.headers)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Validation error"
    assert {"event_type", "max_participants", "price"} <= set(body["details"])


def test_create_event_business_validation(api):
    facilitator = new_facilitator(api)
    past = event_payload(start_datetime="2020-01-01T10:00:00", end_datetime="2020-01-01T11:00:00")
    response = api.post("/events", json=past, headers=facilitator.headers)
    assert response.status_code == 400
    assert response.json()["details"] == {"start_datetime": "Must be in the future"}
    backwards = event_payload()
    backwards["end_datetime"], backwards["start_datetime"] = backwards["start_datetime"], backwards["end_datetime"]
    response = api.post("/events", json=backwards, headers=facilitator.headers)
    assert response.json()["details"] == {"end_datetime": "Must be after the start"}
    zone = api.post("/events", json=event_payload(timezone="Mars/Olympus"), headers=facilitator.headers)
    assert "timezone" in zone.json()["details"]


def test_client_cannot_set_protected_fields(api):
    facilitator = new_facilitator(api)
    for field, value in (("current_participants", 5), ("facilitator_id", 1), ("id", 99)):
        response = api.post("/events", json=event_payload(**{field: value}), headers=facilitator.headers)
        assert response.status_code == 400
        assert field in response.json()["details"]


def test_get_event_and_404(api):
    facilitator = new_facilitator(api)
    event = create_event(api, facilitator)
    response = api.get(f"/events/{event['id']}")
    assert response.status_code == 200
    assert response.json() == event
    missing = api.get("/events/99999999")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Event not found"}
    assert api.get("/events/abc").status_code == 400


def test_list_events_with_filters(api):
    facilitator = new_facilitator(api)
    session = create_event(api, facilitator, event_type="session")
    retreat = create_event(api, facilitator, event_type="retreat")
    listed = api.get("/events", params={"facilitator_id": facilitator.id}).json()["events"]
    assert {e["id"] for e in listed} == {session["id"], retreat["id"]}
    retreats = api.get("/events", params={"facilitator_id": facilitator.id, "type": "retreat"}).json()["events"]
    assert [e["id"] for e in retreats] == [retreat["id"]]
    api.put(f"/events/{session['id']}", json={"is_active": False}, headers=facilitator.headers)
    active = api.get("/events", params={"facilitator_id": facilitator.id, "active": "true"}).json()["events"]
    assert [e["id"] for e in active] == [retreat["id"]]
    inactive = api.get("/events", params={"facilitator_id": facilitator.id, "active": "false"}).json()["events"]
    assert [e["id"] for e in inactive] == [session["id"]]


def test_list_events_rejects_bad_filters(api):
    for params in ({"type": "party"}, {"facilitator_id": "x"}, {"active": "maybe"}, {"limit": 0},
                   {"limit": 10_000}, {"offset": -1}, {"type": "' OR 1=1 --"}):
        response = api.get("/events", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"] == "Validation error"


def test_list_events_paging(api):
    facilitator = new_facilitator(api)
    ids = [create_event(api, facilitator)["id"] for _ in range(3)]
    first = api.get("/events", params={"facilitator_id": facilitator.id, "limit": 2}).json()["events"]
    rest = api.get("/events", params={"facilitator_id": facilitator.id, "limit": 2, "offset": 2}).json()["events"]
    assert [e["id"] for e in first + rest] == ids


def test_update_event_by_owner(api):
    facilitator = new_facilitator(api)
    event = create_event(api, facilitator)
    response = api.put(f"/events/{event['id']}", headers=facilitator.headers, json={
        "title": "Updated Yoga Session", "description": "Updated description",
        "max_participants": 20, "price": 35.00})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Event updated successfully"
    assert body["event"]["title"] == "Updated Yoga Session"
    assert body["event"]["description"] == "Updated description"
    assert body["event"]["max_participants"] == 20
    assert body["event"]["price"] == 35.0
    assert body["event"]["start_datetime"] == event["start_datetime"]


def test_other_facilitator_cannot_edit_or_delete(api):
    owner, other = new_facilitator(api), new_facilitator(api)
    event = create_event(api, owner)
    edit = api.put(f"/events/{event['id']}", json={"title": "Mine now"}, headers=other.headers)
    assert edit.status_code == 403
    assert edit.json() == {"error": "You can only manage your own events"}
    delete = api.delete(f"/events/{event['id']}", headers=other.headers)
    assert delete.status_code == 403
    attendee = new_attendee(api)
    assert api.put(f"/events/{event['id']}", json={"title": "x"}, headers=attendee.headers).status_code == 403
    assert api.get(f"/events/{event['id']}").json()["title"] == event["title"]


def test_capacity_cannot_drop_below_seats_taken(api):
    facilitator = new_facilitator(api)
    event = create_event(api, facilitator, max_participants=3, price=0)
    for _ in range(2):
        assert book(api, new_attendee(api), event["id"]).status_code == 201
    response = api.put(f"/events/{event['id']}", json={"max_participants": 1}, headers=facilitator.headers)
    assert response.status_code == 400
    assert "max_participants" in response.json()["details"]
    ok = api.put(f"/events/{event['id']}", json={"max_participants": 2}, headers=facilitator.headers)
    assert ok.status_code == 200 and ok.json()["event"]["current_participants"] == 2


def test_delete_event_without_bookings(api):
    facilitator = new_facilitator(api)
    event = create_event(api, facilitator)
    response = api.delete(f"/events/{event['id']}", headers=facilitator.headers)
    assert response.status_code == 200
    assert response.json() == {"message": "Event deleted successfully"}
    assert api.get(f"/events/{event['id']}").status_code == 404
    assert api.delete(f"/events/{event['id']}", headers=facilitator.headers).status_code == 404


def test_delete_event_with_live_bookings_is_refused_and_keeps_them(api):
    facilitator = new_facilitator(api)
    event = create_event(api, facilitator, price=0)
    attendee = new_attendee(api)
    booking = book(api, attendee, event["id"]).json()["booking"]
    response = api.delete(f"/events/{event['id']}", headers=facilitator.headers)
    assert response.status_code == 400
    assert f"/facilitator/events/{event['id']}/cancel" in response.json()["error"]
    assert api.get(f"/bookings/{booking['id']}", headers=attendee.headers).json()["status"] == "confirmed"
