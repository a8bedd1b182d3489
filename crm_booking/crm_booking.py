"""The Reflex app: UI pages under /app, the REST API mounted at the root, background jobs."""

from __future__ import annotations

import reflex as rx

from crm_booking import jobs, log_filters, observability
from crm_booking.api import create_api
from crm_booking.pages import register_pages
from crm_booking.settings import exit_unless_production_ready, get_settings

exit_unless_production_ready()
log_filters.install()
observability.configure_logging(get_settings().LOG_FORMAT)

api = create_api()

app = rx.App(
    api_transformer=api,
    # The icons live in assets/ (served under /app/); /favicon.ico itself is an API route.
    head_components=[
        rx.el.link(rel="icon", href="/favicon.ico", sizes="any"),
        rx.el.link(rel="icon", href="/app/logo.svg", type="image/svg+xml"),
        rx.el.link(rel="apple-touch-icon", href="/app/logo.png"),
    ],
)
register_pages(app)
app.register_lifespan_task(jobs.run_background_jobs)
