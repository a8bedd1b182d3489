"""Tickets and check-in over HTTP (extensions.md, Check-in)."""

from __future__ import annotations

from typing import Any

import httpx

from crm_booking.services import payment
from tests.support.api import Account, book, create_event, new_attendee, new_facilitator


def _pay(api: httpx.Client, reference: str) -> None:
    token = payment.checkout_token(reference)
    fields = api.post(f"/pay/{reference}/sandbox", params={"token": token, "outcome": "success"})
    assert fields.status_code == 200, fields.text
    assert api.post("/payment/success", json=fields.json()).status_code == 200


def _booked(api: httpx.Client, event_id: int, *, name: str = "Asha Present") -> tuple[Account, dict[str, Any]]:
    attendee = new_attendee(api, name=name)
    created = book(api, attendee, event_id)
    assert created.status_code == 201, created.text
    booking_id = created.json()["booking"]["id"]
    detail = api.get(f"/bookings/{booking_id}", headers=attendee.headers).json()
    return attendee, detail


def test_ticket_code_check_in_twice_and_undo(api: httpx.Client) -> None:
    owner = new_facilitator(api)
    event = create_event(api, owner, price=0)
    _, booking = _booked(api, event["id"])
    code = booking["ticket_code"]
    assert code and code.startswith("TK") and booking["checked_in_at"] is None

    url = f"/facilitator/events/{event['id']}/check-in"
    first = api.post(url, json={"ticket_code": code}, headers=owner.headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["booking"]["id"] == booking["id"] and body["booking"]["user"]["name"] == "Asha Present"
    assert body["checked_in_at"] and body["booking"]["checked_in_at"] == body["checked_in_at"]

    again = api.post(url, json={"booking_reference": booking["booking_reference"]}, headers=owner.headers)
    assert again.status_code == 409
    assert again.json()["error"] == "Already checked in"
    assert again.json()["checked_in_at"] == body["checked_in_at"]

    listed = api.get("/facilitator/events", headers=owner.headers).json()["events"]
    assert [e["checked_in_count"] for e in listed if e["id"] == event["id"]] == [1]
    roster = api.get(f"/facilitator/events/{event['id']}/bookings", headers=owner.headers).json()
    assert roster["bookings"][0]["checked_in_at"] == body["checked_in_at"]

    undone = api.delete(f"{url}/{booking['id']}", headers=owner.headers)
    assert undone.status_code == 200, undone.text
    assert undone.json()["booking"]["checked_in_at"] is None
    listed = api.get("/facilitator/events", headers=owner.headers).json()["events"]
    assert [e["checked_in_count"] for e in listed if e["id"] == event["id"]] == [0]
    # After the undo the same ticket checks in again.
    assert api.post(url, json={"ticket_code": code.lower()}, headers=owner.headers).status_code == 200


def test_unpaid_cancelled_forged_and_other_event(api: httpx.Client) -> None:
    owner = new_facilitator(api)
    paid_event = create_event(api, owner, price=500)
    other_event = create_event(api, owner, price=0, title="Other Session")
    url = f"/facilitator/events/{paid_event['id']}/check-in"

    _, unpaid = _booked(api, paid_event["id"])
    answer = api.post(url, json={"ticket_code": unpaid["ticket_code"]}, headers=owner.headers)
    assert answer.status_code == 400 and answer.json()["error"] == "This booking is not paid"
    _pay(api, unpaid["booking_reference"])
    assert api.post(url, json={"ticket_code": unpaid["ticket_code"]},
                    headers=owner.headers).status_code == 200

    attendee, cancelled = _booked(api, other_event["id"])
    assert api.post(f"/bookings/{cancelled['id']}/cancel", headers=attendee.headers).status_code == 200
    other_url = f"/facilitator/events/{other_event['id']}/check-in"
    answer = api.post(other_url, json={"booking_reference": cancelled["booking_reference"]},
                      headers=owner.headers)
    assert answer.status_code == 400 and answer.json()["error"] == "This booking is cancelled"

    _, elsewhere = _booked(api, other_event["id"])
    answer = api.post(url, json={"ticket_code": elsewhere["ticket_code"]}, headers=owner.headers)
    assert answer.status_code == 404
    assert answer.json()["other_event"] == {"id": other_event["id"], "title": "Other Session"}
    undo = api.delete(f"{url}/{elsewhere['id']}", headers=owner.headers)
    assert undo.status_code == 404

    forged = elsewhere["ticket_code"][:-1] + ("A" if elsewhere["ticket_code"][-1] != "A" else "B")
    for body in ({"ticket_code": forged}, {"booking_reference": "BK0000000"},
                 {"ticket_code": "not a ticket"}):
        answer = api.post(other_url, json=body, headers=owner.headers)
        assert answer.status_code == 404, (body, answer.text)
        assert isinstance(answer.json()["error"], str)


def test_bad_bodies_and_other_facilitators(api: httpx.Client) -> None:
    owner, stranger = new_facilitator(api), new_facilitator(api)
    event = create_event(api, owner, price=0)
    attendee, booking = _booked(api, event["id"])
    url = f"/facilitator/events/{event['id']}/check-in"
    for body in ({}, {"ticket_code": booking["ticket_code"],
                      "booking_reference": booking["booking_reference"]},
                 {"ticket_code": 5}, {"booking_id": booking["id"]}):
        answer = api.post(url, json=body, headers=owner.headers)
        assert answer.status_code == 400, (body, answer.text)
        assert "error" in answer.json()
    for outsider in (stranger, attendee):
        denied = api.post(url, json={"ticket_code": booking["ticket_code"]}, headers=outsider.headers)
        assert denied.status_code == 403
        assert api.delete(f"{url}/{booking['id']}", headers=outsider.headers).status_code == 403
    assert api.post(url, json={"ticket_code": booking["ticket_code"]}).status_code == 401
    missing = api.post("/facilitator/events/99999999/check-in",
                       json={"ticket_code": booking["ticket_code"]}, headers=owner.headers)
    assert missing.status_code == 404
    for path in (f"{url}/9223372036854775808", "/facilitator/events/2147483648/check-in/1"):
        answer = api.delete(path, headers=owner.headers)
        assert answer.status_code in (400, 404), (path, answer.text)
    detail = api.get(f"/bookings/{booking['id']}", headers=attendee.headers).json()
    assert detail["checked_in_at"] is None


def test_reminder_settings_are_on_by_default_and_per_event(api: httpx.Client) -> None:
    owner = new_facilitator(api)
    default = create_event(api, owner)
    quiet = create_event(api, owner, remind_24h=False)
    changed = api.put(f"/events/{quiet['id']}", json={"remind_1h": False}, headers=owner.headers)
    assert changed.status_code == 200, changed.text
    bad = api.put(f"/events/{quiet['id']}", json={"remind_1h": "no"}, headers=owner.headers)
    assert bad.status_code == 400 and "remind_1h" in bad.json()["details"]
    listed = {e["id"]: e for e in api.get("/facilitator/events", headers=owner.headers).json()["events"]}
    assert (listed[default["id"]]["remind_24h"], listed[default["id"]]["remind_1h"]) == (True, True)
    assert (listed[quiet["id"]]["remind_24h"], listed[quiet["id"]]["remind_1h"]) == (False, False)
