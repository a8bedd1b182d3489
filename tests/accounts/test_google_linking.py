"""Issue 14: Google sign-in links to an existing account only when its address is verified or
Google vouches for it (email_verified plus a Gmail address or a matching `hd` Workspace claim);
otherwise a refusal that says what to do, and the password is left alone."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from crm_booking.services.auth import GOOGLE_LINK_REFUSED
from tests.accounts.conftest import link_in, register, token_of, wait_for_mail
from tests.fakes.oidc_provider import FakeOIDCProvider, Identity
from tests.fakes.smtp_server import FakeSmtpServer
from tests.google.flow import sign_in
from tests.reliability.conftest import Stack
from tests.support import api as client_api


@pytest.fixture
def google(accounts_google: FakeOIDCProvider) -> Iterator[FakeOIDCProvider]:
    yield accounts_google
    accounts_google.reset()


def _as(google: FakeOIDCProvider, email: str, hd: str | None = None) -> None:
    google.identity = Identity(sub=str(10**20 + secrets.randbelow(10**19)), email=email, hd=hd)


def test_unverified_account_is_not_linked_when_google_does_not_vouch(
        accounts: Stack, client: httpx.Client, google: FakeOIDCProvider) -> None:
    account = register(client)  # an example.com address: not Gmail, no Workspace claim
    _as(google, account.email)
    refused = sign_in(client).callback
    assert refused.status_code == 403 and refused.json() == {"error": GOOGLE_LINK_REFUSED}
    assert accounts.rows("SELECT google_id FROM users WHERE id=:id", id=account.id)[0]["google_id"] is None
    client_api.login(client, account.email)  # the password was left alone
    assert client.get("/profile", headers=account.headers).status_code == 200


def test_hd_of_another_domain_does_not_vouch(accounts: Stack, client: httpx.Client,
                                             google: FakeOIDCProvider) -> None:
    account = register(client)
    _as(google, account.email, hd="elsewhere.example")
    assert sign_in(client).callback.status_code == 403
    client_api.login(client, account.email)


def test_verified_account_is_linked_and_keeps_its_password(accounts: Stack, client: httpx.Client,
                                                           google: FakeOIDCProvider) -> None:
    account = register(client)
    accounts.execute("UPDATE users SET is_verified=true WHERE id=:id", id=account.id)
    _as(google, account.email)
    linked = sign_in(client).callback
    assert linked.status_code == 200 and linked.json()["user"]["id"] == account.id
    client_api.login(client, account.email)


@pytest.mark.parametrize("workspace", [False, True])
def test_vouched_address_is_linked_and_the_owner_is_told_the_password_went(
        accounts: Stack, client: httpx.Client, google: FakeOIDCProvider, smtp_server: FakeSmtpServer,
        workspace: bool) -> None:
    domain = "studio-example.in" if workspace else "gmail.com"
    email = f"owner.{secrets.token_hex(5)}@{domain}"
    squatter = register(client, email)
    _as(google, email, hd=domain if workspace else None)
    linked = sign_in(client).callback
    assert linked.status_code == 200 and linked.json()["user"]["id"] == squatter.id
    assert linked.json()["user"]["email_verified"] is True
    assert client.get("/profile", headers=squatter.headers).status_code == 401
    assert client.post("/auth/login", json={"email": email, "password": client_api.PASSWORD}).status_code == 401
    [notice] = wait_for_mail(smtp_server, email, subject="Your password was removed")
    token = token_of(link_in(notice, "/app/reset-password"))
    chosen = client.post("/auth/reset-password", json={"token": token, "new_password": "owners-own-password"})
    assert chosen.status_code == 200
    client_api.login(client, email, "owners-own-password")
