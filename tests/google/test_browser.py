"""A browser that starts from the web UI ends signed in (HttpOnly session cookie) on the page it
came from, instead of looking at JSON."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

from crm_booking.services import web_sessions
from tests.fakes.oidc_provider import FakeOIDCProvider
from tests.google.conftest import google_env, start_app
from tests.google.flow import sign_in, stored_state, users_matching
from tests.support.servers import free_port


def session_cookie(response: httpx.Response) -> SimpleCookie:
    [header] = [
        h for h in response.headers.get_list("set-cookie") if h.startswith(web_sessions.COOKIE_NAME + "=")
    ]
    cookie = SimpleCookie()
    cookie.load(header)
    return cookie


def test_browser_flow_sets_an_httponly_cookie_and_returns_to_the_page(
    client: httpx.Client, provider: FakeOIDCProvider
) -> None:
    flow = sign_in(client, return_to="/app/events/7?tab=details")

    assert flow.callback.status_code == 302, flow.callback.text
    assert flow.callback.headers["location"] == "/app/events/7?tab=details"
    assert "access_token" not in flow.callback.text
    morsel = session_cookie(flow.callback)[web_sessions.COOKIE_NAME]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert not morsel["secure"]  # PUBLIC_BASE_URL is plain http here
    assert int(morsel["max-age"]) == int(web_sessions.LIFETIME.total_seconds())
    # The cookie is a live session of the account Google vouched for.
    user = web_sessions.user_for_session(morsel.value)
    assert user is not None and user.google_id == provider.identity.sub
    assert stored_state(flow.state).return_to == "/app/events/7?tab=details"  # type: ignore[union-attr]


def test_browser_flow_links_like_the_api_flow(client: httpx.Client, provider: FakeOIDCProvider) -> None:
    provider.identity.hd = provider.identity.email.rsplit("@", 1)[1]  # Google vouches (issue 14)
    registered = client.post(
        "/auth/register",
        json={"email": provider.identity.email, "password": "password123", "name": "Browser Person"},
    )

    flow = sign_in(client, return_to="/app")

    assert flow.callback.status_code == 302 and flow.callback.headers["location"] == "/app"
    user = web_sessions.user_for_session(session_cookie(flow.callback)[web_sessions.COOKIE_NAME].value)
    assert user is not None and user.id == registered.json()["user"]["id"]


def test_browser_flow_failure_sets_no_cookie(client: httpx.Client, provider: FakeOIDCProvider) -> None:
    provider.switches.deny = True

    flow = sign_in(client, return_to="/app/")

    assert flow.callback.status_code == 400
    assert flow.callback.json() == {"error": "Google sign-in was cancelled"}
    assert "set-cookie" not in flow.callback.headers
    assert users_matching(email=provider.identity.email, google_id=provider.identity.sub) == []


@pytest.fixture(scope="module")
def https_app(database_url: str, oidc_provider: FakeOIDCProvider, google_clock_file: Path) -> Iterator[str]:
    """Published under https (behind a TLS proxy); the callback still reaches it on loopback."""
    port = free_port()
    env = google_env(
        oidc_provider,
        PUBLIC_BASE_URL="https://booking.example.test",
        GOOGLE_REDIRECT_URL=f"http://127.0.0.1:{port}/auth/google/callback",
    )
    server, url = start_app(database_url, google_clock_file, env, "booking-app-google-https", port=port)
    yield url
    server.stop()


def test_cookie_is_secure_when_the_site_is_https(https_app: str, provider: FakeOIDCProvider) -> None:
    with httpx.Client(base_url=https_app, timeout=30) as http:
        flow = sign_in(http, return_to="/app/my-bookings")

    assert flow.callback.status_code == 302
    assert flow.callback.headers["location"] == "/app/my-bookings"
    assert session_cookie(flow.callback)[web_sessions.COOKIE_NAME]["secure"] is True
