"""Duplicate an event into a new draft with every field copied."""

from __future__ import annotations

from urllib.parse import urlparse

import httpx

from tests.api.test_attendee_capabilities import picture
from tests.support.api import book, create_event, new_attendee, new_facilitator

COPIED = ("title", "description", "event_type", "start_datetime", "end_datetime", "timezone",
          "location", "virtual_link", "max_participants", "price", "currency", "cover_image_alt",
          "map_url")


def test_duplicate_copies_every_field_into_a_draft(api: httpx.Client) -> None:
    owner = new_facilitator(api)
    original = create_event(api, owner, title="Full Moon Circle", description="Bring a shawl.",
                            event_type="workshop", timezone="Europe/London", price=1200,
                            max_participants=7, virtual_link="https://meet.example.com/moon",
                            remind_24h=False)
    saved = api.put(f"/events/{original['id']}/cover", headers=owner.headers,
                    files={"image": ("moon.png", picture(), "image/png")},
                    data={"alt": "Candles in a circle"})
    assert saved.status_code == 200, saved.text
    original = saved.json()["event"]
    assert book(api, new_attendee(api), original["id"]).status_code == 201

    answer = api.post(f"/facilitator/events/{original['id']}/duplicate", headers=owner.headers)
    assert answer.status_code == 201, answer.text
    copy = answer.json()["event"]
    assert copy["id"] != original["id"]
    assert {k: copy[k] for k in COPIED} == {k: original[k] for k in COPIED}
    assert copy["is_active"] is False and copy["current_participants"] == 0
    assert copy["cancelled_at"] is None
    # Its own copy of the picture: removing the original's leaves the copy's in place.
    assert copy["cover_image_url"] and copy["cover_image_url"] != original["cover_image_url"]
    assert api.delete(f"/events/{original['id']}/cover", headers=owner.headers).status_code == 200
    assert api.get(urlparse(copy["cover_image_url"]).path).status_code == 200
    listed = {e["id"]: e for e in api.get("/facilitator/events", headers=owner.headers).json()["events"]}
    assert (listed[copy["id"]]["remind_24h"], listed[copy["id"]]["remind_1h"]) == (False, True)
    assert api.get(f"/facilitator/events/{copy['id']}/bookings",
                   headers=owner.headers).json()["bookings"] == []


def test_only_the_owner_duplicates(api: httpx.Client) -> None:
    owner = new_facilitator(api)
    event = create_event(api, owner)
    for outsider in (new_facilitator(api), new_attendee(api)):
        assert api.post(f"/facilitator/events/{event['id']}/duplicate",
                        headers=outsider.headers).status_code == 403
    assert api.post("/facilitator/events/99999999/duplicate", headers=owner.headers).status_code == 404
