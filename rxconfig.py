"""Reflex configuration. The REST API owns `/`; the UI lives under /app."""

import os

import reflex as rx

from crm_booking.settings import get_settings

_settings = get_settings()
# With Redis (more than one worker), a worker keeps a page session's state in memory between
# that session's events, holding its Redis lock, and writes it back when another worker asks
# for it or the hold lapses: about half the CPU of each UI event (issue 19,
# docs/decisions/benchmark.md). Only Reflex's Redis state manager reads it.
os.environ.setdefault("REFLEX_OPLOCK_ENABLED", "true")
_port = int(os.environ.get("BOOKING_PORT", "5000"))

config = rx.Config(
    app_name="crm_booking",
    db_url=_settings.DATABASE_URL,
    frontend_path="/app",
    frontend_port=_port,
    backend_port=_port,
    api_url=os.environ.get("REFLEX_API_URL", f"http://localhost:{_port}"),
    cors_allowed_origins=_settings.cors_origins or [_settings.PUBLIC_BASE_URL],
    redis_url=_settings.REDIS_URL or None,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # The Radix theme is configured here (App(theme=...) is deprecated since Reflex 0.9).
    plugins=[rx.plugins.RadixThemesPlugin(
        theme=rx.theme(appearance="light", accent_color="teal", radius="medium"),
    )],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
