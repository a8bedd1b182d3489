"""The reliability suite's own world: a Booking app on a database of its own, talking to a fake
Razorpay, a real CRM service (own database) and a loopback SMTP server, all as real processes.

Every secret is a random value made for this run, so the secret scans (responses, logs, pages)
can look for the exact strings. Every HTTP response the suite's clients receive is scanned as
it arrives (`scanning_client`), so a leak anywhere fails the test that caused it.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import _drop_database, _throwaway_database
from tests.crm.conftest import (  # noqa: F401  (fixtures reused from the CRM suite)
    SMTP_PASSWORD,
    TOKEN,
    CrmProcess,
    smtp_server,
    smtp_settings,
    start_crm,
)
from tests.fakes.oidc_provider import FakeOIDCProvider
from tests.fakes.razorpay_server import FakeRazorpay
from tests.fakes.smtp_server import FakeSmtpServer
from tests.support import api as client_api
from tests.support.servers import LOG_DIR, ServerProcess, booking_app, free_port

JWT_SECRET = "rel-jwt-" + secrets.token_hex(24)
SANDBOX_SECRET = "rel-sandbox-" + secrets.token_hex(16)
GOOGLE_SECRET = "rel-google-" + secrets.token_hex(16)
LOG_PREFIX = "reliability-"
MAX_HOLDS = 3


def secret_values(fake: FakeRazorpay | None = None) -> dict[str, str]:
    """Strings that must never appear in a response, a log line or a page."""
    values = {"JWT_SECRET_KEY": JWT_SECRET, "SANDBOX_PAYMENT_SECRET": SANDBOX_SECRET,
              "CRM_API_TOKEN": TOKEN, "SMTP_PASSWORD": SMTP_PASSWORD,
              "GOOGLE_CLIENT_SECRET": GOOGLE_SECRET,
              "argon2 password hash": "$argon2", "password_hash field": "password_hash"}
    if fake is not None:
        values |= {"RAZORPAY_KEY_SECRET": fake.key_secret,
                   "RAZORPAY_WEBHOOK_SECRET": fake.webhook_secret}
    return values


def leaked_secrets(text: str, fake: FakeRazorpay | None = None) -> list[str]:
    return [name for name, value in secret_values(fake).items() if value in text]


def scanning_client(base_url: str, fake: FakeRazorpay | None = None, **kwargs: Any) -> httpx.Client:
    """An httpx client that fails the test as soon as any response carries a secret."""

    def scan(response: httpx.Response) -> None:
        response.read()
        leaks = leaked_secrets(response.text, fake)
        assert not leaks, f"{response.request.method} {response.request.url} leaked {leaks}"

    return httpx.Client(base_url=base_url, timeout=kwargs.pop("timeout", 30),
                        event_hooks={"response": [scan]}, **kwargs)


def own_database(prefix: str) -> Iterator[tuple[str, sa.Engine]]:
    """A fresh, migrated Booking database dropped afterwards: no other suite's server (and its
    background jobs) ever touches these rows."""
    from crm_booking.launcher import migrate

    url, name = _throwaway_database(prefix)
    migrate(url)
    engine = sa.create_engine(url, pool_pre_ping=True)
    try:
        yield url, engine
    finally:
        engine.dispose()
        assert name is not None
        _drop_database(name)


def empty_database(prefix: str) -> Iterator[str]:
    """A fresh database for a CRM instance (it migrates itself at start-up)."""
    url, name = _throwaway_database(prefix)
    try:
        yield url
    finally:
        assert name is not None
        _drop_database(name)


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} not met within {timeout}s")


@dataclass
class Stack:
    """One Booking app process and what it talks to."""

    url: str
    server: ServerProcess
    db: sa.Engine
    database_url: str
    fake: FakeRazorpay
    crm: CrmProcess | None
    clock_file: Path

    def client(self, **kwargs: Any) -> httpx.Client:
        return scanning_client(self.url, self.fake, **kwargs)

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]

    def execute(self, sql: str, **params: Any) -> None:
        with self.db.begin() as conn:
            conn.execute(sa.text(sql), params)

    def attendee(self, client: httpx.Client, name: str = "Rel Attendee") -> client_api.Account:
        return client_api.new_attendee(client, name=name)

    def facilitator(self, client: httpx.Client, name: str = "Rel Facilitator") -> client_api.Account:
        """Made the way an admin makes one: a sign-up whose role is raised in the database."""
        account = client_api.new_attendee(client, name=name)
        self.execute("UPDATE users SET role='facilitator' WHERE id=:id", id=account.id)
        return client_api.login(client, account.email)

    def event(self, client: httpx.Client, facilitator: client_api.Account,
              **overrides: Any) -> dict[str, Any]:
        return client_api.create_event(client, facilitator, **overrides)


def booking_env(fake: FakeRazorpay, crm: CrmProcess | None, **extra: str) -> dict[str, str]:
    return {
        **fake.env(RAZORPAY_TIMEOUT_SECONDS="2"),
        "JWT_SECRET_KEY": JWT_SECRET,
        "SANDBOX_PAYMENT_SECRET": SANDBOX_SECRET,
        "CRM_URL": crm.base_url if crm else "http://127.0.0.1:9",
        "CRM_API_TOKEN": TOKEN,
        "CRM_TIMEOUT_SECONDS": "3",
        "JOBS_ENABLED": "true",
        "MAX_ACTIVE_HOLDS_PER_USER": str(MAX_HOLDS),
        **extra,
    }


def start_stack(*, name: str, database: tuple[str, sa.Engine], fake: FakeRazorpay,
                crm: CrmProcess | None, clock_file: Path, **extra: str) -> Stack:
    url, engine = database
    port = free_port()
    server = booking_app(database_url=url, port=port, clock_file=clock_file, name=LOG_PREFIX + name,
                         extra_env=booking_env(fake, crm, **extra)).start()
    return Stack(f"http://127.0.0.1:{port}", server, engine, url, fake, crm, clock_file)


def start_crm_with_mail(start_crm: Callable[[dict[str, str]], CrmProcess], database_url: str,  # noqa: F811
                        smtp: FakeSmtpServer, **extra: str) -> CrmProcess:
    return start_crm({"CRM_DATABASE_URL": database_url} | smtp_settings(smtp) | extra)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rel_fake_razorpay() -> Iterator[FakeRazorpay]:
    fake = FakeRazorpay().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def rel_google() -> Iterator[FakeOIDCProvider]:
    provider = FakeOIDCProvider(client_secret=GOOGLE_SECRET)
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def rel_crm(start_crm: Any, smtp_server: FakeSmtpServer) -> Iterator[CrmProcess]:  # noqa: F811
    for url in empty_database("crm_rel"):
        yield start_crm_with_mail(start_crm, url, smtp_server)


@pytest.fixture(scope="session")
def rel(tmp_path_factory: pytest.TempPathFactory, rel_fake_razorpay: FakeRazorpay,
        rel_crm: CrmProcess, rel_google: FakeOIDCProvider) -> Iterator[Stack]:
    """The main instance most reliability tests attack."""
    for database in own_database("booking_rel"):
        clock_file = tmp_path_factory.mktemp("rel-clock") / "offset"
        clock_file.write_text("0")
        stack = start_stack(name="booking", database=database, fake=rel_fake_razorpay,
                            crm=rel_crm, clock_file=clock_file,
                            GOOGLE_CLIENT_ID=rel_google.client_id, GOOGLE_CLIENT_SECRET=GOOGLE_SECRET,
                            GOOGLE_DISCOVERY_URL=rel_google.discovery_url)
        try:
            yield stack
        finally:
            stack.server.stop()


@pytest.fixture
def client(rel: Stack) -> Iterator[httpx.Client]:
    with rel.client() as http:
        yield http


class BlackHole:
    """A TCP server that accepts connections and never answers: a gateway that times out."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="session")
def stalled_gateway_app(tmp_path_factory: pytest.TempPathFactory, rel_fake_razorpay: FakeRazorpay,
                        ) -> Iterator[Stack]:
    """An app whose Razorpay API never answers; also the instance with a configured CORS origin."""
    hole = BlackHole()
    for database in own_database("booking_stalled"):
        clock_file = tmp_path_factory.mktemp("stalled-clock") / "offset"
        clock_file.write_text("0")
        stack = start_stack(name="stalled-gateway", database=database, fake=rel_fake_razorpay,
                            crm=None, clock_file=clock_file, RAZORPAY_API_URL=hole.url,
                            RAZORPAY_TIMEOUT_SECONDS="1",
                            CORS_ALLOWED_ORIGINS="https://partner.example")
        try:
            yield stack
        finally:
            stack.server.stop()
    hole.close()


def reliability_logs() -> list[Path]:
    return sorted(LOG_DIR.glob(f"{LOG_PREFIX}*.log"))
