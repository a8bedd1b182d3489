"""Fixtures: a fresh PostgreSQL database, a loopback SMTP server and the CRM as a real process."""

import itertools
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import pytest
from psycopg2 import sql

from tests.fakes.smtp_server import FakeSmtpServer, free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
SMTP_USER = "crm-bot@example.com"
SMTP_PASSWORD = "Sm7p-Secret-Pa55word"
TOKEN = "test-crm-token-" + secrets.token_hex(8)
# Settings the CRM reads; cleared from the inherited environment so a developer's
# own configuration cannot leak into the service under test.
CRM_ENV_PREFIXES = ("CRM_", "SMTP_", "EMAIL_", "APP_ENV")


class CrmProcess:
    """`python -m crm_service` on a free loopback port, stopped by stop()."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"crm-{self.port}.log"
        self.env = clean_environment() | {"CRM_HOST": "127.0.0.1", "CRM_PORT": str(self.port)} | env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "CrmProcess":
        with self.log_path.open("wb") as log:
            # cwd is a scratch folder so no stray .env file is read.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "crm_service"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self, timeout: float = 90.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"CRM service exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"CRM service did not become healthy:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def clean_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CRM_ENV_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="session")
def crm_database_url() -> Iterator[str]:
    """TEST_CRM_DATABASE_URL if given, else a new crm_test_<random> database dropped at the end."""
    given = os.environ.get("TEST_CRM_DATABASE_URL")
    if given:
        yield given
        return
    name = f"crm_test_{secrets.token_hex(6)}"
    _run_admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        _run_admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _run_admin(statement: sql.Composable) -> None:
    connection = psycopg2.connect(PG_ADMIN_URL)
    try:
        connection.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeSmtpServer]:
    server = FakeSmtpServer(tmp_path_factory.mktemp("smtp"), SMTP_USER, SMTP_PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: FakeSmtpServer) -> Iterator[FakeSmtpServer]:
    """The shared SMTP server, with any switch a test flipped put back afterwards."""
    yield smtp_server
    smtp_server.accept_logins = True
    smtp_server.rejected_recipients.clear()


def smtp_settings(server: FakeSmtpServer) -> dict[str, str]:
    return {
        "SMTP_HOST": server.host,
        "SMTP_PORT": str(server.port),
        "SMTP_USERNAME": SMTP_USER,
        "SMTP_PASSWORD": SMTP_PASSWORD,
        "SMTP_STARTTLS": "true",
        "SMTP_TLS_CA_FILE": str(server.cert_file),
        "SMTP_TIMEOUT_SECONDS": "5",
        "EMAIL_FROM": "CRM Booking <crm@example.com>",
    }


@pytest.fixture(scope="session")
def start_crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Factory: start a CRM process with extra settings; all are stopped at session end."""
    started: list[CrmProcess] = []

    def start(env: dict[str, str]) -> CrmProcess:
        workdir = tmp_path_factory.mktemp("crm")
        defaults = {
            "APP_ENV": "test",
            "CRM_API_TOKEN": TOKEN,
            "EMAIL_OUTBOX_DIR": str(workdir / "outbox"),
        }
        process = CrmProcess(workdir, defaults | env)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope="session")
def crm(start_crm: Any, crm_database_url: str, smtp_server: FakeSmtpServer) -> CrmProcess:
    """The main instance: PostgreSQL and the STARTTLS + AUTH loopback SMTP server."""
    process: CrmProcess = start_crm({"CRM_DATABASE_URL": crm_database_url} | smtp_settings(smtp_server))
    return process


@pytest.fixture
def crm_api(crm: CrmProcess) -> Iterator[httpx.Client]:
    """A client for the main CRM instance, with the token (the root `api` is the Booking app)."""
    with crm.client() as client:
        yield client


_booking_ids = itertools.count(int(time.time()) % 1_000_000 * 1000)


def unique_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


def notify_payload(action: str = "booking_created", **overrides: Any) -> dict[str, Any]:
    """A complete payload as the Booking app sends it; unique booking and addresses."""
    booking_id = next(_booking_ids)
    payload: dict[str, Any] = {
        "booking_id": booking_id,
        "booking_reference": f"BK-{booking_id}",
        "idempotency_key": f"booking-{booking_id}-{action}-{uuid.uuid4().hex[:6]}",
        "action": action,
        "user": {"id": 7, "name": "Asha Rao", "email": unique_email("attendee")},
        "event": {
            "id": 3,
            "title": "Morning Yoga",
            "facilitator_id": 2,
            "facilitator_name": "Ravi Kumar",
            "facilitator_email": unique_email("facilitator"),
            "start_datetime": "2026-03-14T04:30:00+00:00",
            "end_datetime": "2026-03-14T06:00:00+00:00",
            "timezone": "Asia/Kolkata",
            "location": "Studio 1, Bengaluru",
            "virtual_link": "https://meet.example.com/yoga",
        },
        "amount": 1500.0,
        "currency": "INR",
        "status": "confirmed",
        "payment_status": "completed",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(payload.get(key), dict):
            payload[key] = payload[key] | value
        else:
            payload[key] = value
    return payload
