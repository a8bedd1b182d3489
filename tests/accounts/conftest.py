"""Issue 14: one Booking app with the account limits at small values, delivering its account
emails through a real CRM service to the loopback SMTP server, and signing in with the fake
Google provider. Its own databases, so no other suite's server sends or counts anything here."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.crm.conftest import (  # noqa: F401  (fixtures reused from the CRM suite)
    TOKEN,
    CrmProcess,
    smtp_server,
    start_crm,
)
from tests.fakes.oidc_provider import FakeOIDCProvider
from tests.fakes.razorpay_server import FakeRazorpay
from tests.fakes.smtp_server import FakeSmtpServer, ReceivedMessage
from tests.reliability.conftest import (
    Stack,
    empty_database,
    own_database,
    start_crm_with_mail,
    start_stack,
    wait_for,
)
from tests.support import api as client_api

GOOGLE_SECRET = "acct-google-" + secrets.token_hex(16)
REGISTRATION_LIMIT = 3
EMAIL_LIMIT = 3


@pytest.fixture(scope="session")
def accounts_google() -> Iterator[FakeOIDCProvider]:
    provider = FakeOIDCProvider(client_secret=GOOGLE_SECRET)
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def accounts_crm(start_crm: Any, smtp_server: FakeSmtpServer) -> Iterator[CrmProcess]:  # noqa: F811
    for url in empty_database("crm_accounts"):
        yield start_crm_with_mail(start_crm, url, smtp_server)


@pytest.fixture(scope="session")
def accounts(tmp_path_factory: pytest.TempPathFactory, accounts_crm: CrmProcess,
             accounts_google: FakeOIDCProvider) -> Iterator[Stack]:
    fake = FakeRazorpay().start()
    for database in own_database("booking_accounts"):
        clock_file = tmp_path_factory.mktemp("accounts-clock") / "offset"
        clock_file.write_text("0")
        stack = start_stack(
            name="accounts", database=database, fake=fake, crm=accounts_crm, clock_file=clock_file,
            GOOGLE_CLIENT_ID=accounts_google.client_id, GOOGLE_CLIENT_SECRET=GOOGLE_SECRET,
            GOOGLE_DISCOVERY_URL=accounts_google.discovery_url,
            REGISTRATIONS_PER_ADDRESS_PER_HOUR=str(REGISTRATION_LIMIT),
            UNVERIFIED_MAX_ACTIVE_HOLDS="1", ACCOUNT_EMAILS_PER_HOUR=str(EMAIL_LIMIT),
            LOGIN_DELAY_BASE_SECONDS="30",
        )
        try:
            yield stack
        finally:
            stack.server.stop()
    fake.stop()


def client_address() -> str:
    """A client address of its own per use, so the per-address counters of tests do not mix."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


@pytest.fixture
def address() -> str:
    return client_address()


@pytest.fixture
def client(accounts: Stack, address: str) -> Iterator[httpx.Client]:
    """Requests arrive through the trusted loopback proxy from `address`."""
    with accounts.client(headers={"X-Forwarded-For": address}) as http:
        yield http


@pytest.fixture
def move_clock(accounts: Stack) -> Iterator[Any]:
    def move(seconds: float) -> None:
        current = float(accounts.clock_file.read_text() or 0)
        accounts.clock_file.write_text(str(current + seconds))

    yield move
    accounts.clock_file.write_text("0")


def register(client: httpx.Client, email: str | None = None) -> client_api.Account:
    email = email or client_api.unique_email("acct")
    response = client.post("/auth/register", json={"email": email, "password": client_api.PASSWORD,
                                                    "name": "Account Tester"})
    assert response.status_code == 201, response.text
    return client_api.login(client, email)


def mails_to(smtp: FakeSmtpServer, address: str) -> list[ReceivedMessage]:
    return smtp.messages_to(address)


def wait_for_mail(smtp: FakeSmtpServer, address: str, count: int = 1,
                  subject: str | None = None) -> list[ReceivedMessage]:
    def received() -> list[ReceivedMessage]:
        return [m for m in smtp.messages_to(address) if subject is None or m.message["Subject"] == subject]

    return wait_for(lambda: (m := received()) and len(m) >= count and m,
                    timeout=60, what=f"{count} email(s) to {address}")


def text_of(message: ReceivedMessage) -> str:
    parts = [message.message] if not message.message.is_multipart() else list(message.message.walk())
    texts = []
    for part in parts:
        if part.get_content_maintype() == "text":
            texts.append(part.get_content())
    return "\n".join(texts)


def link_in(message: ReceivedMessage, path: str) -> str:
    """The first link to `path` in the email (plain text or HTML)."""
    found = re.search(rf"https?://[^\s\"'<>]+{re.escape(path)}[^\s\"'<>]*", text_of(message))
    assert found, f"no link to {path} in:\n{text_of(message)}"
    return found.group(0).replace("&amp;", "&")


def token_of(link: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(link).query)["token"][0]


__all__ = ["TOKEN", "Path", "REGISTRATION_LIMIT", "EMAIL_LIMIT"]
