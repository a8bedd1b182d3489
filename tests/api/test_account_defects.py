"""Issue 14, reproduced defects on the Booking app: odd input that used to answer 500 (defect 6)
and demo accounts seeded in production (defect 4)."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from sqlmodel import select

from tests.support import api as client_api

HUGE_IDS = (2**63, 2**64 + 7, 10**40)


def _assert_error_shape(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.request.url, response.status_code, response.text)
    assert isinstance(response.json().get("error"), str)


@pytest.mark.parametrize("token", ["é" * 8, "\u20ac" * 32, "tok\u00e9n"])
def test_non_ascii_checkout_token_is_a_404(api: httpx.Client, token: str) -> None:
    facilitator = client_api.new_facilitator(api)
    event = client_api.create_event(api, facilitator, price=100)
    attendee = client_api.new_attendee(api)
    booking = client_api.book(api, attendee, event["id"]).json()["booking"]
    page = api.get(f"/pay/{booking['booking_reference']}", params={"token": token})
    assert page.status_code == 404
    sandbox = api.post(f"/pay/{booking['booking_reference']}/sandbox", params={"token": token})
    _assert_error_shape(sandbox)


@pytest.mark.parametrize("ticket", ["1.2.abc.\u00e9\u00e9", "x.\u20ac", "\u00e9"])
def test_non_ascii_sign_in_ticket_goes_back_to_sign_in(api: httpx.Client, ticket: str) -> None:
    response = api.get("/web/session", params={"ticket": ticket})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/app/login")


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_huge_path_ids_are_4xx(api: httpx.Client, huge: int) -> None:
    facilitator = client_api.new_facilitator(api)
    attendee = client_api.new_attendee(api)
    requests = [
        ("GET", f"/events/{huge}", None),
        ("PUT", f"/events/{huge}", facilitator),
        ("DELETE", f"/events/{huge}", facilitator),
        ("GET", f"/bookings/{huge}", attendee),
        ("POST", f"/bookings/{huge}/cancel", attendee),
        ("GET", f"/bookings/{huge}/receipts", attendee),
        ("GET", f"/facilitator/events/{huge}/bookings", facilitator),
        ("POST", f"/facilitator/events/{huge}/cancel", facilitator),
        ("GET", f"/facilitator/events/{huge}/refunds", facilitator),
    ]
    for method, path, who in requests:
        kwargs: dict = {"headers": who.headers} if who else {}
        if method == "PUT":
            kwargs["json"] = client_api.event_payload()
        response = api.request(method, path, **kwargs)
        _assert_error_shape(response)
    booked = client_api.book(api, attendee, huge)
    _assert_error_shape(booked)


def test_production_never_seeds_demo_data(database_url: str) -> None:
    """`seed` (and `serve`, which calls the same loader) leave a production database alone."""
    from crm_booking.db import read_session
    from crm_booking.models import User

    env = {**os.environ, "APP_ENV": "production", "DATABASE_URL": database_url,
           "JWT_SECRET_KEY": "j" * 40, "CRM_API_TOKEN": "c" * 40,
           "RAZORPAY_KEY_ID": "rzp_live_x", "RAZORPAY_KEY_SECRET": "s", "RAZORPAY_WEBHOOK_SECRET": "w"}
    result = subprocess.run([sys.executable, "-m", "crm_booking", "seed"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "production" in (result.stdout + result.stderr)
    with read_session() as session:
        seeded = session.exec(select(User).where(User.email == "facilitator@example.com")).first()
    assert seeded is None


def test_demo_loader_refuses_in_production(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from crm_booking import demo
    from crm_booking.settings import get_settings

    monkeypatch.setenv("APP_ENV", "production")
    get_settings.cache_clear()
    try:
        assert demo.load_demo_data() == 0
    finally:
        monkeypatch.delenv("APP_ENV")
        get_settings.cache_clear()
    from crm_booking.db import read_session
    from crm_booking.models import User

    with read_session() as session:
        assert session.exec(select(User).where(User.email == "facilitator@example.com")).first() is None
