"""Issue 20, admin console: people, refunds and notifications that need a hand, payments as the
gateway sees them, and the record of what admins did, through the running app (real Razorpay
client against the loopback fake)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fakes.razorpay_server import ApiFailure, FakeRazorpay, RefundFailure
from tests.payments.conftest import App
from tests.support import api as client_api
from tests.support.api import Account


def _admin(app: App) -> Account:
    """Made the documented way: a sign-up promoted with the admin CLI."""
    account = client_api.new_attendee(app.client, name="Console Admin")
    subprocess.run([sys.executable, "-m", "crm_booking", "promote", "--email", account.email,
                    "--role", "admin"],
                   env={**os.environ, "DATABASE_URL": app.db.url.render_as_string(hide_password=False)},
                   check=True, capture_output=True)
    return account  # the role is read per request: the token needs no renewal


def _paid(app: App, fake: FakeRazorpay) -> tuple[Account, dict[str, Any], str]:
    facilitator = app.facilitator()
    event = app.event(facilitator, max_participants=5)
    attendee = app.attendee()
    booking = app.book(attendee, event["id"])["booking"]
    fields = fake.pay(booking["payment_reference"])
    assert app.client.post("/payment/success", json=fields).status_code == 200
    return attendee, booking, fields["razorpay_payment_id"]


def _ok(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _actions(app: App, admin: Account) -> list[dict[str, Any]]:
    return list(_ok(app.client.get("/admin/actions", headers=admin.headers))["actions"])


ROUTES = [("GET", "/admin/users"), ("POST", "/admin/users/1/role"),
          ("POST", "/admin/users/1/deactivate"), ("POST", "/admin/users/1/reactivate"),
          ("GET", "/admin/refunds"), ("POST", "/admin/refunds/1/retry"),
          ("GET", "/admin/notifications"), ("POST", "/admin/notifications/1/retry"),
          ("GET", "/admin/payments"), ("GET", "/admin/actions")]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_only_admins_reach_the_console(app: App, method: str, path: str) -> None:
    anonymous = app.client.request(method, path)
    assert (anonymous.status_code, anonymous.json()) == (401, {"error": "Invalid or expired token"})
    for outsider in (app.attendee(), app.facilitator()):
        refused = app.client.request(method, path, headers=outsider.headers, json={"role": "admin"})
        assert refused.status_code == 403, refused.text
        assert refused.json() == {"error": "Only admins can use the admin console"}


def test_admin_finds_promotes_demotes_deactivates_and_reactivates(app: App) -> None:
    admin = _admin(app)
    person = client_api.new_attendee(app.client, name="Findable Zebedee")
    by_name = _ok(app.client.get("/admin/users", params={"q": "zebedee"}, headers=admin.headers))
    assert [u["id"] for u in by_name["users"]] == [person.id] and by_name["total"] == 1
    by_email = _ok(app.client.get("/admin/users", params={"q": person.email.upper()},
                                  headers=admin.headers))
    assert [u["email"] for u in by_email["users"]] == [person.email]
    paged = _ok(app.client.get("/admin/users", params={"limit": 1, "offset": 1}, headers=admin.headers))
    assert len(paged["users"]) == 1 and paged["total"] >= 2
    wildcard = _ok(app.client.get("/admin/users", params={"q": "%"}, headers=admin.headers))
    assert wildcard["users"] == []  # a % is searched for, not a wildcard

    base = f"/admin/users/{person.id}"
    promoted = _ok(app.client.post(f"{base}/role", json={"role": "facilitator"}, headers=admin.headers))
    assert promoted["user"]["role"] == "facilitator"
    assert client_api.create_event(app.client, person)["id"]  # the new role works at once
    demoted = _ok(app.client.post(f"{base}/role", json={"role": "user"}, headers=admin.headers))
    assert demoted["user"]["role"] == "user"

    assert _ok(app.client.post(f"{base}/deactivate", headers=admin.headers))["user"]["is_active"] is False
    assert app.client.get("/profile", headers=person.headers).status_code == 401
    refreshed = app.client.post("/auth/refresh",
                                headers={"Authorization": f"Bearer {person.refresh_token}"})
    assert refreshed.status_code == 401
    login = app.client.post("/auth/login", json={"email": person.email, "password": client_api.PASSWORD})
    assert login.status_code == 401
    assert _ok(app.client.post(f"{base}/reactivate", headers=admin.headers))["user"]["is_active"] is True
    again = client_api.login(app.client, person.email)
    assert app.client.get("/profile", headers=again.headers).status_code == 200
    assert app.client.get("/profile", headers=person.headers).status_code == 401  # old ones stay ended

    recorded = [(a["action"], a["target_type"], a["target_id"], a["admin"]["email"])
                for a in _actions(app, admin)[:4]]
    assert recorded == [(what, "user", person.id, admin.email)
                        for what in ("reactivate", "deactivate", "demote", "promote")]


def test_admin_cannot_deactivate_or_demote_themselves(app: App) -> None:
    admin = _admin(app)
    for path, body in ((f"/admin/users/{admin.id}/deactivate", None),
                       (f"/admin/users/{admin.id}/role", {"role": "facilitator"})):
        answer = app.client.post(path, json=body, headers=admin.headers)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] in ("You cannot deactivate yourself", "You cannot demote yourself")
    assert app.rows("SELECT role, is_active FROM users WHERE id=:i", i=admin.id) == [
        {"role": "admin", "is_active": True}]
    assert [a["target_id"] for a in _actions(app, admin) if a["target_id"] == admin.id] == []


def test_bad_input_gets_the_documented_shape(app: App) -> None:
    admin = _admin(app)
    wrong_role = app.client.post(f"/admin/users/{admin.id}/role", json={"role": "king"},
                                 headers=admin.headers)
    assert wrong_role.status_code == 400 and "role" in wrong_role.json()["details"]
    missing = app.client.post("/admin/users/999999999/deactivate", headers=admin.headers)
    assert (missing.status_code, missing.json()) == (404, {"error": "User not found"})
    too_many = app.client.get("/admin/users", params={"limit": 1000}, headers=admin.headers)
    assert too_many.status_code == 400 and "limit" in too_many.json()["details"]
    assert app.client.post("/admin/refunds/999999999/retry", headers=admin.headers).status_code == 404
    assert app.client.post("/admin/notifications/999999999/retry", headers=admin.headers).status_code == 404


def test_refused_refund_is_listed_for_every_event_and_retried(app: App, fake_razorpay: FakeRazorpay) -> None:
    admin = _admin(app)
    attendee, booking, payment_id = _paid(app, fake_razorpay)
    fake_razorpay.state.refund_failures.append(RefundFailure())
    assert app.client.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers).status_code == 200
    [refused] = app.rows("SELECT id, status FROM refunds WHERE booking_id=:b", b=booking["id"])
    assert refused["status"] == "failed"

    listed = _ok(app.client.get("/admin/refunds", headers=admin.headers))["refunds"]
    mine = [r for r in listed if r["id"] == refused["id"]]
    assert mine and mine[0]["status"] == "failed" and mine[0]["event"]["id"] == booking["event"]["id"]

    retried = _ok(app.client.post(f"/admin/refunds/{refused['id']}/retry", headers=admin.headers))
    assert retried["refund"]["status"] == "processed"
    assert len(fake_razorpay.refunds_of(payment_id)) == 1
    assert app.booking(attendee, booking["id"])["payment_status"] == "refunded"
    assert refused["id"] not in [r["id"] for r in
                                 _ok(app.client.get("/admin/refunds", headers=admin.headers))["refunds"]]
    again = app.client.post(f"/admin/refunds/{refused['id']}/retry", headers=admin.headers)
    assert (again.status_code, again.json()) == (400, {"error": "This refund has already been processed"})
    assert (_actions(app, admin)[0]["action"], _actions(app, admin)[0]["target_id"]) == (
        "retry_refund", refused["id"])


def test_dead_notification_is_listed_and_queued_again(app: App) -> None:
    admin = _admin(app)
    facilitator = app.facilitator()
    booking = app.book(app.attendee(), app.event(facilitator, price=0)["id"])["booking"]
    [row] = app.rows("SELECT id FROM outbox WHERE booking_id=:b ORDER BY id LIMIT 1", b=booking["id"])
    with app.db.begin() as conn:  # as the delivery worker leaves one the CRM refused for good
        conn.exec_driver_sql("UPDATE outbox SET status='dead', attempts=7, "
                             "next_attempt_at=now() + interval '1 day' WHERE id=%s", (row["id"],))

    dead = _ok(app.client.get("/admin/notifications", headers=admin.headers))
    assert row["id"] in [n["id"] for n in dead["notifications"]]
    retried = _ok(app.client.post(f"/admin/notifications/{row['id']}/retry", headers=admin.headers))
    assert (retried["notification"]["status"], retried["notification"]["attempts"]) == ("pending", 0)
    due = datetime.fromisoformat(retried["notification"]["next_attempt_at"].replace("Z", "+00:00"))
    assert due.replace(tzinfo=UTC) <= datetime.now(UTC)  # due now, not in a day
    # The worker may already have tried it (the CRM of this app is unreachable): still queued.
    assert app.rows("SELECT status FROM outbox WHERE id=:i", i=row["id"]) == [{"status": "pending"}]
    assert row["id"] not in [n["id"] for n in
                             _ok(app.client.get("/admin/notifications", headers=admin.headers))["notifications"]]
    not_dead = app.client.post(f"/admin/notifications/{row['id']}/retry", headers=admin.headers)
    assert not_dead.status_code == 400 and isinstance(not_dead.json()["error"], str)
    latest = _actions(app, admin)[0]
    assert (latest["action"], latest["target_type"], latest["target_id"]) == (
        "retry_notification", "notification", row["id"])


def test_recent_payments_show_their_state_at_the_gateway(app: App, fake_razorpay: FakeRazorpay) -> None:
    admin = _admin(app)
    _, booking, payment_id = _paid(app, fake_razorpay)
    payments = _ok(app.client.get("/admin/payments", headers=admin.headers))["payments"]
    assert payments[0]["razorpay_payment_id"] == payment_id
    assert payments[0]["booking_reference"] == booking["booking_reference"]
    assert (payments[0]["status"], payments[0]["gateway_status"]) == ("captured", "captured")

    fake_razorpay.state.api_failures.append(
        ApiFailure(path_prefix="/v1/payments/", status=503, code="SERVER_ERROR", method="GET"))
    down = _ok(app.client.get("/admin/payments", headers=admin.headers))["payments"]
    assert down and {p["gateway_status"] for p in down} == {"unavailable"}
