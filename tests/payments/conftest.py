"""Payments tests: the Booking app as a real process, with the real `razorpay` client pointed
at a fake Razorpay on loopback, on a database of its own (so no other test server's background
jobs ever touch these refunds), and a clock of its own to lapse seat holds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import _drop_database, _throwaway_database
from tests.fakes.razorpay_server import FakeRazorpay
from tests.support import api as client_api
from tests.support.servers import booking_app, free_port

TIMEOUT_SECONDS = 1.0
HOLD_MINUTES = 15


@dataclass
class App:
    url: str
    client: httpx.Client
    db: sa.Engine
    clock_file: Path

    def lapse_holds(self) -> None:
        """Move the server's clock past every hold made before now."""
        self.clock_file.write_text(str((HOLD_MINUTES + 1) * 60))

    def reset_clock(self) -> None:
        self.clock_file.write_text("0")

    def facilitator(self) -> client_api.Account:
        """Made the way an admin makes one: an account whose role is raised in the database."""
        account = client_api.new_attendee(self.client, name="Pay Facilitator")
        with self.db.begin() as conn:
            conn.execute(sa.text("UPDATE users SET role='facilitator' WHERE id=:id"),
                         {"id": account.id})
        return client_api.login(self.client, account.email)

    def attendee(self) -> client_api.Account:
        return client_api.new_attendee(self.client)

    def event(self, facilitator: client_api.Account, **overrides: Any) -> dict[str, Any]:
        return client_api.create_event(self.client, facilitator, **overrides)

    def book(self, attendee: client_api.Account, event_id: int) -> dict[str, Any]:
        response = client_api.book(self.client, attendee, event_id)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def booking(self, attendee: client_api.Account, booking_id: int) -> dict[str, Any]:
        response = self.client.get(f"/bookings/{booking_id}", headers=attendee.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]

    def wait_for(self, condition: Callable[[], Any], timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"condition not met within {timeout}s")


def _own_database() -> Iterator[tuple[str, sa.Engine]]:
    from crm_booking.launcher import migrate

    url, name = _throwaway_database("payments_test")
    migrate(url)
    engine = sa.create_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        assert name is not None
        _drop_database(name)


@pytest.fixture(scope="session")
def fake_razorpay() -> Iterator[FakeRazorpay]:
    fake = FakeRazorpay().start()
    yield fake
    fake.stop()


def start_app(tmp_path_factory: pytest.TempPathFactory, name: str,
           env: dict[str, str]) -> Iterator[App]:
    for url, engine in _own_database():
        clock_file = tmp_path_factory.mktemp(f"{name}-clock") / "offset"
        clock_file.write_text("0")
        port = free_port()
        server = booking_app(
            database_url=url, port=port, clock_file=clock_file, name=name,
            extra_env={"CRM_URL": "http://127.0.0.1:9", "JOBS_ENABLED": "true",
                       "BOOKING_HOLD_MINUTES": str(HOLD_MINUTES),
                       "MAX_ACTIVE_HOLDS_PER_USER": "50",
                       # Tests make payments nobody reports on purpose; only the tests of the
                       # reconcile job (test_unreported_payments.py) let it run often.
                       "PAYMENT_RECONCILE_INTERVAL_SECONDS": "86400",
                       # Refund retries back off from seconds, not the default half-minute.
                       "REFUND_RETRY_BASE_SECONDS": "1", "REFUND_RETRY_MAX_SECONDS": "2", **env},
        ).start()
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                yield App(f"http://127.0.0.1:{port}", client, engine, clock_file)
        finally:
            server.stop()


@pytest.fixture(scope="session")
def razorpay_app(tmp_path_factory: pytest.TempPathFactory,
                 fake_razorpay: FakeRazorpay) -> Iterator[App]:
    yield from start_app(tmp_path_factory, "booking-app-razorpay",
                      fake_razorpay.env(RAZORPAY_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS)))


@pytest.fixture(scope="session")
def rotated_app(tmp_path_factory: pytest.TempPathFactory,
                fake_razorpay: FakeRazorpay) -> Iterator[App]:
    """Mid-rotation of the webhook secret: a new current secret, the fake's as the previous."""
    yield from start_app(tmp_path_factory, "booking-app-rotated", fake_razorpay.env(
        RAZORPAY_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS),
        RAZORPAY_WEBHOOK_SECRET="the-new-webhook-secret-after-rotation",
        RAZORPAY_WEBHOOK_SECRET_PREVIOUS=fake_razorpay.webhook_secret))


@pytest.fixture(scope="session")
def sandbox_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from start_app(tmp_path_factory, "booking-app-sandbox",
                      {"RAZORPAY_KEY_ID": "", "RAZORPAY_KEY_SECRET": ""})


@pytest.fixture
def app(razorpay_app: App, fake_razorpay: FakeRazorpay) -> Iterator[App]:
    fake_razorpay.reset()
    razorpay_app.reset_clock()
    yield razorpay_app
    fake_razorpay.reset()
    razorpay_app.reset_clock()


@pytest.fixture
def sandbox(sandbox_app: App) -> Iterator[App]:
    sandbox_app.reset_clock()
    yield sandbox_app
