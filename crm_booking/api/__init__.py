"""The REST API: a FastAPI app that the Reflex app mounts itself into (api_transformer)."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from crm_booking import clock
from crm_booking.api import auth, bookings, errors, events, facilitator, google, payments, profile, web
from crm_booking.api.deps import storable_query
from crm_booking.api.fallback import JsonFallbackErrors
from crm_booking.api.headers import SecurityHeaders
from crm_booking.api.openapi_errors import install as document_error_responses
from crm_booking.api.schemas import Health
from crm_booking.services.views import utc_timestamp
from crm_booking.settings import get_settings

UI_PATH = "/app/"

def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


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
    api.add_middleware(RequestBodyLimitMiddleware, max_body_size=settings.MAX_REQUEST_BYTES)
    api.add_middleware(JsonFallbackErrors, router=api.router)
    api.add_middleware(SecurityHeaders)

    @api.get("/", response_model=Health, tags=["health"], summary="Health check")
    def health(request: Request) -> Response | dict:  # type: ignore[type-arg]
        if _wants_html(request):
            return RedirectResponse(UI_PATH, status_code=307)
        return {
            "message": "Booking System API is running!",
            "status": "healthy",
            "timestamp": utc_timestamp(clock.now()),
        }

    for module in (auth, google, events, bookings, payments, facilitator, profile, web):
        api.include_router(module.router)
    return api
