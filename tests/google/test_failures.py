"""Every way Google sign-in can fail answers a clear error in the documented shape and creates
no account."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from crm_booking.services.auth import INVALID_GOOGLE_STATE
from tests.fakes.oidc_provider import FakeOIDCProvider
from tests.google.flow import go_to_google, query_of, sign_in, stored_state, through_consent, users_matching

INVALID_TOKEN = {"error": "Invalid Google token"}
UNAVAILABLE = {"error": "Google sign-in is unavailable right now, please try again later"}


def assert_nobody_created(provider: FakeOIDCProvider) -> None:
    assert users_matching(email=provider.identity.email, google_id=provider.identity.sub) == []


def test_consent_denied_is_cancelled(client: httpx.Client, provider: FakeOIDCProvider) -> None:
    provider.switches.deny = True

    flow = sign_in(client)

    assert query_of(flow.callback_url)["error"] == "access_denied"
    assert flow.callback.status_code == 400
    assert flow.callback.json() == {"error": "Google sign-in was cancelled"}
    assert provider.token_requests == []
    assert_nobody_created(provider)
    # The trip is over: its state cannot be used for a later callback.
    stored = stored_state(flow.state)
    assert stored is not None and stored.used_at is not None


@pytest.mark.parametrize(
    ("switch", "what"),
    [
        ("wrong_issuer", "issuer"),
        ("wrong_audience", "audience"),
        ("wrong_nonce", "nonce"),
        ("omit_nonce", "missing nonce"),
        ("expired", "expiry"),
        ("bad_signature", "signature"),
        ("unknown_kid", "unknown signing key"),
    ],
)
def test_an_invalid_id_token_is_refused(
    client: httpx.Client, provider: FakeOIDCProvider, switch: str, what: str
) -> None:
    setattr(provider.switches, switch, True)

    flow = sign_in(client)

    assert flow.callback.status_code == 401, f"{what}: {flow.callback.text}"
    assert flow.callback.json() == INVALID_TOKEN
    assert len(provider.token_requests) == 1  # the code was exchanged; the token itself failed
    assert_nobody_created(provider)


@pytest.mark.parametrize("verified", [False, None, "true"])
def test_an_unverified_email_is_refused(
    client: httpx.Client, provider: FakeOIDCProvider, verified: object
) -> None:
    provider.identity.email_verified = verified

    flow = sign_in(client)

    assert flow.callback.status_code == 403, flow.callback.text
    assert flow.callback.json() == {"error": "Your Google account's email address is not verified"}
    assert_nobody_created(provider)


def test_an_unverified_google_email_does_not_link_an_existing_account(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    registered = client.post(
        "/auth/register",
        json={"email": provider.identity.email, "password": "password123", "name": "Existing"},
    )
    provider.identity.email_verified = False

    assert sign_in(client).callback.status_code == 403

    [user] = users_matching(email=provider.identity.email, google_id=provider.identity.sub)
    assert user.id == registered.json()["user"]["id"] and user.google_id is None


@pytest.mark.parametrize("mode", ["drop", "503"])
def test_an_unreachable_token_endpoint_is_a_gateway_error(
    client: httpx.Client, provider: FakeOIDCProvider, mode: str
) -> None:
    provider.switches.token_endpoint = mode

    flow = sign_in(client)

    assert flow.callback.status_code == 502, flow.callback.text
    assert flow.callback.json() == UNAVAILABLE
    assert_nobody_created(provider)


def test_a_code_the_provider_refuses_is_a_bad_request(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    provider.switches.reject_code = True

    flow = sign_in(client)

    assert flow.callback.status_code == 400
    assert flow.callback.json() == {"error": "Google did not accept the sign-in code, please start again"}
    assert_nobody_created(provider)


def test_a_replayed_callback_is_refused(client: httpx.Client, provider: FakeOIDCProvider) -> None:
    flow = sign_in(client)
    assert flow.callback.status_code == 200

    replay = client.get(flow.callback_url)

    assert replay.status_code == 400
    assert replay.json() == {"error": INVALID_GOOGLE_STATE}
    assert len(provider.token_requests) == 1  # refused before any second code exchange


def test_a_used_state_is_refused_even_with_a_fresh_code(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    first = sign_in(client)
    assert first.callback.status_code == 200
    _, second_callback = through_consent(client, go_to_google(client))
    fresh_code = query_of(second_callback)["code"]

    response = client.get("/auth/google/callback", params={"code": fresh_code, "state": first.state})

    assert response.status_code == 400 and response.json() == {"error": INVALID_GOOGLE_STATE}


@pytest.mark.parametrize("state", [None, "", "made-up-state", "x" * 300])
def test_a_missing_or_unknown_state_is_refused(
    client: httpx.Client, provider: FakeOIDCProvider, state: str | None
) -> None:
    _, callback_url = through_consent(client, go_to_google(client))
    params = {"code": query_of(callback_url)["code"]}
    if state is not None:
        params["state"] = state

    response = client.get("/auth/google/callback", params=params)

    assert response.status_code == 400
    assert response.json() == {"error": INVALID_GOOGLE_STATE}
    assert provider.token_requests == []
    assert_nobody_created(provider)


def test_a_state_older_than_ten_minutes_is_refused(
    client: httpx.Client, provider: FakeOIDCProvider, move_clock: Callable[[float], None]
) -> None:
    _, callback_url = through_consent(client, go_to_google(client))
    move_clock(10 * 60 + 5)

    response = client.get(callback_url)

    assert response.status_code == 400
    assert response.json() == {"error": INVALID_GOOGLE_STATE}
    assert_nobody_created(provider)


def test_a_state_younger_than_ten_minutes_is_accepted(
    client: httpx.Client, provider: FakeOIDCProvider, move_clock: Callable[[float], None]
) -> None:
    _, callback_url = through_consent(client, go_to_google(client))
    move_clock(9 * 60)

    assert client.get(callback_url).status_code == 200


def test_a_callback_without_code_is_refused(client: httpx.Client, provider: FakeOIDCProvider) -> None:
    start = go_to_google(client)
    state = query_of(start.headers["location"])["state"]

    response = client.get("/auth/google/callback", params={"state": state})

    assert response.status_code == 400 and response.json() == {"error": "Missing authorization code"}


def test_concurrent_callbacks_with_one_state_sign_in_once(
    google_app: str, provider: FakeOIDCProvider
) -> None:
    with httpx.Client(base_url=google_app, timeout=30) as http:
        _, callback_url = through_consent(http, go_to_google(http))
        browser_cookies = dict(http.cookies)  # one browser sending its callback six times at once
    results: list[int] = []

    def call() -> None:
        with httpx.Client(timeout=30, cookies=browser_cookies) as own:
            results.append(own.get(callback_url).status_code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [200] + [400] * 5
    assert len(users_matching(email=provider.identity.email, google_id=provider.identity.sub)) == 1


def test_an_email_linked_to_another_google_account_is_not_taken_over(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    owner = sign_in(client).callback.json()["user"]
    provider.identity.sub = provider.identity.sub + "0"  # another Google account, same address

    flow = sign_in(client)

    assert flow.callback.status_code == 400
    assert flow.callback.json() == {"error": "This email address is linked to a different Google account"}
    [user] = users_matching(email=provider.identity.email, google_id=provider.identity.sub)
    assert user.id == owner["id"] and user.google_id == owner["google_id"]


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example/app/",
        "//evil.example/app/",
        "/\\evil.example",
        "/admin",
        "/application",
        "/app/../docs",
        "javascript:alert(1)",
        "/app/\nSet-Cookie: x=1",
        "http:/app/",
    ],
)
def test_return_to_outside_the_ui_is_refused(
    client: httpx.Client, provider: FakeOIDCProvider, return_to: str
) -> None:
    response = client.get("/auth/google", params={"return_to": return_to})

    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": "Validation error",
        "details": {"return_to": "Must be a path under /app/"},
    }


def test_a_disabled_account_is_not_signed_in(client: httpx.Client, provider: FakeOIDCProvider) -> None:
    from crm_booking.db import transaction
    from crm_booking.models import User

    user_id = sign_in(client).callback.json()["user"]["id"]
    with transaction() as session:
        user = session.get(User, user_id)
        user.is_active = False
        session.add(user)

    flow = sign_in(client)

    assert flow.callback.status_code == 403
    assert flow.callback.json() == {"error": "This account is disabled"}
