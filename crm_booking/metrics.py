"""Prometheus metrics (prometheus_client).

Two kinds:
- counted in the worker that saw it (requests and their latency by route, hold expiries, gateway
  errors). With several workers each writes its own files under PROMETHEUS_MULTIPROC_DIR (set by
  the launcher and the systemd unit, before prometheus_client is imported) and a scrape of any
  worker adds them all up;
- read from the database at scrape time (services/business_metrics.py).
"""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_TYPE_LATEST", "GATEWAY_ERRORS", "HOLD_EXPIRIES", "MetricsMiddleware", "render"]

REQUESTS = Counter("crm_booking_http_requests_total", "HTTP requests answered, by route, method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("crm_booking_http_request_duration_seconds", "Time to answer an HTTP request, by route",
                    ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
HOLD_EXPIRIES = Counter("crm_booking_hold_expiries_total", "Unpaid seat holds that lapsed and were released")
GATEWAY_ERRORS = Counter("crm_booking_gateway_errors_total",
                         "Failed calls to an outside service, by gateway, operation and kind",
                         ["gateway", "operation", "kind"])


def route_label(scope: Scope) -> str:
    """The route's template (/bookings/{booking_id}), never the raw path: ids would make every
    request its own time series."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if isinstance(template, str) and template:
        return template
    path = scope.get("path", "")
    if path == "/app" or path.startswith("/app/"):
        return "/app/*"  # the compiled UI's pages and files
    if path.startswith("/_"):
        return "/_reflex/*"  # Reflex's own endpoints (upload, ping, health)
    return "unmatched"


class MetricsMiddleware:
    """Counts every HTTP answer. Pure ASGI, so streamed answers are timed to their start."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route, method = route_label(scope), scope.get("method", "")
            REQUESTS.labels(route, method, str(status)).inc()
            LATENCY.labels(route, method).observe(time.perf_counter() - started)


def render(*registries: CollectorRegistry) -> bytes:
    """The exposition text: every worker's counters (added up), then the given registries'."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
        text = generate_latest(workers)
    else:
        text = generate_latest(REGISTRY)
    return text + b"".join(generate_latest(registry) for registry in registries)
