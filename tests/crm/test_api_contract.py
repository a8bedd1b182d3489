"""The documented HTTP contract: auth, error shapes, listing, deleting and clearing."""

import httpx
import pytest

from tests.crm.conftest import TOKEN, CrmProcess, notify_payload
from tests.fakes.smtp_server import AIOSMTPD_LOGIN_DATA_WARNING

pytestmark = pytest.mark.filterwarnings(AIOSMTPD_LOGIN_DATA_WARNING)

PROTECTED = [
    ("POST", "/notify"),
    ("GET", "/notifications"),
    ("DELETE", "/notifications/1"),
    ("DELETE", "/notifications/clear"),
    ("POST", "/test-email"),
    ("GET", "/test-gmail-auth"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_every_endpoint_requires_the_token(
    crm: CrmProcess, method: str, path: str, token: str | None
) -> None:
    with crm.client(token=token) as client:
        response = client.request(method, path, json={})
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid or expired token"}


def test_non_bearer_scheme_is_refused(crm: CrmProcess) -> None:
    with crm.client(token=None) as client:
        response = client.get("/notifications", headers={"Authorization": f"Basic {TOKEN}"})
    assert response.status_code == 401


def test_health_is_open(crm: CrmProcess) -> None:
    body = httpx.get(f"{crm.base_url}/health").json()
    assert body["status"] == "healthy"
    assert body["database"] == "ok"


def test_missing_fields_are_listed_exactly(crm_api: httpx.Client) -> None:
    response = crm_api.post("/notify", json={"event": {"title": "Yoga", "facilitator_id": 2}})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Missing required fields",
        "missing_fields": ["booking_id", "user", "action"],
    }


def test_missing_nested_fields_are_named_with_their_parent(crm_api: httpx.Client) -> None:
    payload = notify_payload()
    del payload["user"]["email"]
    payload["event"]["title"] = None
    response = crm_api.post("/notify", json=payload)
    assert response.status_code == 400
    assert response.json()["missing_fields"] == ["user.email", "event.title"]


def test_unknown_action_lists_the_allowed_ones(crm_api: httpx.Client) -> None:
    response = crm_api.post("/notify", json=notify_payload(action="booking_teleported"))
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Unknown action"
    assert set(body["allowed_actions"]) == {
        "booking_created",
        "payment_completed",
        "payment_failed",
        "booking_cancelled",
        "hold_expired",
        "late_payment_refunded",
        "event_cancelled",
        "reminder",
        "event_message",
        "event_updated",
        "waitlist_offered",
        "waitlist_offer_expired",
        "waitlist_message",
        "duplicate_payment_refunded",
        "pass_purchased",
        "pass_payment_refunded",
    }


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_body_that_is_not_a_json_object_is_a_validation_error(crm_api: httpx.Client, content: bytes) -> None:
    response = crm_api.post("/notify", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "Validation error"
    assert "body" in response.json()["details"]


def test_wrongly_typed_fields_report_each_field(crm_api: httpx.Client) -> None:
    payload = notify_payload(booking_id="abc")
    payload["user"]["email"] = "not-an-address"
    payload["event"]["timezone"] = "Mars/Olympus"
    payload["event"]["virtual_link"] = "javascript:alert(1)"
    response = crm_api.post("/notify", json=payload)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Validation error"
    assert set(body["details"]) == {
        "booking_id",
        "user.email",
        "event.timezone",
        "event.virtual_link",
    }


def test_nul_characters_are_a_validation_error(crm_api: httpx.Client) -> None:
    """PostgreSQL cannot store NUL: a 400 naming the fields, never a 500."""
    payload = notify_payload(user={"name": "Asha\u0000Rao"})
    response = crm_api.post("/notify", json=payload)
    assert response.status_code == 400
    assert response.json() == {"error": "Validation error",
                               "details": {"user.name": "must not contain NUL characters"}}


def test_oversized_body_is_refused_with_413(crm_api: httpx.Client) -> None:
    response = crm_api.post("/notify", content=b"x" * (300 * 1024))
    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large"}


def test_oversized_chunked_body_is_refused_with_413(crm_api: httpx.Client) -> None:
    chunks = (b"x" * 65536 for _ in range(5))  # no Content-Length: sent chunked
    response = crm_api.post("/notify", content=chunks)
    assert response.status_code == 413


def test_unknown_route_and_wrong_method_use_the_error_shape(crm_api: httpx.Client) -> None:
    missing = crm_api.get("/no-such-thing")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Resource not found"}
    wrong_method = crm_api.put("/notifications")
    assert wrong_method.status_code == 405
    assert set(wrong_method.json()) == {"error"}


def test_paging_limits_are_validated(crm_api: httpx.Client) -> None:
    response = crm_api.get("/notifications", params={"limit": 501})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation error",
        "details": {"limit": "Input should be less than or equal to 500"},
    }


def test_list_is_newest_first_with_paging(crm_api: httpx.Client) -> None:
    ids = [crm_api.post("/notify", json=notify_payload()).json()["notification_id"] for _ in range(3)]
    page = crm_api.get("/notifications", params={"limit": 2}).json()
    assert [n["id"] for n in page["notifications"]] == [ids[2], ids[1]]
    assert page["limit"] == 2 and page["total"] >= 3
    next_page = crm_api.get("/notifications", params={"limit": 2, "offset": 1}).json()
    assert next_page["notifications"][0]["id"] == ids[1]
    newest = page["notifications"][0]
    assert set(newest) == {"id", "booking_id", "action", "status", "created_at", "sent_at", "response"}
    assert newest["status"] == "sent"
    assert newest["response"].startswith("Email sent successfully to ")
    assert newest["sent_at"].endswith("+00:00")


def test_delete_one_notification_then_404(crm_api: httpx.Client) -> None:
    notification_id = crm_api.post("/notify", json=notify_payload()).json()["notification_id"]
    deleted = crm_api.delete(f"/notifications/{notification_id}")
    assert deleted.status_code == 200
    assert deleted.json() == {"message": "Notification deleted successfully"}
    again = crm_api.delete(f"/notifications/{notification_id}")
    assert again.status_code == 404
    assert again.json() == {"error": "Notification not found"}
    listed = [n["id"] for n in crm_api.get("/notifications", params={"limit": 500}).json()["notifications"]]
    assert notification_id not in listed


def test_non_numeric_id_is_not_found(crm_api: httpx.Client) -> None:
    response = crm_api.delete("/notifications/abc")
    assert response.status_code == 404
    assert response.json() == {"error": "Resource not found"}


def test_clear_removes_everything_and_counts(crm_api: httpx.Client) -> None:
    for _ in range(2):
        crm_api.post("/notify", json=notify_payload())
    before = crm_api.get("/notifications").json()["total"]
    response = crm_api.delete("/notifications/clear")
    assert response.status_code == 200
    assert response.json() == {"message": "All notifications cleared", "deleted_count": before}
    assert crm_api.get("/notifications").json() == {
        "notifications": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }


def test_optional_fields_sent_as_null_or_empty_are_accepted(crm_api: httpx.Client) -> None:
    payload = notify_payload(
        event={"location": None, "virtual_link": "", "timezone": None, "facilitator_email": None},
        refund=None,
        reason="",
    )
    response = crm_api.post("/notify", json=payload)
    assert response.status_code == 200, response.text
    assert response.json()["email_sent"] is True
