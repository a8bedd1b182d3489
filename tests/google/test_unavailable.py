"""Google sign-in switched off (the embedded default), and Google unreachable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from crm_booking.db import read_session
from crm_booking.models import OAuthState
from tests.fakes.oidc_provider import FakeOIDCProvider
from tests.google.conftest import google_env, start_app
from tests.support.servers import free_port

NOT_CONFIGURED = {"error": "Google sign-in is not configured"}


def test_status_reports_disabled_without_configuration(api: httpx.Client) -> None:
    response = api.get("/auth/google/status")
    assert response.status_code == 200 and response.json() == {"enabled": False}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/auth/google", {}),
        ("/auth/google", {"return_to": "/app/"}),
        ("/auth/google/callback", {"code": "abc", "state": "def"}),
        ("/auth/google/callback", {"error": "access_denied", "state": "def"}),
    ],
)
def test_not_configured_answers_a_clear_error(api: httpx.Client, path: str, params: dict[str, str]) -> None:
    response = api.get(path, params=params, follow_redirects=False)

    assert response.status_code == 501
    assert response.json() == NOT_CONFIGURED


def state_count() -> int:
    with read_session() as session:
        return int(session.exec(sa.select(sa.func.count()).select_from(OAuthState)).one()[0])  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def app_without_google_reachable(
    database_url: str, oidc_provider: FakeOIDCProvider, google_clock_file: Path
) -> Iterator[str]:
    nothing_listens = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    env = google_env(oidc_provider, GOOGLE_DISCOVERY_URL=nothing_listens)
    server, url = start_app(database_url, google_clock_file, env, "booking-app-google-unreachable")
    yield url
    server.stop()


def test_unreachable_discovery_is_a_gateway_error_and_stores_nothing(
    app_without_google_reachable: str,
) -> None:
    before = state_count()

    response = httpx.get(f"{app_without_google_reachable}/auth/google", timeout=30)

    assert response.status_code == 502
    assert response.json() == {"error": "Google sign-in is unavailable right now, please try again later"}
    assert state_count() == before
