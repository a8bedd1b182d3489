"""The unexpected-error path: 500 in the documented shape, no stack trace, and 503 when the
database is unreachable. A route that fails on purpose is added to the real API app."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg2
import sqlalchemy as sa

from crm_booking.api import create_api


def _get(path: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=_app_with_failing_routes(), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    # In a thread of its own: the browser tests' Playwright keeps an event loop on this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, call()).result()


def _app_with_failing_routes():
    api = create_api()

    @api.get("/__boom")
    def boom() -> dict:
        raise RuntimeError("secret internal detail")

    @api.get("/__db_down")
    def db_down() -> dict:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    @api.get("/__driver_down")
    def driver_down() -> dict:
        # What SQLAlchemy let through unwrapped when a connection died while being returned.
        raise psycopg2.OperationalError("server closed the connection unexpectedly")

    return api


def test_unexpected_error_is_500_without_details():
    response = _get("/__boom")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error", "message": "Something went wrong"}
    assert "secret internal detail" not in response.text and "Traceback" not in response.text


def test_database_outage_is_503_with_retry_after():
    response = _get("/__db_down")
    assert response.status_code == 503
    assert response.json() == {"error": "Service temporarily unavailable, please retry"}
    assert response.headers["retry-after"] == "2"


def test_database_driver_error_that_escaped_sqlalchemy_is_also_503():
    response = _get("/__driver_down")
    assert response.status_code == 503
    assert response.json() == {"error": "Service temporarily unavailable, please retry"}
