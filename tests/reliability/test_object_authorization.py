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
    # The checkout page is reached by a signed link, not a login: without the link's token the
    # reference alone opens nothing.
    ("GET", "/pay/{reference}"): Expected(404, 404),
    ("POST", "/pay/{reference}/sandbox"): Expected(404, 404),
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


@pytest.fixture(scope="module")
def world(rel: Stack) -> World:
    with rel.client() as client:
        owner = rel.facilitator(client, name="Owner Facilitator")
        event = rel.event(client, owner, price=250)
        attendee = rel.attendee(client, name="Owner Attendee")
        created = client_api.book(client, attendee, event["id"])
        assert created.status_code == 201, created.text
        return World(owner, attendee, rel.attendee(client, name="Other Attendee"),
                     rel.facilitator(client, name="Other Facilitator"), event,
                     created.json()["booking"])


def _url(path: str, world: World) -> str:
    return (path.replace("{event_id}", str(world.event["id"]))
            .replace("{booking_id}", str(world.booking["id"]))
            .replace("{reference}", world.booking["booking_reference"]))


def _body(method: str, path: str) -> dict[str, Any] | None:
    return {"title": "Hijacked"} if (method, path) == ("PUT", "/events/{event_id}") else None


def _state(rel: Stack, world: World) -> dict[str, Any]:
    [event] = rel.rows("SELECT title, is_active, cancelled_at, deleted_at, seats_taken FROM events "
                       "WHERE id=:id", id=world.event["id"])
    [booking] = rel.rows("SELECT status, payment_status FROM bookings WHERE id=:id",
                         id=world.booking["id"])
    return {"event": event, "booking": booking}


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
    if expected == PUBLIC:
        owner_view = client.request(method, _url(path, world), headers=world.owner_facilitator.headers)
        assert answer.status_code == 200 and answer.json() == owner_view.json()
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
