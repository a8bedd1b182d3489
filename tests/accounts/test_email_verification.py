"""Issue 14: registration sends a verification email through the CRM (checked as the SMTP server
received it); the link confirms the address once; asking again is limited."""

from __future__ import annotations

import httpx

from tests.accounts.conftest import EMAIL_LIMIT, link_in, register, token_of, wait_for_mail
from tests.fakes.smtp_server import FakeSmtpServer
from tests.reliability.conftest import Stack


def test_registration_emails_a_single_use_verification_link(accounts: Stack, client: httpx.Client,
                                                             smtp_server: FakeSmtpServer) -> None:
    account = register(client)
    me = client.get("/profile", headers=account.headers).json()
    assert me["is_verified"] is False
    login = client.post("/auth/login", json={"email": account.email, "password": "password123"})
    assert login.json()["user"]["email_verified"] is False

    [mail] = wait_for_mail(smtp_server, account.email)
    assert mail.message["Subject"] == "Confirm your email address"
    link = link_in(mail, "/app/verify-email")
    assert link.startswith(accounts.url + "/app/verify-email?token=")  # PUBLIC_BASE_URL

    token = token_of(link)
    stored = accounts.rows("SELECT token_hash FROM account_tokens WHERE user_id=:id", id=account.id)
    assert stored and all(row["token_hash"] != token for row in stored)  # only hashes are kept
    verified = client.post("/auth/verify-email", json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json()["user"]["email_verified"] is True
    assert client.get("/profile", headers=account.headers).json()["is_verified"] is True

    again = client.post("/auth/verify-email", json={"token": token})
    assert again.status_code == 400 and "already used" in again.json()["error"]
    # Once delivered, the outbox keeps no copy of the link.
    wait_for = accounts.rows("SELECT payload, status FROM outbox WHERE action='verify_email'")
    assert all(token not in row["payload"] for row in wait_for if row["status"] == "sent")


def test_verification_links_expire(accounts: Stack, client: httpx.Client, smtp_server: FakeSmtpServer,
                                   move_clock) -> None:
    account = register(client)
    token = token_of(link_in(wait_for_mail(smtp_server, account.email)[0], "/app/verify-email"))
    move_clock(48 * 3600 + 60)
    expired = client.post("/auth/verify-email", json={"token": token})
    assert expired.status_code == 400 and expired.json()["error"].startswith("This link is invalid")


def test_bad_tokens_are_400(client: httpx.Client) -> None:
    for token in ("", "nope", "\u00e9" * 40, "x" * 200):
        response = client.post("/auth/verify-email", json={"token": token})
        assert response.status_code == 400 and "error" in response.json()
    assert client.post("/auth/verify-email", json={"token": "x" * 201}).status_code == 400


def test_resend_sends_a_new_link_and_is_limited(accounts: Stack, client: httpx.Client,
                                                smtp_server: FakeSmtpServer) -> None:
    account = register(client)
    wait_for_mail(smtp_server, account.email)
    for _ in range(EMAIL_LIMIT):
        sent = client.post("/auth/verify-email/request", headers=account.headers)
        assert sent.status_code == 200 and sent.json() == {"message": "Verification email sent"}
    limited = client.post("/auth/verify-email/request", headers=account.headers)
    assert limited.status_code == 429 and "error" in limited.json()
    mails = wait_for_mail(smtp_server, account.email, EMAIL_LIMIT + 1)
    newest = token_of(link_in(mails[-1], "/app/verify-email"))
    assert client.post("/auth/verify-email", json={"token": newest}).status_code == 200
    done = client.post("/auth/verify-email/request", headers=account.headers)
    assert done.status_code == 200 and "already verified" in done.json()["message"]
    assert client.post("/auth/verify-email/request").status_code == 401
