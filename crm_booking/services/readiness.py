"""Readiness: can this worker serve a booking end to end right now? The database, Redis (the UI
state store, when configured) and the CRM service are each asked once, with a short timeout, at
the same time, so a probe never takes longer than the slowest single check."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import sqlalchemy as sa

from crm_booking.db import get_engine
from crm_booking.settings import get_settings

OK = "ok"
NOT_CONFIGURED = "not configured"


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]

    @property
    def failing(self) -> list[str]:
        return [name for name, result in self.checks.items() if result not in (OK, NOT_CONFIGURED)]

    @property
    def ready(self) -> bool:
        return not self.failing


def _problem(error: Exception) -> str:
    # The exception's class, not its text: the text may hold a host name or a password.
    return f"unreachable ({type(error).__name__})"


def check_database() -> str:
    try:
        with get_engine().connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return OK
    except sa.exc.SQLAlchemyError as error:
        return _problem(error)


def check_redis() -> str:
    settings = get_settings()
    if not settings.REDIS_URL:
        return NOT_CONFIGURED
    import redis

    timeout = settings.READINESS_TIMEOUT_SECONDS
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout,
                                      socket_connect_timeout=timeout)
        with client:
            client.ping()
        return OK
    except (redis.RedisError, OSError) as error:
        return _problem(error)


def check_crm() -> str:
    settings = get_settings()
    try:
        answer = httpx.get(f"{settings.CRM_URL.rstrip('/')}/health",
                           timeout=settings.READINESS_TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        return _problem(error)
    return OK if answer.status_code == 200 else f"unhealthy (HTTP {answer.status_code})"


CHECKS = {"database": check_database, "redis": check_redis, "crm": check_crm}


def readiness() -> Readiness:
    with ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="ready") as pool:
        futures = {name: pool.submit(check) for name, check in CHECKS.items()}
        return Readiness({name: future.result() for name, future in futures.items()})
