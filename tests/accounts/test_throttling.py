"""Issue 14, defects 2 and 3: sign-in throttling counted before the password is checked, per
(address, client IP) with growing delays; registrations limited per client address; unverified
accounts hold at most one unpaid seat."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.accounts.conftest import REGISTRATION_LIMIT, client_address, register
from tests.reliability.conftest import Stack
from tests.support import api as client_api


def _login(accounts: Stack, email: str, password: str, address: str) -> httpx.Response:
    with accounts.client(headers={"X-Forwarded-For": address}) as http:
        return http.post("/auth/login", json={"email": email, "password": password})


def test_concurrent_wrong_passwords_are_counted_before_checking(accounts: Stack, client: httpx.Client,
                                                                 address: str) -> None:
    owner = register(client)
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: _login(accounts, owner.email, "wrong-password", address),
                                range(12)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(401) == 5 and codes.count(429) == 7, codes
    assert all("Too many" in a.json()["error"] for a in answers if a.status_code == 429)
    # The stranger's address waits; the owner signing in from anywhere else does not.
    assert _login(accounts, owner.email, client_api.PASSWORD, address).status_code == 429
    assert _login(accounts, owner.email, client_api.PASSWORD, client_address()).status_code == 200


def test_delays_grow_with_each_further_failure(accounts: Stack, client: httpx.Client, address: str,
                                               move_clock) -> None:
    owner = register(client)
    for _ in range(5):
        assert _login(accounts, owner.email, "wrong-password", address).status_code == 401
    first = _login(accounts, owner.email, "wrong-password", address)
    assert first.status_code == 429 and 0 < first.json()["retry_after_seconds"] <= 31
    move_clock(31)
    assert _login(accounts, owner.email, "wrong-password", address).status_code == 401  # checked again
    second = _login(accounts, owner.email, "wrong-password", address)
    assert second.status_code == 429 and 31 < second.json()["retry_after_seconds"] <= 61
    move_clock(61)
    assert _login(accounts, owner.email, client_api.PASSWORD, address).status_code == 200
    # A success clears the counter for that address.
    assert _login(accounts, owner.email, "wrong-password", address).status_code == 401


def test_registrations_are_limited_per_client_address(accounts: Stack, client: httpx.Client) -> None:
    taken = register(client)
    duplicate = client.post("/auth/register", json={"email": taken.email, "password": client_api.PASSWORD,
                                                    "name": "Again"})
    assert duplicate.status_code == 400  # refused registrations are not counted
    for _ in range(REGISTRATION_LIMIT - 1):
        register(client)
    refused = client.post("/auth/register", json={"email": client_api.unique_email("acct"),
                                                  "password": client_api.PASSWORD, "name": "One too many"})
    assert refused.status_code == 429 and "Too many new accounts" in refused.json()["error"]
    with accounts.client(headers={"X-Forwarded-For": client_address()}) as elsewhere:
        register(elsewhere)


def test_unverified_account_holds_one_unpaid_seat(accounts: Stack, client: httpx.Client) -> None:
    facilitator = client_api.new_attendee(client)
    accounts.execute("UPDATE users SET role='facilitator', is_verified=true WHERE id=:id", id=facilitator.id)
    facilitator = client_api.login(client, facilitator.email)
    paid = [accounts.event(client, facilitator, price=50) for _ in range(2)]
    free = accounts.event(client, facilitator, price=0)
    attendee = register(client)
    assert client_api.book(client, attendee, paid[0]["id"]).status_code == 201
    refused = client_api.book(client, attendee, paid[1]["id"])
    assert refused.status_code == 429 and "verify your email" in refused.json()["error"]
    assert client_api.book(client, attendee, free["id"]).status_code == 201
    accounts.execute("UPDATE users SET is_verified=true WHERE id=:id", id=attendee.id)
    assert client_api.book(client, attendee, paid[1]["id"]).status_code == 201
