"""POST /test-email, GET /test-gmail-auth, and the no-SMTP mode that saves .eml files."""

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.crm.conftest import SMTP_PASSWORD, SMTP_USER, CrmProcess, notify_payload, unique_email
from tests.fakes.smtp_server import AIOSMTPD_LOGIN_DATA_WARNING, FakeSmtpServer, free_port

pytestmark = pytest.mark.filterwarnings(AIOSMTPD_LOGIN_DATA_WARNING)


def email_request(to_email: str) -> dict[str, str]:
    return {"to_email": to_email, "subject": "Test Email", "html_content": "<h1>Test Email</h1>"}


def test_test_email_is_delivered(crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    recipient = unique_email("tester")
    response = crm_api.post("/test-email", json=email_request(recipient))
    assert response.status_code == 200
    assert response.json() == {"message": "Test email sent successfully", "email_sent": True}
    [received] = smtp.messages_to(recipient)
    assert received.message["Subject"] == "Test Email"
    html = received.message.get_body(preferencelist=("html",))
    assert html is not None and "<h1>Test Email</h1>" in html.get_content()


def test_test_email_reports_smtp_failure_with_502(crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    smtp.accept_logins = False
    response = crm_api.post("/test-email", json=email_request(unique_email("tester")))
    assert response.status_code == 502
    body = response.json()
    assert body["error"] == "Test email could not be sent" and body["email_sent"] is False
    assert SMTP_PASSWORD not in response.text


def test_test_email_lists_missing_fields(crm_api: httpx.Client) -> None:
    response = crm_api.post("/test-email", json={"subject": "x"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Missing required fields",
        "missing_fields": ["to_email", "html_content"],
    }


def test_smtp_login_check_succeeds(crm_api: httpx.Client, smtp: FakeSmtpServer) -> None:
    before = len(smtp.messages)
    response = crm_api.get("/test-gmail-auth")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Gmail authentication successful"
    assert body["authenticated"] is True and body["gmail_user"] == SMTP_USER
    assert len(smtp.messages) == before  # logs in, sends nothing


def test_smtp_login_check_failure_never_shows_the_password(
    crm_api: httpx.Client, smtp: FakeSmtpServer
) -> None:
    smtp.accept_logins = False
    response = crm_api.get("/test-gmail-auth")
    assert response.status_code == 502
    body = response.json()
    assert body["authenticated"] is False
    assert body["error"].startswith("SMTP authentication failed (535)")
    assert SMTP_PASSWORD not in response.text


def test_unreachable_smtp_server_is_a_clear_failure(start_crm: Any) -> None:
    crm = start_crm(
        {
            "CRM_DATABASE_URL": "sqlite:///crm.db",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(free_port()),  # nothing listens there
            "SMTP_USERNAME": SMTP_USER,
            "SMTP_PASSWORD": SMTP_PASSWORD,
        }
    )
    with crm.client() as client:
        response = client.get("/test-gmail-auth")
    assert response.status_code == 502
    assert response.json()["error"].startswith("Could not connect to the SMTP server 127.0.0.1:")


@pytest.fixture(scope="module")
def crm_without_smtp(start_crm: Any) -> Iterator[CrmProcess]:
    """No SMTP_HOST, and SQLite (a relative file in the process's folder) as its database."""
    yield start_crm({"CRM_DATABASE_URL": "sqlite:///crm.db"})


def saved_messages(crm: CrmProcess) -> list[email.message.EmailMessage]:
    outbox = Path(crm.env["EMAIL_OUTBOX_DIR"])
    messages = []
    for path in sorted(outbox.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        messages.append(parsed)
    return messages


def test_without_smtp_emails_are_saved_locally_and_said_so(crm_without_smtp: CrmProcess) -> None:
    payload = notify_payload()
    with crm_without_smtp.client() as client:
        response = client.post("/notify", json=payload)
        listed = client.get("/notifications").json()["notifications"]
    body = response.json()
    assert response.status_code == 200
    assert body["email_sent"] is False and body["status"] == "saved"
    assert "saved locally" in body["message"]
    [row] = [n for n in listed if n["id"] == body["notification_id"]]
    assert row["status"] == "saved" and ".eml" in row["response"]
    recipients = {m["To"] for m in saved_messages(crm_without_smtp)}
    assert {payload["user"]["email"], payload["event"]["facilitator_email"]} <= recipients
    assert "saved to" in crm_without_smtp.log()


def test_without_smtp_the_login_check_says_smtp_is_not_configured(
    crm_without_smtp: CrmProcess,
) -> None:
    with crm_without_smtp.client() as client:
        response = client.get("/test-gmail-auth")
    assert response.status_code == 400
    assert response.json()["authenticated"] is False
    assert "SMTP is not configured" in response.json()["error"]


def test_without_smtp_the_test_email_is_saved_not_sent(crm_without_smtp: CrmProcess) -> None:
    recipient = unique_email("tester")
    with crm_without_smtp.client() as client:
        body = client.post("/test-email", json=email_request(recipient)).json()
    assert body["email_sent"] is False and body["saved_to"].endswith(".eml")
    assert recipient in {m["To"] for m in saved_messages(crm_without_smtp)}
