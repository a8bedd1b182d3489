"""Guarantees 7 and 8: abuse limits, and secrets that never leave the server; production refuses
development secrets; security headers on pages; CORS closed unless configured.

Every response in this suite is also scanned for secrets as it arrives (conftest's
`scanning_client`); the logs are scanned by test_secrets_in_logs.py, which sorts last.
"""

from __future__ import annotations

import re
import secrets
import subprocess

import httpx
import pytest

from tests.reliability.conftest import MAX_HOLDS, Stack, leaked_secrets
from tests.support import api as client_api
from tests.support.servers import ROOT, free_port

# --- abuse limits ---------------------------------------------------------------------------------


def _from(ip: str) -> dict[str, str]:
    # The app runs with --proxy-headers and trusts the loopback proxy, like a deployment behind
    # one; each test gets an address of its own so the counters do not mix.
    return {"X-Forwarded-For": ip}


def test_login_throttled_per_address_across_many_accounts(rel: Stack, client: httpx.Client) -> None:
    victim = rel.attendee(client)
    address = f"10.66.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    for n in range(20):  # LOGIN_MAX_FAILURES (5) * 4, each on a different account
        wrong = client.post("/auth/login", json={"email": f"guess{n}@example.com", "password": "x" * 8},
                            headers=_from(address))
        assert wrong.status_code == 401
    blocked = client.post("/auth/login", json={"email": victim.email, "password": client_api.PASSWORD},
                          headers=_from(address))
    assert blocked.status_code == 429 and "Too many" in blocked.json()["error"]
    elsewhere = client.post("/auth/login", json={"email": victim.email, "password": client_api.PASSWORD},
                            headers=_from("10.65.0.1"))
    assert elsewhere.status_code == 200


def test_login_throttled_per_account_and_address(client: httpx.Client, rel: Stack) -> None:
    """Issue 14: failures from one address delay that address only, so a stranger guessing
    cannot lock the owner out (tests/accounts/test_throttling.py has the concurrent case)."""
    victim = rel.attendee(client)
    for _ in range(5):
        assert client.post("/auth/login", json={"email": victim.email, "password": "wrong-pass"},
                           headers=_from("10.64.0.1")).status_code == 401
    blocked = client.post("/auth/login", json={"email": victim.email, "password": client_api.PASSWORD},
                          headers=_from("10.64.0.1"))
    assert blocked.status_code == 429
    owner = client.post("/auth/login", json={"email": victim.email, "password": client_api.PASSWORD},
                        headers=_from("10.64.1.1"))
    assert owner.status_code == 200


def test_unpaid_holds_are_capped_per_user(rel: Stack, client: httpx.Client) -> None:
    facilitator = rel.facilitator(client)
    paid = [rel.event(client, facilitator, price=50) for _ in range(MAX_HOLDS + 2)]
    free = rel.event(client, facilitator, price=0)
    attendee = rel.attendee(client)
    held = [client_api.book(client, attendee, event["id"]) for event in paid[:MAX_HOLDS]]
    assert [h.status_code for h in held] == [201] * MAX_HOLDS
    refused = client_api.book(client, attendee, paid[MAX_HOLDS]["id"])
    assert refused.status_code == 429 and "unpaid" in refused.json()["error"]
    assert rel.rows("SELECT seats_taken FROM events WHERE id=:id", id=paid[MAX_HOLDS]["id"])[0]["seats_taken"] == 0
    assert client_api.book(client, attendee, free["id"]).status_code == 201  # free seats need no hold
    first = held[0].json()["booking"]
    fields = rel.fake.pay(first["payment_reference"])
    assert client.post("/payment/success", json=fields).status_code == 200
    assert client_api.book(client, attendee, paid[MAX_HOLDS]["id"]).status_code == 201


def test_request_size_limit(client: httpx.Client) -> None:
    small_enough = client.post("/auth/login", content=b'{"email": "a@b.c", "password": "' + b"p" * 900_000 + b'"}',
                               headers={"Content-Type": "application/json"})
    assert small_enough.status_code == 400  # parsed, refused by the field's own limit
    too_big = client.post("/auth/login", content=b" " * 1_000_001, headers={"Content-Type": "application/json"})
    assert too_big.status_code == 413 and too_big.json() == {"error": "Request body too large"}


# --- secrets -------------------------------------------------------------------------------------


def test_no_secret_or_hash_in_account_responses(rel: Stack, client: httpx.Client) -> None:
    facilitator = rel.facilitator(client)
    event = rel.event(client, facilitator, price=0)
    attendee = rel.attendee(client)
    client_api.book(client, attendee, event["id"])
    answers = [
        client.get("/profile", headers=attendee.headers),
        client.put("/profile", json={"name": "Renamed"}, headers=attendee.headers),
        client.get(f"/facilitator/events/{event['id']}/bookings", headers=facilitator.headers),
        client.post("/auth/refresh", headers={"Authorization": f"Bearer {attendee.refresh_token}"}),
        client.get("/openapi.json"),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert not leaked_secrets(answer.text, rel.fake)
        assert "password" not in answer.text.replace('"password"', "") or answer.request.url.path == "/openapi.json"


def test_no_secret_in_ui_pages_or_their_scripts(rel: Stack, client: httpx.Client) -> None:
    pages = [client.get(path, follow_redirects=True) for path in ("/app/", "/app/login", "/docs")]
    assert all(page.status_code == 200 for page in pages)
    scripts = set(re.findall(r'(?:src|href)="(/app/[^"]+\.js)"', pages[0].text))
    assert scripts, "the UI page names no script to check"
    for script in scripts:
        answer = client.get(script)  # scanned by the client as it arrives
        assert answer.status_code == 200, script
    for page in pages:
        assert not leaked_secrets(page.text, rel.fake)


def test_production_refuses_default_secrets() -> None:
    from crm_booking.launcher import booking_command, booking_env

    env = {k: v for k, v in booking_env({"APP_ENV": "production", "BOOKING_HOST": "127.0.0.1"}).items()
           if not k.startswith(("JWT_", "CRM_API_TOKEN", "RAZORPAY_", "SANDBOX_"))}
    result = subprocess.run(booking_command(port=free_port(), workers=1), cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Refusing to start with APP_ENV=production" in output
    for name in ("JWT_SECRET_KEY", "CRM_API_TOKEN", "RAZORPAY_KEY_ID/RAZORPAY_KEY_SECRET"):
        assert name in output


# --- headers and CORS ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/app/", "/app/login", "/app/my-bookings", "/events", "/docs"])
def test_security_headers_on_pages(client: httpx.Client, path: str) -> None:
    answer = client.get(path)
    assert answer.headers["x-content-type-options"] == "nosniff"
    frame_ancestors = "frame-ancestors" in answer.headers.get("content-security-policy", "")
    assert answer.headers.get("x-frame-options") == "DENY" or frame_ancestors
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_cors_closed_to_unknown_origins(rel: Stack, client: httpx.Client) -> None:
    evil = {"Origin": "https://evil.example"}
    simple = client.get("/events", headers=evil)
    assert "access-control-allow-origin" not in simple.headers
    preflight = client.options("/bookings", headers={**evil, "Access-Control-Request-Method": "POST",
                                                     "Access-Control-Request-Headers": "authorization"})
    assert "access-control-allow-origin" not in preflight.headers
    # With nothing configured only the app's own origin (PUBLIC_BASE_URL) is allowed.
    own = client.get("/events", headers={"Origin": rel.url})
    assert own.headers.get("access-control-allow-origin") == rel.url


def test_cors_open_to_a_configured_origin(stalled_gateway_app: Stack) -> None:
    """That instance runs with CORS_ALLOWED_ORIGINS=https://partner.example."""
    with stalled_gateway_app.client() as client:
        partner = client.options("/bookings", headers={
            "Origin": "https://partner.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization"})
        assert partner.headers.get("access-control-allow-origin") == "https://partner.example"
        stranger = client.get("/events", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers
