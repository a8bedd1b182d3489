"""Issue 14: forgot/reset password by a single-use, one-hour link that never reveals whether an
account exists; reset and change end other sessions; sign out everywhere."""

from __future__ import annotations

import httpx

from crm_booking.services import web_sessions
from tests.accounts.conftest import EMAIL_LIMIT, client_address, link_in, register, token_of, wait_for_mail
from tests.fakes.smtp_server import FakeSmtpServer
from tests.reliability.conftest import Stack
from tests.support import api as client_api

NEW_PASSWORD = "a-brand-new-password"


def _forgot(client: httpx.Client, email: str) -> httpx.Response:
    return client.post("/auth/forgot-password", json={"email": email})


def _reset_link(smtp_server: FakeSmtpServer, email: str, count: int = 1) -> str:
    mails = wait_for_mail(smtp_server, email, count, subject="Reset your password")
    return link_in(mails[-1], "/app/reset-password")


def test_forgot_password_answers_the_same_for_unknown_addresses(client: httpx.Client,
                                                                  smtp_server: FakeSmtpServer) -> None:
    account = register(client)
    known = _forgot(client, account.email)
    unknown_address = client_api.unique_email("nobody")
    unknown = _forgot(client, unknown_address)
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    _reset_link(smtp_server, account.email)
    assert smtp_server.messages_to(unknown_address) == []


def test_reset_link_sets_the_password_once_and_ends_every_session(accounts: Stack, client: httpx.Client,
                                                                  smtp_server: FakeSmtpServer) -> None:
    account = register(client)
    accounts.execute("INSERT INTO web_sessions (token_hash, user_id, created_at, expires_at) "
                     "VALUES (:h, :id, now(), now() + interval '1 day')",
                     h=web_sessions.session_digest("a-browser-session"), id=account.id)
    assert _forgot(client, account.email).status_code == 200
    token = token_of(_reset_link(smtp_server, account.email))
    weak = client.post("/auth/reset-password", json={"token": token, "new_password": "short"})
    assert weak.status_code == 400 and "new_password" in weak.json()["details"]

    done = client.post("/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 200, done.text
    for token_value, path in ((account.access_token, "/profile"), (account.refresh_token, "/auth/refresh")):
        method = client.get if path == "/profile" else client.post
        assert method(path, headers={"Authorization": f"Bearer {token_value}"}).status_code == 401
    assert accounts.rows("SELECT count(*) AS n FROM web_sessions WHERE user_id=:id", id=account.id)[0]["n"] == 0
    assert client.post("/auth/login", json={"email": account.email,
                                            "password": client_api.PASSWORD}).status_code == 401
    client_api.login(client, account.email, NEW_PASSWORD)
    reused = client.post("/auth/reset-password", json={"token": token, "new_password": "yet-another-one"})
    assert reused.status_code == 400


def test_reset_links_expire_after_an_hour(client: httpx.Client, smtp_server: FakeSmtpServer,
                                          move_clock) -> None:
    account = register(client)
    _forgot(client, account.email)
    link = _reset_link(smtp_server, account.email)
    assert "expires in 1 hour" in str(wait_for_mail(smtp_server, account.email, subject="Reset your password")[-1].message)
    move_clock(3600 + 30)
    expired = client.post("/auth/reset-password", json={"token": token_of(link), "new_password": NEW_PASSWORD})
    assert expired.status_code == 400
    client_api.login(client, account.email)  # the old password still works


def test_a_newer_reset_leaves_older_links_useless(client: httpx.Client, smtp_server: FakeSmtpServer) -> None:
    account = register(client)
    _forgot(client, account.email)
    first = token_of(_reset_link(smtp_server, account.email))
    _forgot(client, account.email)
    second = token_of(_reset_link(smtp_server, account.email, 2))
    assert client.post("/auth/reset-password", json={"token": second, "new_password": NEW_PASSWORD}).status_code == 200
    assert client.post("/auth/reset-password", json={"token": first, "new_password": "other-password"}).status_code == 400


def test_forgot_password_is_limited_per_address_asked_for(accounts: Stack, client: httpx.Client) -> None:
    target = client_api.unique_email("nobody")  # no account: the limit still applies the same way
    for _ in range(EMAIL_LIMIT):
        assert _forgot(client, target).status_code == 200
    with accounts.client(headers={"X-Forwarded-For": client_address()}) as elsewhere:
        limited = _forgot(elsewhere, target)
    assert limited.status_code == 429 and "error" in limited.json()


def test_change_password_needs_the_current_one_and_ends_other_sessions(client: httpx.Client) -> None:
    account = register(client)
    other_device = client_api.login(client, account.email)
    wrong = client.post("/auth/change-password", headers=account.headers,
                        json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 400 and wrong.json()["error"] == "Current password is incorrect"
    changed = client.post("/auth/change-password", headers=account.headers,
                          json={"current_password": client_api.PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    fresh = changed.json()
    assert client.get("/profile", headers={"Authorization": f"Bearer {fresh['access_token']}"}).status_code == 200
    assert client.post("/auth/refresh", headers={"Authorization": f"Bearer {fresh['refresh_token']}"}).status_code == 200
    for stale in (account, other_device):
        assert client.get("/profile", headers=stale.headers).status_code == 401
    client_api.login(client, account.email, NEW_PASSWORD)


def test_sign_out_everywhere(client: httpx.Client) -> None:
    account = register(client)
    other = client_api.login(client, account.email)
    assert client.post("/auth/logout-all", headers=account.headers).status_code == 200
    for stale in (account, other):
        assert client.get("/profile", headers=stale.headers).status_code == 401
    client_api.login(client, account.email)  # signing in again works
