"""A facilitator's message to everyone booked, and the note in cancellation emails (over HTTP;
the outbox rows are what the CRM will be sent)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlmodel import col, select

from crm_booking.db import read_session
from crm_booking.models import OutboxMessage
from tests.support.api import book, create_event, new_attendee, new_facilitator


def _payloads(action: str, booking_ids: list[int]) -> list[dict[str, Any]]:
    with read_session() as session:
        rows = session.exec(select(OutboxMessage).where(
            OutboxMessage.action == action, col(OutboxMessage.booking_id).in_(booking_ids))).all()
        return [json.loads(r.payload) for r in rows]


def test_preview_send_and_list(api: httpx.Client) -> None:
    owner = new_facilitator(api, name="Asha")
    event = create_event(api, owner, price=0, title="Moon Flow")
    paid_event = create_event(api, owner, price=300)
    booked = [new_attendee(api, name=n) for n in ("Ravi", "Meena")]
    ids = [book(api, a, event["id"]).json()["booking"]["id"] for a in booked]
    unpaid = book(api, new_attendee(api), paid_event["id"]).json()["booking"]["id"]
    url = f"/facilitator/events/{event['id']}/messages"
    draft = {"subject": "  Bring a   mat ", "body": "Mats are not provided.\n\nSee you!"}

    shown = api.post(f"{url}/preview", json=draft, headers=owner.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["preview"] == {"email_subject": "Moon Flow: Bring a mat",
                                       "subject": "Bring a mat", "body": "Mats are not provided.\n\nSee you!",
                                       "recipients": 2}
    assert _payloads("event_message", ids) == []  # a preview sends nothing

    sent = api.post(url, json=draft, headers=owner.headers)
    assert sent.status_code == 201, sent.text
    message = sent.json()["message"]
    assert message["recipients"] == 2 and message["audience"] == "booked"
    payloads = _payloads("event_message", ids)
    assert sorted(p["user"]["name"] for p in payloads) == ["Meena", "Ravi"]
    assert {(p["subject"], p["message"]) for p in payloads} == {
        ("Bring a mat", "Mats are not provided.\n\nSee you!")}
    assert len({p["idempotency_key"] for p in payloads}) == 2

    # Only live seats: an unpaid hold of another event of hers is never a recipient.
    paid_sent = api.post(f"/facilitator/events/{paid_event['id']}/messages", json=draft,
                         headers=owner.headers)
    assert paid_sent.json()["message"]["recipients"] == 0
    assert _payloads("event_message", [unpaid]) == []

    listed = api.get(url, headers=owner.headers)
    assert listed.status_code == 200
    assert [(m["id"], m["recipients"]) for m in listed.json()["messages"]] == [(message["id"], 2)]


def test_bad_messages_and_strangers(api: httpx.Client) -> None:
    owner, stranger = new_facilitator(api), new_facilitator(api)
    event = create_event(api, owner, price=0)
    url = f"/facilitator/events/{event['id']}/messages"
    for body in ({"subject": " ", "body": "x"}, {"subject": "x", "body": ""}, {"subject": "x"},
                 {"subject": "x" * 201, "body": "y"}, {"subject": "x", "body": "y", "to": "all"}):
        answer = api.post(url, json=body, headers=owner.headers)
        assert answer.status_code == 400, (body, answer.text)
        assert "error" in answer.json()
    for outsider in (stranger, new_attendee(api)):
        for path in (url, f"{url}/preview"):
            answer = api.post(path, json={"subject": "x", "body": "y"}, headers=outsider.headers)
            assert answer.status_code == 403, answer.text
        assert api.get(url, headers=outsider.headers).status_code == 403
    assert api.get("/facilitator/events/99999999/messages", headers=owner.headers).status_code == 404


def test_cancel_event_message_goes_into_the_cancellation_emails(api: httpx.Client) -> None:
    owner = new_facilitator(api)
    event = create_event(api, owner, price=0)
    quiet = create_event(api, owner, price=0)
    attendee = new_attendee(api)
    booking_id = book(api, attendee, event["id"]).json()["booking"]["id"]
    quiet_id = book(api, attendee, quiet["id"]).json()["booking"]["id"]
    answer = api.post(f"/facilitator/events/{event['id']}/cancel",
                      json={"message": "The studio flooded. Sorry!"}, headers=owner.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["bookings_cancelled"] == 1
    [payload] = _payloads("event_cancelled", [booking_id])
    assert payload["message"] == "The studio flooded. Sorry!"
    # Without a body, as the original contract has it: no note.
    assert api.post(f"/facilitator/events/{quiet['id']}/cancel", headers=owner.headers).status_code == 200
    [plain] = _payloads("event_cancelled", [quiet_id])
    assert "message" not in plain
    too_long = api.post(f"/facilitator/events/{quiet['id']}/cancel", json={"message": "x" * 2001},
                        headers=owner.headers)
    assert too_long.status_code == 400


def _waitlist_payloads(event_id: int) -> list[dict[str, Any]]:
    with read_session() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.action == "waitlist_message")).all()
        return [p for p in (json.loads(r.payload) for r in rows) if p["event"]["id"] == event_id]


def test_message_to_everyone_on_the_waitlist(api: httpx.Client) -> None:
    owner = new_facilitator(api, name="Asha")
    event = create_event(api, owner, price=0, title="Full Moon Flow", max_participants=1)
    seated = new_attendee(api, name="Ravi")
    seat = book(api, seated, event["id"]).json()["booking"]["id"]
    waiting = [new_attendee(api, name=n) for n in ("Meena", "Kiran", "Lata")]
    for person in waiting:
        joined = api.post(f"/events/{event['id']}/waitlist", headers=person.headers)
        assert joined.status_code == 201, joined.text
    left = api.delete(f"/events/{event['id']}/waitlist", headers=waiting[2].headers)
    assert left.status_code == 200, left.text
    url = f"/facilitator/events/{event['id']}/messages"
    draft = {"subject": "A second class", "body": "We added a 9:00 class.", "audience": "waitlist"}

    shown = api.post(f"{url}/preview", json=draft, headers=owner.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["preview"]["recipients"] == 2  # who left is not told
    assert _waitlist_payloads(event["id"]) == []

    sent = api.post(url, json=draft, headers=owner.headers)
    assert sent.status_code == 201, sent.text
    assert (sent.json()["message"]["audience"], sent.json()["message"]["recipients"]) == ("waitlist", 2)
    payloads = _waitlist_payloads(event["id"])
    assert sorted(p["user"]["name"] for p in payloads) == ["Kiran", "Meena"]
    assert all(p["booking_id"] == 0 and p["waitlist_entry_id"] > 0 for p in payloads)
    assert {(p["subject"], p["message"]) for p in payloads} == {("A second class", "We added a 9:00 class.")}
    assert _payloads("event_message", [seat]) == []  # the booked audience is not written to
    again = api.post(url, json=draft, headers=owner.headers)  # a second message is its own notice
    assert again.status_code == 201 and len(_waitlist_payloads(event["id"])) == 4

    listed = api.get(url, headers=owner.headers).json()["messages"]
    assert [m["audience"] for m in listed] == ["waitlist", "waitlist"]

    wrong = api.post(url, json={**draft, "audience": "everyone"}, headers=owner.headers)
    assert wrong.status_code == 400 and wrong.json()["error"] == "Validation error"
    assert "audience" in wrong.json()["details"], wrong.text
