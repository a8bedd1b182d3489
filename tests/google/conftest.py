"""Fixtures: a fake OpenID provider on loopback and a Booking app instance configured to use it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.oidc_provider import FakeOIDCProvider, Identity
from tests.support.servers import ServerProcess, booking_app, free_port


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[FakeOIDCProvider]:
    provider = FakeOIDCProvider().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def google_clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This instance's own clock, so moving it cannot disturb the shared `booking_server`."""
    path = tmp_path_factory.mktemp("google-clock") / "offset"
    path.write_text("0")
    return path


def google_env(provider: FakeOIDCProvider, **overrides: str) -> dict[str, str]:
    return {
        "GOOGLE_CLIENT_ID": provider.client_id,
        "GOOGLE_CLIENT_SECRET": provider.client_secret,
        "GOOGLE_DISCOVERY_URL": provider.discovery_url,
        "CRM_URL": "http://127.0.0.1:9",
        "JOBS_ENABLED": "false",
        **overrides,
    }


def start_app(
    database_url: str, clock_file: Path, env: dict[str, str], name: str, port: int | None = None
) -> tuple[ServerProcess, str]:
    port = port or free_port()
    server = booking_app(
        database_url=database_url, port=port, clock_file=clock_file, extra_env=env, name=name
    ).start()
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def google_app(database_url: str, oidc_provider: FakeOIDCProvider, google_clock_file: Path) -> Iterator[str]:
    """The Booking app with Google sign-in pointed at the fake provider; yields its base URL."""
    server, url = start_app(database_url, google_clock_file, google_env(oidc_provider), "booking-app-google")
    yield url
    server.stop()


@pytest.fixture
def provider(oidc_provider: FakeOIDCProvider) -> Iterator[FakeOIDCProvider]:
    """The fake, working, consenting as a person nobody has seen before."""
    oidc_provider.reset()
    suffix = uuid.uuid4().hex[:12]
    oidc_provider.identity = Identity(
        sub=str(int(suffix, 16)),
        email=f"google-{suffix}@example.com",
        name="Gita Google",
        picture=f"https://lh3.googleusercontent.com/a/{suffix}",
    )
    yield oidc_provider
    oidc_provider.reset()


@pytest.fixture
def client(google_app: str) -> Iterator[httpx.Client]:
    # Redirects are followed by hand, so each hop can be checked.
    with httpx.Client(base_url=google_app, timeout=30, follow_redirects=False) as http:
        yield http


@pytest.fixture
def move_clock(google_clock_file: Path) -> Iterator[object]:
    def move(seconds: float) -> None:
        google_clock_file.write_text(str(seconds))

    yield move
    google_clock_file.write_text("0")
