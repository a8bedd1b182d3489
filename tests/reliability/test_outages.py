"""Guarantee 5: dependency outages. The app keeps answering, cleanly, and loses nothing.

- PostgreSQL restarted under load: every answer is a normal one or a 503 in the error shape
  (never a 500, never a hang), and the app serves again by itself afterwards.
- CRM down: bookings still succeed; the notifications wait and arrive once it is back.
- SMTP down: the CRM still answers and records the failure.
- Razorpay not answering: a booking still answers quickly with its payment_url; a cancel answers
  with the refund pending, and the refund is completed later exactly once.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.crm.conftest import CrmProcess, notify_payload
from tests.fakes.razorpay_server import FakeRazorpay
from tests.fakes.smtp_server import free_port
from tests.reliability.conftest import Stack, wait_for
from tests.support import api as client_api

PG_VERSION = sorted(os.listdir("/etc/postgresql"))[-1]  # the local cluster the tests use


def _restart_postgres() -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "restart"],
                   check=True, capture_output=True, timeout=60)


def _load(stack: Stack, stop: threading.Event, answers: list[tuple[str, int, Any]],
          attendee: client_api.Account, event_id: int) -> None:
    with httpx.Client(base_url=stack.url, timeout=15) as http:
        while not stop.is_set():
            for method, path, body in (("GET", "/events", None), ("GET", "/bookings", None),
                                       ("POST", "/bookings", {"event_id": event_id})):
                try:
                    answer = http.request(method, path, json=body, headers=attendee.headers)
                    answers.append((path, answer.status_code, answer.json()))
                except httpx.TimeoutException:
                    answers.append((path, -1, "timed out"))
            time.sleep(0.05)


def test_postgres_restart_answers_503_then_recovers(rel: Stack, client: httpx.Client) -> None:
    facilitator = rel.facilitator(client)
    event = rel.event(client, facilitator, price=0, max_participants=1000)
    attendees = [rel.attendee(client) for _ in range(4)]
    answers: list[tuple[str, int, Any]] = []
    stop = threading.Event()
    with ThreadPoolExecutor(len(attendees)) as pool:
        for attendee in attendees:
            pool.submit(_load, rel, stop, answers, attendee, event["id"])
        time.sleep(1.0)
        _restart_postgres()  # the machine's shared server: exactly one quick restart
        time.sleep(2.0)
        stop.set()
    statuses = {status for _, status, _ in answers}
    print("answers during the PostgreSQL restart:",
          {s: sum(1 for a in answers if a[1] == s) for s in sorted(statuses)})
    assert -1 not in statuses, "a request hung during the restart"
    assert statuses <= {200, 201, 400, 503}, statuses
    for _, status, body in answers:
        if status == 503:
            assert body == {"error": "Service temporarily unavailable, please retry"}
    # Recovery without a restart of the app: stale pooled connections are replaced (pre_ping).
    fresh = rel.attendee(client)
    wait_for(lambda: client.get("/events").status_code == 200, timeout=30, what="events answer")
    assert client_api.book(client, fresh, event["id"]).status_code == 201
    assert rel.server.process is not None and rel.server.process.poll() is None


def test_crm_down_bookings_still_succeed_and_arrive_later(rel: Stack, client: httpx.Client,
                                                          rel_crm: CrmProcess) -> None:
    facilitator = rel.facilitator(client)
    event = rel.event(client, facilitator, price=0)
    attendee = rel.attendee(client)
    rel_crm.stop()
    try:
        started = time.monotonic()
        answer = client_api.book(client, attendee, event["id"])
        assert answer.status_code == 201 and time.monotonic() - started < 5
        booking_id = answer.json()["booking"]["id"]
        wait_for(lambda: rel.rows("SELECT attempts, status FROM outbox WHERE booking_id=:b", b=booking_id)
                 [0]["attempts"] >= 1, what="a failed delivery attempt")
        assert rel.rows("SELECT status FROM outbox WHERE booking_id=:b", b=booking_id)[0]["status"] == "pending"
    finally:
        rel_crm.start()
    wait_for(lambda: rel.rows("SELECT status FROM outbox WHERE booking_id=:b", b=booking_id)[0]["status"]
             == "sent", timeout=40, what="delivery after the CRM came back")
    with rel_crm.client() as crm:
        listed = crm.get("/notifications", params={"limit": 500}).json()["notifications"]
    assert [n["booking_id"] for n in listed].count(booking_id) == 1


def test_smtp_down_crm_answers_and_records_the_failure(start_crm: Any) -> None:
    crm = start_crm({"CRM_DATABASE_URL": "sqlite:///crm-smtp-down.db", "SMTP_HOST": "127.0.0.1",
                     "SMTP_PORT": str(free_port()), "SMTP_USERNAME": "u", "SMTP_PASSWORD": "p",
                     "SMTP_TIMEOUT_SECONDS": "2"})
    payload = notify_payload()
    with crm.client() as client:
        started = time.monotonic()
        answer = client.post("/notify", json=payload)
        assert time.monotonic() - started < 10
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == "failed" and body["email_sent"] is False and body["email_error"]
        listed = client.get("/notifications").json()["notifications"]
    [stored] = [n for n in listed if n["booking_id"] == payload["booking_id"]]
    assert stored["status"] == "failed" and stored["response"]


def test_razorpay_timeout_booking_still_answers_with_payment_url(stalled_gateway_app: Stack) -> None:
    stack = stalled_gateway_app
    with stack.client() as client:
        event = stack.event(client, stack.facilitator(client), price=120)
        attendee = stack.attendee(client)
        started = time.monotonic()
        answer = client_api.book(client, attendee, event["id"])
        elapsed = time.monotonic() - started
    assert answer.status_code == 201, answer.text
    assert elapsed < 5, f"booking took {elapsed:.1f}s with a stalled gateway"
    body = answer.json()
    assert body["payment_url"].startswith(f"{stack.url}/pay/{body['booking']['booking_reference']}")
    assert body["booking"]["status"] == "confirmed" and body["booking"]["payment_status"] == "pending"


def test_razorpay_timeout_cancel_answers_with_refund_pending(rel: Stack, client: httpx.Client,
                                                             rel_fake_razorpay: FakeRazorpay) -> None:
    event = rel.event(client, rel.facilitator(client), price=200)
    attendee = rel.attendee(client)
    booking = client_api.book(client, attendee, event["id"]).json()["booking"]
    fields = rel_fake_razorpay.pay(booking["payment_reference"])
    assert client.post("/payment/success", json=fields).status_code == 200
    rel_fake_razorpay.state.refund_delay = 4.0  # the refund is made, the answer comes too late
    try:
        started = time.monotonic()
        cancelled = client.post(f"/bookings/{booking['id']}/cancel", headers=attendee.headers)
        elapsed = time.monotonic() - started
    finally:
        rel_fake_razorpay.reset()
    assert cancelled.status_code == 200, cancelled.text
    assert elapsed < 5
    assert cancelled.json()["refund"]["status"] == "pending"
    # The job finishes it later through the idempotency key: one refund at the gateway.
    wait_for(lambda: rel.rows("SELECT status FROM refunds WHERE booking_id=:b", b=booking["id"])
             [0]["status"] == "processed", timeout=40, what="refund processed")
    assert len(rel_fake_razorpay.refunds_of(fields["razorpay_payment_id"])) == 1

