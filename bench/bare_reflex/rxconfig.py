"""A bare Reflex app for the web-sessions baseline (bench/README.md): Reflex's defaults,
state in Redis (REFLEX_REDIS_URL), no UI build (the benchmark speaks the websocket protocol)."""

import reflex as rx

config = rx.Config(app_name="bare_reflex", telemetry_enabled=False,
                   disable_plugins=[rx.plugins.SitemapPlugin])
