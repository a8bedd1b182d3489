"""Issue 14: POST /account-email sends the Booking app's verification and reset emails."""

from typing import Any

import httpx

from tests.crm.conftest import unique_email
from tests.fakes.smtp_server import FakeSmtpServer


def _body(**overrides: Any) -> dict[str, Any]:
    return {"to_email": unique_email("account"), "name": "Asha Rao", "kind": "reset_password",
            "link": "https://booking.example/app/reset-password?token=abc", "expires_in": "1 hour"} | overrides


def test_account_email_is_sent_with_its_link(crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    body = _body()
    response = crm_api.post("/account-email", json=body)
    assert response.status_code == 200 and response.json()["status"] == "sent"
    [mail] = smtp.messages_to(body["to_email"])
    assert mail.message["Subject"] == "Reset your password"
    text = mail.message.get_body(("plain",)).get_content()
    assert body["link"] in text and "expires in 1 hour" in text


def test_account_email_refuses_bad_bodies(crm_api: httpx.Client) -> None:
    for bad in (_body(kind="newsletter"), _body(link="javascript:alert(1)"), _body(to_email="not-an-address")):
        response = crm_api.post("/account-email", json=bad)
        assert response.status_code == 400 and "error" in response.json()
    missing = crm_api.post("/account-email", json={"name": "x"})
    assert missing.status_code == 400


def test_account_email_needs_the_token(crm_api: httpx.Client) -> None:
    response = httpx.post(f"{crm_api.base_url}/account-email", json=_body(), timeout=10)
    assert response.status_code == 401
