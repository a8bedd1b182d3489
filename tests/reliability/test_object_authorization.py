"""Guarantees 2 and 3: broken object-level authorization and token edge cases.

The routes that take an object identifier are read from the app's own route table, and every
one must have an entry in EXPECTED. A new endpoint with a path parameter and no entry fails
`test_every_route_with_an_identifier_has_an_expectation`, so it cannot ship without this check.

Documented choices (docs/decisions/reliability.md): someone else's booking answers 404, exactly
like a missing one (no existence oracle); a facilitator's event is public to read, and every
write or facilitator view of it by anyone else answers 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from tests.reliability.conftest import Stack
from tests.support import api as client_api

PUBLIC = "public"  # anyone may call it; the answer must be the same as the owner's
# Anyone signed in may do it to someone else's object, and it creates only the caller's own
# (buying a class pass on sale: the purchase is the buyer's, the product stays the seller's).
OPEN = "open"


@dataclass(frozen=True)
class Expected:
    other_attendee: int | str
    other_facilitator: int | str


# (method, path) -> what a second attendee and a second facilitator get for someone else's object.
EXPECTED: dict[tuple[str, str], Expected] = {
    ("GET", "/events/{event_id}"): Expected(PUBLIC, PUBLIC),
    ("PUT", "/events/{event_id}"): Expected(403, 403),
    ("DELETE", "/events/{event_id}"): Expected(403, 403),
    ("GET", "/bookings/{booking_id}"): Expected(404, 404),
    ("POST", "/bookings/{booking_id}/cancel"): Expected(404, 404),
    ("GET", "/facilitator/events/{event_id}/bookings"): Expected(403, 403),
    ("POST", "/facilitator/events/{event_id}/cancel"): Expected(403, 403),
    ("GET", "/facilitator/events/{event_id}/refunds"): Expected(403, 403),
    # Issue 13: retrying a refund is for the event's facilitator (or an admin) only.
    ("POST", "/facilitator/events/{event_id}/refunds/{refund_id}/retry"): Expected(403, 403),
    # The checkout page is reached by a signed link, not a login: without the link's token the
    # reference alone opens nothing.
    ("GET", "/pay/{reference}"): Expected(404, 404),
    ("POST", "/pay/{reference}/sandbox"): Expected(404, 404),
    # Issue 15: calendar file and receipts are the booking's (404 like the booking itself); the
    # emailed receipt link needs its token; covers are the event owner's to change.
    ("GET", "/bookings/{booking_id}/calendar.ics"): Expected(404, 404),
    ("GET", "/bookings/{booking_id}/receipts"): Expected(404, 404),
    ("GET", "/bookings/{booking_id}/receipts/{number}"): Expected(404, 404),
    ("GET", "/receipts/{reference}"): Expected(404, 404),
    ("PUT", "/events/{event_id}/cover"): Expected(403, 403),
    ("DELETE", "/events/{event_id}/cover"): Expected(403, 403),
    # Pictures are public files named by random ids; an unknown name is a 404 for everyone.
    ("GET", "/media/covers/{file_name}"): Expected(404, 404),
    # The event page (HTML with its share tags) is public like the event.
    ("GET", "/app/events/{event_id}"): Expected(PUBLIC, PUBLIC),
    ("GET", "/app/events/{event_id}/"): Expected(PUBLIC, PUBLIC),
    # Issue 18: check-in, messages and duplicating are the event owner's (403, before the body
    # is looked at).
    ("POST", "/facilitator/events/{event_id}/check-in"): Expected(403, 403),
    ("DELETE", "/facilitator/events/{event_id}/check-in/{booking_id}"): Expected(403, 403),
    ("POST", "/facilitator/events/{event_id}/messages/preview"): Expected(403, 403),
    ("POST", "/facilitator/events/{event_id}/messages"): Expected(403, 403),
    ("GET", "/facilitator/events/{event_id}/messages"): Expected(403, 403),
    ("POST", "/facilitator/events/{event_id}/duplicate"): Expected(403, 403),
    # Issue 16: the cancel quote is the booking's (404 like the booking itself).
    ("GET", "/bookings/{booking_id}/cancel-quote"): Expected(404, 404),
    # Someone else's waitlist entry answers 404 like a missing one; the event's queue is the
    # owner's. Joining/leaving an event's waitlist is open to anyone signed in (the event is
    # public): leaving when not on it is a 404, joining an event with free seats a 400.
    ("POST", "/waitlist/{entry_id}/accept"): Expected(404, 404),
    ("GET", "/facilitator/events/{event_id}/waitlist"): Expected(403, 403),
    ("POST", "/events/{event_id}/waitlist"): Expected(400, 400),
    ("DELETE", "/events/{event_id}/waitlist"): Expected(404, 404),
    # Issue 20: the admin console is for admins only; anyone else hears 403 before any lookup.
    ("POST", "/admin/users/{user_id}/role"): Expected(403, 403),
    ("POST", "/admin/users/{user_id}/deactivate"): Expected(403, 403),
    ("POST", "/admin/users/{user_id}/reactivate"): Expected(403, 403),
    ("POST", "/admin/refunds/{refund_id}/retry"): Expected(403, 403),
    ("POST", "/admin/notifications/{notification_id}/retry"): Expected(403, 403),
    # Issue 17: a series is public to read, like its events; changing someone else's is 403.
    ("GET", "/series/{series_id}"): Expected(PUBLIC, PUBLIC),
    ("PUT", "/facilitator/series/{series_id}"): Expected(403, 403),
    ("POST", "/facilitator/series/{series_id}/cancel"): Expected(403, 403),
    # Issue 17: a pass on sale is public like an event; buying it makes the buyer's purchase.
    ("POST", "/passes/{product_id}/purchase"): Expected(OPEN, OPEN),
}


def routes_with_identifiers() -> set[tuple[str, str]]:
    """Every (method, path) of the app with a path parameter, schema-hidden routes included
    (FastAPI 0.165 nests included routers; iter_route_contexts flattens them with prefixes)."""
    from crm_booking.api import create_api

    found = set()
    for context in iter_route_contexts(create_api().router.routes):
        if "{" in context.path and context.methods:
            found |= {(method, context.path) for method in set(context.methods) - {"HEAD"}}
    assert found, "the route table could not be read"
    return found


def test_every_route_with_an_identifier_has_an_expectation() -> None:
    routes = routes_with_identifiers()
    missing = routes - EXPECTED.keys()
    stale = EXPECTED.keys() - routes
    assert not missing, f"routes taking an id without an object-authorization expectation: {missing}"
    assert not stale, f"expectations for routes that no longer exist: {stale}"


@dataclass
class World:
    owner_facilitator: client_api.Account
    owner_attendee: client_api.Account
    other_attendee: client_api.Account
    other_facilitator: client_api.Account
    event: dict[str, Any]
    booking: dict[str, Any]
    waitlist_entry_id: int
    pass_product_id: int = 0
    series_id: int = 0


@pytest.fixture(scope="module")
def world(rel: Stack) -> World:
    with rel.client() as client:
        owner = rel.facilitator(client, name="Owner Facilitator")
        event = rel.event(client, owner, price=250)
        attendee = rel.attendee(client, name="Owner Attendee")
        created = client_api.book(client, attendee, event["id"])
        assert created.status_code == 201, created.text
        # The owner attendee's place on a full event's waitlist.
        full = rel.event(client, owner, price=0, max_participants=1)
        assert client_api.book(client, rel.attendee(client), full["id"]).status_code == 201
        entry = client.post(f"/events/{full['id']}/waitlist", headers=attendee.headers)
        assert entry.status_code == 201, entry.text
        series = client.post("/facilitator/series", headers=owner.headers, json={
            **client_api.event_payload(price=0), "recurrence": "FREQ=WEEKLY;COUNT=2"})
        assert series.status_code == 201, series.text
        product = client.post("/facilitator/passes", headers=owner.headers, json={
            "name": "Owner's pass", "credits": 3, "valid_days": 30, "price": 300})
        assert product.status_code == 201, product.text
        return World(owner, attendee, rel.attendee(client, name="Other Attendee"),
                     rel.facilitator(client, name="Other Facilitator"), event,
                     created.json()["booking"], entry.json()["waitlist_entry"]["id"],
                     pass_product_id=product.json()["pass_product"]["id"],
                     series_id=series.json()["series"]["id"])


def _url(path: str, world: World) -> str:
    return (path.replace("{event_id}", str(world.event["id"]))
            .replace("{booking_id}", str(world.booking["id"]))
            .replace("{reference}", world.booking["booking_reference"])
            .replace("{number}", "R-000001")
            .replace("{entry_id}", str(world.waitlist_entry_id))
            .replace("{refund_id}", "1")
            .replace("{user_id}", str(world.owner_attendee.id))
            .replace("{notification_id}", "1")
            .replace("{series_id}", str(world.series_id))
            .replace("{product_id}", str(world.pass_product_id)))


def _body(method: str, path: str) -> dict[str, Any] | None:
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("PUT", "/events/{event_id}"): {"title": "Hijacked"},
        ("POST", "/admin/users/{user_id}/role"): {"role": "admin"},
        ("PUT", "/facilitator/series/{series_id}"): {"scope": "all", "title": "Hijacked"},
    }
    return bodies.get((method, path))


def _state(rel: Stack, world: World) -> dict[str, Any]:
    [event] = rel.rows("SELECT title, is_active, cancelled_at, deleted_at, seats_taken FROM events "
                       "WHERE id=:id", id=world.event["id"])
    [booking] = rel.rows("SELECT status, payment_status FROM bookings WHERE id=:id",
                         id=world.booking["id"])
    [attendee] = rel.rows("SELECT role, is_active FROM users WHERE id=:id",
                          id=world.owner_attendee.id)
    series = rel.rows("SELECT title, cancelled_at FROM events WHERE series_id=:id ORDER BY id",
                      id=world.series_id)
    return {"event": event, "booking": booking, "attendee": attendee, "series": series}


@pytest.mark.parametrize("role", ["other_attendee", "other_facilitator"])
@pytest.mark.parametrize("route", sorted(EXPECTED), ids=lambda r: f"{r[0]} {r[1]}")
def test_someone_elses_object_is_refused(rel: Stack, client: httpx.Client, world: World,
                                         route: tuple[str, str], role: str) -> None:
    method, path = route
    expected = getattr(EXPECTED[route], role)
    intruder: client_api.Account = getattr(world, role)
    before = _state(rel, world)
    answer = client.request(method, _url(path, world), json=_body(method, path),
                            headers=intruder.headers)
    if expected == OPEN:
        assert answer.status_code in (200, 201), answer.text
        if "/passes/" in path:
            assert answer.json()["purchase"]["product_id"] == world.pass_product_id
            mine = client.get("/me/passes", headers=world.owner_attendee.headers).json()
            assert mine["passes"] == []  # nothing was bought for, or taken from, anyone else
    elif expected == PUBLIC:
        owner_view = client.request(method, _url(path, world), headers=world.owner_facilitator.headers)
        assert answer.status_code == 200
        if "json" in answer.headers.get("content-type", ""):
            assert answer.json() == owner_view.json()
        else:  # an HTML page
            assert answer.text == owner_view.text
    else:
        assert answer.status_code == expected, answer.text
        if "json" in answer.headers.get("content-type", ""):
            assert isinstance(answer.json().get("error"), str)
    assert _state(rel, world) == before, "a refused request changed the object"


def test_owners_still_reach_their_objects(client: httpx.Client, world: World) -> None:
    """The control: the refusals above are about ownership, not broken ids."""
    own_booking = client.get(f"/bookings/{world.booking['id']}", headers=world.owner_attendee.headers)
    assert own_booking.status_code == 200 and own_booking.json()["id"] == world.booking["id"]
    own_event = client.get(f"/facilitator/events/{world.event['id']}/bookings",
                           headers=world.owner_facilitator.headers)
    assert own_event.status_code == 200
    assert [b["id"] for b in own_event.json()["bookings"]] == [world.booking["id"]]


# --- tokens (the other cases live in tests/api/test_auth.py) -------------------------------------


def test_token_of_a_deleted_user_is_refused(rel: Stack, client: httpx.Client) -> None:
    account = rel.attendee(client, name="Soon Deleted")
    assert client.get("/profile", headers=account.headers).status_code == 200
    rel.execute("DELETE FROM users WHERE id=:id", id=account.id)
    for answer in (client.get("/profile", headers=account.headers),
                   client.get("/bookings", headers=account.headers),
                   client.post("/auth/refresh",
                               headers={"Authorization": f"Bearer {account.refresh_token}"})):
        assert answer.status_code == 401
        assert answer.json() == {"error": "Invalid or expired token"}


def test_token_of_a_deactivated_facilitator_cannot_write(rel: Stack, client: httpx.Client) -> None:
    facilitator = rel.facilitator(client, name="Deactivated Facilitator")
    event = rel.event(client, facilitator)
    rel.execute("UPDATE users SET is_active=false WHERE id=:id", id=facilitator.id)
    answer = client.put(f"/events/{event['id']}", json={"title": "Changed"}, headers=facilitator.headers)
    assert answer.status_code == 401
    assert rel.rows("SELECT title FROM events WHERE id=:id", id=event["id"])[0]["title"] == event["title"]
