"""Helpers for talking to the running Booking app as a client would."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

PASSWORD = "password123"


@dataclass
class Account:
    id: int
    email: str
    name: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def login(client: httpx.Client, email: str, password: str = PASSWORD) -> Account:
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    return Account(body["user"]["id"], email, body["user"]["name"], body["access_token"],
                   body["refresh_token"])


def new_attendee(client: httpx.Client, name: str = "Test Attendee") -> Account:
    email = unique_email("attendee")
    response = client.post("/auth/register", json={"email": email, "password": PASSWORD, "name": name})
    assert response.status_code == 201, response.text
    return login(client, email)


def new_facilitator(client: httpx.Client, name: str = "Test Facilitator",
                    database_url: str | None = None) -> Account:
    """Facilitators are made by an admin, never by public sign-up: through the service in this
    process, or through the admin CLI when the server under test uses another database."""
    email = unique_email("facilitator")
    if database_url is None:
        from crm_booking.models import Role
        from crm_booking.services import auth

        auth.create_user(email=email, password=PASSWORD, name=name, role=Role.FACILITATOR)
    else:
        subprocess.run(
            [sys.executable, "-m", "crm_booking", "create-user", "--email", email, "--name", name,
             "--role", "facilitator", "--password", PASSWORD],
            env={**os.environ, "DATABASE_URL": database_url}, check=True, capture_output=True,
        )
    return login(client, email)


def event_payload(**overrides: Any) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0, tzinfo=None)
    body: dict[str, Any] = {
        "title": "Test Yoga Session",
        "description": "For tests",
        "event_type": "session",
        "start_datetime": start.isoformat(),
        "end_datetime": (start + timedelta(hours=1)).isoformat(),
        "location": "Studio T",
        "virtual_link": None,
        "max_participants": 10,
        "price": 25.00,
        "currency": "INR",
    }
    body.update(overrides)
    return body


def create_event(client: httpx.Client, facilitator: Account, **overrides: Any) -> dict[str, Any]:
    response = client.post("/events", json=event_payload(**overrides), headers=facilitator.headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["event"])


def book(client: httpx.Client, attendee: Account, event_id: int, notes: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"event_id": event_id}
    if notes is not None:
        body["notes"] = notes
    return client.post("/bookings", json=body, headers=attendee.headers)
