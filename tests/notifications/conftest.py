"""The Booking app delivering its outbox to a real CRM service that sends real email."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.crm.conftest import (  # noqa: F401  (fixtures reused from the CRM suite)
    TOKEN,
    smtp_server,
    smtp_settings,
    start_crm,
)
from tests.support.servers import ServerProcess, booking_app, free_port


@pytest.fixture(scope="module")
def outbox_database_url() -> Iterator[str]:
    """Its own database: any running app delivers every pending row of its database, so these
    tests must not share one with the other suites' servers."""
    from crm_booking.launcher import migrate
    from tests.conftest import _drop_database, _throwaway_database

    global _current_url
    url, name = _throwaway_database("booking_outbox")
    migrate(url)
    _current_url = url
    yield url
    from crm_booking.db import engine_for

    engine_for(url).dispose()
    _drop_database(name)


_current_url = ""


@pytest.fixture(scope="module")
def crm_database_url() -> Iterator[str]:
    """A CRM database per module, like the Booking database above: booking ids start at 1 in
    every module, and the CRM keys what it stores by booking id, so a shared CRM database mixed
    one module's notifications into another's assertions."""
    from tests.conftest import _drop_database, _throwaway_database

    url, name = _throwaway_database("crm_outbox")
    yield url
    _drop_database(name)


def current_database() -> str:
    return _current_url


@pytest.fixture
def start_booking(outbox_database_url: str, clock_file: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Factory for Booking app instances; all are stopped when the test ends."""
    started: list[ServerProcess] = []

    def start(crm_url: str, name: str = "booking-outbox", **env: str) -> ServerProcess:
        port = free_port()
        server = booking_app(database_url=outbox_database_url, port=port, clock_file=clock_file, name=name,
                             extra_env={"CRM_URL": crm_url, "CRM_API_TOKEN": TOKEN, "JOBS_ENABLED": "true",
                                        "CRM_TIMEOUT_SECONDS": "3", **env})
        server.base_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def crm_with_mail(start_crm: Any, crm_database_url: str, smtp_server: Any) -> Any:  # noqa: F811
    return start_crm({"CRM_DATABASE_URL": crm_database_url} | smtp_settings(smtp_server))
