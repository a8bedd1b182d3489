"""The Reflex app: UI pages under /app, the REST API mounted at the root, background jobs."""

from __future__ import annotations

import reflex as rx

from crm_booking import jobs, log_filters
from crm_booking.api import create_api
from crm_booking.pages import register_pages
from crm_booking.settings import get_settings

get_settings().check_production_ready()
log_filters.install()

api = create_api()

app = rx.App(
    api_transformer=api,
    theme=rx.theme(appearance="light", accent_color="teal", radius="medium"),
)
register_pages(app)
app.register_lifespan_task(jobs.run_background_jobs)
