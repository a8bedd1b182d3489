"""Every error leaves the service as the spec's JSON shape: {"error": ...}."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """Raised by handlers to answer with a given status and JSON body."""

    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error"))
        self.status_code = status_code
        self.body = body


def validation_error(details: dict[str, str]) -> ApiError:
    return ApiError(400, {"error": "Validation error", "details": details})


HTTP_ERROR_MESSAGES = {
    404: "Resource not found",
    405: "Method not allowed",
    413: "Request body too large",
}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body, status_code=exc.status_code)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = HTTP_ERROR_MESSAGES.get(exc.status_code, str(exc.detail))
    return JSONResponse({"error": message}, exc.status_code, headers=exc.headers)


async def _request_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 (query and path parameters) becomes the spec's 400."""
    assert isinstance(exc, RequestValidationError)
    details: dict[str, str] = {}
    for item in exc.errors():
        location = [str(part) for part in item["loc"] if part not in ("query", "path", "body")]
        details.setdefault(".".join(location) or "request", str(item["msg"]))
    return JSONResponse({"error": "Validation error", "details": details}, 400)


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log, never to the client.
    logger.error("Unhandled error", exc_info=exc)
    return JSONResponse({"error": "Internal server error", "message": "Something went wrong"}, 500)
