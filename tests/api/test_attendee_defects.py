"""Issue 15, defect 2 over HTTP: an online event's join link goes only to its facilitator and
to attendees whose seat is theirs (paid, or free); everyone else reads `virtual_link: null`."""

from __future__ import annotations

from tests.browser.test_facilitator import pay_with_sandbox
from tests.support.api import book, create_event, new_attendee, new_facilitator

LINK = "https://meet.example.com/secret-room"


def _link_in_listing(api, event: dict, headers: dict[str, str] | None = None) -> object:
    # The listing filtered to the event's facilitator: the shared test database holds hundreds
    # of upcoming events, more than one page.
    listed = api.get("/events", params={"limit": 200, "facilitator_id": event["facilitator"]["id"]},
                     headers=headers or {}).json()["events"]
    [found] = [e for e in listed if e["id"] == event["id"]]
    return found["virtual_link"]


def _seen_by(api, event_id: int, headers: dict[str, str] | None = None) -> tuple[object, object]:
    single = api.get(f"/events/{event_id}", headers=headers or {}).json()
    return single["virtual_link"], _link_in_listing(api, single, headers)


def test_join_link_only_for_the_facilitator_and_secured_seats(api):
    owner = new_facilitator(api)
    event = create_event(api, owner, price=400, location=None, virtual_link=LINK)
    assert event["virtual_link"] == LINK  # the facilitator's own answer
    assert _seen_by(api, event["id"]) == (None, None)  # anonymous
    assert _seen_by(api, event["id"], owner.headers) == (LINK, LINK)
    mine = api.get("/facilitator/events", headers=owner.headers).json()["events"]
    assert [e["virtual_link"] for e in mine if e["id"] == event["id"]] == [LINK]

    other_facilitator = new_facilitator(api)
    assert _seen_by(api, event["id"], other_facilitator.headers) == (None, None)
    assert _seen_by(api, event["id"], {"Authorization": "Bearer not-a-token"}) == (None, None)

    # An unpaid hold does not see it, in the event or in its booking; paying reveals it.
    attendee = new_attendee(api)
    held = book(api, attendee, event["id"]).json()["booking"]
    assert _seen_by(api, event["id"], attendee.headers) == (None, None)
    assert api.get(f"/bookings/{held['id']}", headers=attendee.headers).json()["event"]["virtual_link"] is None
    listed = api.get("/bookings", headers=attendee.headers).json()["bookings"]
    assert [b["event"]["virtual_link"] for b in listed if b["id"] == held["id"]] == [None]
    pay_with_sandbox(api, held["booking_reference"])
    assert _seen_by(api, event["id"], attendee.headers) == (LINK, LINK)
    assert api.get(f"/bookings/{held['id']}", headers=attendee.headers).json()["event"]["virtual_link"] == LINK


def test_free_seat_sees_the_link_until_it_is_cancelled(api):
    event = create_event(api, new_facilitator(api), price=0, location=None, virtual_link=LINK)
    attendee = new_attendee(api)
    booking = book(api, attendee, event["id"]).json()["booking"]
    assert _seen_by(api, event["id"], attendee.headers) == (LINK, LINK)
    assert api.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers).status_code == 200
    assert _seen_by(api, event["id"], attendee.headers) == (None, None)
    assert api.get(f"/bookings/{booking['id']}", headers=attendee.headers).json()["event"]["virtual_link"] is None
