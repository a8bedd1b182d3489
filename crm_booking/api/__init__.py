"""The REST API: a FastAPI app that the Reflex app mounts itself into (api_transformer)."""

from __future__ import annotations

import re

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from crm_booking import clock
from crm_booking.api import (
    accounts,
    admin,
    attendee,
    auth,
    bookings,
    errors,
    events,
    facilitator,
    google,
    operations,
    passes,
    payments,
    profile,
    series,
    waitlist,
    web,
)
from crm_booking.api.deps import storable_query
from crm_booking.api.fallback import JsonFallbackErrors
from crm_booking.api.headers import SecurityHeaders
from crm_booking.api.openapi_errors import install as document_error_responses
from crm_booking.api.schemas import Health
from crm_booking.metrics import MetricsMiddleware
from crm_booking.observability import RequestIdMiddleware
from crm_booking.services.views import utc_timestamp
from crm_booking.settings import get_settings

UI_PATH = "/app/"

def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


UPLOAD_PATHS = re.compile(r"^/(_upload|events/\d+/cover)/?$")


class BodySizeLimit:
    """Starlette's limiter, with a larger cap for picture uploads (Reflex's /_upload and the
    cover endpoint) than for every other body."""

    def __init__(self, app: ASGIApp, max_body_size: int, max_upload_size: int) -> None:
        self.default = RequestBodyLimitMiddleware(app, max_body_size)
        self.uploads = RequestBodyLimitMiddleware(app, max_upload_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_upload = scope["type"] == "http" and UPLOAD_PATHS.match(scope.get("path", ""))
        await (self.uploads if is_upload else self.default)(scope, receive, send)


def create_api() -> FastAPI:
    settings = get_settings()
    api = FastAPI(
        title="CRM Booking API",
        version="1.0.0",
        description="Bookings for wellness sessions, workshops and retreats. "
        "See shared/spec/booking-api.md.",
        docs_url="/docs",
        redoc_url="/redoc",
        dependencies=[Depends(storable_query)],
    )
    errors.install(api)
    document_error_responses(api)
    # Starlette's limiter counts the bytes actually received, so a chunked upload cannot slip
    # past the cap; it sits inside JsonFallbackErrors, which gives its 413 the error shape.
    api.add_middleware(BodySizeLimit, max_body_size=settings.MAX_REQUEST_BYTES,
                       max_upload_size=settings.MAX_UPLOAD_BYTES)
    api.add_middleware(JsonFallbackErrors, router=api.router)
    api.add_middleware(SecurityHeaders)
    api.add_middleware(MetricsMiddleware)
    # Outermost: the id is set before anything else runs, and every answer carries it.
    api.add_middleware(RequestIdMiddleware)

    @api.get("/", response_model=Health, tags=["health"], summary="Health check")
    def health(request: Request) -> Response | dict:  # type: ignore[type-arg]
        if _wants_html(request):
            return RedirectResponse(UI_PATH, status_code=307)
        return {
            "message": "Booking System API is running!",
            "status": "healthy",
            "timestamp": utc_timestamp(clock.now()),
        }

    for module in (auth, accounts, google, events, bookings, payments, facilitator, profile, web,
                   attendee, waitlist, operations, admin, series, passes):
        api.include_router(module.router)
    return api
