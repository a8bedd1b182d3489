"""The one place where failures become the documented error bodies."""

from __future__ import annotations

import logging
from typing import Any

import psycopg2
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from crm_booking.errors import DomainError

log = logging.getLogger("crm_booking.api")

_STATUS_MESSAGES = {
    400: "Bad request",
    401: "Invalid or expired token",
    403: "Insufficient permissions",
    404: "Resource not found",
    405: "Method not allowed",
    413: "Request body too large",
    415: "Unsupported media type",
}


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=body, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_details(errors: list[dict[str, Any]]) -> dict[str, str]:
    details: dict[str, str] = {}
    for error in errors:
        name = _field_name(tuple(error.get("loc", ())))
        message = str(error.get("msg", "Invalid value"))
        if error.get("type") == "json_invalid":
            name, message = "body", "Malformed JSON"
        elif error.get("type") == "extra_forbidden":
            message = "Unknown field"
        elif error.get("type") == "missing":
            message = "This field is required"
        details.setdefault(name, message.removeprefix("Value error, "))
    return details


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(exc.status_code, exc.body())

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(
            400, {"error": "Validation error", "details": validation_details(list(exc.errors()))}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Our own wording for the framework's generic answers; a DomainError never gets here.
        generic = _STATUS_MESSAGES.get(exc.status_code)
        message = generic or (exc.detail if isinstance(exc.detail, str) else "Request failed")
        return error_response(exc.status_code, {"error": message}, getattr(exc, "headers", None))

    @app.exception_handler(UnicodeEncodeError)
    async def _unstorable_text(_: Request, exc: UnicodeEncodeError) -> JSONResponse:
        # Safety net for text that reached a query without passing a body model (query strings).
        return error_response(400, {"error": "Validation error",
                                    "details": {"body": "Text must be valid Unicode"}})

    @app.exception_handler(sa.exc.OperationalError)
    @app.exception_handler(sa.exc.InterfaceError)
    @app.exception_handler(sa.exc.TimeoutError)
    # The driver's own errors when SQLAlchemy lets one through unwrapped (a connection that died
    # while being handed back to the pool did, tests/reliability/test_dropped_connections.py).
    @app.exception_handler(psycopg2.OperationalError)
    @app.exception_handler(psycopg2.InterfaceError)
    async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        return error_response(
            503, {"error": "Service temporarily unavailable, please retry"}, {"Retry-After": "2"}
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            500, {"error": "Internal server error", "message": "Something went wrong"}
        )
