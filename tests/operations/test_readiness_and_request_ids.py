"""GET /health/ready, and a request id that follows a booking from the Booking app into the CRM."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from tests.notifications.conftest import current_database
from tests.support.api import create_event, new_attendee, new_facilitator
from tests.support.servers import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


def _closed_port_url(scheme: str) -> str:
    return f"{scheme}://127.0.0.1:{free_port()}"


def test_ready_when_every_check_answers_and_503_naming_the_crm_when_it_stops(start_booking, start_crm, tmp_path):
    crm = start_crm({"CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'crm.db'}"})
    app = start_booking(crm.base_url, name="booking-ready", REDIS_URL=REDIS_URL)
    with httpx.Client(base_url=app.base_url, timeout=30) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready",
                                "checks": {"database": "ok", "redis": "ok", "crm": "ok"}}
        assert ready.headers["cache-control"] == "no-store"
        crm.stop()
        down = client.get("/health/ready")
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "not ready"
        assert body["details"] == {"failing": ["crm"]}
        assert body["checks"]["database"] == "ok" and body["checks"]["crm"].startswith("unreachable")
        assert "crm" in body["error"]
        # The plain health answer is unchanged: the process itself is alive.
        assert client.get("/").json()["status"] == "healthy"


def test_503_names_redis_and_the_database_and_says_when_redis_is_not_configured(start_booking, start_crm,
                                                                                tmp_path):
    crm = start_crm({"CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'crm.db'}"})
    without_redis = start_booking(crm.base_url, name="booking-ready-noredis")
    with httpx.Client(base_url=without_redis.base_url, timeout=30) as client:
        answer = client.get("/health/ready")
        assert answer.status_code == 200
        assert answer.json()["checks"]["redis"] == "not configured"
    without_redis.stop()
    broken = start_booking(crm.base_url, name="booking-ready-broken",
                           REDIS_URL=_closed_port_url("redis") + "/0",
                           DATABASE_URL=f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/nothing",
                           JOBS_ENABLED="false")
    with httpx.Client(base_url=broken.base_url, timeout=30) as client:
        answer = client.get("/health/ready")
    assert answer.status_code == 503
    body = answer.json()
    assert body["details"]["failing"] == ["database", "redis"]
    assert body["checks"]["crm"] == "ok"
    assert "postgres" not in json.dumps(body)  # a check says what failed, never the URL or a password


def _json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            lines.append(entry)
    return lines


def test_a_request_id_follows_a_booking_into_the_crm(start_booking, start_crm, tmp_path):
    crm = start_crm({"CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'crm.db'}", "LOG_FORMAT": "json"})
    app = start_booking(crm.base_url, name="booking-request-id", LOG_FORMAT="json")
    request_id = f"trace-{uuid.uuid4().hex}"
    with httpx.Client(base_url=app.base_url, timeout=30) as client:
        event = create_event(client, new_facilitator(client, database_url=current_database()), price=0)
        attendee = new_attendee(client)
        booked = client.post("/bookings", json={"event_id": event["id"]},
                             headers={**attendee.headers, "X-Request-ID": request_id})
        assert booked.status_code == 201
        assert booked.headers["x-request-id"] == request_id
        booking_id = booked.json()["booking"]["id"]

        generated = client.get("/events")
        assert len(generated.headers["x-request-id"]) == 32  # none sent: one is made
        forged_id = '", "level": "CRITICAL'  # would break out of a JSON log line if copied verbatim
        forged = client.get("/events", headers={"X-Request-ID": forged_id})
        assert len(forged.headers["x-request-id"]) == 32
        assert len(client.get("/events", headers={"X-Request-ID": "x" * 101}).headers["x-request-id"]) == 32

    deadline = time.monotonic() + 30
    crm_lines: list[dict] = []
    while time.monotonic() < deadline:
        crm_lines = [e for e in _json_lines(crm.log()) if e.get("request_id") == request_id]
        if any(f"booking {booking_id}" in e["message"] for e in crm_lines):
            break
        time.sleep(0.3)
    assert any(f"booking-{booking_id}-booking_created" in e["message"] for e in crm_lines), crm.log()[-3000:]

    from sqlmodel import Session, select

    from crm_booking.db import engine_for
    from crm_booking.models import OutboxMessage

    with Session(engine_for(current_database())) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.booking_id == booking_id)).one()
    assert row.request_id == request_id and row.status == "sent"

    booking_lines = [e for e in _json_lines(app.log_path.read_text(errors="replace"))
                     if e.get("request_id") == request_id]
    # The access line of the booking request, and the delivery line of its notification.
    assert any("POST /bookings" in e["message"] for e in booking_lines), booking_lines
    assert any("delivered to the CRM" in e["message"] for e in booking_lines), booking_lines
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in booking_lines)
