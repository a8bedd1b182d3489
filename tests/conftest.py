"""Shared fixtures: a migrated PostgreSQL database and the Booking app running as a server.

`scripts/test.sh` creates throwaway databases and passes them in TEST_DATABASE_URL and
TEST_CRM_DATABASE_URL; run bare, pytest creates its own and drops it afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx  # noqa: F401  (fixture annotations)
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Playwright


def _throwaway_database(prefix: str) -> tuple[str, str | None]:
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", name


def _drop_database(name: str) -> None:
    import psycopg2

    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


_OWNED_DB: str | None = None
if not os.environ.get("TEST_DATABASE_URL"):
    os.environ["TEST_DATABASE_URL"], _OWNED_DB = _throwaway_database("booking_test")
# The test process itself uses the same database for set-up through the services.
os.environ["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
os.environ.setdefault("JOBS_ENABLED", "false")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _OWNED_DB:
        from crm_booking.db import all_engines

        for engine in all_engines():
            engine.dispose()
        _drop_database(_OWNED_DB)


@pytest.fixture(scope="session")
def database_url() -> str:
    from crm_booking.launcher import migrate

    url = os.environ["TEST_DATABASE_URL"]
    migrate(url)
    return url


@pytest.fixture(scope="session")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("clock") / "offset"
    path.write_text("0")
    yield path


@pytest.fixture(scope="session")
def booking_server(database_url: str, clock_file: Path) -> Iterator[str]:
    """The Booking app on a free port (sandbox payments, no CRM); yields its base URL."""
    from tests.support.servers import booking_app, free_port

    port = free_port()
    server = booking_app(
        database_url=database_url, port=port, clock_file=clock_file,
        extra_env={"CRM_URL": "http://127.0.0.1:9", "JOBS_ENABLED": "true"},
    ).start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def api(booking_server: str) -> Iterator[httpx.Client]:
    import httpx

    with httpx.Client(base_url=booking_server, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """One Playwright driver for the whole run. Its sync API keeps an event loop running in this
    thread for as long as it is open, so a second `sync_playwright()` while the browser tests' one
    is still open is refused: every browser (the browser tests', the deploy test's) comes from here."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright

