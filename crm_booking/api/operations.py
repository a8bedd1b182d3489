"""Operator endpoints: readiness (for the proxy and the supervisor) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse, Response

from crm_booking import metrics
from crm_booking.errors import NotFound, Unauthorized
from crm_booking.services import business_metrics
from crm_booking.services import readiness as readiness_service
from crm_booking.settings import get_settings

router = APIRouter(tags=["health"])


@router.get("/health/ready", summary="Readiness: database, Redis (if configured) and the CRM answer",
            responses={503: {"description": "A check failed; `details.failing` names it"}})
async def ready() -> JSONResponse:
    result = await asyncio.to_thread(readiness_service.readiness)
    headers = {"Cache-Control": "no-store"}
    if result.ready:
        return JSONResponse({"status": "ready", "checks": result.checks}, headers=headers)
    failing = result.failing
    return JSONResponse({
        "status": "not ready",
        "checks": result.checks,
        "error": "Not ready: " + ", ".join(f"{name} {result.checks[name]}" for name in failing),
        "details": {"failing": failing},
    }, status_code=503, headers=headers)


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
    """Not public: without METRICS_TOKEN it does not exist (404); with it, the scraper sends
    `Authorization: Bearer <token>` (Prometheus: `authorization: {credentials: ...}`)."""
    token = get_settings().METRICS_TOKEN
    if not token:
        raise NotFound("Not found")
    scheme, _, sent = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), token.encode()):
        raise Unauthorized("Metrics need the METRICS_TOKEN bearer token")
    body = await asyncio.to_thread(metrics.render, business_metrics.registry)
    return Response(body, media_type=metrics.CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
