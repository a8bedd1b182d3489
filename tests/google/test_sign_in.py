"""Signing in with Google through the full redirect flow: new, returning and linked accounts."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from crm_booking.services.auth import GOOGLE_STATE_LIFETIME
from tests.fakes.oidc_provider import FakeOIDCProvider, Identity
from tests.google.flow import query_of, sign_in, stored_state, users_matching
from tests.support.api import PASSWORD


def test_status_reports_enabled(client: httpx.Client) -> None:
    response = client.get("/auth/google/status")
    assert response.status_code == 200
    assert response.json() == {"enabled": True}


def test_redirect_carries_the_openid_request(
    client: httpx.Client, provider: FakeOIDCProvider, google_app: str
) -> None:
    response = client.get("/auth/google")

    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{provider.base_url}/authorize?")
    params = query_of(location)
    assert params["response_type"] == "code"
    assert params["client_id"] == provider.client_id
    assert params["redirect_uri"] == f"{google_app}/auth/google/callback"
    assert params["scope"] == "openid email profile"
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    stored = stored_state(params["state"])
    assert stored is not None and stored.nonce == params["nonce"] and stored.used_at is None
    assert stored.return_to is None
    assert GOOGLE_STATE_LIFETIME.total_seconds() == 600


def test_two_redirects_get_different_state_and_nonce(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    first = query_of(client.get("/auth/google").headers["location"])
    second = query_of(client.get("/auth/google").headers["location"])
    assert first["state"] != second["state"]
    assert first["nonce"] != second["nonce"]


def test_new_google_user_gets_an_account_and_tokens(client: httpx.Client, provider: FakeOIDCProvider) -> None:
    identity = provider.identity

    flow = sign_in(client)

    assert flow.callback.status_code == 200, flow.callback.text
    assert flow.callback.headers["cache-control"] == "no-store"
    body = flow.callback.json()
    assert set(body) == {"access_token", "refresh_token", "user"}
    assert body["user"] == {
        "id": body["user"]["id"],
        "email": identity.email,
        "name": identity.name,
        "role": "user",
        "email_verified": True,
        "google_id": identity.sub,
        "profile_picture": identity.picture,
    }
    [user] = users_matching(email=identity.email, google_id=identity.sub)
    assert user.password_hash is None and user.is_verified and user.role == "user"
    # The tokens are ordinary tokens of this app.
    profile = client.get("/profile", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert profile.status_code == 200
    assert profile.json()["email"] == identity.email and profile.json()["is_verified"] is True
    refreshed = client.post("/auth/refresh", headers={"Authorization": f"Bearer {body['refresh_token']}"})
    assert refreshed.status_code == 200 and refreshed.json()["user"]["id"] == user.id


def test_the_code_is_exchanged_with_the_client_secret(
    client: httpx.Client, provider: FakeOIDCProvider, google_app: str
) -> None:
    flow = sign_in(client)

    assert flow.callback.status_code == 200
    [exchange] = provider.token_requests
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["code"] == query_of(flow.callback_url)["code"]
    assert exchange["client_id"] == provider.client_id
    assert exchange["client_secret"] == provider.client_secret
    assert exchange["redirect_uri"] == f"{google_app}/auth/google/callback"


def test_returning_google_user_gets_the_same_account(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    first = sign_in(client).callback.json()["user"]
    provider.identity.picture = "https://lh3.googleusercontent.com/a/new-picture"

    second = sign_in(client)

    assert second.callback.status_code == 200
    assert second.callback.json()["user"]["id"] == first["id"]
    assert (
        second.callback.json()["user"]["profile_picture"] == "https://lh3.googleusercontent.com/a/new-picture"
    )
    assert len(users_matching(email=provider.identity.email, google_id=provider.identity.sub)) == 1


def test_returning_user_is_found_by_google_id_even_after_an_email_change(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    first = sign_in(client).callback.json()["user"]
    old_email = provider.identity.email
    provider.identity.email = "renamed-" + old_email

    second = sign_in(client).callback.json()["user"]

    assert second["id"] == first["id"]
    assert second["email"] == old_email  # our account keeps the address it was created with


def test_google_sign_in_links_the_password_account_with_the_same_email(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    identity = provider.identity
    identity.hd = identity.email.rsplit("@", 1)[1]  # a Workspace address: Google vouches (issue 14)
    registered = client.post(
        "/auth/register", json={"email": identity.email, "password": PASSWORD, "name": "Pat Password"}
    )
    assert registered.status_code == 201
    account_id = registered.json()["user"]["id"]

    flow = sign_in(client)

    assert flow.callback.status_code == 200, flow.callback.text
    user = flow.callback.json()["user"]
    assert user["id"] == account_id
    assert user["name"] == "Pat Password"  # linking does not overwrite the profile
    assert user["google_id"] == identity.sub and user["profile_picture"] == identity.picture
    [stored] = users_matching(email=identity.email, google_id=identity.sub)
    assert stored.is_verified


def test_linking_an_unverified_account_evicts_whoever_registered_the_address(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    """Someone registered this address with a password without proving they own it; once its
    real owner signs in with Google, that password and its tokens stop working."""
    identity = provider.identity
    identity.hd = identity.email.rsplit("@", 1)[1]  # a Workspace address: Google vouches (issue 14)
    client.post("/auth/register", json={"email": identity.email, "password": PASSWORD, "name": "Squatter"})
    squatter = client.post("/auth/login", json={"email": identity.email, "password": PASSWORD}).json()
    assert client.get("/profile", headers={"Authorization": f"Bearer {squatter['access_token']}"}).status_code == 200

    flow = sign_in(client)

    assert flow.callback.status_code == 200, flow.callback.text
    owner = flow.callback.json()
    assert client.get("/profile", headers={"Authorization": f"Bearer {owner['access_token']}"}).status_code == 200
    login = client.post("/auth/login", json={"email": identity.email, "password": PASSWORD})
    assert login.status_code == 401 and login.json() == {"error": "Invalid credentials"}
    for token, path in ((squatter["access_token"], "/profile"), (squatter["refresh_token"], "/auth/refresh")):
        method = client.get if path == "/profile" else client.post
        refused = method(path, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401 and refused.json() == {"error": "Invalid or expired token"}


def test_linking_a_verified_account_keeps_its_password(client: httpx.Client, provider: FakeOIDCProvider) -> None:
    from crm_booking.models import Role
    from crm_booking.services import auth

    identity = provider.identity
    account = auth.create_user(email=identity.email, password=PASSWORD, name="Verified Vera", role=Role.USER)

    assert sign_in(client).callback.json()["user"]["id"] == account.id
    login = client.post("/auth/login", json={"email": identity.email, "password": PASSWORD})
    assert login.status_code == 200 and login.json()["user"]["id"] == account.id


def test_email_match_ignores_case(client: httpx.Client, provider: FakeOIDCProvider) -> None:
    identity = provider.identity
    registered = client.post(
        "/auth/register", json={"email": identity.email, "password": PASSWORD, "name": "Case Person"}
    )
    provider.identity = Identity(sub=identity.sub, email=identity.email.upper(), picture=None,
                                 hd=identity.email.rsplit("@", 1)[1])

    user = sign_in(client).callback.json()["user"]

    assert user["id"] == registered.json()["user"]["id"]
    assert user["profile_picture"] is None


def test_password_login_to_a_google_only_account_is_invalid_credentials(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    assert sign_in(client).callback.status_code == 200

    for password in (PASSWORD, "None", "not-the-password"):
        response = client.post("/auth/login", json={"email": provider.identity.email, "password": password})
        assert response.status_code == 401, response.text
        assert response.json() == {"error": "Invalid credentials"}


def test_a_missing_name_falls_back_to_the_email_name(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    provider.identity.name = ""

    user = sign_in(client).callback.json()["user"]

    assert user["name"] == provider.identity.email.split("@")[0]


def test_rotated_provider_keys_are_fetched_again(client: httpx.Client, provider: FakeOIDCProvider) -> None:
    assert sign_in(client).callback.status_code == 200  # the app now has the current JWKS cached
    fetched_before = provider.jwks_requests
    provider.rotate_key()

    flow = sign_in(client)

    assert flow.callback.status_code == 200, flow.callback.text
    assert provider.jwks_requests == fetched_before + 1


def test_the_whole_chain_followed_automatically_ends_in_tokens(
    google_app: str, provider: FakeOIDCProvider
) -> None:
    with httpx.Client(base_url=google_app, follow_redirects=True, timeout=30) as browserless:
        response = browserless.get("/auth/google")

    assert response.status_code == 200, response.text
    assert urlsplit(str(response.url)).path == "/auth/google/callback"
    assert [r.status_code for r in response.history] == [302, 302]
    assert response.json()["user"]["google_id"] == provider.identity.sub


def test_google_issuer_is_accepted_with_and_without_scheme() -> None:
    from crm_booking.gateways.google import _accepted_issuers

    assert _accepted_issuers("https://accounts.google.com") == [
        "https://accounts.google.com",
        "accounts.google.com",
    ]
    assert _accepted_issuers("http://127.0.0.1:8000") == ["http://127.0.0.1:8000"]
